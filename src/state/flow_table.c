/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Flow records -> struct vg_flow (flow_table.h). Two bounded tables, each a
 * hash map with an LRU list: live flows by socket cookie, and local addresses
 * of containers' flows by address (the peer book).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "common/buf.h"
#include "state/flow_table.h"
#include "state/state.h"
#include "vigil/flow.h"

struct lru {
	struct lru *prev, *next;
};

struct ft_flow {
	struct hmap_node node; /* key: socket cookie */
	struct lru lru;
	uint32_t pid;
	char comm[16];
	uint64_t cgroup_id;
};

struct ft_addr {
	struct hmap_node node; /* key: addr_key() */
	struct lru lru;
	uint16_t family;
	uint8_t addr[16];
	uint32_t netns;
	char container_id[VG_FLOW_ID_LEN];
};

struct flow_table {
	struct hmap flows, addrs;
	struct lru flow_lru, addr_lru; /* most recent first */
	size_t max_flows, max_addrs;
	struct flow_table_stats st;
	flow_table_fn fn;
	void *ctx;
	struct vg_flow last;    /* what flow_table_ingest() made of last_raw */
	const void *last_raw;
	uint64_t last_ts;
};

static void lru_init(struct lru *l)
{
	l->prev = l->next = l;
}

static void lru_unlink(struct lru *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
}

static void lru_push(struct lru *head, struct lru *n)
{
	n->next = head->next;
	n->prev = head;
	head->next->prev = n;
	head->next = n;
}

static void lru_touch(struct lru *head, struct lru *n)
{
	lru_unlink(n);
	lru_push(head, n);
}

#define lru_entry(ptr, type) ((type *)((char *)(ptr) - offsetof(type, lru)))

struct flow_table *flow_table_new(size_t max_flows, size_t max_addrs)
{
	struct flow_table *ft = xcalloc(1, sizeof(*ft));
	ft->max_flows = max_flows ? max_flows : FLOW_TABLE_MAX_FLOWS;
	ft->max_addrs = max_addrs ? max_addrs : FLOW_TABLE_MAX_ADDRS;
	hmap_init(&ft->flows, 1024);
	hmap_init(&ft->addrs, 256);
	lru_init(&ft->flow_lru);
	lru_init(&ft->addr_lru);
	return ft;
}

void flow_table_free(struct flow_table *ft)
{
	struct hmap_node *n, *tmp;
	size_t i;
	if (!ft)
		return;
	hmap_for_each(&ft->flows, n, tmp, i) free(hmap_entry(n, struct ft_flow, node));
	hmap_for_each(&ft->addrs, n, tmp, i) free(hmap_entry(n, struct ft_addr, node));
	hmap_free(&ft->flows);
	hmap_free(&ft->addrs);
	free(ft);
}

void flow_table_set_listener(struct flow_table *ft, flow_table_fn fn, void *ctx)
{
	ft->fn = fn;
	ft->ctx = ctx;
}

/* FNV-1a of family and address: the map's key (a collision replaces the older entry). */
static uint64_t addr_key(uint16_t family, const uint8_t *addr)
{
	uint64_t h = 1469598103934665603ull ^ family;
	size_t n = family == AF_INET ? 4 : 16;
	for (size_t i = 0; i < n; i++) {
		h ^= addr[i];
		h *= 1099511628211ull;
	}
	return h;
}

/* Addresses that name no workload: unspecified, loopback, link-local v6. */
static bool addr_anonymous(uint16_t family, const uint8_t *a)
{
	static const uint8_t zero[16], lo6[16] = { [15] = 1 };
	if (family == AF_INET)
		return !memcmp(a, zero, 4) || a[0] == 127;
	if (family != AF_INET6)
		return true;
	if (!memcmp(a, zero, 16) || !memcmp(a, lo6, 16) || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80))
		return true;
	/* v4-mapped: judge the v4 address */
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	return !memcmp(a, mapped, 12) && (a[12] == 127 || !memcmp(a + 12, zero, 4));
}

static void addr_learn(struct flow_table *ft, const struct vg_flow_endpoint *e, uint32_t netns,
		       const char *container_id)
{
	if (!container_id[0] || addr_anonymous(e->family, e->addr))
		return;
	uint64_t key = addr_key(e->family, e->addr);
	struct hmap_node *n = hmap_get(&ft->addrs, key);
	struct ft_addr *a;
	if (n) {
		a = hmap_entry(n, struct ft_addr, node);
		lru_touch(&ft->addr_lru, &a->lru);
	} else {
		if (ft->addrs.count >= ft->max_addrs) {
			struct ft_addr *old = lru_entry(ft->addr_lru.prev, struct ft_addr);
			lru_unlink(&old->lru);
			hmap_del(&ft->addrs, old->node.key);
			free(old);
			ft->st.addr_evicted++;
		}
		a = xcalloc(1, sizeof(*a));
		a->node.key = key;
		hmap_put(&ft->addrs, &a->node);
		lru_push(&ft->addr_lru, &a->lru);
	}
	a->family = e->family;
	memcpy(a->addr, e->addr, sizeof(a->addr));
	a->netns = netns;
	snprintf(a->container_id, sizeof(a->container_id), "%s", container_id);
}

/* The container on this node whose flows use the address, if it is not in netns. */
static const char *addr_container(const struct flow_table *ft, const struct vg_flow_endpoint *e, uint32_t netns)
{
	if (addr_anonymous(e->family, e->addr))
		return "";
	struct hmap_node *n = hmap_get(&ft->addrs, addr_key(e->family, e->addr));
	if (!n)
		return "";
	const struct ft_addr *a = hmap_entry(n, struct ft_addr, node);
	if (a->family != e->family || memcmp(a->addr, e->addr, sizeof(a->addr)) || a->netns == netns)
		return "";
	return a->container_id;
}

static uint64_t param_u64(const struct vg_event *ev, unsigned int i)
{
	return (uint64_t)event_param_int(ev, i);
}

/* The flow's remembered owner, creating the entry for an OPEN (or a report whose OPEN was missed). */
static struct ft_flow *flow_entry(struct flow_table *ft, uint64_t cookie, bool create)
{
	struct hmap_node *n = hmap_get(&ft->flows, cookie);
	if (n) {
		struct ft_flow *f = hmap_entry(n, struct ft_flow, node);
		lru_touch(&ft->flow_lru, &f->lru);
		return f;
	}
	if (!create)
		return NULL;
	if (ft->flows.count >= ft->max_flows) {
		struct ft_flow *old = lru_entry(ft->flow_lru.prev, struct ft_flow);
		lru_unlink(&old->lru);
		hmap_del(&ft->flows, old->node.key);
		free(old);
		ft->st.evicted++;
	}
	struct ft_flow *f = xcalloc(1, sizeof(*f));
	f->node.key = cookie;
	hmap_put(&ft->flows, &f->node);
	lru_push(&ft->flow_lru, &f->lru);
	return f;
}

static void flow_forget(struct flow_table *ft, struct ft_flow *f)
{
	lru_unlink(&f->lru);
	hmap_del(&ft->flows, f->node.key);
	free(f);
}

bool flow_from_event(struct flow_table *ft, const struct vg_state *st, const struct vg_event *ev,
		     struct vg_flow *out)
{
	unsigned int type = ev->hdr.type;
	struct vg_tuple t;

	if (type != VG_EVT_FLOW_TCP && type != VG_EVT_FLOW_UDP)
		return false;
	/* tuple, phase, cookie, bytes_out, bytes_in, pkts_out, pkts_in, srtt_us */
	if (ev->nparams < 8 || ev->params[0].len != sizeof(t)) {
		ft->st.malformed++;
		return false;
	}
	memcpy(&t, ev->params[0].data, sizeof(t));
	uint64_t phase = param_u64(ev, 1);
	if (phase < VG_FLOW_REC_OPEN || phase > VG_FLOW_REC_CLOSE || (t.family != AF_INET && t.family != AF_INET6)) {
		ft->st.malformed++;
		return false;
	}
	memset(out, 0, sizeof(*out));
	out->cookie = param_u64(ev, 2);
	out->proto = type == VG_EVT_FLOW_TCP ? VG_FLOW_TCP : VG_FLOW_UDP;
	out->dir = t.pad == VG_FLOW_REC_OUT ? VG_FLOW_OUTBOUND : t.pad == VG_FLOW_REC_IN ? VG_FLOW_INBOUND
											: VG_FLOW_DIR_UNKNOWN;
	out->phase = (enum vg_flow_phase)phase;
	out->local.family = out->remote.family = t.family;
	out->local.port = t.sport;
	out->remote.port = t.dport;
	memcpy(out->local.addr, t.saddr, sizeof(out->local.addr));
	memcpy(out->remote.addr, t.daddr, sizeof(out->remote.addr));
	out->netns = ev->hdr.netns;
	out->ts_ns = ev->hdr.ts;
	out->start_ns = (uint64_t)ev->hdr.retval <= ev->hdr.ts ? ev->hdr.ts - (uint64_t)ev->hdr.retval : 0;
	out->bytes_out = param_u64(ev, 3);
	out->bytes_in = param_u64(ev, 4);
	out->pkts_out = param_u64(ev, 5);
	out->pkts_in = param_u64(ev, 6);
	out->srtt_us = (uint32_t)param_u64(ev, 7);

	/* the owner: the record's, else the one this flow had (a passive open learns it late) */
	struct ft_flow *f = flow_entry(ft, out->cookie, true);
	if (phase == VG_FLOW_REC_OPEN)
		ft->st.opened++;
	else if (!f->pid && !f->cgroup_id && !f->comm[0] && ev->hdr.pid)
		ft->st.unmatched++; /* (a passive flow no process has read yet reports before its OPEN) */
	if (ev->hdr.pid || !f->cgroup_id) {
		f->pid = ev->hdr.pid;
		memcpy(f->comm, ev->hdr.comm, sizeof(f->comm));
		f->comm[sizeof(f->comm) - 1] = 0;
		f->cgroup_id = ev->hdr.cgroup_id;
	}
	out->pid = f->pid;
	memcpy(out->comm, f->comm, sizeof(out->comm));
	out->cgroup_id = f->cgroup_id;
	const struct vg_cgroup *cg = st ? state_cgroup(st, out->cgroup_id) : NULL;
	if (cg)
		snprintf(out->container_id, sizeof(out->container_id), "%s", cg->meta.id);
	if (phase == VG_FLOW_REC_CLOSE) {
		flow_forget(ft, f);
		ft->st.closed++;
	}
	addr_learn(ft, &out->local, out->netns, out->container_id);
	snprintf(out->peer_container_id, sizeof(out->peer_container_id), "%s",
		 addr_container(ft, &out->remote, out->netns));
	ft->st.records++;
	return true;
}

bool flow_table_ingest(struct flow_table *ft, const struct vg_state *st, const struct vg_event *ev)
{
	if (!ft)
		return false;
	ft->last_raw = NULL;
	if (!flow_from_event(ft, st, ev, &ft->last))
		return false;
	ft->last_raw = ev->raw;
	ft->last_ts = ev->hdr.ts;
	if (ft->fn)
		ft->fn(ft->ctx, &ft->last);
	return true;
}

const struct vg_flow *flow_table_last(const struct flow_table *ft, const struct vg_event *ev)
{
	if (!ft || !ft->last_raw || ft->last_raw != ev->raw || ft->last_ts != ev->hdr.ts)
		return NULL;
	return &ft->last;
}

bool flow_dns_from_event(const struct vg_state *st, const struct vg_event *ev, struct vg_flow_dns *out)
{
	struct vg_tuple t;
	/* tuple, cookie, payload, len */
	if (ev->hdr.type != VG_EVT_FLOW_DNS || ev->nparams < 4 || ev->params[0].len != sizeof(t))
		return false;
	memcpy(&t, ev->params[0].data, sizeof(t));
	if (t.family != AF_INET && t.family != AF_INET6)
		return false;
	memset(out, 0, sizeof(*out));
	out->cgroup_id = ev->hdr.cgroup_id;
	out->ts_ns = ev->hdr.ts;
	out->pid = ev->hdr.pid;
	out->cookie = param_u64(ev, 1);
	out->local.family = out->remote.family = t.family;
	out->local.port = t.sport;
	out->remote.port = t.dport;
	memcpy(out->local.addr, t.saddr, sizeof(out->local.addr));
	memcpy(out->remote.addr, t.daddr, sizeof(out->remote.addr));
	out->payload = (const uint8_t *)ev->params[2].data;
	out->len = ev->params[2].data ? ev->params[2].len : 0;
	out->whole_len = param_u64(ev, 3);
	out->tcp = t.pad == VG_FLOW_DNS_TCP;
	const struct vg_cgroup *cg = st ? state_cgroup(st, out->cgroup_id) : NULL;
	if (cg)
		snprintf(out->container_id, sizeof(out->container_id), "%s", cg->meta.id);
	return true;
}

void flow_table_stats(const struct flow_table *ft, struct flow_table_stats *s)
{
	*s = ft->st;
	s->live = ft->flows.count;
	s->addrs = ft->addrs.count;
}

const char *flow_proto_name(enum vg_flow_proto p)
{
	return p == VG_FLOW_TCP ? "tcp" : p == VG_FLOW_UDP ? "udp" : "";
}

const char *flow_dir_name(enum vg_flow_dir d)
{
	return d == VG_FLOW_OUTBOUND ? "out" : d == VG_FLOW_INBOUND ? "in" : "";
}

const char *flow_phase_name(enum vg_flow_phase p)
{
	return p == VG_FLOW_OPEN ? "open" : p == VG_FLOW_UPDATE ? "update" : p == VG_FLOW_CLOSE ? "close" : "";
}
