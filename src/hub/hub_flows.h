/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The hub's flows (docs/hub.md, "Flows and the service map"): every node's
 * flow rollups as they come from the stream VIGIL_FLOWS, added per cluster,
 * node, workload, peer, port, protocol and minute; the local addresses each
 * workload reported, per minute, so that a peer address one node saw is
 * resolved to the workload on another node that used it (a cross-node edge);
 * the list and the cluster-wide service map the API serves; and the hub's
 * retention (alerts, actions, losses and flows older than --retain go, in
 * small batches between the consumer's own).
 *
 * Idempotent by message: a flows message's uuid is recorded (flow_msgs) in
 * the transaction that adds its rows, so a redelivered message adds nothing.
 */
#ifndef VIGIL_HUB_FLOWS_H
#define VIGIL_HUB_FLOWS_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/buf.h"
#include "hub/hub_msg.h"

/* Create the flows' tables (and the time indexes retention uses). 0, or -1 with err. */
int hub_flows_schema(sqlite3 *db, char *err, size_t errlen);
/* Add a checked flows message inside the writer's open transaction: 1 added, 0 seen before, -1 error. */
int hub_flows_add(sqlite3 *db, const struct hub_msg *m, int64_t recv_ns);

/* Retention: the kinds deleted, in this order. */
enum hub_retain_kind { HUB_RET_ALERTS, HUB_RET_ACTIONS, HUB_RET_LOSSES, HUB_RET_FLOWS, HUB_RET__N };
extern const char *const hub_retain_names[HUB_RET__N];
/*
 * Delete at most batch rows of each kind older than cutoff_ns (a record's own
 * time; a flow row's minute; a flows message's receipt), each kind in a
 * transaction of its own. Adds what went to deleted[]. Returns the rows
 * deleted (a full batch: call again soon), or -1 with err.
 */
long hub_retain_step(sqlite3 *db, int64_t cutoff_ns, long batch, uint64_t deleted[HUB_RET__N], char *err,
		     size_t errlen);
/*
 * One retention DELETE (its ?1 the cutoff, ?2 the batch) in a transaction of
 * its own: the rows deleted, or -1 with err ("<what>: <SQLite's reason>").
 */
long hub_retain_delete(sqlite3 *db, const char *sql, int64_t cutoff_ns, long batch, const char *what, char *err,
		       size_t errlen);

struct hub_flow_query {
	int64_t since_ns, until_ns; /* the minutes that overlap [since, until) */
	const char *cluster, *node, *ns;
	long limit, offset;         /* list: a page */
};
#define HUB_MAP_MAX_NODES 400
#define HUB_MAP_MAX_EDGES 2000
#define HUB_MAP_MAX_ROWS 200000 /* rows read for one map */

/* Append {"flows":[...],"next_cursor":...}: sums per workload, direction, protocol, peer and port. */
long hub_flows_list(sqlite3 *db, const struct hub_flow_query *q, struct vg_buf *out, char *err, size_t errlen);

enum hub_map_format { HUB_MAP_JSON, HUB_MAP_DOT, HUB_MAP_SVG };
/* Append the service map of the range in a format. 0, or -1 with err. */
int hub_servicemap(sqlite3 *db, const struct hub_flow_query *q, enum hub_map_format f, struct vg_buf *out,
		   char *err, size_t errlen);

#endif
