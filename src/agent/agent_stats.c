/* SPDX-License-Identifier: Apache-2.0 */
/* What the agent measures and reports: alert latency, the source's counters, the exit summary. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "agent/agent_int.h"
#include "common/log.h"
#include "respond/file_guard.h"
#include "respond/egress.h"
#include "respond/file_policy.h"
#include "respond/isolate.h"
#include "state/flow_table.h"

#define LATENCY_SAMPLES 1000000 /* the first million alerts: 4 MB */

uint64_t agent_now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_BOOTTIME, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + t.tv_nsec;
}

void agent_latency_start(struct agent_latency *l)
{
	l->us = xmalloc(LATENCY_SAMPLES * sizeof(*l->us));
}

void agent_latency_alert(struct agent_latency *l, uint64_t event_ts)
{
	if (!l->us)
		return;
	if (l->npending == l->cap_pending) {
		l->cap_pending = l->cap_pending ? 2 * l->cap_pending : 64;
		l->pending_ts = xrealloc(l->pending_ts, l->cap_pending * sizeof(*l->pending_ts));
	}
	l->pending_ts[l->npending++] = event_ts;
}

void agent_latency_written(struct agent_latency *l)
{
	if (!l->npending)
		return;
	uint64_t now = agent_now_ns();
	for (size_t i = 0; l->hist && i < l->npending; i++)
		metrics_observe(l->hist, now > l->pending_ts[i] ? (double)(now - l->pending_ts[i]) / 1e9 : 0);
	for (size_t i = 0; i < l->npending && l->n < LATENCY_SAMPLES; i++)
		l->us[l->n++] = now > l->pending_ts[i] ? (uint32_t)((now - l->pending_ts[i]) / 1000) : 0;
	l->npending = 0;
}

void agent_latency_free(struct agent_latency *l)
{
	free(l->pending_ts);
	free(l->us);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static void log_latency(struct agent_latency *l)
{
	if (!l->n)
		return;
	qsort(l->us, l->n, sizeof(*l->us), cmp_u32);
	vg_info("alert latency (kernel event to alert written): p50=%uus p99=%uus max=%uus over %zu alerts",
		l->us[l->n / 2], l->us[l->n * 99 / 100], l->us[l->n - 1], l->n);
}

void agent_print_source_stats(struct agent *a)
{
	struct vg_source_stats st;
	struct vg_buf sinks = { 0 };

	source_stats(a->src, &st);
	for (size_t i = 0; i < a->nsinks; i++)
		if (a->sinks[i]->ops->stats)
			a->sinks[i]->ops->stats(a->sinks[i], &sinks);
	fprintf(stderr, "vigil: %s: received=%llu lost=%llu truncated=%llu missed=%llu malformed=%llu%s",
		a->src->ops->name, (unsigned long long)st.received, (unsigned long long)st.lost,
		(unsigned long long)st.truncated, (unsigned long long)st.missed, (unsigned long long)a->bad,
		sinks.len ? sinks.data : "");
	buf_free(&sinks);
	if (st.lost) {
		fputs(" lost_per_cpu=", stderr);
		for (unsigned int i = 0; i < st.ncpus && i < 64; i++)
			fprintf(stderr, "%s%llu", i ? "," : "", (unsigned long long)st.lost_per_cpu[i]);
	}
	fprintf(stderr, " processes=%zu cgroups=%zu\n", a->state->procs.map.count, a->state->cgroups.map.count);
	struct flow_table_stats fs;
	flow_table_stats(a->flows, &fs);
	if (fs.records)
		fprintf(stderr, "vigil: flows: records=%llu opened=%llu closed=%llu live=%zu unmatched=%llu "
				"evicted=%llu malformed=%llu rerun=%llu\n",
			(unsigned long long)fs.records, (unsigned long long)fs.opened, (unsigned long long)fs.closed,
			fs.live, (unsigned long long)fs.unmatched, (unsigned long long)fs.evicted,
			(unsigned long long)fs.malformed, (unsigned long long)st.rerun);
	if (st.lost)
		vg_warn("%llu records were lost: the ring buffer was full (try --ring-mb)",
			(unsigned long long)st.lost);
}

static void log_guards(struct agent *a)
{
	enum agent_deny_drift dd = a->cfg.deny_drift;
	struct file_guard_stats ds;

	file_guard_stats(a->guard, &ds);
	const char *files_mode = a->files && file_policy_fail_open(a->files) ? "fail-open" : "fail-closed";
	vg_info("deny-exec: %llu executions allowed, %llu denied, %llu undecided (%s%s%s%s)",
		(unsigned long long)ds.allowed, (unsigned long long)ds.denied, (unsigned long long)ds.undecided,
		dd ? "drift: " : "", dd == AGENT_DRIFT_FAIL_OPEN ? "fail-open" : dd == AGENT_DRIFT_FAIL_CLOSED ? "fail-closed" : "",
		dd && a->files ? ", file policy: " : a->files ? "file policy: " : "", a->files ? files_mode : "");
	if (a->files)
		vg_info("deny-open: %llu opens allowed, %llu denied, %llu undecided (file policy: %s)",
			(unsigned long long)ds.open_allowed, (unsigned long long)ds.open_denied,
			(unsigned long long)ds.open_undecided, files_mode);
}

void agent_log_summary(struct agent *a)
{
	if (a->engine) {
		struct engine_stats es;
		engine_stats(a->engine, &es);
		vg_info("detection: events=%llu evaluations=%llu alerts=%llu suppressed=%llu",
			(unsigned long long)es.events, (unsigned long long)es.evaluated,
			(unsigned long long)es.alerts, (unsigned long long)es.suppressed);
		log_latency(&a->latency);
	}
	if (a->state->bad_state_records)
		vg_warn("%llu state records did not parse: the processes or containers they describe lack details",
			(unsigned long long)a->state->bad_state_records);
	if (a->egress)
		vg_info("egress: %llu connections refused", (unsigned long long)egress_denied(a->egress));
	if (a->guard)
		log_guards(a);
	if (a->isolate)
		vg_info("isolate: %llu packets dropped", (unsigned long long)isolate_dropped(a->isolate));
	agent_kdrop_summary(a);
	if (a->kkill.kernel_rules) {
		struct vg_source_stats st;
		source_stats(a->src, &st);
		vg_info("kill: %llu processes killed in the kernel, %llu kills left to userspace by the rate limit",
			(unsigned long long)st.killed, (unsigned long long)st.kill_limited);
	}
}
