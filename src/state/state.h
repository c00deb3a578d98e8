/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Enrichment state: the process table and the container table, kept by the
 * record stream. The same code runs live and in replay. Whatever the live
 * agent learns outside the kernel stream (the /proc snapshot at start, a
 * process it had not seen, a container's metadata) it turns into a record
 * (CGROUP, STATE_PROC, STATE_CONTAINER), hands to opts.emit (so that a capture
 * file holds it) and ingests like any other record. Replay ingests those
 * records from the file and never looks at the machine, so it rebuilds the
 * very same state.
 */
#ifndef VIGIL_STATE_H
#define VIGIL_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sensor/decode.h"
#include "state/container_table.h"
#include "state/container_watch.h"
#include "state/agent_self.h"
#include "state/proc_table.h"

struct flow_table;
struct flow_stats;

struct vg_state_opts {
	bool live;              /* may read /proc and runtime state; replay: false */
	const char *procfs;     /* default "/proc" */
	const char *host_root;  /* prefix of runtime state paths, default "/" */
	size_t max_procs;       /* process table limit, default 262144 */
	void (*emit)(void *ctx, const void *rec, size_t len); /* synthesised records */
	void (*forget_cgroup)(void *ctx, uint64_t cgroup_id); /* a cgroup was freed */
	/* live: a container's metadata was read from its runtime and the state now holds
	 * it (m is the cgroup's own, valid during the call; its id is the cgroup's) */
	void (*container_known)(void *ctx, uint64_t cgroup_id, const struct vg_container_meta *m);
	void *ctx;
	struct vg_container_watch *watch; /* live: metadata read ahead (may be NULL) */
};

struct vg_state {
	struct vg_state_opts opts;
	struct vg_proc_table procs;
	struct vg_container_table cgroups;
	uint64_t last_sweep;
	uint64_t bad_state_records; /* STATE_* records that did not parse */
	struct flow_table *flows;   /* the flow table (flow_table.h) the flow.* fields read, or NULL */
	struct flow_stats *flowstats; /* per-workload flow features (flow_stats.h) for flow.*, or NULL */
	struct vg_agent_self *self; /* live: the agent itself (agent_self.h), for vigil.*; NULL in replay */
};

struct vg_state *state_new(const struct vg_state_opts *opts);
void state_free(struct vg_state *st);
/* Live: snapshot every process and cgroup from /proc. Returns processes seen. */
size_t state_seed(struct vg_state *st);
/* Apply one record. Returns true when it is an event to show (not an internal record). */
bool state_ingest(struct vg_state *st, const struct vg_event *ev);
/* After the event was shown: drop what it ended (an exited process). */
void state_done(struct vg_state *st, const struct vg_event *ev);
/*
 * Records that rebuild what the state knows of one cgroup -- its path, container
 * metadata, user names, and its processes with their ancestors -- for the head of
 * a forensic bundle. Returns the number of process records.
 */
size_t state_snapshot(const struct vg_state *st, uint64_t cgroup_id,
		      void (*emit)(void *ctx, const void *rec, size_t len), void *ctx);

/*
 * Live: the agent itself, for vigil.* (the state owns s from now on). Written
 * as a STATE_AGENT record through opts.emit, so that replay knows the same agent.
 */
void state_set_self(struct vg_state *st, struct vg_agent_self *s);

/* Live: every few seconds, free entries of gone processes and cgroups. */
void state_sweep(struct vg_state *st, uint64_t now_ns);

static inline struct vg_proc *state_proc(const struct vg_state *st, uint32_t pid)
{
	return proc_table_get(&st->procs, pid);
}

static inline struct vg_cgroup *state_cgroup(const struct vg_state *st, uint64_t id)
{
	return container_table_get(&st->cgroups, id);
}

#endif
