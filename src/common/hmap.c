/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include "common/buf.h"
#include "common/hmap.h"

static size_t slot(const struct hmap *m, uint64_t key)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdULL; /* murmur3 finaliser: pids are sequential */
	key ^= key >> 33;
	return key & (m->nbuckets - 1);
}

void hmap_init(struct hmap *m, size_t initial)
{
	size_t n = 16;
	while (n < initial)
		n *= 2;
	m->buckets = xcalloc(n, sizeof(*m->buckets));
	m->nbuckets = n;
	m->count = 0;
}

void hmap_free(struct hmap *m)
{
	free(m->buckets);
	m->buckets = NULL;
	m->nbuckets = m->count = 0;
}

struct hmap_node *hmap_get(const struct hmap *m, uint64_t key)
{
	for (struct hmap_node *n = m->buckets[slot(m, key)]; n; n = n->next)
		if (n->key == key)
			return n;
	return NULL;
}

static void grow(struct hmap *m)
{
	struct hmap old = *m;
	size_t i;

	m->nbuckets *= 2;
	m->buckets = xcalloc(m->nbuckets, sizeof(*m->buckets));
	for (i = 0; i < old.nbuckets; i++) {
		struct hmap_node *n = old.buckets[i], *next;
		for (; n; n = next) {
			next = n->next;
			size_t s = slot(m, n->key);
			n->next = m->buckets[s];
			m->buckets[s] = n;
		}
	}
	free(old.buckets);
}

void hmap_put(struct hmap *m, struct hmap_node *n)
{
	if (m->count >= m->nbuckets)
		grow(m);
	size_t s = slot(m, n->key);
	n->next = m->buckets[s];
	m->buckets[s] = n;
	m->count++;
}

struct hmap_node *hmap_del(struct hmap *m, uint64_t key)
{
	struct hmap_node **pp = &m->buckets[slot(m, key)];
	for (; *pp; pp = &(*pp)->next) {
		if ((*pp)->key == key) {
			struct hmap_node *n = *pp;
			*pp = n->next;
			m->count--;
			return n;
		}
	}
	return NULL;
}
