/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Network flows in the agent (docs/flows.md, docs/service-map.md): the flow
 * table (state/flow_table.c) turns the kernel's flow records into struct
 * vg_flow before the rules; here the DNS answers the workloads receive name
 * the remote ends (state/dns_cache.c), and every flow report is counted into
 * the store's per-minute rollups (output/flow_rollup.c) that `vigil flows` and
 * the service map read. All on the agent's loop: none of these is thread-safe.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/agent_int.h"
#include "common/log.h"
#include "fleet/flow_pub.h"
#include "output/flow_rollup.h"
#include "output/flow_seen.h"
#include "respond/selector.h"
#include "state/dns_cache.h"
#include "state/flow_stats.h"
#include "state/flow_table.h"

/* --container: whether a container id is in the agent's scope, as its own flows said
 * (direct-mapped, overwritten on collision; an id not seen is out of scope) */
#define SCOPE_SLOTS 1024
struct scope_slot {
	char id[VG_FLOW_ID_LEN];
	bool in;
};
static struct scope_slot *scope;

static struct scope_slot *scope_slot(const char *id)
{
	uint64_t h = 1469598103934665603ull;
	for (const char *p = id; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	if (!scope)
		scope = xcalloc(SCOPE_SLOTS, sizeof(*scope));
	return &scope[h % SCOPE_SLOTS];
}

/* Before the rules read the flow: the name its container learnt for the remote address. */
static void name_flow(void *ctx, struct vg_flow *f)
{
	struct agent *a = ctx;
	dns_cache_name_flow(a->dns, f);
}

/* The flow features learnt a workload or a destination: keep it in the store (wall-clock time). */
static void learnt(void *ctx, const char *workload, const char *dest, uint64_t ts_ns)
{
	struct agent *a = ctx;
	if (a->seen)
		flow_seen_add(a->seen, workload, dest, (int64_t)(ts_ns + a->src->boot_to_realtime));
}

/* A row of an earlier run's memory, back in the record clock of this one. */
static void remember(void *ctx, const char *workload, const char *dest, int64_t wall_ns)
{
	struct agent *a = ctx;
	int64_t boot = wall_ns - (int64_t)a->src->boot_to_realtime;
	flow_stats_remember(a->fstats, workload, dest, boot > 0 ? (uint64_t)boot : 0);
}

int agent_flows_start(struct agent *a)
{
	char err[512];

	if (!a->flows || (!a->want[VG_EVT_FLOW_TCP] && !a->want[VG_EVT_FLOW_UDP] && !a->want[VG_EVT_FLOW_DNS]))
		return 0;
	a->dns = dns_cache_new(NULL);
	flow_table_set_listener(a->flows, name_flow, a);
	struct flow_stats_opts fo = {
		.cluster_cidrs = a->cfg.cluster_cidrs,
		.window_ns = (uint64_t)a->cfg.flow_window_s * 1000000000,
		.learn_ns = (uint64_t)a->cfg.flow_learn_s * 1000000000,
		.learn_set = a->cfg.flow_learn_set,
		.beacon_min = a->cfg.beacon_min,
		.beacon_jitter_pct = a->cfg.beacon_jitter_pct,
	};
	a->fstats = flow_stats_new(&fo, err, sizeof(err));
	if (!a->fstats) {
		vg_err("--cluster-cidr: %s", err);
		return -1;
	}
	a->state->flowstats = a->fstats;
	if (!a->cfg.store_path)
		return 0;
	/* with --nats, each flush's deltas also go to the hub (docs/fleet.md, "Flows"); with
	 * --console, to the console's store (hub/hub_local.c) */
	struct flow_rollup_opts ro = { .outbox = a->fleet != NULL || a->cfg.console };
	a->rollup = flow_rollup_open(a->cfg.store_path, &ro, err, sizeof(err));
	if (!a->rollup) {
		vg_err("flow rollups: %s", err);
		return -1;
	}
	if (a->fleet && !(a->flowpub = flow_pub_start(a->fleet, a->cfg.store_path, err, sizeof(err)))) {
		vg_err("nats: %s", err);
		return -1;
	}
	if (a->cfg.mode != AGENT_RUN)
		return 0; /* replay learns from its capture alone: the same answers on any machine */
	a->seen = flow_seen_open(a->cfg.store_path, 0, err, sizeof(err));
	if (!a->seen) {
		vg_err("flow memory: %s", err);
		return -1;
	}
	if (flow_seen_load(a->seen, remember, a) < 0)
		vg_warn("flow memory: %s (starting without it)", flow_seen_error(a->seen));
	flow_stats_set_listener(a->fstats, learnt, a);
	return 0;
}

void agent_flows_before(struct agent *a, const struct vg_event *ev)
{
	if (a->fstats)
		flow_stats_ingest(a->fstats, a->state, ev);
}

void agent_flows_event(struct agent *a, const struct vg_event *ev)
{
	struct vg_flow_dns d;

	if (!a->dns)
		return;
	if (ev->hdr.type == VG_EVT_FLOW_DNS) {
		if (flow_dns_from_event(a->state, ev, &d)) {
			struct dns_cache_addr server = { .family = d.remote.family };
			memcpy(server.addr, d.remote.addr, sizeof(server.addr));
			if (d.tcp)
				dns_cache_learn_tcp_from(a->dns, d.container_id, &server, d.payload, d.len, d.ts_ns);
			else
				dns_cache_learn_from(a->dns, d.container_id, &server, d.payload, d.len, d.ts_ns);
		}
		return;
	}
	const struct vg_flow *f = a->rollup ? flow_table_last(a->flows, ev) : NULL;
	if (f) {
		const struct vg_cgroup *cg = state_cgroup(a->state, f->cgroup_id);
		const struct vg_container_meta *self = cg && cg->meta.id[0] ? &cg->meta : NULL;
		if (a->cfg.container) {
			/* --container: the agent watches those workloads; their flows alone are counted,
			 * and a peer outside them is only an address (as a peer on another node is) */
			bool in = selector_filter(a->cfg.container, self);
			if (f->container_id[0]) {
				struct scope_slot *sl = scope_slot(f->container_id);
				snprintf(sl->id, sizeof(sl->id), "%s", f->container_id);
				sl->in = in;
			}
			if (!in)
				return;
			if (f->peer_container_id[0]) {
				const struct scope_slot *sl = scope_slot(f->peer_container_id);
				if (strcmp(sl->id, f->peer_container_id) || !sl->in) {
					struct vg_flow copy = *f;
					copy.peer_container_id[0] = 0;
					flow_rollup_add(a->rollup, &copy, self, NULL, a->src->boot_to_realtime);
					return;
				}
			}
		}
		flow_rollup_add(a->rollup, f, self, NULL, a->src->boot_to_realtime);
	}
}

static int64_t wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void agent_flows_tick(struct agent *a, uint64_t now)
{
	if (!a->dns || now - a->flows_flushed < FLOW_ROLLUP_FLUSH_EVERY_NS)
		return;
	a->flows_flushed = now;
	dns_cache_expire(a->dns, now);
	if (a->rollup && flow_rollup_flush(a->rollup, wall_ns()) < 0)
		vg_warn("flow rollups: %s", flow_rollup_error(a->rollup));
	if (a->seen && flow_seen_flush(a->seen) < 0)
		vg_warn("flow memory: %s", flow_seen_error(a->seen));
	flow_pub_notify(a->flowpub);
}

void agent_flows_fleet_stop(struct agent *a)
{
	if (!a->flowpub)
		return;
	if (a->rollup && flow_rollup_flush(a->rollup, wall_ns()) < 0)
		vg_warn("flow rollups: %s", flow_rollup_error(a->rollup));
	long ms = a->cfg.fleet.drain_ms < 0 ? 60000 : a->cfg.fleet.drain_ms;
	if (!flow_pub_drain(a->flowpub, ms))
		vg_warn("nats: flows not all published yet; they stay in the store and go at the next start");
	flow_pub_stop(a->flowpub);
	a->flowpub = NULL;
}

void agent_flows_stop(struct agent *a)
{
	if (a->dns) {
		struct dns_cache_stats ds;
		dns_cache_stats(a->dns, &ds);
		if (ds.messages)
			vg_info("dns: answers=%llu learnt=%llu malformed=%llu evicted=%llu names=%zu",
				(unsigned long long)ds.messages, (unsigned long long)ds.learnt,
				(unsigned long long)ds.malformed, (unsigned long long)ds.evicted, ds.entries);
	}
	if (a->fstats) {
		struct flow_stats_stats fs;
		flow_stats_stats(a->fstats, &fs);
		if (fs.flows || fs.dns)
			vg_info("flow features: flows=%llu dns=%llu malformed=%llu new_dests=%llu learnt=%llu "
				"workloads=%zu dests=%zu series=%zu domains=%zu evicted=%llu",
				(unsigned long long)fs.flows, (unsigned long long)fs.dns,
				(unsigned long long)fs.dns_malformed, (unsigned long long)fs.dests_new,
				(unsigned long long)fs.dests_learnt, fs.workloads, fs.dests, fs.series, fs.domains,
				(unsigned long long)(fs.workloads_evicted + fs.dests_evicted + fs.series_evicted +
						     fs.domains_evicted + fs.cookies_evicted));
	}
	free(scope);
	scope = NULL;
	flow_rollup_close(a->rollup); /* writes what is pending */
	a->rollup = NULL;
	flow_seen_close(a->seen);
	a->seen = NULL;
	if (a->state)
		a->state->flowstats = NULL;
	flow_stats_free(a->fstats);
	a->fstats = NULL;
	dns_cache_free(a->dns);
	a->dns = NULL;
}
