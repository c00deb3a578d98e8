/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Alpine version order, as apk-tools' version.c tokenizes and compares:
 *
 *   digit{.digit}...{letter}{_suffix{digit}}...{~hash}{-r#}
 *
 * Tokens are compared pairwise while both sides have the same kind: numbers
 * by value (a '.'-number with a leading zero on either side as text, as
 * Gentoo does: 1.01 < 1.1), the letter by byte, suffixes by rank
 *   _alpha < _beta < _pre < _rc < (none) < _cvs < _svn < _git < _hg < _p,
 * the commit hash as text, -rN by value. When the kinds differ, the side
 * that goes on with a pre-release suffix is lower, otherwise the side whose
 * next token comes earlier in the grammar is higher (1.0 < 1.0-r1 < 1.0.1).
 *
 * Two deliberate readings, both from apk-tools itself:
 *   - A number directly after the letter ("1.9.5p1", OpenSSH-style) is a
 *     number token, as apk-tools up to 2.12 tokenized it. apk-tools 2.14
 *     stops such a version as invalid, and two versions invalid at the same
 *     point compare "equal" there, so 1.9.5p1-r1 = 1.9.5p2-r1: a scanner
 *     would then take 1.9.5p1 as fixed by 1.9.5p2. Here 1.9.5p1 < 1.9.5p2.
 *   - Two versions that both stop being valid at the same point, after equal
 *     tokens, compare by the rest of their bytes rather than as equal, so
 *     that different strings are never "the same version".
 */
#include <stdint.h>
#include <string.h>
#include "scan/matching/vercmp.h"

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
	while (vc_digit((unsigned char)**p)) {
		if (t->number < UINT64_MAX / 10 - 10)
			t->number = t->number * 10 + (uint64_t)(**p - '0');
		(*p)++;
	}
	t->vn = (size_t)(*p - t->v);
	if (!t->vn)
		t->token = T_INVALID;
}

static bool apk_hex(int c)
{
	return vc_digit(c) || (c >= 'a' && c <= 'f');
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
	if (*s == '.' || vc_digit((unsigned char)*s)) {
		if (*s == '.') {
			if (t->token > T_DIGIT)
				goto invalid;
			(*p)++;
		}
		if (t->token == T_INITIAL_DIGIT || t->token == T_DIGIT || t->token == T_LETTER)
			t->token = T_DIGIT; /* after a letter: apk-tools 2.12's reading, see above */
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
		while (apk_hex((unsigned char)*s))
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

static int apk_tok_cmp(const struct apk_tok *a, const struct apk_tok *b)
{
	uint64_t x, y;

	switch (a->token) {
	case T_DIGIT:
		/* a leading zero on either side compares as text, as Gentoo does */
		if (a->v[0] == '0' || b->v[0] == '0')
			return vercmp_bytes(a->v, a->vn, b->v, b->vn);
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
		return vercmp_bytes(a->v, a->vn, b->v, b->vn);
	}
	return (x > y) - (x < y);
}

bool vercmp_apk_valid(const char *v)
{
	struct apk_tok t = { .token = T_INITIAL_DIGIT };

	for (apk_digits(&t, &v); t.token < T_END; apk_next(&t, &v))
		;
	return t.token == T_END;
}

int vercmp_apk(const char *a, const char *b)
{
	struct apk_tok ta = { .token = T_INITIAL_DIGIT }, tb = { .token = T_INITIAL_DIGIT };
	const char *a0 = a, *b0 = b;

	apk_digits(&ta, &a);
	apk_digits(&tb, &b);
	while (ta.token == tb.token && ta.token < T_END) {
		int c = apk_tok_cmp(&ta, &tb);
		if (c)
			return c;
		apk_next(&ta, &a);
		apk_next(&tb, &b);
	}
	if (ta.token == tb.token) {
		if (ta.token == T_INVALID) /* see the top: different strings are not equal */
			return vercmp_sign(strcmp(a, b) ? strcmp(a, b) : strcmp(a0, b0));
		return 0;
	}
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
