/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Floods (docs/platform-notes.md, "Floods"): what the sensor lost, by
 * container. Once a second the live agent reads the kernel's per-cgroup
 * counts (records refused by a full ring buffer, records shed by the
 * per-cgroup fairness: include/vigil/fair.h) and, for a cgroup that lost
 * records since its last report, makes a sensor_flood record: the header
 * names the cgroup (no process), the parameters say how many were lost and
 * shed over how many seconds. The record goes through the same path as the
 * kernel's (state, capture, rules), so a rule can alert on it and replay
 * raises the same alert. One report per cgroup per FLOOD_REPORT_NS at most,
 * with everything lost since the one before. The counts also feed
 * vigil_records_dropped_total{container,reason} (--metrics), the heartbeat's
 * dropped_by_container (--nats) and the exit summary.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agent/agent_int.h"
#include "common/hmap.h"
#include "common/log.h"
#include "common/buf.h"
#include "sensor/event_table.h"
#include "state/container_table.h"
#include "vigil/fair.h"

#define FLOOD_TICK_NS 1000000000ULL
#define FLOOD_REPORT_NS 30000000000ULL /* a cgroup's reports at most this often */

struct flood_cg {
	struct hmap_node node; /* key: cgroup id */
	uint64_t lost, shed;          /* the kernel's totals at the last read */
	uint64_t rep_lost, rep_shed;  /* ... at the last report */
	uint64_t reported_ns;         /* when it was last reported (0: never) */
	uint64_t all_lost, all_shed;  /* this run's totals (the kernel's may restart: LRU, a forgotten cgroup) */
};

struct agent_floods {
	struct hmap cgs;
	uint64_t last_tick, start_ns;
	struct vg_metric *dropped; /* vigil_records_dropped_total, or NULL */
	pthread_mutex_t lock;      /* guards health (the heartbeat's thread reads it) */
	struct vg_buf health;      /* the heartbeat's dropped_by_container, remade each read */
};

#define FLOOD_HEALTH_MAX 16 /* containers in a heartbeat: those that dropped the most */

/* A container's name for people: its name, its short id, or "host". */
static void cgroup_label(struct agent *a, uint64_t id, char *out, size_t n)
{
	const struct vg_cgroup *cg = state_cgroup(a->state, id);
	if (!cg)
		snprintf(out, n, "cgroup:%llu", (unsigned long long)id);
	else if (!cg->meta.id[0])
		snprintf(out, n, "host");
	else if (cg->meta.name[0])
		snprintf(out, n, "%s", cg->meta.name);
	else
		snprintf(out, n, "%.12s", cg->meta.id);
}

/* The sensor_flood record of a cgroup, through the agent's path like a kernel record. */
static void report(struct agent *a, uint64_t cgroup_id, uint64_t lost, uint64_t shed, uint64_t seconds)
{
	struct vg_buf rec = { 0 };
	struct vg_event_hdr h = { 0 };
	uint64_t vals[3] = { lost, shed, seconds ? seconds : 1 };
	uint16_t plen = sizeof(uint64_t);

	if (!a->want[VG_EVT_SENSOR_FLOOD])
		return; /* counted, not reported (--syscalls without it, or no rule uses it) */
	h.ts = agent_now_ns();
	h.type = VG_EVT_SENSOR_FLOOD;
	h.cgroup_id = cgroup_id;
	h.nparams = 3;
	h.len = sizeof(h) + 3 * (sizeof(plen) + sizeof(uint64_t));
	h.loginuid = UINT32_MAX;
	buf_add(&rec, &h, sizeof(h));
	for (int i = 0; i < 3; i++) {
		buf_add(&rec, &plen, sizeof(plen));
		buf_add(&rec, &vals[i], sizeof(vals[i]));
	}
	agent_ingest_record(a, rec.data, rec.len);
	buf_free(&rec);
}

static void count_metric(struct agent *a, struct agent_floods *f, uint64_t id, uint64_t lost, uint64_t shed)
{
	char label[160];
	if (!a->metrics.http)
		return;
	if (!f->dropped)
		f->dropped = metrics_family(METRIC_COUNTER, "vigil_records_dropped_total",
					    "Records the sensor lost, by container and reason (full: the ring buffer "
					    "was full; shed: over the container's share while it was under pressure)",
					    "container,reason", NULL, 0);
	cgroup_label(a, id, label, sizeof(label));
	if (lost)
		metrics_add(metrics_series2(f->dropped, label, "full"), lost);
	if (shed)
		metrics_add(metrics_series2(f->dropped, label, "shed"), shed);
}

static int by_dropped(const void *x, const void *y)
{
	const struct flood_cg *a = *(struct flood_cg *const *)x, *b = *(struct flood_cg *const *)y;
	uint64_t na = a->all_lost + a->all_shed, nb = b->all_lost + b->all_shed;
	return na < nb ? 1 : na > nb ? -1 : 0;
}

/* The heartbeat's array: the containers that dropped the most this run. */
static void make_health(struct agent *a, struct agent_floods *f)
{
	struct flood_cg *top[FLOOD_HEALTH_MAX + 1];
	size_t n = 0, i;
	struct hmap_node *hn, *tmp;
	struct vg_buf out = { 0 };
	struct vg_json j;

	hmap_for_each(&f->cgs, hn, tmp, i) {
		struct flood_cg *c = hmap_entry(hn, struct flood_cg, node);
		if (!c->all_lost && !c->all_shed)
			continue;
		top[n++] = c;
		qsort(top, n, sizeof(top[0]), by_dropped);
		if (n > FLOOD_HEALTH_MAX)
			n = FLOOD_HEALTH_MAX;
	}
	jw_init(&j, &out);
	jw_arr_begin(&j, NULL);
	for (i = 0; i < n; i++) {
		char label[160];
		const struct vg_cgroup *cg = state_cgroup(a->state, top[i]->node.key);
		cgroup_label(a, top[i]->node.key, label, sizeof(label));
		jw_obj_begin(&j, NULL);
		jw_str(&j, "container", label);
		jw_str(&j, "container_id", cg && cg->meta.id[0] ? cg->meta.id : "host");
		jw_uint(&j, "cgroup_id", top[i]->node.key);
		jw_uint(&j, "shed", top[i]->all_shed);
		jw_uint(&j, "lost", top[i]->all_lost);
		jw_obj_end(&j);
	}
	jw_arr_end(&j);
	pthread_mutex_lock(&f->lock);
	buf_reset(&f->health);
	if (n)
		buf_add(&f->health, out.data, out.len);
	pthread_mutex_unlock(&f->lock);
	buf_free(&out);
}

void agent_floods_health(struct agent *a, struct vg_buf *out)
{
	struct agent_floods *f = __atomic_load_n(&a->floods, __ATOMIC_ACQUIRE);
	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	if (f->health.len)
		buf_add(out, f->health.data, f->health.len);
	pthread_mutex_unlock(&f->lock);
}

/* Read the kernel's counts; report the cgroups due (all of them when force). */
static void floods_read(struct agent *a, struct agent_floods *f, uint64_t now, bool force)
{
	struct vg_cgroup_drops *d;
	long n = source_bpf_cgroup_drops(a->src, &d);

	for (long i = 0; i < n; i++) {
		struct hmap_node *hn = hmap_get(&f->cgs, d[i].cgroup_id);
		struct flood_cg *c = hn ? hmap_entry(hn, struct flood_cg, node) : NULL;
		if (!c) {
			if (f->cgs.count >= VG_FAIR_CGROUPS)
				continue; /* bounded: the kernel keeps no more either */
			c = xcalloc(1, sizeof(*c));
			c->node.key = d[i].cgroup_id;
			hmap_put(&f->cgs, &c->node);
		}
		/* the kernel's entry restarted from zero (evicted, or the cgroup forgotten) */
		if (d[i].lost < c->lost || d[i].shed < c->shed)
			c->lost = c->shed = c->rep_lost = c->rep_shed = 0;
		count_metric(a, f, c->node.key, d[i].lost - c->lost, d[i].shed - c->shed);
		c->all_lost += d[i].lost - c->lost;
		c->all_shed += d[i].shed - c->shed;
		c->lost = d[i].lost;
		c->shed = d[i].shed;
		uint64_t dl = c->lost - c->rep_lost, ds = c->shed - c->rep_shed;
		if (!(dl || ds) || (!force && c->reported_ns && now - c->reported_ns < FLOOD_REPORT_NS))
			continue;
		uint64_t since = c->reported_ns ? c->reported_ns : f->start_ns;
		report(a, c->node.key, dl, ds, (now - since + 999999999ULL) / 1000000000ULL);
		c->rep_lost = c->lost;
		c->rep_shed = c->shed;
		c->reported_ns = now;
	}
	if (n > 0)
		make_health(a, f);
	free(d);
}

static struct agent_floods *floods_of(struct agent *a)
{
	if (!a->floods) {
		struct agent_floods *f = xcalloc(1, sizeof(*f));
		hmap_init(&f->cgs, 64);
		pthread_mutex_init(&f->lock, NULL);
		f->start_ns = agent_now_ns();
		__atomic_store_n(&a->floods, f, __ATOMIC_RELEASE);
	}
	return a->floods;
}

void agent_floods_tick(struct agent *a, uint64_t now)
{
	if (a->cfg.mode == AGENT_REPLAY || !a->src)
		return;
	struct agent_floods *f = floods_of(a);
	if (now - f->last_tick < FLOOD_TICK_NS)
		return;
	f->last_tick = now;
	floods_read(a, f, now, false);
}

void agent_floods_end(struct agent *a)
{
	if (a->cfg.mode == AGENT_REPLAY || !a->src)
		return;
	struct agent_floods *f = floods_of(a);
	struct hmap_node *n, *tmp;
	size_t i;

	/* what was lost since the last report is reported before the end */
	floods_read(a, f, agent_now_ns(), true);
	hmap_for_each(&f->cgs, n, tmp, i) {
		struct flood_cg *c = hmap_entry(n, struct flood_cg, node);
		char label[160];
		cgroup_label(a, c->node.key, label, sizeof(label));
		vg_warn("records lost to the sensor from %s (cgroup %llu): %llu shed over its share, %llu refused by "
			"a full ring buffer", label, (unsigned long long)c->node.key, (unsigned long long)c->all_shed,
			(unsigned long long)c->all_lost);
	}
}

void agent_floods_free(struct agent *a)
{
	struct hmap_node *n, *tmp;
	size_t i;

	if (!a->floods)
		return;
	hmap_for_each(&a->floods->cgs, n, tmp, i)
		free(hmap_entry(n, struct flood_cg, node));
	hmap_free(&a->floods->cgs);
	pthread_mutex_destroy(&a->floods->lock);
	buf_free(&a->floods->health);
	free(a->floods);
	a->floods = NULL;
}
