/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NuGet version order (NuGet.Versioning's default VersionComparer):
 * Major.Minor[.Patch[.Revision]] by value, a missing part 0 (1.0 = 1.0.0 =
 * 1.0.0.0, 1.0.0.1 > 1.0.0); a pre-release below its release; release
 * labels compared one by one, numbers by value below text, text compared
 * case-insensitively (1.0.0-Beta = 1.0.0-beta); fewer labels lower;
 * "+metadata" ignored. A leading "v" is tolerated.
 */
#include <string.h>
#include "scan/matching/vercmp.h"

struct nuget {
	const char *num[4];
	size_t numlen[4];
	const char *pre; /* NULL: a release */
	size_t prelen;
};

static void nuget_parse(const char *v, struct nuget *n)
{
	memset(n, 0, sizeof(*n));
	if (*v == 'v' || *v == 'V')
		v++;
	const char *end = v + strcspn(v, "+");
	const char *p = v;
	for (int i = 0; i < 4 && p < end; i++) {
		const char *q = p;
		while (q < end && vc_digit((unsigned char)*q))
			q++;
		n->num[i] = p;
		n->numlen[i] = (size_t)(q - p);
		p = q;
		if (p < end && *p == '.' && i < 3)
			p++;
		else
			break;
	}
	if (p < end) {
		if (*p == '-')
			p++;
		n->pre = p;
		n->prelen = (size_t)(end - p);
	}
}

static int nuget_labels(const char *p, size_t pn, const char *q, size_t qn)
{
	const char *pe = p + pn, *qe = q + qn;

	for (;;) {
		const char *pd = memchr(p, '.', (size_t)(pe - p)), *qd = memchr(q, '.', (size_t)(qe - q));
		size_t a = pd ? (size_t)(pd - p) : (size_t)(pe - p);
		size_t b = qd ? (size_t)(qd - q) : (size_t)(qe - q);
		bool anum = vercmp_all_digits(p, a), bnum = vercmp_all_digits(q, b);
		int c;
		if (anum && bnum)
			c = vercmp_digits(p, a, q, b);
		else if (anum || bnum)
			c = anum ? -1 : 1; /* numeric labels come before alphanumeric ones */
		else
			c = vercmp_bytes_nocase(p, a, q, b);
		if (c)
			return c;
		if (!pd || !qd)
			return pd ? 1 : qd ? -1 : 0;
		p = pd + 1;
		q = qd + 1;
	}
}

int vercmp_nuget(const char *a, const char *b)
{
	struct nuget x, y;

	nuget_parse(a, &x);
	nuget_parse(b, &y);
	for (int i = 0; i < 4; i++) {
		int c = vercmp_digits(x.num[i] ? x.num[i] : "", x.numlen[i], y.num[i] ? y.num[i] : "",
				      y.numlen[i]);
		if (c)
			return c;
	}
	if (!x.pre || !y.pre)
		return x.pre ? -1 : y.pre ? 1 : 0;
	return nuget_labels(x.pre, x.prelen, y.pre, y.prelen);
}
