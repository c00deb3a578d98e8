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
#include <time.h>

#include "agent/agent_int.h"
#include "common/log.h"
#include "output/flow_rollup.h"
#include "state/dns_cache.h"
#include "state/flow_table.h"

/* Before the rules read the flow: the name its container learnt for the remote address. */
static void name_flow(void *ctx, struct vg_flow *f)
{
	struct agent *a = ctx;
	dns_cache_name_flow(a->dns, f);
}

int agent_flows_start(struct agent *a)
{
	char err[512];

	if (!a->flows || (!a->want[VG_EVT_FLOW_TCP] && !a->want[VG_EVT_FLOW_UDP] && !a->want[VG_EVT_FLOW_DNS]))
		return 0;
	a->dns = dns_cache_new(NULL);
	flow_table_set_listener(a->flows, name_flow, a);
	if (!a->cfg.store_path)
		return 0;
	a->rollup = flow_rollup_open(a->cfg.store_path, NULL, err, sizeof(err));
	if (!a->rollup) {
		vg_err("flow rollups: %s", err);
		return -1;
	}
	return 0;
}

void agent_flows_event(struct agent *a, const struct vg_event *ev)
{
	struct vg_flow_dns d;

	if (!a->dns)
		return;
	if (ev->hdr.type == VG_EVT_FLOW_DNS) {
		if (flow_dns_from_event(a->state, ev, &d))
			dns_cache_learn(a->dns, d.container_id, d.payload, d.len, d.ts_ns);
		return;
	}
	const struct vg_flow *f = a->rollup ? flow_table_last(a->flows, ev) : NULL;
	if (f) {
		const struct vg_cgroup *cg = state_cgroup(a->state, f->cgroup_id);
		flow_rollup_add(a->rollup, f, cg && cg->meta.id[0] ? &cg->meta : NULL, NULL,
				a->src->boot_to_realtime);
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
	flow_rollup_close(a->rollup); /* writes what is pending */
	a->rollup = NULL;
	dns_cache_free(a->dns);
	a->dns = NULL;
}
