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

struct semver {
	const char *core[3];
	size_t corelen[3];
	const char *pre; /* NULL: none */
	size_t prelen;
};

static void semver_parse(const char *v, size_t len, struct semver *s)
{
	const char *end = v + len;
	const char *plus = memchr(v, '+', len);
	if (plus)
		end = plus;
	memset(s, 0, sizeof(*s));
	const char *p = v;
	for (int i = 0; i < 3 && p < end; i++) {
		const char *q = p;
		while (q < end && vc_digit((unsigned char)*q))
			q++;
		s->core[i] = p;
		s->corelen[i] = (size_t)(q - p);
		p = q;
		if (p < end && *p == '.' && i < 2)
			p++;
		else
			break;
	}
	if (p < end) {
		if (*p == '-')
			p++;
		s->pre = p;
		s->prelen = (size_t)(end - p);
	}
}

int vercmp_semver_idents(const char *p, size_t pn, const char *q, size_t qn)
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
			c = vercmp_bytes(p, a, q, b);
		if (c)
			return c;
		if (!pd || !qd)
			return pd ? 1 : qd ? -1 : 0; /* fewer identifiers: lower */
		p = pd + 1;
		q = qd + 1;
	}
}

static int semver_cmp_n(const char *a, size_t an, const char *b, size_t bn)
{
	struct semver x, y;

	semver_parse(a, an, &x);
	semver_parse(b, bn, &y);
	for (int i = 0; i < 3; i++) {
		int c = vercmp_digits(x.core[i] ? x.core[i] : "", x.corelen[i],
				      y.core[i] ? y.core[i] : "", y.corelen[i]);
		if (c)
			return c;
	}
	if (!x.pre || !y.pre)
		return x.pre ? -1 : y.pre ? 1 : 0; /* a pre-release precedes its release */
	return vercmp_semver_idents(x.pre, x.prelen, y.pre, y.prelen);
}

int vercmp_semver(const char *a, const char *b)
{
	if (*a == 'v' || *a == 'V')
		a++;
	if (*b == 'v' || *b == 'V')
		b++;
	return semver_cmp_n(a, strlen(a), b, strlen(b));
}
