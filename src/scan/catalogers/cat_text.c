/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "scan/catalogers/cat_text.h"

int cat_text_line(const char *data, size_t len, size_t *pos, const char **line, size_t *llen)
{
	if (*pos >= len)
		return 0;
	const char *start = data + *pos;
	const char *nl = memchr(start, '\n', len - *pos);
	size_t n = nl ? (size_t)(nl - start) : len - *pos;

	*pos += n + (nl ? 1 : 0);
	if (n && start[n - 1] == '\r')
		n--;
	*line = start;
	*llen = n;
	return 1;
}

bool cat_text_ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !memcmp(s + n - m, suffix, m);
}

bool cat_text_ends_with_ci(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strncasecmp(s + n - m, suffix, m);
}

const char *cat_text_base(const char *path)
{
	const char *base = strrchr(path, '/');
	return base ? base + 1 : path;
}

char *cat_text_trimdup(const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return xstrndup(s, n);
}

static void stanza_end(char **values, size_t nkeys, size_t *first, cat_stanza_fn emit,
		       const char *path, struct scan_result *r)
{
	emit(values, *first, path, r);
	for (size_t k = 0; k < nkeys; k++) {
		free(values[k]);
		values[k] = NULL;
	}
	*first = 0;
}

void cat_text_stanzas(enum cat_stanza_syntax syntax, const char *const *keys, size_t nkeys,
		     cat_stanza_fn emit, const char *data, size_t len, const char *path,
		     struct scan_result *r)
{
	char *values[CAT_STANZA_KEYS_MAX] = { 0 };
	size_t pos = 0, lineno = 0, first = 0;
	const char *line;
	size_t n;
	bool warned = false;
	bool apk = syntax == CAT_STANZA_APK;

	if (nkeys > CAT_STANZA_KEYS_MAX)
		nkeys = CAT_STANZA_KEYS_MAX;
	while (cat_text_line(data, len, &pos, &line, &n)) {
		lineno++;
		if (n == 0) {
			stanza_end(values, nkeys, &first, emit, path, r);
			continue;
		}
		if (!apk && (line[0] == ' ' || line[0] == '\t' || line[0] == '#'))
			continue; /* continuation of a multi-line field, or a comment */
		const char *colon = apk ? (n >= 2 && line[1] == ':' ? line + 1 : NULL) :
					  memchr(line, ':', n);
		if (!colon) {
			if (!warned)
				scan_warn(r, apk ? "cannot parse %s:%zu: expected 'X:value'" :
						   "cannot parse %s:%zu: line without a field name",
					  path, lineno);
			warned = true;
			continue;
		}
		if (!first)
			first = lineno;
		size_t klen = (size_t)(colon - line);
		for (size_t k = 0; k < nkeys; k++) {
			if (strlen(keys[k]) != klen || memcmp(line, keys[k], klen))
				continue;
			free(values[k]);
			values[k] = apk ? xstrndup(colon + 1, n - klen - 1) :
					  cat_text_trimdup(colon + 1, n - klen - 1);
			break;
		}
	}
	stanza_end(values, nkeys, &first, emit, path, r);
}

struct cat_set_node {
	struct hmap_node node;
	char *s;
};

static uint64_t set_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* The node holding s, or NULL with *slot the free key where it would go. */
static struct cat_set_node *set_find(const struct cat_set *set, const char *s, uint64_t *slot)
{
	uint64_t k = set_hash(s);
	struct hmap_node *n;

	if (!set->init) {
		*slot = k;
		return NULL;
	}
	/* colliding strings take the next free key */
	while ((n = hmap_get(&set->m, k))) {
		struct cat_set_node *e = hmap_entry(n, struct cat_set_node, node);
		if (!strcmp(e->s, s))
			return e;
		k++;
	}
	*slot = k;
	return NULL;
}

bool cat_set_add(struct cat_set *set, const char *s)
{
	uint64_t slot;

	if (set_find(set, s, &slot))
		return false;
	if (!set->init) {
		hmap_init(&set->m, 64);
		set->init = true;
	}
	struct cat_set_node *e = xcalloc(1, sizeof(*e));
	e->s = xstrdup(s);
	e->node.key = slot;
	hmap_put(&set->m, &e->node);
	return true;
}

bool cat_set_has(const struct cat_set *set, const char *s)
{
	uint64_t slot;
	return set_find(set, s, &slot) != NULL;
}

void cat_set_free(struct cat_set *set)
{
	struct hmap_node *n, *tmp;
	size_t i;

	if (!set->init)
		return;
	hmap_for_each(&set->m, n, tmp, i) {
		struct cat_set_node *e = hmap_entry(n, struct cat_set_node, node);
		free(e->s);
		free(e);
	}
	hmap_free(&set->m);
	set->init = false;
}
