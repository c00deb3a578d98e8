/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/buf.h"
#include "scan/sources/fileindex.h"

static uint64_t fi_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

void fileindex_init(struct fileindex *fi)
{
	fi->nbuckets = 1024;
	fi->count = 0;
	fi->buckets = xcalloc(fi->nbuckets, sizeof(*fi->buckets));
}

static void fi_entry_free(struct fi_entry *e)
{
	free(e->path);
	free(e->link);
	free(e);
}

void fileindex_free(struct fileindex *fi)
{
	for (size_t i = 0; i < fi->nbuckets; i++) {
		struct fi_entry *e = fi->buckets[i], *n;
		for (; e; e = n) {
			n = e->next;
			fi_entry_free(e);
		}
	}
	free(fi->buckets);
	fi->buckets = NULL;
	fi->count = fi->nbuckets = 0;
}

struct fi_entry *fileindex_get(const struct fileindex *fi, const char *path)
{
	uint64_t h = fi_hash(path);

	for (struct fi_entry *e = fi->buckets[h & (fi->nbuckets - 1)]; e; e = e->next)
		if (e->hash == h && !strcmp(e->path, path))
			return e;
	return NULL;
}

static void fi_grow(struct fileindex *fi)
{
	size_t n = fi->nbuckets * 2;
	struct fi_entry **b = xcalloc(n, sizeof(*b));

	for (size_t i = 0; i < fi->nbuckets; i++) {
		struct fi_entry *e = fi->buckets[i], *next;
		for (; e; e = next) {
			next = e->next;
			e->next = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
		}
	}
	free(fi->buckets);
	fi->buckets = b;
	fi->nbuckets = n;
}

struct fi_entry *fileindex_put(struct fileindex *fi, const char *path, enum fi_type type,
			       const char *link, uint64_t seq, unsigned layer)
{
	struct fi_entry *e = fileindex_get(fi, path);

	if (!e) {
		if (fi->count >= fi->nbuckets)
			fi_grow(fi);
		e = xcalloc(1, sizeof(*e));
		e->path = xstrdup(path);
		e->hash = fi_hash(path);
		e->next = fi->buckets[e->hash & (fi->nbuckets - 1)];
		fi->buckets[e->hash & (fi->nbuckets - 1)] = e;
		fi->count++;
	}
	free(e->link);
	e->link = link ? xstrdup(link) : NULL;
	e->type = type;
	e->seq = seq;
	e->layer = layer;
	return e;
}

void fileindex_remove(struct fileindex *fi, const char *path, int self, int children)
{
	size_t plen = strlen(path);
	struct fi_entry *cur = fileindex_get(fi, path);

	/* A file or link has no children: skip the pass over the whole index. */
	if (cur && cur->type != FI_DIR)
		children = 0;
	if (self && cur) {
		uint64_t h = fi_hash(path);
		struct fi_entry **pp = &fi->buckets[h & (fi->nbuckets - 1)];
		for (; *pp; pp = &(*pp)->next) {
			if ((*pp)->hash == h && !strcmp((*pp)->path, path)) {
				struct fi_entry *e = *pp;
				*pp = e->next;
				fi_entry_free(e);
				fi->count--;
				break;
			}
		}
	}
	if (!children)
		return;
	/* A linear pass: directory removals are rare next to file removals. */
	for (size_t i = 0; i < fi->nbuckets; i++) {
		struct fi_entry **pp = &fi->buckets[i];
		while (*pp) {
			struct fi_entry *e = *pp;
			if ((plen == 0 || (!strncmp(e->path, path, plen) && e->path[plen] == '/'))) {
				*pp = e->next;
				fi_entry_free(e);
				fi->count--;
			} else {
				pp = &e->next;
			}
		}
	}
}

/* Append component list `p` to the path in out (len *olen), lexically, clamped at the root. */
static int fi_push(char *out, size_t n, size_t *olen, const char *p)
{
	while (*p) {
		const char *end = strchr(p, '/');
		size_t c = end ? (size_t)(end - p) : strlen(p);

		if (c == 0 || (c == 1 && p[0] == '.')) {
			/* nothing */
		} else if (c == 2 && p[0] == '.' && p[1] == '.') {
			while (*olen > 0 && out[*olen - 1] != '/')
				(*olen)--;
			if (*olen > 0)
				(*olen)--;
		} else {
			if (*olen + c + 2 > n)
				return -1;
			if (*olen > 0)
				out[(*olen)++] = '/';
			memcpy(out + *olen, p, c);
			*olen += c;
		}
		out[*olen] = 0;
		p += c;
		if (*p == '/')
			p++;
	}
	return 0;
}

struct fi_entry *fileindex_resolve(const struct fileindex *fi, const char *path, char *out,
				   size_t n)
{
	char cur[4096], rest[4096];
	int hops = 0;

	if (n == 0 || strlen(path) >= sizeof(rest))
		return NULL;
	snprintf(rest, sizeof(rest), "%s", path);
	cur[0] = 0;
	size_t clen = 0;
	/* Walk component by component, so symlinked directories resolve too. */
	char *p = rest;
	while (*p) {
		char *slash = strchr(p, '/');
		char comp[4096];
		size_t c = slash ? (size_t)(slash - p) : strlen(p);
		memcpy(comp, p, c);
		comp[c] = 0;
		p += c;
		if (*p == '/')
			p++;
		size_t save = clen;
		if (fi_push(cur, sizeof(cur), &clen, comp))
			return NULL;
		struct fi_entry *e = fileindex_get(fi, cur);
		if (!e)
			continue; /* may be an implicit directory */
		if (e->type != FI_SYMLINK)
			continue;
		if (++hops > 40)
			return NULL;
		/* Replace the component by the link target, then the unresolved rest. */
		char next[4096];
		int w;
		if (e->link[0] == '/')
			w = snprintf(next, sizeof(next), "%s/%s", e->link + 1, p);
		else
			w = snprintf(next, sizeof(next), "%.*s%s%s/%s", (int)save, cur,
				     save ? "/" : "", e->link, p);
		if (w < 0 || (size_t)w >= sizeof(next))
			return NULL;
		memcpy(rest, next, (size_t)w + 1);
		p = rest;
		cur[0] = 0;
		clen = 0;
	}
	if (clen + 1 > n)
		return NULL;
	memcpy(out, cur, clen + 1);
	return fileindex_get(fi, cur);
}
