/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Maven version order, as the POM reference's "Version Order Specification"
 * states it (the rules OSV applies to the Maven ecosystem):
 *
 *  1. Split at '.', '-' and every digit/non-digit transition (a transition
 *     counts as '-'); keep each token's separator as its prefix; an empty
 *     token is "0". Case does not matter. Aliases: cr = rc; ga, final and
 *     release = "" (the release itself); a, b, m directly followed by a digit
 *     are alpha, beta, milestone. A qualifier that ends the version after a
 *     '.' counts as after a '-' (1.foo = 1-foo, as Maven 3.9 parses it).
 *  2. From the end, drop "null" tokens (0 and ""); repeat before each
 *     remaining '-' from the end to the start: 1.0.0-foo.0.0 is 1-foo,
 *     1-ga-1 is 1-1.
 *  3. Compare token by token, the shorter padded with nulls (0 after '.',
 *     "" after '-'). Same prefix: numbers by value, above qualifiers;
 *     qualifiers alpha < beta < milestone < rc < snapshot < "" < sp, then
 *     any other by text. Different prefixes:
 *     .qualifier < -qualifier < -number < .number.
 *
 * Vectors: tests/golden/vercmp/maven.txt (the specification's examples).
 */
#include <stdlib.h>
#include <string.h>
#include "common/buf.h"
#include "scan/matching/vercmp.h"

struct mtok {
	char prefix; /* 0 (the first token), '.' or '-' */
	bool num;
	bool pad; /* a padding null */
	const char *s; /* digits without leading zeros, or the lower-case qualifier */
	size_t n;
};

struct mver {
	char *buf; /* lower-cased copy the tokens point into */
	struct mtok *t;
	size_t n;
};

static const char *const mqual[] = { "alpha", "beta", "milestone", "rc", "snapshot", "", "sp" };
#define MQUAL_RELEASE 5
#define MQUAL_UNKNOWN 7

static int mqual_rank(const char *s, size_t n)
{
	for (int i = 0; i < MQUAL_UNKNOWN; i++)
		if (strlen(mqual[i]) == n && !memcmp(mqual[i], s, n))
			return i;
	return MQUAL_UNKNOWN;
}

static bool mtok_null(const struct mtok *t)
{
	return t->num ? t->n == 1 && t->s[0] == '0' : t->n == 0;
}

static void madd(struct mver *v, char prefix, const char *s, size_t n, bool followed_by_digit)
{
	struct mtok *t = &v->t[v->n++];
	bool num = n && vc_digit((unsigned char)*s);

	*t = (struct mtok){ .prefix = prefix, .num = num, .s = s, .n = n };
	if (!n) {
		t->num = true, t->s = "0", t->n = 1; /* an empty token is "0" */
	} else if (num) {
		while (t->n > 1 && *t->s == '0')
			t->s++, t->n--;
	} else if (n == 2 && !memcmp(s, "cr", 2)) {
		t->s = "rc";
	} else if ((n == 2 && !memcmp(s, "ga", 2)) || (n == 5 && !memcmp(s, "final", 5)) ||
		   (n == 7 && !memcmp(s, "release", 7))) {
		t->n = 0;
	} else if (n == 1 && followed_by_digit && (*s == 'a' || *s == 'b' || *s == 'm')) {
		t->s = *s == 'a' ? "alpha" : *s == 'b' ? "beta" : "milestone";
		t->n = strlen(t->s);
	}
}

static void maven_parse(const char *v, struct mver *m)
{
	size_t len = strlen(v);

	m->buf = xstrdup(v);
	for (size_t i = 0; i < len; i++)
		m->buf[i] = (char)vc_lower((unsigned char)m->buf[i]);
	m->t = xcalloc(len + 1, sizeof(*m->t)); /* at most one token per byte, or one */
	m->n = 0;

	char prefix = 0;
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		char c = m->buf[i];
		if (c != '.' && c != '-' && c != 0)
			continue;
		/* the raw token [start, i), split at digit/non-digit transitions */
		const char *r = m->buf + start;
		size_t rn = i - start, j = 0;
		char p = prefix;
		if (!rn)
			madd(m, p, r, 0, false);
		while (j < rn) {
			size_t k = j;
			bool d = vc_digit((unsigned char)r[j]);
			while (k < rn && vc_digit((unsigned char)r[k]) == d)
				k++;
			madd(m, p, r + j, k - j, k < rn);
			p = '-';
			j = k;
		}
		prefix = c;
		start = i + 1;
	}
	/* a qualifier ending the version after '.' counts as after '-' */
	if (m->n > 1 && !m->t[m->n - 1].num && m->t[m->n - 1].prefix == '.')
		m->t[m->n - 1].prefix = '-';
	/* trim nulls from the end, then again before each '-' from the end */
	size_t i = m->n - 1;
	while (i > 0) {
		if (mtok_null(&m->t[i])) {
			memmove(&m->t[i], &m->t[i + 1], (m->n - i - 1) * sizeof(*m->t));
			m->n--;
			i--;
			continue;
		}
		while (i > 0 && m->t[i].prefix != '-')
			i--;
		if (i > 0)
			i--;
	}
}

/* .qualifier < -qualifier < -number < .number */
static int mprefix_rank(const struct mtok *t)
{
	if (t->num)
		return t->prefix == '.' ? 3 : 2;
	return t->prefix == '.' ? 0 : 1;
}

static int mqual_cmp(const struct mtok *a, const struct mtok *b)
{
	int x = mqual_rank(a->s, a->n), y = mqual_rank(b->s, b->n);
	if (x != y)
		return x < y ? -1 : 1;
	return x == MQUAL_UNKNOWN ? vercmp_bytes(a->s, a->n, b->s, b->n) : 0;
}

static int mtok_cmp(const struct mtok *a, const struct mtok *b)
{
	if (a->prefix != b->prefix)
		return vercmp_sign(mprefix_rank(a) - mprefix_rank(b));
	if (a->num && b->num)
		return vercmp_digits(a->s, a->n, b->s, b->n);
	/* a padding null against a qualifier stands for the release itself */
	if (a->pad || b->pad) {
		static const struct mtok rel = { .s = "", .n = 0 };
		return mqual_cmp(a->pad ? &rel : a, b->pad ? &rel : b);
	}
	if (a->num != b->num)
		return a->num ? 1 : -1;
	return mqual_cmp(a, b);
}

static struct mtok mpad(const struct mtok *other)
{
	if (other->prefix == '-')
		return (struct mtok){ .prefix = '-', .pad = true, .s = "", .n = 0 };
	return (struct mtok){ .prefix = other->prefix, .num = true, .pad = true, .s = "0", .n = 1 };
}

int vercmp_maven(const char *a, const char *b)
{
	struct mver x, y;
	int c = 0;

	maven_parse(a, &x);
	maven_parse(b, &y);
	for (size_t i = 0; !c && (i < x.n || i < y.n); i++) {
		struct mtok l = i < x.n ? x.t[i] : mpad(&y.t[i]);
		struct mtok r = i < y.n ? y.t[i] : mpad(&x.t[i]);
		c = mtok_cmp(&l, &r);
	}
	free(x.t);
	free(x.buf);
	free(y.t);
	free(y.buf);
	return c;
}
