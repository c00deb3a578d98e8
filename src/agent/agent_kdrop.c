/* SPDX-License-Identifier: Apache-2.0 */
/*
 * In-kernel dropping (docs/performance.md, engine/kdrop.h): the needs of the
 * running rules, of the state and of the flight recorder, built into the
 * kernel's keep filter at start and on every reload (the kernel swaps banks,
 * so the filter changes at once). `vigil capture`, `vigil trace` and
 * `--no-kernel-filter` keep every event. `vigil replay --kernel-filter-sim`
 * leaves out what the kernel would have dropped, with the same tables, so
 * that a capture shows the alerts the filter keeps.
 */
#include <string.h>
#include "agent/agent_int.h"
#include "common/log.h"
#include "profile/profile_events.h"
#include "sensor/event_table.h"
#include "state/state.h"

void agent_kdrop_arm(struct agent *a)
{
	struct agent_kdrop *k = &a->kdrop;
	const struct agent_config *c = &a->cfg;
	bool replay = c->mode == AGENT_REPLAY;
	bool want = a->engine && !c->no_kernel_filter && (c->mode == AGENT_RUN || (replay && c->kernel_filter_sim));
	char err[256];

	kdrop_tables_free(&k->t);
	k->on = false;
	if (!want) {
		if (!replay && a->src)
			source_bpf_set_kdrop(a->src, NULL);
		return;
	}
	struct kdrop *p = kdrop_new();
	kdrop_add_engine(p, a->engine);
	kdrop_add_state(p);
	/* the flight recorder keeps the last records of every container (capture bundles):
	 * a container's events are all kept while it runs; the host's are filtered */
	if (a->recorder && kdrop_keep_when(p, "container.id != host", err, sizeof(err)))
		vg_warn("in-kernel filter: %s", err);
	/* behaviour profiles learn from what containers do, whatever the rules load
	 * (profile/profile_events.h): their types are kept for containers; opens only
	 * when they succeed (the profile's write and sensitive-read tests are finer) */
	if (a->profiles || (c->profiles.on && c->mode == AGENT_RUN))
		for (size_t i = 0; i < profile_nneeds; i++) {
			unsigned int t = profile_needs[i].type;
			const struct vg_event_info *ei = event_table_get(t);
			bool open = t == VG_EVT_OPEN || t == VG_EVT_OPENAT || t == VG_EVT_OPENAT2 || t == VG_EVT_CREAT;
			char cond[160];
			if (!ei || !ei->name)
				continue;
			snprintf(cond, sizeof(cond), "evt.type = %s and container.id != host%s", ei->name,
				 open ? " and evt.rawres >= 0" : "");
			if (kdrop_keep_when(p, cond, err, sizeof(err)))
				kdrop_keep_all(p, t); /* a type the condition language does not name: all of it */
		}
	kdrop_build(p, &k->t);
	kdrop_free(p);
	if (!replay) {
		struct vg_kdrop_set set = {
			.mode = k->t.mode, .first = k->t.first, .count = k->t.count,
			.terms = k->t.terms, .nterms = k->t.nterms, .comms = k->t.comms, .cvals = k->t.cvals, .ncomms = k->t.ncomms,
			.paths = k->t.paths, .masks = k->t.masks, .npaths = k->t.npaths,
			.plens = k->t.plens, .nplens = k->t.nplens, .fast = k->t.fast, .bloom = k->t.bloom,
		};
		int rc = source_bpf_set_kdrop(a->src, &set);
		if (rc) {
			vg_warn("in-kernel filter not loaded (%s): every wanted event is sent up", strerror(-rc));
			kdrop_tables_free(&k->t);
			return;
		}
	}
	k->on = true;
	struct vg_buf b = { 0 };
	for (unsigned int t = 1; t < VG_EVT_MAX; t++) {
		if (!a->want[t])
			continue;
		if (k->t.mode[t] == VG_KDROP_FILTER)
			buf_printf(&b, "%s%s", b.len ? ", " : "", event_table_get(t)->name);
		else if (k->t.why[t])
			vg_debug("in-kernel filter: every %s event kept: %s", event_table_get(t)->name, k->t.why[t]);
	}
	vg_info("in-kernel filter: events no rule can use are dropped in the kernel for %s (%zu terms, %zu path keys)",
		b.len ? b.data : "no event type", k->t.nterms, k->t.npaths);
	buf_free(&b);
}

bool agent_kdrop_sim_drops(struct agent *a, const struct vg_event *ev)
{
	if (!a->kdrop.on)
		return false;
	const struct vg_cgroup *cg = state_cgroup(a->state, ev->hdr.cgroup_id);
	int side = cg ? (cg->meta.id[0] ? VG_KDROP_CONTAINER : VG_KDROP_HOST) : 0;
	if (kdrop_tables_keep(&a->kdrop.t, ev, side))
		return false;
	a->kdrop.sim_dropped++;
	return true;
}

void agent_kdrop_summary(struct agent *a)
{
	uint64_t d[VG_EVT_MAX] = { 0 }, total = 0;
	struct vg_buf b = { 0 };

	if (!a->kdrop.on)
		return;
	if (a->cfg.mode == AGENT_REPLAY) {
		vg_info("in-kernel filter (simulated): %llu events left out", (unsigned long long)a->kdrop.sim_dropped);
		return;
	}
	source_bpf_kdrop_dropped(a->src, d);
	for (unsigned int t = 1; t < VG_EVT_MAX; t++) {
		if (!d[t])
			continue;
		total += d[t];
		buf_printf(&b, "%s%s=%llu", b.len ? " " : "", event_table_get(t)->name, (unsigned long long)d[t]);
	}
	vg_info("in-kernel filter: %llu events dropped in the kernel%s%s", (unsigned long long)total, b.len ? ": " : "",
		b.len ? b.data : "");
	buf_free(&b);
}

void agent_kdrop_metrics(struct agent *a)
{
	struct agent_kdrop *k = &a->kdrop;
	uint64_t d[VG_EVT_MAX] = { 0 };

	if (!a->metrics.http || a->cfg.mode == AGENT_REPLAY)
		return;
	if (!k->family)
		k->family = metrics_family(METRIC_COUNTER, "vigil_kernel_dropped_total",
					   "Events the kernel dropped because no rule can use them, by event type", "type",
					   NULL, 0);
	source_bpf_kdrop_dropped(a->src, d);
	for (unsigned int t = 1; t < VG_EVT_MAX; t++) {
		if (!d[t] && !k->dropped[t])
			continue;
		if (!k->dropped[t])
			k->dropped[t] = metrics_series1(k->family, event_table_get(t)->name);
		metrics_counter_set(k->dropped[t], d[t]);
	}
}
