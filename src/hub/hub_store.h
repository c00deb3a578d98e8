/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The hub's own SQLite store: every node's alerts, actions and loss records,
 * and the latest heartbeat of each node. Written by one thread (the
 * consumer), in batches: hub_store_add() for each message of a fetched batch,
 * then hub_store_commit(); the consumer acknowledges the batch to JetStream
 * only after the commit returned 0. Writes are idempotent by uuid (UNIQUE):
 * a message delivered again (the hub stopped between its commit and its ack)
 * is a no-op. Read by the API on read-only connections of its own (WAL: a
 * reader never blocks the writer). Schema in docs/hub.md.
 *
 * Per-node order: each record carries its node's outbox sequence (Vigil-Seq,
 * per node and kind). Records are stored in arrival order (the stream's order,
 * which is each node's publishing order); a sequence that skips ahead counts
 * as a gap, one that goes back as out of order, per node; neither is dropped.
 */
#ifndef VIGIL_HUB_STORE_H
#define VIGIL_HUB_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/buf.h"
#include "hub/hub_msg.h"

struct hub_store;

/* Open or create (writer) the store. NULL with a reason in err. */
struct hub_store *hub_store_open(const char *path, bool readonly, bool fsync, char *err, size_t errlen);
void hub_store_close(struct hub_store *s);
const char *hub_store_error(const struct hub_store *s);
/* The connection itself, for the flows' tables (hub_flows.h): the writer's thread, or an API reader's. */
struct sqlite3 *hub_store_db(struct hub_store *s);

/*
 * Add one checked message to the current batch (a transaction is begun on the
 * first). recv_ns: the hub's wall clock at receipt. Returns 1 stored, 0 already
 * there (a redelivery) or an older heartbeat, -1 on a store error.
 */
int hub_store_add(struct hub_store *s, const struct hub_msg *m, int64_t recv_ns);
/* Commit the batch (and the per-node counters it changed). 0, or -1 (rolled back). */
int hub_store_commit(struct hub_store *s);
/* Drop the batch (and the counters it changed, read back from the store). */
void hub_store_rollback(struct hub_store *s);

/* Counts of the whole store (for the hub's status line and tests). */
struct hub_store_counts {
	int64_t alerts, actions, losses, nodes;
};
int hub_store_counts(struct hub_store *s, struct hub_store_counts *c);

/* The API's queries (read-only stores). */
enum hub_table { HUB_T_ALERTS, HUB_T_ACTIONS, HUB_T_LOSSES };

struct hub_query {
	enum hub_table table;
	const char *cluster, *node, *ns, *pod, *container, *image, *rule;
	const char *action, *outcome; /* actions */
	int prio_most;  /* at least this severe: priority <= prio_most; -1 any */
	int prio_least; /* at most this severe: priority >= prio_least; -1 any */
	int64_t since_ns, until_ns; /* record time; 0: unbounded */
	int64_t after_id;           /* the cursor: rows with id > after_id */
	long limit;                 /* 1..HUB_LIMIT_MAX */
	const char *uuid;           /* one record */
	const char *tactic;         /* alerts: a tag equal to this (mitre_<tactic>) */
	const char *technique;      /* alerts: a tag equal to this or starting with it and "." */
	char tactic_tag[80];        /* the storage of tactic */
};
#define HUB_LIMIT_DEFAULT 100
#define HUB_LIMIT_MAX 1000

/*
 * Append {"<table>":[...],"next_cursor":"N"|null} to out: each row as
 * {"id","uuid","cluster","node","seq","received","<kind>":<the body as sent>}.
 * With q->uuid, the one record's object alone; returns 0 when not found.
 * Returns the number of rows, or -1 (error in hub_store_error).
 */
long hub_store_query(struct hub_store *s, const struct hub_query *q, struct vg_buf *out);

/* Append {"nodes":[...]}: each node's latest heartbeat, health, lag and counters. */
int hub_store_nodes(struct hub_store *s, int64_t now_ns, int64_t silent_after_ns, struct vg_buf *out);

/* Append per-node Prometheus series (heartbeat age, ingest lag, sequence gaps, alerts). */
int hub_store_node_metrics(struct hub_store *s, int64_t now_ns, struct vg_buf *out);

/*
 * The web console's additions (docs/console.md).
 * Alerts matching q's filters (q->since_ns and q->until_ns set) counted per
 * bucket of bucket_ns and per rule (by_rule) or priority: append
 * {"since","until","bucket_s","by","counts":[{"t","key","count"}],"partial"[,"counted_since"]}:
 * the newest HUB_COUNTS_MAX_ROWS alerts of the range at most ("partial": true and
 * from when when there were more). Rows, or -1.
 */
#define HUB_COUNTS_MAX_ROWS 200000
long hub_store_alert_counts(struct hub_store *s, const struct hub_query *q, int64_t bucket_ns, bool by_rule,
			    struct vg_buf *out);
/* Acknowledge an alert (a writable store): 1 done, 0 already acknowledged, -2 no such alert, -1 error. */
int hub_store_ack(struct hub_store *s, const char *uuid, const char *who, int64_t now_ns);
/*
 * Bound the work of the next statements on s to about steps SQLite VM steps
 * (0: no bound); a statement over it fails and hub_store_over_budget() says why.
 */
void hub_store_set_budget(struct hub_store *s, uint64_t steps);
bool hub_store_over_budget(const struct hub_store *s);
/* The highest alert row id (0 when none). */
int hub_store_max_alert_id(struct hub_store *s, int64_t *id);

#endif
