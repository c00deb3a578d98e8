/* SPDX-License-Identifier: Apache-2.0 */
/* PEP 440 version order (packaging.version), by the specification's regular grammar. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include "scan/matching/vercmp.h"

static const char pep440_re[] =
	"^\\s*v?(?:(?:(?<epoch>[0-9]+)!)?(?<release>[0-9]+(?:\\.[0-9]+)*)"
	"(?<pre>[-_\\.]?(?<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_\\.]?(?<pre_n>[0-9]+)?)?"
	"(?<post>(?:-(?<post_n1>[0-9]+))|(?:[-_\\.]?(?<post_l>post|rev|r)[-_\\.]?(?<post_n2>[0-9]+)?))?"
	"(?<dev>[-_\\.]?(?<dev_l>dev)[-_\\.]?(?<dev_n>[0-9]+)?)?)"
	"(?:\\+(?<local>[a-z0-9]+(?:[-_\\.][a-z0-9]+)*))?\\s*$";

struct pep440 {
	bool valid;
	const char *s;
	PCRE2_SIZE ov[2 * 16];
	int pre_rank; /* a 0, b 1, rc 2 */
};

static pcre2_code *pep440_code(void)
{
	static pcre2_code *re;
	int ec;
	PCRE2_SIZE eo;

	if (!re) {
		re = pcre2_compile((PCRE2_SPTR)pep440_re, PCRE2_ZERO_TERMINATED, PCRE2_CASELESS, &ec,
				   &eo, NULL);
		if (!re)
			abort(); /* a constant pattern: cannot fail */
	}
	return re;
}

static size_t pep_group(const struct pep440 *v, const char *name, const char **p)
{
	int n = pcre2_substring_number_from_name(pep440_code(), (PCRE2_SPTR)name);
	if (n < 0 || v->ov[2 * n] == PCRE2_UNSET) {
		*p = NULL;
		return 0;
	}
	*p = v->s + v->ov[2 * n];
	return v->ov[2 * n + 1] - v->ov[2 * n];
}

static void pep440_parse(const char *s, struct pep440 *v)
{
	pcre2_code *re = pep440_code();
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);

	memset(v, 0, sizeof(*v));
	v->s = s;
	v->valid = pcre2_match(re, (PCRE2_SPTR)s, PCRE2_ZERO_TERMINATED, 0, 0, md, NULL) > 0;
	if (v->valid) {
		uint32_t n = pcre2_get_ovector_count(md);
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
		for (uint32_t i = 0; i < n && i < 16; i++) {
			v->ov[2 * i] = ov[2 * i];
			v->ov[2 * i + 1] = ov[2 * i + 1];
		}
		for (uint32_t i = n; i < 16; i++)
			v->ov[2 * i] = v->ov[2 * i + 1] = PCRE2_UNSET;
		const char *l;
		size_t ln = pep_group(v, "pre_l", &l);
		if (ln) {
			char c = (char)vc_lower((unsigned char)l[0]);
			v->pre_rank = c == 'a' ? 0 : c == 'b' ? 1 : 2; /* c, rc, pre, preview are rc */
		}
	}
	pcre2_match_data_free(md);
}

bool vercmp_pep440_valid(const char *s)
{
	struct pep440 v;
	pep440_parse(s, &v);
	return v.valid;
}

/* Compare optional numbers: absent counts as `absent` (-1 lowest, 1 highest, 0 zero). */
static int opt_numcmp(const char *a, size_t an, bool ah, const char *b, size_t bn, bool bh)
{
	if (ah && bh)
		return vercmp_digits(a, an, b, bn);
	if (!ah && !bh)
		return 0;
	return ah ? 1 : -1;
}

static int pep440_local_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	while (an && bn) {
		size_t i = 0, j = 0;
		while (i < an && !strchr("-_.", a[i]))
			i++;
		while (j < bn && !strchr("-_.", b[j]))
			j++;
		bool anum = vercmp_all_digits(a, i), bnum = vercmp_all_digits(b, j);
		int c;
		if (anum && bnum)
			c = vercmp_digits(a, i, b, j);
		else if (anum || bnum)
			c = anum ? 1 : -1; /* numeric segments sort after alphanumeric ones */
		else {
			c = vercmp_bytes_nocase(a, i, b, j);
		}
		if (c)
			return c;
		a += i;
		an -= i;
		b += j;
		bn -= j;
		if (an) /* the separator */
			a++, an--;
		if (bn)
			b++, bn--;
	}
	return (an > 0) - (bn > 0);
}

int vercmp_pep440(const char *a, const char *b)
{
	struct pep440 x, y;
	const char *p, *q;
	size_t pn, qn;
	int c;

	pep440_parse(a, &x);
	pep440_parse(b, &y);
	if (!x.valid || !y.valid)
		return x.valid ? 1 : y.valid ? -1 : vercmp_sign(strcmp(a, b));
	pn = pep_group(&x, "epoch", &p);
	qn = pep_group(&y, "epoch", &q);
	if ((c = vercmp_digits(p ? p : "", pn, q ? q : "", qn)))
		return c;
	/* release, trailing zeros insignificant */
	pn = pep_group(&x, "release", &p);
	qn = pep_group(&y, "release", &q);
	while (pn || qn) {
		size_t i = 0, j = 0;
		while (i < pn && p[i] != '.')
			i++;
		while (j < qn && q[j] != '.')
			j++;
		if ((c = vercmp_digits(p, i, q, j)))
			return c;
		p += i + (i < pn);
		pn -= i + (i < pn);
		q += j + (j < qn);
		qn -= j + (j < qn);
	}
	/* pre: a dev release without pre or post sorts before any pre-release */
	const char *xp, *yp, *xpo, *ypo, *xd, *yd;
	pep_group(&x, "pre", &xp);
	pep_group(&y, "pre", &yp);
	pep_group(&x, "post", &xpo);
	pep_group(&y, "post", &ypo);
	pep_group(&x, "dev", &xd);
	pep_group(&y, "dev", &yd);
	int xr = xp ? 1 : (!xpo && xd) ? 0 : 2; /* 0 dev-only, 1 pre, 2 none */
	int yr = yp ? 1 : (!ypo && yd) ? 0 : 2;
	if (xr != yr)
		return xr < yr ? -1 : 1;
	if (xr == 1) {
		if (x.pre_rank != y.pre_rank)
			return x.pre_rank < y.pre_rank ? -1 : 1;
		pn = pep_group(&x, "pre_n", &p);
		qn = pep_group(&y, "pre_n", &q);
		if ((c = vercmp_digits(p ? p : "", pn, q ? q : "", qn)))
			return c;
	}
	/* post: none lowest; number (n1 or n2, absent = 0) */
	pn = pep_group(&x, "post_n1", &p);
	if (!p)
		pn = pep_group(&x, "post_n2", &p);
	qn = pep_group(&y, "post_n1", &q);
	if (!q)
		qn = pep_group(&y, "post_n2", &q);
	if ((c = opt_numcmp(p ? p : "", pn, xpo != NULL, q ? q : "", qn, ypo != NULL)))
		return c;
	/* dev: a dev release precedes the same version without one */
	if (!xd != !yd)
		return xd ? -1 : 1;
	pn = pep_group(&x, "dev_n", &p);
	qn = pep_group(&y, "dev_n", &q);
	if (xd && (c = vercmp_digits(p ? p : "", pn, q ? q : "", qn)))
		return c;
	/* local: none lowest */
	pn = pep_group(&x, "local", &p);
	qn = pep_group(&y, "local", &q);
	if (!p || !q)
		return (p != NULL) - (q != NULL);
	return pep440_local_cmp(p, pn, q, qn);
}
