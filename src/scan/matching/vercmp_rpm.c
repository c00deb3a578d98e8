/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rpm version order: rpmvercmp() on each of epoch, version and release, split
 * as rpm's parseEVR() splits them:
 *   - the epoch is the run of leading digits only when a ':' follows it
 *     ("1:2.0"); ":2.0" is epoch 0; "abc:2.0" and "1.0:2" have no epoch,
 *     their ':' is an ordinary separator inside the version;
 *   - the release follows the last '-' after the epoch; a missing release
 *     is below every release, even an empty one (1.0 < 1.0- < 1.0-5), as
 *     rpm's own rpm.vercmp() (rpmverCmp) orders full versions; only
 *     dependency ranges skip it;
 *   - a missing epoch is 0.
 * Checked against rpm itself: tests/integration/test_vercmp_xcheck.sh.
 * rpmvercmp: alphanumeric runs, separators ignored, '~' sorts before
 * everything (even the end), '^' after the end but before anything else,
 * numbers after letters, numbers by value.
 */
#include <string.h>
#include "scan/matching/vercmp.h"

static bool rpm_alnum(int c)
{
	return vc_digit(c) || vc_alpha(c);
}

static int rpmvercmp(const char *one, size_t onen, const char *two, size_t twon)
{
	const char *oe = one + onen, *te = two + twon;

	if (onen == twon && !memcmp(one, two, onen))
		return 0;
	while (one < oe || two < te) {
		while (one < oe && !rpm_alnum((unsigned char)*one) && *one != '~' && *one != '^')
			one++;
		while (two < te && !rpm_alnum((unsigned char)*two) && *two != '~' && *two != '^')
			two++;
		bool o = one < oe, t = two < te;
		/* '~' sorts before everything, even the end */
		if ((o && *one == '~') || (t && *two == '~')) {
			if (!o || *one != '~')
				return 1;
			if (!t || *two != '~')
				return -1;
			one++;
			two++;
			continue;
		}
		/* '^' sorts after the end but before anything else */
		if ((o && *one == '^') || (t && *two == '^')) {
			if (!o)
				return -1;
			if (!t)
				return 1;
			if (*one != '^')
				return 1;
			if (*two != '^')
				return -1;
			one++;
			two++;
			continue;
		}
		if (!(o && t))
			break;
		const char *s1 = one, *s2 = two;
		bool isnum = vc_digit((unsigned char)*s1);
		if (isnum) {
			while (s1 < oe && vc_digit((unsigned char)*s1))
				s1++;
			while (s2 < te && vc_digit((unsigned char)*s2))
				s2++;
		} else {
			while (s1 < oe && vc_alpha((unsigned char)*s1))
				s1++;
			while (s2 < te && vc_alpha((unsigned char)*s2))
				s2++;
		}
		if (two == s2)
			return isnum ? 1 : -1; /* numeric beats alpha */
		int rc = isnum ? vercmp_digits(one, (size_t)(s1 - one), two, (size_t)(s2 - two))
			       : vercmp_bytes(one, (size_t)(s1 - one), two, (size_t)(s2 - two));
		if (rc)
			return rc;
		one = s1;
		two = s2;
	}
	if (one >= oe && two >= te)
		return 0;
	return one >= oe ? -1 : 1;
}

struct rpm_evr {
	const char *e, *v, *r; /* e NULL: none (0); r NULL: none */
	size_t en, vn, rn;
};

static void rpm_parse_evr(const char *evr, struct rpm_evr *p)
{
	const char *s = evr;
	while (vc_digit((unsigned char)*s))
		s++;
	const char *se = strrchr(s, '-');
	const char *end = evr + strlen(evr);

	if (*s == ':') {
		p->e = evr;
		p->en = (size_t)(s - evr);
		if (!p->en)
			p->e = "0", p->en = 1;
		p->v = s + 1;
	} else {
		p->e = NULL;
		p->en = 0;
		p->v = evr;
	}
	if (se) {
		p->vn = (size_t)(se - p->v);
		p->r = se + 1;
		p->rn = (size_t)(end - p->r);
	} else {
		p->vn = (size_t)(end - p->v);
		p->r = NULL;
		p->rn = 0;
	}
}

int vercmp_rpm(const char *a, const char *b)
{
	struct rpm_evr x, y;
	int c;

	rpm_parse_evr(a, &x);
	rpm_parse_evr(b, &y);
	c = rpmvercmp(x.e ? x.e : "0", x.e ? x.en : 1, y.e ? y.e : "0", y.e ? y.en : 1);
	if (!c)
		c = rpmvercmp(x.v, x.vn, y.v, y.vn);
	if (!c && x.r && y.r)
		c = rpmvercmp(x.r, x.rn, y.r, y.rn);
	else if (!c)
		c = (x.r != NULL) - (y.r != NULL); /* no release is below any, even "1.0-" */
	return c;
}
