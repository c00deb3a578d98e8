/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inside the agent module: the wired pipeline shared by agent.c (wiring and
 * the loop), agent_respond.c (an alert's actions) and agent_stats.c (latency
 * and the exit summary). Not for other modules.
 */
#ifndef VIGIL_AGENT_INT_H
#define VIGIL_AGENT_INT_H

#include <signal.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "agent/agent.h"
#include "engine/kdrop.h"
#include "common/buf.h"
#include "fleet/policy.h"
#include "output/metrics.h"
#include "output/sink.h"
#include "respond/bundle.h"
#include "respond/kernel_kill.h"
#include "state/state.h"

#define AGENT_SINKS_MAX 8      /* outputs open at once (sink_table has three) */
#define AGENT_ACTS_MAX 16      /* actions of one alert, the policy's included */
#define AGENT_RESPONSES_MAX 8  /* action results kept for one alert's "responses" */

/* The action results of the alert being handled, with copies of their strings
 * (the responder's are valid during its callback only). */
struct agent_responses {
	struct action_result res[AGENT_RESPONSES_MAX];
	char text[AGENT_RESPONSES_MAX][3][512]; /* target, detail, cgroup */
	size_t n;
};

/* Kernel timestamps of alerts not yet written, and the sampled latencies. */
struct agent_latency {
	uint64_t *pending_ts;
	size_t npending, cap_pending;
	uint32_t *us;  /* NULL: not measured (replay) */
	size_t n;
	struct vg_series *hist; /* vigil_alert_latency_seconds, or NULL */
};

/* agent_flows.c: DNS names and rollups of the flows (0, or -1 logged), per event, every second, at the end */
int agent_flows_start(struct agent *a);
void agent_flows_event(struct agent *a, const struct vg_event *ev);
/* before the rules: the per-workload features of a flow or DNS record (state/flow_stats.h) */
void agent_flows_before(struct agent *a, const struct vg_event *ev);
void agent_flows_tick(struct agent *a, uint64_t now);
void agent_flows_stop(struct agent *a);
/* Before the fleet's connection goes: the last flush, published within cfg.fleet.drain_ms. */
void agent_flows_fleet_stop(struct agent *a);

/* agent_metrics.c: the Prometheus metrics, when --metrics is given (else all NULL). */
struct agent_metrics {
	struct metrics_http *http;
	struct vg_metric *events, *rules, *actions, *lost;
	struct vg_series *ev[VG_EVT_MAX]; /* vigil_events_total by type, made at start */
	struct vg_series *lost_cpu[64], *received, *malformed;
	uint64_t last_tick;
};

/* In-kernel dropping of events no rule can use (agent_kdrop.c, engine/kdrop.h). */
struct agent_kdrop {
	bool on;                 /* the kernel (or replay's simulation) drops by t */
	struct kdrop_tables t;
	uint64_t sim_dropped;    /* replay --kernel-filter-sim: events left out */
	struct vg_series *dropped[VG_EVT_MAX]; /* --metrics: vigil_kernel_dropped_total by type */
	struct vg_metric *family;
};
/* Build the filter from the running rules and give it to the kernel (or to replay's simulation);
 * off (every event kept) in capture and trace, with --no-kernel-filter, or when it cannot load. */
void agent_kdrop_arm(struct agent *a);
/* replay --kernel-filter-sim: whether the kernel would have dropped ev. */
bool agent_kdrop_sim_drops(struct agent *a, const struct vg_event *ev);
/* The exit summary's line, and the metrics' counters. */
void agent_kdrop_summary(struct agent *a);
void agent_kdrop_metrics(struct agent *a);

/* The service manager's notifications (agent_notify.c); fd -1: none asked for. */
struct agent_notify {
	int fd;
	struct sockaddr_un addr;
	socklen_t addrlen;
	uint64_t watchdog_ns;  /* ping interval (half of WATCHDOG_USEC), 0: no watchdog */
	uint64_t last_ping_ns;
	bool warned;
};

void agent_notify_init(struct agent_notify *n);
void agent_notify(struct agent_notify *n, const char *msg);
void agent_notify_tick(struct agent_notify *n, uint64_t now_ns);
void agent_notify_close(struct agent_notify *n);

struct agent {
	struct agent_config cfg;    /* cfg.eo gains the source's hostname and clock */
	uint8_t want[VG_EVT_MAX];
	volatile sig_atomic_t stop_requested, reload_requested;
	struct vg_source *src;
	struct vg_state *state;
	struct vg_container_watch *watch;
	struct vg_sink *sinks[AGENT_SINKS_MAX]; /* in flush order: the store before stdout */
	size_t nsinks;
	/* those of them that take raw records, and events: looked up once, not per record */
	struct vg_sink *record_sinks[AGENT_SINKS_MAX], *event_sinks[AGENT_SINKS_MAX];
	size_t nrecord_sinks, nevent_sinks;
	uint64_t bad;               /* malformed records dropped */
	int output_error;           /* an errno: stdout is broken, the run ends */
	/* detection */
	struct engine *engine;
	struct vg_buf alert_json;
	/* response (run) */
	struct responder *responder;
	struct response_policy *rpolicy;
	struct isolate *isolate;
	struct recorder *recorder;  /* the last records of each container, for capture */
	struct bundle_opts bundles;
	struct kernel_kill kkill;   /* the kills the kernel decides by itself */
	struct egress *egress;
	struct file_guard *guard;        /* deny exec/open: drift and the file policy */
	struct file_policy *files;
	struct agent_responses responses;
	struct agent_latency latency;
	/* the fleet (agent_fleet.c), when cfg.fleet.servers */
	struct fleet_conn *fleet;
	struct outbox *outbox;
	void *publisher;
	struct fleet_heartbeat *heartbeat;
	uint64_t events;            /* read by the heartbeat's thread (atomically) */
	uint64_t lost_records;      /* the source's, refreshed every second by the loop */
	uint64_t stats_at;
	volatile sig_atomic_t draining; /* agent_fleet_drain waits: agent_stop ends the wait */
	char rules_digest[80];      /* "sha256:..." of the rules running */
	struct agent_central *central; /* the fleet's central policy (agent_policy.c); NULL: none */
	struct agent_metrics metrics;
	struct flow_table *flows;   /* flow records -> struct vg_flow (docs/flows.md) */
	struct dns_cache *dns;      /* names of remote ends from the DNS answers workloads get */
	struct flow_rollup *rollup; /* per-minute flow rollups in the store (docs/service-map.md) */
	uint64_t flows_flushed;     /* CLOCK_BOOTTIME of the last rollup flush */
	struct flow_stats *fstats;  /* per-workload flow features for the flow rules (flow_stats.h) */
	struct flow_seen *seen;     /* their memory in the store (output/flow_seen.h), or NULL */
	struct flow_pub *flowpub;   /* the rollups' deltas to NATS (fleet/flow_pub.h), with --nats */
	struct agent_notify notify;      /* sd_notify: ready, watchdog, stopping */
	struct agent_profile *profiles;  /* behaviour profiles (agent_profile.c), NULL: off */
	struct agent_commands *commands; /* response commands from a hub (agent_commands.c) */
	struct agent_floods *floods;     /* what the sensor lost, by container (agent_floods.c) */
	struct agent_kdrop kdrop;        /* in-kernel dropping (agent_kdrop.c) */
	struct profile_sync *profsync;   /* profiles across the fleet (agent_profile_fleet.c), with --nats */
	struct agent_protect *protect;   /* protecting profiles enforced (agent_protect.c), NULL: none yet */
	const struct action_result *done_before; /* an action already carried out for the next alert */
};

/* agent.c: an alert into the agent's one path: answered, formatted, to the sinks. */
void agent_alert(struct agent *a, const struct alert *al);

/* agent_profile.c: behaviour profiles (docs/profiles.md); each accepts profiles off. */
void agent_profile_want(struct agent *a);  /* widen a->want to what profiles need */
int agent_profile_start(struct agent *a);  /* 0, or -1 logged */
void agent_profile_event(struct agent *a, const struct vg_event *ev);
void agent_profile_tick(struct agent *a, uint64_t now);
/* agent_profile_fleet.c: profiles across the fleet, with --nats and a store (docs/profiles.md) */
void agent_profile_fleet_start(struct agent *a);
void agent_profile_fleet_stop(struct agent *a); /* before the fleet's connection goes */
void agent_profile_stop(struct agent *a);
/* The profile of a cgroup's workload, or NULL (not profiled, profiles off). */
struct profile *agent_profile_of(struct agent *a, uint64_t cgroup_id);
/* A program a protecting profile's allow list refused: the deviation alert, saying so. */
void agent_profile_blocked(struct agent *a, struct profile *p, const struct vg_event *ev, const char *value);

/* agent_protect.c: protecting profiles enforced (docs/profiles.md, "Protecting"): exec and egress
 * allow lists armed per container. Each accepts nothing started. */
void agent_protect_sync(struct agent *a);  /* once a second: every container armed as its profile's mode says */
void agent_protect_container(struct agent *a, uint64_t cgroup_id); /* its metadata is known */
void agent_protect_poll(struct agent *a);  /* the executions refused since: alerted and recorded */
void agent_protect_forget(struct agent *a, uint64_t cgroup_id);
void agent_protect_stop(struct agent *a);

/* agent_respond.c: carry out the alert's actions (the rule's, the policy's, the
 * kernel's kill) into a->responses, each also handed to the sinks. */
void agent_respond(struct agent *a, const struct alert *al);

/* agent.c: load rules from paths and carry them out, with response policy rp
 * (NULL: keep the running one); both replace the running ones, or neither.
 * rp is the agent's on success. 0, or -1 with err. */
int agent_apply(struct agent *a, const char *const *paths, size_t n, bool defaults,
		struct response_policy *rp, char *err, size_t errlen);

/* agent_policy.c: the fleet's central policy */
int agent_central_open(struct agent *a);   /* the policy kept on disk, before the wiring */
int agent_central_start(struct agent *a);  /* watch the bucket, once connected (agent_fleet_start) */
void agent_central_stop(struct agent *a);
/* What the node runs per kind, as JSON for the heartbeat (nothing when it does not watch). */
void agent_central_status(struct agent *a, struct vg_buf *out);
/* The rule files to load: the fleet's set when the node runs one, else the config's. */
void agent_rule_paths(struct agent *a, const char *const **paths, size_t *n, bool *defaults);
/* The one file of a policy kind: the fleet's when it runs one, else own (may be NULL). */
const char *agent_policy_path(struct agent *a, enum policy_kind k, const char *own);
/* Between two batches: apply what the fleet sent. false when nothing came (a SIGHUP). */
bool agent_central_apply(struct agent *a);

/* agent_fleet.c: the outbox, the NATS forwarder and heartbeats. 0 or -1 (logged). */
int agent_fleet_start(struct agent *a);
/* The end of a run: wait for the backlog as cfg.fleet.drain_ms says. */
void agent_fleet_drain(struct agent *a);
void agent_fleet_stop(struct agent *a);
/* The store committed: wake the outbox. */
void agent_fleet_committed(void *ctx);
/* The digest of the rule files the engine was loaded from into a->rules_digest. */
void agent_rules_digest(struct agent *a);
/* agent_flows.c: DNS names and rollups of the flows (0, or -1 logged), per event, every second, at the end */
int agent_flows_start(struct agent *a);
void agent_flows_event(struct agent *a, const struct vg_event *ev);
void agent_flows_tick(struct agent *a, uint64_t now);
void agent_flows_stop(struct agent *a);

/* agent_commands.c: answer a hub's response commands on vigil.<cluster>.<node>.cmd (vigil run
 * with --nats; 0 otherwise, or -1 logged), and stop before the connection closes. */
int agent_commands_start(struct agent *a);
void agent_commands_stop(struct agent *a);
/* From the loop: the responder forgets the targets a command undid (they may be acted on again). */
void agent_commands_tick(struct agent *a);

/* agent_metrics.c: start (0, or -1 logged), the hooks, the once-a-second source counters, stop. */
int agent_metrics_start(struct agent *a);
static inline void agent_metrics_event(struct agent *a, unsigned type)
{
	if (type < VG_EVT_MAX)
		metrics_inc_single(a->metrics.ev[type]); /* NULL without --metrics: nothing */
}
void agent_metrics_alert(struct agent *a, const struct alert *al);
void agent_metrics_action(struct agent *a, const struct action_result *res);
void agent_metrics_tick(struct agent *a, uint64_t now);
void agent_metrics_stop(struct agent *a);

/* agent_stats.c */
uint64_t agent_now_ns(void); /* CLOCK_BOOTTIME */
/* Alerts measured from their kernel event to their output: start (live only). */
void agent_latency_start(struct agent_latency *l);
void agent_latency_alert(struct agent_latency *l, uint64_t event_ts);
/* The batch is written: each pending alert's latency is now. */
void agent_latency_written(struct agent_latency *l);
void agent_latency_free(struct agent_latency *l);
/* The live source's counters (stderr, as the sensor has always printed them). */
void agent_print_source_stats(struct agent *a);
/* Log the detection, latency and guards' counters at the end of a run. */
void agent_log_summary(struct agent *a);

/* The running agent as the state knows it, for the rules about tampering (agent_self.c). */
struct vg_agent_self *agent_self_describe(const struct agent_config *c);

/* agent.c: a record made by the agent, through the same path as the kernel's (state, sinks, rules). */
int agent_ingest_record(struct agent *a, const void *rec, size_t len);
/* agent_floods.c: records lost by container: once a second (sensor_flood records), at the end, free */
struct agent_floods;
void agent_floods_tick(struct agent *a, uint64_t now);
void agent_floods_end(struct agent *a);
void agent_floods_free(struct agent *a);
/* The heartbeat's dropped_by_container array (any thread; nothing before the first loss). */
void agent_floods_health(struct agent *a, struct vg_buf *out);

#endif
