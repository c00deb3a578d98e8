/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The runtime pipeline: source -> state -> engine -> respond -> sinks, wired
 * once from a config. `vigil run`, `trace`, `capture` and `replay` are four
 * configs of it; the CLI parses options into a struct agent_config and calls
 * create, run, destroy. A SIGHUP handler calls agent_reload, SIGINT/SIGTERM
 * agent_stop; reloading rules goes through the same wiring as the start.
 */
#ifndef VIGIL_AGENT_H
#define VIGIL_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "vigil/event.h"
#include "engine/engine.h"
#include "output/forwarder.h"
#include "respond/respond.h"
#include "sensor/source.h"

enum agent_mode {
	AGENT_TRACE,   /* live events shown */
	AGENT_CAPTURE, /* live events written to a capture file only */
	AGENT_REPLAY,  /* a capture file's events (or, with rules, alerts) shown */
	AGENT_RUN,     /* live detection, response and the alert store */
};

enum agent_deny_drift { AGENT_DRIFT_OFF, AGENT_DRIFT_FAIL_OPEN, AGENT_DRIFT_FAIL_CLOSED };

struct agent_config {
	enum agent_mode mode;
	const char *replay_path;   /* replay: the capture file to read */
	/* shown on stdout (not in capture mode) */
	bool json;                 /* JSON lines, else text */
	const char *container;     /* only the events of the containers this selects (selector_filter), or "host"; NULL: all */
	const char *write_path;    /* also write a capture file, or NULL */
	/* live source */
	uint8_t want[VG_EVT_MAX];  /* event types to capture (rules widen it to what they need) */
	unsigned long ring_mb;     /* 0: default */
	enum vg_attach attach;
	double duration;           /* seconds, 0: until stopped */
	/* detection */
	bool detect;
	const char **rule_paths;   /* borrowed for the agent's life (reload reads them again) */
	size_t nrule_paths;
	bool with_defaults;        /* Vigil's default rules before rule_paths */
	struct engine_opts eo;
	const char *store_path;    /* the alert store, or NULL */
	/* response (run) */
	enum respond_mode response;
	bool allow_host;
	const char *rpolicy_path;  /* --response-policy, or NULL */
	const char *evidence_dir;  /* where capture bundles go */
	const char *egress_path;   /* --egress-policy, or NULL */
	const char *files_path;    /* --file-policy, or NULL */
	enum agent_deny_drift deny_drift;
	/* the fleet (--nats, docs/fleet.md): the store's records and heartbeats to
	 * NATS JetStream; servers NULL: none (nothing changes) */
	struct agent_fleet {
		const char *servers, *creds, *nkey, *ca, *cert, *key, *node, *cluster;
		uint64_t budget_bytes;  /* the outbox's disk budget; 0: its default */
		long drain_ms;          /* at the end, wait this long for the backlog; < 0: until it is sent */
		const char *policy_dir; /* the fleet's central policy kept on disk; NULL: beside the store */
	} fleet;
	/* outputs (run) */
	const char *metrics_addr;  /* --metrics ADDR:PORT: serve /metrics, or NULL */
	const char **outputs;      /* --output NAME:SPEC, checked by the CLI; fed by the store's
				    * outbox as NATS is (agent_fleet.c), each with its own cursor */
	size_t noutputs;
	/* network flows (docs/flows.md): flow_tcp, flow_udp, flow_dns captured whatever the rules say */
	bool flows;
	bool no_flows;                /* --no-flows: none, even when rules of the flow source ask */
	unsigned int flow_interval_s; /* live flows reported every this many seconds, 0: default 30 */
	/* per-workload flow features (state/flow_stats.h; docs/flows.md), 0/NULL: their defaults */
	const char *cluster_cidrs;    /* --cluster-cidr LIST: addresses inside the cluster */
	unsigned int flow_window_s;   /* --flow-window S: exfil volume and DNS unique names */
	unsigned int flow_learn_s;    /* --flow-learn S: a new workload's learning period */
	bool flow_learn_set;          /* --flow-learn given (0 allowed) */
	unsigned int beacon_min;      /* --beacon-min N */
	unsigned int beacon_jitter_pct; /* --beacon-jitter PCT */
	/* behaviour profiles (docs/profiles.md, agent_profile.c) */
	struct agent_profiles {
		bool on;
		double learn_s;        /* learning ends this long after it started; 0: not by time */
		double quiet_s;        /* ... or once nothing new was learnt for this long; 0: not by quiet */
		bool inherit;          /* a new image digest starts from the workload's last profile */
		size_t max_profiles, max_items; /* 0: the defaults (1024, 4096) */
	} profiles;
	/* floods (docs/platform-notes.md, "Floods"): each container's share of the ring
	 * buffer under pressure, as struct vg_bpf_opts takes them (0: defaults) */
	unsigned int fair_rate, fair_burst, fair_pressure_pct;
	/* in-kernel dropping of events no rule can use (docs/performance.md): on in run */
	bool no_kernel_filter;        /* --no-kernel-filter: the kernel sends every wanted event */
	bool kernel_filter_sim;       /* replay --kernel-filter-sim: leave out what run's kernel would drop */
	/* run --console (docs/console.md): the console's commands act here (agent_command), and
	 * the flow rollups' deltas go to the flows' outbox for its store, as with --nats */
	bool console;
};

struct agent;

/*
 * Wire the pipeline: load the policies and rules, open the source, the sinks
 * and the guards, seed the state. The config's strings are borrowed for the
 * agent's life. NULL with the reason logged (nothing is left running).
 */
struct agent *agent_create(const struct agent_config *cfg);
/*
 * Read and act until the source ends (replay), the duration passes or
 * agent_stop; then drain and log the summary. 0, or -1 on a source or
 * output error (logged; a closed stdout is not an error, it ends the run).
 */
int agent_run(struct agent *a);
/* Ask for the rules to be read again, between two batches: async-signal-safe.
 * A set that does not load or cannot be carried out keeps the running one. */
void agent_reload(struct agent *a);
/* Ask agent_run to return at its next poll: async-signal-safe. */
void agent_stop(struct agent *a);
/* Stop every guard, close the sinks and free. 0, or -1 when the capture file
 * is incomplete. NULL is fine. */
int agent_destroy(struct agent *a);

struct fleet_cmd;
/*
 * A response command from this agent's own console (run --console; any
 * thread): carried out and recorded as a hub's command is (agent_commands.c),
 * with who (e.g. "the console") and the command's actor as the undo's author.
 * Returns an enum fleet_cmd_outcome, the detail in detail; FLEET_CMD_FAILED
 * when the agent does not take local commands (cfg.console unset).
 */
int agent_command(struct agent *a, const struct fleet_cmd *c, const char *who, char *detail, size_t dlen);

#endif
