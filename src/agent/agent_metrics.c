/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's Prometheus metrics (--metrics ADDR, docs/metrics.md): the
 * families it feeds, the series it keeps at hand for the hot path (events
 * by type), and the counters read from the source once a second.
 */
#include <stdio.h>
#include "agent/agent_int.h"
#include "output/outbox.h"
#include "common/log.h"
#include "common/version.h"
#include "output/metrics_http.h"
#include "respond/action.h"
#include "sensor/event_table.h"

int agent_metrics_start(struct agent *a)
{
	struct agent_metrics *m = &a->metrics;
	char err[512];

	if (!a->cfg.metrics_addr)
		return 0;
	m->events = metrics_family(METRIC_COUNTER, "vigil_events_total", "Events read from the sensor, by event type",
				   "type", NULL, 0);
	m->rules = metrics_family(METRIC_COUNTER, "vigil_rule_matches_total",
				  "Alerts raised, by rule and priority (after rate limiting)", "rule,priority", NULL, 0);
	m->actions = metrics_family(METRIC_COUNTER, "vigil_actions_total", "Response actions, by action and outcome",
				    "action,outcome", NULL, 0);
	m->lost = metrics_family(METRIC_COUNTER, "vigil_lost_records_total",
				 "Records the kernel could not queue (ring buffer full), by CPU", "cpu", NULL, 0);
	m->received = metrics_series0(metrics_family(METRIC_COUNTER, "vigil_records_received_total",
						     "Records read from the kernel ring buffer", NULL, NULL, 0));
	m->malformed = metrics_series0(metrics_family(METRIC_COUNTER, "vigil_records_malformed_total",
						      "Records dropped because they did not decode", NULL, NULL, 0));
	a->latency.hist = metrics_series0(metrics_family(METRIC_HISTOGRAM, "vigil_alert_latency_seconds",
							 "From the kernel event to the alert committed to the store and printed",
							 NULL, metrics_latency_bounds, metrics_latency_nbounds));
	metrics_set(metrics_series1(metrics_family(METRIC_GAUGE, "vigil_build_info", "Vigil's version", "version",
						   NULL, 0), VIGIL_VERSION), 1);
	/* the hot path's series, before the first event: no lookup there */
	for (unsigned t = 1; t < VG_EVT_MAX; t++) {
		const struct vg_event_info *info = event_table_get(t);
		if (info && info->name)
			m->ev[t] = metrics_series1(m->events, info->name);
	}
	if (!(m->http = metrics_http_start(a->cfg.metrics_addr, err, sizeof(err)))) {
		vg_err("%s", err);
		return -1;
	}
	return 0;
}

void agent_metrics_alert(struct agent *a, const struct alert *al)
{
	if (a->metrics.rules)
		metrics_add(metrics_series2(a->metrics.rules, al->name, priority_name(al->priority)), 1);
}

void agent_metrics_action(struct agent *a, const struct action_result *res)
{
	if (a->metrics.actions)
		metrics_add(metrics_series2(a->metrics.actions, action_name(res->action),
					    action_outcome_name(res->outcome)), 1);
}

void agent_metrics_tick(struct agent *a, uint64_t now)
{
	struct agent_metrics *m = &a->metrics;
	struct vg_source_stats st;

	if (!m->http || now - m->last_tick < 1000000000ULL)
		return;
	m->last_tick = now;
	source_stats(a->src, &st);
	metrics_counter_set(m->received, st.received);
	metrics_counter_set(m->malformed, a->bad);
	for (unsigned i = 0; i < st.ncpus && i < 64; i++) {
		if (!m->lost_cpu[i]) {
			char cpu[16];
			snprintf(cpu, sizeof(cpu), "%u", i);
			m->lost_cpu[i] = metrics_series1(m->lost, cpu);
		}
		metrics_counter_set(m->lost_cpu[i], st.lost_per_cpu[i]);
	}
	agent_kdrop_metrics(a); /* vigil_kernel_dropped_total */
	/* each forwarder's backlog and how old its oldest record is (the publish lag) */
	struct outbox_stats ob[OUTBOX_MAX_FORWARDERS];
	size_t n = outbox_stats(a->outbox, ob, OUTBOX_MAX_FORWARDERS);
	for (size_t i = 0; i < n; i++)
		metrics_outbox_set(ob[i].name, ob[i].depth > 0 ? (uint64_t)ob[i].depth : 0, ob[i].oldest_age_s);
}

void agent_metrics_stop(struct agent *a)
{
	metrics_http_stop(a->metrics.http);
	a->metrics.http = NULL;
}
