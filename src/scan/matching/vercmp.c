/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Version orders: the scheme of an ecosystem, the dispatch, and the orders
 * of dpkg, rpm, apk, SemVer, Go and RubyGems. PEP 440 (a regular grammar,
 * pcre2) and Maven (a tree of items) are longer and live in
 * vercmp_pep440.c and vercmp_maven.c.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "common/buf.h"
#include "scan/matching/vercmp.h"

int vercmp_digits(const char *a, size_t an, const char *b, size_t bn)
{
	while (an && *a == '0')
		a++, an--;
	while (bn && *b == '0')
		b++, bn--;
	if (an != bn)
		return an < bn ? -1 : 1;
	return vercmp_sign(memcmp(a, b, an));
}

enum vercmp_scheme vercmp_scheme(const char *e)
{
	static const struct {
		const char *prefix;
		enum vercmp_scheme s;
	} map[] = {
		{ "Debian", VERCMP_DPKG }, { "Ubuntu", VERCMP_DPKG }, { "dpkg", VERCMP_DPKG },
		{ "deb", VERCMP_DPKG }, { "Alpine", VERCMP_APK }, { "Wolfi", VERCMP_APK },
		{ "Chainguard", VERCMP_APK }, { "apk", VERCMP_APK }, { "Red Hat", VERCMP_RPM },
		{ "Rocky Linux", VERCMP_RPM }, { "AlmaLinux", VERCMP_RPM },
		{ "openSUSE", VERCMP_RPM }, { "SUSE", VERCMP_RPM }, { "Mariner", VERCMP_RPM },
		{ "Photon OS", VERCMP_RPM }, { "rpm", VERCMP_RPM }, { "PyPI", VERCMP_PEP440 },
		{ "pypi", VERCMP_PEP440 }, { "pep440", VERCMP_PEP440 }, { "Go", VERCMP_GO },
		{ "go", VERCMP_GO }, { "golang", VERCMP_GO }, { "Maven", VERCMP_MAVEN },
		{ "maven", VERCMP_MAVEN }, { "npm", VERCMP_SEMVER }, { "crates.io", VERCMP_SEMVER },
		{ "cargo", VERCMP_SEMVER }, { "SemVer", VERCMP_SEMVER }, { "semver", VERCMP_SEMVER },
		{ "Packagist", VERCMP_SEMVER }, { "NuGet", VERCMP_SEMVER }, { "Hex", VERCMP_SEMVER },
		{ "Pub", VERCMP_SEMVER }, { "RubyGems", VERCMP_GEM }, { "gem", VERCMP_GEM },
	};

	if (!e)
		return VERCMP_NONE;
	for (size_t i = 0; i < sizeof(map) / sizeof(*map); i++) {
		size_t n = strlen(map[i].prefix);
		if (!strncmp(e, map[i].prefix, n) && (e[n] == 0 || e[n] == ':'))
			return map[i].s;
	}
	return VERCMP_NONE;
}

/* ---- dpkg: deb-version(7) and dpkg's verrevcmp ---- */

static int dpkg_order(int c)
{
	if (isdigit(c))
		return 0;
	if (isalpha(c))
		return c;
	if (c == '~')
		return -1;
	if (c)
		return c + 256;
	return 0;
}

static int dpkg_verrevcmp(const char *a, const char *b)
{
	while (*a || *b) {
		int first_diff = 0;
		while ((*a && !isdigit((unsigned char)*a)) || (*b && !isdigit((unsigned char)*b))) {
			int ac = dpkg_order((unsigned char)*a), bc = dpkg_order((unsigned char)*b);
			if (ac != bc)
				return vercmp_sign(ac - bc);
			a++;
			b++;
		}
		while (*a == '0')
			a++;
		while (*b == '0')
			b++;
		while (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
			if (!first_diff)
				first_diff = *a - *b;
			a++;
			b++;
		}
		if (isdigit((unsigned char)*a))
			return 1;
		if (isdigit((unsigned char)*b))
			return -1;
		if (first_diff)
			return vercmp_sign(first_diff);
	}
	return 0;
}

struct evr {
	char *buf;
	const char *epoch, *version, *release; /* epoch "" = 0, release NULL = none */
};

/* Split [epoch:]version[-release] (release after the last '-'). */
static void evr_split(const char *v, struct evr *e)
{
	e->buf = xstrdup(v);
	char *colon = strchr(e->buf, ':');
	char *ver = e->buf;
	e->epoch = "";
	if (colon) {
		*colon = 0;
		e->epoch = e->buf;
		ver = colon + 1;
	}
	char *dash = strrchr(ver, '-');
	e->release = NULL;
	if (dash) {
		*dash = 0;
		e->release = dash + 1;
	}
	e->version = ver;
}

static int epoch_cmp(const char *a, const char *b)
{
	size_t an = strspn(a, "0123456789"), bn = strspn(b, "0123456789");
	return vercmp_digits(a, an, b, bn);
}

/*
 * epoch, then version, then release with cmp; a missing release is "" when
 * both_release is false, else releases count only when both have one (rpm).
 */
static int evr_cmp(const char *a, const char *b, int (*cmp)(const char *, const char *),
		   bool both_release)
{
	struct evr x, y;
	int c;

	evr_split(a, &x);
	evr_split(b, &y);
	c = epoch_cmp(x.epoch, y.epoch);
	if (!c)
		c = cmp(x.version, y.version);
	if (!c && (!both_release || (x.release && y.release)))
		c = cmp(x.release ? x.release : "", y.release ? y.release : "");
	free(x.buf);
	free(y.buf);
	return c;
}

int vercmp_dpkg(const char *a, const char *b)
{
	return evr_cmp(a, b, dpkg_verrevcmp, false);
}

/* ---- rpm: rpmvercmp, and epoch:version-release ---- */

static int rpmvercmp(const char *one, const char *two)
{
	if (!strcmp(one, two))
		return 0;
	while (*one || *two) {
		while (*one && !isalnum((unsigned char)*one) && *one != '~' && *one != '^')
			one++;
		while (*two && !isalnum((unsigned char)*two) && *two != '~' && *two != '^')
			two++;
		/* '~' sorts before everything, even the end */
		if (*one == '~' || *two == '~') {
			if (*one != '~')
				return 1;
			if (*two != '~')
				return -1;
			one++;
			two++;
			continue;
		}
		/* '^' sorts after the end but before anything else */
		if (*one == '^' || *two == '^') {
			if (!*one)
				return -1;
			if (!*two)
				return 1;
			if (*one != '^')
				return 1;
			if (*two != '^')
				return -1;
			one++;
			two++;
			continue;
		}
		if (!(*one && *two))
			break;
		const char *s1 = one, *s2 = two;
		bool isnum = isdigit((unsigned char)*s1);
		if (isnum) {
			while (isdigit((unsigned char)*s1))
				s1++;
			while (isdigit((unsigned char)*s2))
				s2++;
		} else {
			while (isalpha((unsigned char)*s1))
				s1++;
			while (isalpha((unsigned char)*s2))
				s2++;
		}
		if (two == s2)
			return isnum ? 1 : -1; /* numeric beats alpha */
		int rc;
		if (isnum) {
			rc = vercmp_digits(one, (size_t)(s1 - one), two, (size_t)(s2 - two));
		} else {
			size_t n1 = (size_t)(s1 - one), n2 = (size_t)(s2 - two);
			rc = memcmp(one, two, n1 < n2 ? n1 : n2);
			if (!rc)
				rc = (n1 > n2) - (n1 < n2);
		}
		if (rc)
			return rc < 0 ? -1 : 1;
		one = s1;
		two = s2;
	}
	if (!*one && !*two)
		return 0;
	return !*one ? -1 : 1;
}

int vercmp_rpm(const char *a, const char *b)
{
	return evr_cmp(a, b, rpmvercmp, true);
}

/* ---- apk: apk-tools 2.14's tokenizer (digit{.digit}{letter}{_suffix{#}}{~hash}{-r#}) ---- */

enum { T_INITIAL_DIGIT, T_DIGIT, T_LETTER, T_SUFFIX, T_SUFFIX_NO, T_COMMIT_HASH, T_REVISION_NO,
       T_END, T_INVALID };

/* Suffix ranks: pre-release ones below NONE (a plain release), post-release ones above. */
enum { SUF_INVALID, SUF_ALPHA, SUF_BETA, SUF_PRE, SUF_RC, SUF_NONE, SUF_CVS, SUF_SVN, SUF_GIT,
       SUF_HG, SUF_P };

struct apk_tok {
	int token, suffix;
	uint64_t number;
	const char *v; /* the token's text */
	size_t vn;
};

static int apk_suffix(const char *s, size_t n)
{
	static const char *const names[] = { "", "alpha", "beta", "pre", "rc", "", "cvs", "svn",
					     "git", "hg", "p" };
	for (int i = SUF_ALPHA; i <= SUF_P; i++)
		if (i != SUF_NONE && strlen(names[i]) == n && !memcmp(names[i], s, n))
			return i;
	return SUF_INVALID;
}

static void apk_digits(struct apk_tok *t, const char **p)
{
	t->v = *p;
	t->number = 0;
	while (isdigit((unsigned char)**p)) {
		if (t->number < UINT64_MAX / 10 - 10)
			t->number = t->number * 10 + (uint64_t)(**p - '0');
		(*p)++;
	}
	t->vn = (size_t)(*p - t->v);
	if (!t->vn)
		t->token = T_INVALID;
}

static void apk_next(struct apk_tok *t, const char **p)
{
	const char *s = *p;

	if (!*s) {
		t->token = T_END;
		return;
	}
	if (*s >= 'a' && *s <= 'z') {
		if (t->token > T_DIGIT)
			goto invalid;
		t->v = s;
		t->vn = 1;
		t->token = T_LETTER;
		*p = s + 1;
		return;
	}
	if (*s == '.' || isdigit((unsigned char)*s)) {
		if (*s == '.') {
			if (t->token > T_DIGIT)
				goto invalid;
			(*p)++;
		}
		if (t->token == T_INITIAL_DIGIT || t->token == T_DIGIT)
			t->token = T_DIGIT;
		else if (t->token == T_SUFFIX)
			t->token = T_SUFFIX_NO;
		else
			goto invalid;
		apk_digits(t, p);
		return;
	}
	if (*s == '_') {
		if (t->token > T_SUFFIX_NO)
			goto invalid;
		s++;
		t->v = s;
		while (*s >= 'a' && *s <= 'z')
			s++;
		t->vn = (size_t)(s - t->v);
		*p = s;
		t->suffix = apk_suffix(t->v, t->vn);
		if (t->suffix == SUF_INVALID)
			goto invalid;
		t->token = T_SUFFIX;
		return;
	}
	if (*s == '~') {
		if (t->token >= T_COMMIT_HASH)
			goto invalid;
		s++;
		t->v = s;
		while (isxdigit((unsigned char)*s))
			s++;
		t->vn = (size_t)(s - t->v);
		*p = s;
		if (!t->vn)
			goto invalid;
		t->token = T_COMMIT_HASH;
		return;
	}
	if (*s == '-' && s[1] == 'r' && t->token < T_REVISION_NO) {
		*p = s + 2;
		t->token = T_REVISION_NO;
		apk_digits(t, p);
		return;
	}
invalid:
	t->token = T_INVALID;
}

static int apk_bytes(const struct apk_tok *a, const struct apk_tok *b)
{
	int c = memcmp(a->v, b->v, a->vn < b->vn ? a->vn : b->vn);
	return c ? vercmp_sign(c) : (a->vn > b->vn) - (a->vn < b->vn);
}

static int apk_tok_cmp(const struct apk_tok *a, const struct apk_tok *b)
{
	uint64_t x, y;

	switch (a->token) {
	case T_DIGIT:
		/* a leading zero on either side compares as text, as Gentoo does */
		if (a->v[0] == '0' || b->v[0] == '0')
			return apk_bytes(a, b);
		/* fall through */
	case T_INITIAL_DIGIT:
	case T_SUFFIX_NO:
	case T_REVISION_NO:
		x = a->number;
		y = b->number;
		break;
	case T_LETTER:
		x = (unsigned char)a->v[0];
		y = (unsigned char)b->v[0];
		break;
	case T_SUFFIX:
		x = (uint64_t)a->suffix;
		y = (uint64_t)b->suffix;
		break;
	default:
		return apk_bytes(a, b);
	}
	return (x > y) - (x < y);
}

int vercmp_apk(const char *a, const char *b)
{
	struct apk_tok ta = { .token = T_INITIAL_DIGIT }, tb = { .token = T_INITIAL_DIGIT };

	apk_digits(&ta, &a);
	apk_digits(&tb, &b);
	while (ta.token == tb.token && ta.token < T_END) {
		int c = apk_tok_cmp(&ta, &tb);
		if (c)
			return c;
		apk_next(&ta, &a);
		apk_next(&tb, &b);
	}
	if (ta.token == tb.token)
		return 0;
	/* Equal so far: the longer one is greater unless it goes on with a pre-release suffix. */
	if (ta.token == T_SUFFIX && ta.suffix < SUF_NONE)
		return -1;
	if (tb.token == T_SUFFIX && tb.suffix < SUF_NONE)
		return 1;
	if (ta.token > tb.token)
		return -1;
	if (tb.token > ta.token)
		return 1;
	return 0;
}

/* ---- SemVer 2.0.0 (missing minor/patch count as 0), Go ---- */

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
		while (q < end && isdigit((unsigned char)*q))
			q++;
		s->core[i] = p;
		s->corelen[i] = (size_t)(q - p);
		p = q;
		if (p < end && *p == '.' && i < 2)
			p++;
		else
			break;
	}
	/* Whatever follows the numbers ("-rc.1", or junk) is the pre-release. */
	if (p < end) {
		if (*p == '-')
			p++;
		s->pre = p;
		s->prelen = (size_t)(end - p);
	}
}

bool vercmp_all_digits(const char *p, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)p[i]))
			return false;
	return true;
}

static int semver_cmp_n(const char *a, size_t an, const char *b, size_t bn)
{
	struct semver x, y;

	semver_parse(a, an, &x);
	semver_parse(b, bn, &y);
	for (int i = 0; i < 3; i++) {
		int c = vercmp_digits(x.core[i] ? x.core[i] : "", x.corelen[i], y.core[i] ? y.core[i] : "",
			       y.corelen[i]);
		if (c)
			return c;
	}
	if (!x.pre || !y.pre)
		return x.pre ? -1 : y.pre ? 1 : 0; /* a pre-release precedes its release */
	const char *p = x.pre, *pe = x.pre + x.prelen, *q = y.pre, *qe = y.pre + y.prelen;
	while (p < pe && q < qe) {
		const char *pd = memchr(p, '.', (size_t)(pe - p)), *qd = memchr(q, '.', (size_t)(qe - q));
		size_t pn = pd ? (size_t)(pd - p) : (size_t)(pe - p);
		size_t qn = qd ? (size_t)(qd - q) : (size_t)(qe - q);
		bool pnum = vercmp_all_digits(p, pn), qnum = vercmp_all_digits(q, qn);
		int c;
		if (pnum && qnum)
			c = vercmp_digits(p, pn, q, qn);
		else if (pnum || qnum)
			c = pnum ? -1 : 1; /* numeric identifiers have lower precedence */
		else {
			c = memcmp(p, q, pn < qn ? pn : qn);
			c = c ? vercmp_sign(c) : (pn > qn) - (pn < qn);
		}
		if (c)
			return c;
		p += pn + (pd ? 1 : 0);
		q += qn + (qd ? 1 : 0);
		if (!pd && !qd)
			return 0;
		if (!pd || !qd)
			return !pd ? -1 : 1; /* fewer identifiers: lower */
	}
	return (p < pe) - (q < qe);
}

int vercmp_semver(const char *a, const char *b)
{
	if (*a == 'v' || *a == 'V')
		a++;
	if (*b == 'v' || *b == 'V')
		b++;
	return semver_cmp_n(a, strlen(a), b, strlen(b));
}

/* Go: module versions are "v"-prefixed SemVer; "+incompatible" is build metadata. */
int vercmp_go(const char *a, const char *b)
{
	if (!strncmp(a, "go", 2))
		a += 2; /* toolchain versions: go1.21.5 */
	if (!strncmp(b, "go", 2))
		b += 2;
	return vercmp_semver(a, b);
}

/* ---- RubyGems: Gem::Version ---- */

struct gemseg {
	const char *p;
	size_t n;
	bool num;
};

#define GEM_SEGS 64

/*
 * Canonical segments: runs of digits or letters; trailing zeros dropped from
 * the numeric part and from the part after the first letter segment.
 */
static size_t gem_segments(const char *v, struct gemseg *s)
{
	size_t n = 0, first_str = GEM_SEGS;

	while (*v && n < GEM_SEGS) {
		if (isdigit((unsigned char)*v) || isalpha((unsigned char)*v)) {
			bool num = isdigit((unsigned char)*v);
			const char *b = v;
			while (*v && (num ? isdigit((unsigned char)*v) : isalpha((unsigned char)*v)))
				v++;
			if (!num && first_str == GEM_SEGS)
				first_str = n;
			s[n++] = (struct gemseg){ b, (size_t)(v - b), num };
		} else {
			v++;
		}
	}
	/* drop zeros at the end of each part (numbers before the first string, the rest) */
	size_t split = first_str < n ? first_str : n, out = 0;
	size_t end1 = split;
	while (end1 > 0 && s[end1 - 1].num && !vercmp_digits(s[end1 - 1].p, s[end1 - 1].n, "0", 1))
		end1--;
	size_t end2 = n;
	while (end2 > split && s[end2 - 1].num && !vercmp_digits(s[end2 - 1].p, s[end2 - 1].n, "0", 1))
		end2--;
	out = end1;
	for (size_t i = split; i < end2; i++)
		s[out++] = s[i];
	return out;
}

int vercmp_gem(const char *a, const char *b)
{
	struct gemseg x[GEM_SEGS], y[GEM_SEGS];
	size_t xn = gem_segments(a, x), yn = gem_segments(b, y);
	static const struct gemseg zero = { "0", 1, true };

	for (size_t i = 0; i < xn || i < yn; i++) {
		const struct gemseg *l = i < xn ? &x[i] : &zero, *r = i < yn ? &y[i] : &zero;
		if (l->num && r->num) {
			int c = vercmp_digits(l->p, l->n, r->p, r->n);
			if (c)
				return c;
		} else if (l->num != r->num) {
			return l->num ? 1 : -1; /* a pre-release letter sorts before a number */
		} else {
			int c = memcmp(l->p, r->p, l->n < r->n ? l->n : r->n);
			c = c ? vercmp_sign(c) : (l->n > r->n) - (l->n < r->n);
			if (c)
				return c;
		}
	}
	return 0;
}

int vercmp(enum vercmp_scheme s, const char *a, const char *b)
{
	switch (s) {
	case VERCMP_DPKG: return vercmp_dpkg(a, b);
	case VERCMP_APK: return vercmp_apk(a, b);
	case VERCMP_RPM: return vercmp_rpm(a, b);
	case VERCMP_SEMVER: return vercmp_semver(a, b);
	case VERCMP_PEP440: return vercmp_pep440(a, b);
	case VERCMP_GO: return vercmp_go(a, b);
	case VERCMP_MAVEN: return vercmp_maven(a, b);
	case VERCMP_GEM: return vercmp_gem(a, b);
	default: return vercmp_sign(strcmp(a, b));
	}
}
