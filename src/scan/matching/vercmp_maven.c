/* SPDX-License-Identifier: Apache-2.0 */
/* Maven version order (ComparableVersion): items in nested lists, qualifiers ranked. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/buf.h"
#include "scan/matching/vercmp.h"

enum mkind { M_INT, M_STR, M_LIST };

struct mitem {
	enum mkind kind;
	char *s; /* digits (M_INT, no leading zeros) or qualifier (M_STR) */
	struct mitem *items;
	size_t n;
};

static const char *const mqual[] = { "alpha", "beta", "milestone", "rc", "snapshot", "", "sp" };

/* The comparable form of a qualifier: its rank, or "7-<q>" for unknown ones (after sp). */
static void mqual_key(const char *q, char *out, size_t n)
{
	for (int i = 0; i < 7; i++)
		if (!strcmp(q, mqual[i])) {
			snprintf(out, n, "%d", i);
			return;
		}
	snprintf(out, n, "7-%s", q);
}

static void mitem_free(struct mitem *m)
{
	for (size_t i = 0; i < m->n; i++)
		mitem_free(&m->items[i]);
	free(m->items);
	free(m->s);
}

static struct mitem *mlist_add(struct mitem *list, enum mkind k, const char *s, size_t n)
{
	list->items = xrealloc(list->items, (list->n + 1) * sizeof(*list->items));
	struct mitem *m = &list->items[list->n++];
	memset(m, 0, sizeof(*m));
	m->kind = k;
	if (k == M_INT) {
		while (n > 1 && *s == '0')
			s++, n--;
		m->s = xstrndup(s, n);
	} else if (k == M_STR) {
		m->s = xstrndup(s, n);
	}
	return m;
}

static void mlist_add_token(struct mitem *list, bool digit, const char *s, size_t n,
			    bool followed_by_digit)
{
	if (digit) {
		mlist_add(list, M_INT, s, n);
		return;
	}
	char *q = xstrndup(s, n);
	const char *alias = q;
	if (followed_by_digit && n == 1)
		alias = q[0] == 'a' ? "alpha" : q[0] == 'b' ? "beta" : q[0] == 'm' ? "milestone" : q;
	if (!strcmp(alias, "ga") || !strcmp(alias, "final") || !strcmp(alias, "release"))
		alias = "";
	else if (!strcmp(alias, "cr"))
		alias = "rc";
	mlist_add(list, M_STR, alias, strlen(alias));
	free(q);
}

static bool mitem_null(const struct mitem *m)
{
	switch (m->kind) {
	case M_INT: return !strcmp(m->s, "0");
	case M_STR: return m->s[0] == 0;
	default: return m->n == 0;
	}
}

static void mlist_normalize(struct mitem *l)
{
	for (size_t i = l->n; i-- > 0;) {
		if (l->items[i].kind == M_LIST)
			mlist_normalize(&l->items[i]);
		if (mitem_null(&l->items[i])) {
			mitem_free(&l->items[i]);
			memmove(&l->items[i], &l->items[i + 1], (l->n - i - 1) * sizeof(*l->items));
			l->n--;
		} else if (l->items[i].kind != M_LIST) {
			break;
		}
	}
}

#define MAVEN_DEPTH 64

/* Parse as Maven does: '.' and '-' separate, a digit/letter switch opens a sub-list. */
static void maven_parse(const char *v, struct mitem *root)
{
	char *s = xstrdup(v);
	int depth = 0; /* bounded nesting: a hostile "1-1-1-..." stays shallow */
	struct mitem *list = root;
	size_t start = 0, len = strlen(s);
	bool digit = false;

	for (size_t i = 0; i < len; i++)
		s[i] = (char)tolower((unsigned char)s[i]);
	memset(root, 0, sizeof(*root));
	root->kind = M_LIST;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool open = false;
		if (c == '.' || c == '-') {
			if (i == start)
				mlist_add(list, M_INT, "0", 1);
			else
				mlist_add_token(list, digit, s + start, i - start, false);
			start = i + 1;
			open = c == '-';
		} else if (isdigit((unsigned char)c)) {
			if (!digit && i > start) {
				mlist_add_token(list, false, s + start, i - start, true);
				start = i;
				open = true;
			}
			digit = true;
		} else {
			if (digit && i > start) {
				mlist_add_token(list, true, s + start, i - start, false);
				start = i;
				open = true;
			}
			digit = false;
		}
		if (open && depth < MAVEN_DEPTH) {
			list = mlist_add(list, M_LIST, NULL, 0);
			depth++;
		}
	}
	if (len > start)
		mlist_add_token(list, digit, s + start, len - start, false);
	/* Children first (as Maven pops its stack), then the root. */
	mlist_normalize(root);
	free(s);
}

static int mitem_cmp(const struct mitem *a, const struct mitem *b);

/* a against nothing (the other version ended). */
static int mitem_cmp_null(const struct mitem *a)
{
	char k[64];
	switch (a->kind) {
	case M_INT: return strcmp(a->s, "0") ? 1 : 0;
	case M_STR: mqual_key(a->s, k, sizeof(k)); return vercmp_sign(strcmp(k, "5"));
	default: return a->n ? mitem_cmp_null(&a->items[0]) : 0;
	}
}

static int mitem_cmp(const struct mitem *a, const struct mitem *b)
{
	if (!b)
		return mitem_cmp_null(a);
	switch (a->kind) {
	case M_INT:
		if (b->kind != M_INT)
			return 1;
		return vercmp_digits(a->s, strlen(a->s), b->s, strlen(b->s));
	case M_STR:
		if (b->kind == M_INT || b->kind == M_LIST)
			return -1;
		char ka[300], kb[300];
		mqual_key(a->s, ka, sizeof(ka));
		mqual_key(b->s, kb, sizeof(kb));
		return vercmp_sign(strcmp(ka, kb));
	default:
		if (b->kind == M_INT)
			return -1;
		if (b->kind == M_STR)
			return 1;
		for (size_t i = 0; i < a->n || i < b->n; i++) {
			int c;
			if (i >= a->n)
				c = -mitem_cmp_null(&b->items[i]);
			else
				c = mitem_cmp(&a->items[i], i < b->n ? &b->items[i] : NULL);
			if (c)
				return c;
		}
		return 0;
	}
}

int vercmp_maven(const char *a, const char *b)
{
	struct mitem x, y;

	maven_parse(a, &x);
	maven_parse(b, &y);
	int c = mitem_cmp(&x, &y);
	mitem_free(&x);
	mitem_free(&y);
	return c;
}
