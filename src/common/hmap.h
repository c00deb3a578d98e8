/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An intrusive hash map keyed by u64 (pids, cgroup ids): entries embed a
 * struct hmap_node; the map owns only its bucket array. Grows by doubling
 * at load factor 1; never shrinks below its initial size.
 */
#ifndef VIGIL_HMAP_H
#define VIGIL_HMAP_H

#include <stddef.h>
#include <stdint.h>

struct hmap_node {
	struct hmap_node *next;
	uint64_t key;
};

struct hmap {
	struct hmap_node **buckets;
	size_t nbuckets; /* a power of two */
	size_t count;
};

void hmap_init(struct hmap *m, size_t initial); /* initial rounded up to a power of two */
void hmap_free(struct hmap *m);                  /* frees buckets, not entries */
struct hmap_node *hmap_get(const struct hmap *m, uint64_t key);
void hmap_put(struct hmap *m, struct hmap_node *n); /* n->key set by the caller; key must be absent */
struct hmap_node *hmap_del(struct hmap *m, uint64_t key); /* the removed node, or NULL */

#define hmap_entry(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))
/* Iterate safely (the current node may be deleted). */
#define hmap_for_each(m, n, tmp, i)                                                         \
	for ((i) = 0; (i) < (m)->nbuckets; (i)++)                                          \
		for ((n) = (m)->buckets[i], (tmp) = (n) ? (n)->next : NULL; (n);            \
		     (n) = (tmp), (tmp) = (n) ? (n)->next : NULL)

#endif
