/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SemVer 2.0.0 precedence (section 11), for npm, crates.io, Hex and
 * SwiftURL: major.minor.patch by value (a missing minor or patch is 0),
 * a pre-release below its release, pre-release identifiers compared one by
 * one (numbers by value below alphanumerics by ASCII; fewer identifiers
 * lower), build metadata ignored. A leading "v" is dropped. Text after the
 * numbers that is not "-pre" ("1.0rc1") is taken as the pre-release.
 */
#include <string.h>
#include "scan/matching/vercmp.h"

void vercmp_dotted_parse(const char *v, size_t len, int nparts, struct vercmp_dotted *d)
{
	const char *end = v + len;
	const char *plus = memchr(v, '+', len);
	memset(d, 0, sizeof(*d));
	if (plus) {
		d->build = plus + 1;
		d->buildlen = (size_t)(end - d->build);
		end = plus;
	}
	const char *p = v;
	for (int i = 0; i < nparts && p < end; i++) {
		const char *q = p;
		while (q < end && vc_digit((unsigned char)*q))
			q++;
		d->num[i] = p;
		d->numlen[i] = (size_t)(q - p);
		p = q;
		if (p < end && *p == '.' && i < nparts - 1)
			p++;
		else
			break;
	}
	if (p < end) {
		if (*p == '-')
			p++;
		d->pre = p;
		d->prelen = (size_t)(end - p);
	}
}

int vercmp_dotted_nums(const struct vercmp_dotted *x, const struct vercmp_dotted *y, int nparts)
{
	for (int i = 0; i < nparts; i++) {
		int c = vercmp_digits(x->num[i] ? x->num[i] : "", x->numlen[i], y->num[i] ? y->num[i] : "",
				      y->numlen[i]);
		if (c)
			return c;
	}
	return 0;
}

int vercmp_semver_idents(const char *p, size_t pn, const char *q, size_t qn, bool nocase)
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
			c = anum ? -1 : 1; /* numeric identifiers have lower precedence */
		else
			c = nocase ? vercmp_bytes_nocase(p, a, q, b) : vercmp_bytes(p, a, q, b);
		if (c)
			return c;
		if (!pd || !qd)
			return pd ? 1 : qd ? -1 : 0; /* fewer identifiers: lower */
		p = pd + 1;
		q = qd + 1;
	}
}

int vercmp_semver(const char *a, const char *b)
{
	if (*a == 'v' || *a == 'V')
		a++;
	if (*b == 'v' || *b == 'V')
		b++;
	struct vercmp_dotted x, y;
	vercmp_dotted_parse(a, strlen(a), 3, &x);
	vercmp_dotted_parse(b, strlen(b), 3, &y);
	int c = vercmp_dotted_nums(&x, &y, 3);
	if (c)
		return c;
	if (!x.pre || !y.pre)
		return x.pre ? -1 : y.pre ? 1 : 0; /* a pre-release precedes its release */
	return vercmp_semver_idents(x.pre, x.prelen, y.pre, y.prelen, false);
}
