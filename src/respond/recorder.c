/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>
#include "common/buf.h"
#include "common/hmap.h"
#include "respond/recorder.h"

struct rec {
	struct rec *next;
	uint64_t ts;
	size_t len;
	unsigned char data[];
};

struct ring {
	struct hmap_node node; /* cgroup id */
	struct rec *head, *tail;
	size_t bytes;
	uint64_t last_write; /* for dropping the least recently written container */
};

struct recorder {
	struct hmap rings;
	size_t cap, max;
	uint64_t window, clock;
};

struct recorder *recorder_new(size_t bytes_per_container, uint64_t window_ns, size_t max_containers)
{
	struct recorder *r = xcalloc(1, sizeof(*r));
	hmap_init(&r->rings, 64);
	r->cap = bytes_per_container;
	r->window = window_ns;
	r->max = max_containers;
	return r;
}

static void ring_free(struct ring *g)
{
	while (g->head) {
		struct rec *n = g->head->next;
		free(g->head);
		g->head = n;
	}
	free(g);
}

void recorder_free(struct recorder *r)
{
	if (!r)
		return;
	struct hmap_node *n, *tmp;
	size_t i;
	hmap_for_each(&r->rings, n, tmp, i)
		ring_free(hmap_entry(n, struct ring, node));
	hmap_free(&r->rings);
	free(r);
}

void recorder_forget(struct recorder *r, uint64_t cgroup_id)
{
	struct hmap_node *n = r ? hmap_del(&r->rings, cgroup_id) : NULL;
	if (n)
		ring_free(hmap_entry(n, struct ring, node));
}

void recorder_add(struct recorder *r, uint64_t cgroup_id, const void *data, size_t len, uint64_t ts)
{
	if (!r || len > r->cap)
		return;
	struct hmap_node *n = hmap_get(&r->rings, cgroup_id);
	struct ring *g;
	if (n) {
		g = hmap_entry(n, struct ring, node);
	} else {
		if (r->rings.count >= r->max) {
			/* make room: drop the container written to least recently */
			struct hmap_node *it, *tmp, *old = NULL;
			size_t i;
			uint64_t oldest = UINT64_MAX;
			hmap_for_each(&r->rings, it, tmp, i) {
				struct ring *x = hmap_entry(it, struct ring, node);
				if (x->last_write < oldest) {
					oldest = x->last_write;
					old = it;
				}
			}
			if (old)
				recorder_forget(r, old->key);
		}
		g = xcalloc(1, sizeof(*g));
		g->node.key = cgroup_id;
		hmap_put(&r->rings, &g->node);
	}
	struct rec *x = xmalloc(sizeof(*x) + len);
	x->next = NULL;
	x->ts = ts;
	x->len = len;
	memcpy(x->data, data, len);
	if (g->tail)
		g->tail->next = x;
	else
		g->head = x;
	g->tail = x;
	g->bytes += len;
	g->last_write = ++r->clock;
	/* keep within the byte budget and the time window */
	while (g->head && g->head != g->tail &&
	       (g->bytes > r->cap || (ts > r->window && g->head->ts < ts - r->window))) {
		struct rec *h = g->head;
		g->head = h->next;
		g->bytes -= h->len;
		free(h);
	}
}

size_t recorder_each(const struct recorder *r, uint64_t cgroup_id,
		     void (*fn)(void *ctx, const void *rec, size_t len), void *ctx)
{
	struct hmap_node *n = r ? hmap_get(&r->rings, cgroup_id) : NULL;
	size_t count = 0;
	if (!n)
		return 0;
	for (const struct rec *x = hmap_entry(n, struct ring, node)->head; x; x = x->next, count++)
		fn(ctx, x->data, x->len);
	return count;
}
