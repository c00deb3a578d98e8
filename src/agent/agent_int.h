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
#include "common/buf.h"
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
};

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
	struct agent_notify notify;      /* sd_notify: ready, watchdog, stopping */
};

/* agent_respond.c: carry out the alert's actions (the rule's, the policy's, the
 * kernel's kill) into a->responses, each also handed to the sinks. */
void agent_respond(struct agent *a, const struct alert *al);

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

#endif
