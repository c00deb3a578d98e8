/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Flow rollups: per workload, peer, port, protocol and minute, how many
 * connections opened and how many bytes and packets went each way, kept in the
 * table `flow_minutes` of the store (the SQLite file of the alerts) for a
 * retention period. docs/service-map.md has the schema and the rules.
 *
 * Flow reports carry totals since the flow opened (state/flow.h). The rollup
 * keeps each flow's last totals by its cookie and adds only what grew since, to
 * the minute of the report that carried it, so an interval report and the
 * close of one flow are never counted twice. A flow counts as one connection
 * in the minute it is first seen.
 *
 * Memory is bounded: at most max_flows flows' last totals (a closed flow's are
 * kept a minute for reports that arrive late, then dropped; when full, the
 * oldest closed flow, else the least recently reported live one, is evicted and
 * counted: were that flow to report again it would be counted as new), and at
 * most max_rows minute rows waiting for flow_rollup_flush (more are written at
 * once). With the defaults, about 12 MB and 6 MB at worst.
 *
 * One owner: not thread-safe. The write side has its own SQLite connection to
 * the store file; the agent calls add and flush from its event loop.
 */
#ifndef VIGIL_FLOW_ROLLUP_H
#define VIGIL_FLOW_ROLLUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "state/container_meta.h"
#include "state/flow.h"

#define FLOW_ROLLUP_DEFAULT_RETENTION_DAYS 7
/* How often the agent calls flow_rollup_flush: the current minute's partial rows
 * reach the store this often, so `vigil flows` (live) is at most this late. */
#define FLOW_ROLLUP_FLUSH_EVERY_NS (5ull * 1000000000ull)

/* The flows' outbox (docs/fleet.md, "Flows"): rows per message, messages kept unpublished at most */
#define FLOW_OUTBOX_ROWS 200
#define FLOW_OUTBOX_DEFAULT_MAX 20000
#define FLOW_OUTBOX_SCHEMA                                                                         \
	"CREATE TABLE IF NOT EXISTS flow_outbox (id INTEGER PRIMARY KEY AUTOINCREMENT,"            \
	" uuid TEXT NOT NULL, time_ns INTEGER NOT NULL, json TEXT NOT NULL);"

struct flow_rollup_opts {
	unsigned retention_days; /* rows older than this are pruned; 0: 7 */
	size_t max_flows;        /* flows whose last totals are kept; 0: 131072 */
	size_t max_rows;         /* minute rows pending before an early write; 0: 16384 */
	bool outbox;             /* also write each flush's deltas to table flow_outbox (with --nats) */
	size_t outbox_max;       /* outbox messages kept unpublished, the oldest dropped beyond; 0: 20000 */
};

struct flow_rollup_stats {
	uint64_t reports;      /* flow reports added */
	uint64_t flows;        /* flows first seen (= connections counted) */
	uint64_t evicted;      /* live flows' totals dropped for room */
	size_t tracked;        /* flows whose totals are kept now */
	size_t pending;        /* minute rows not yet written */
	uint64_t rows_written; /* row upserts committed */
	uint64_t early_writes; /* writes forced by max_rows */
	uint64_t write_errors; /* batches lost to SQLite errors */
	uint64_t pruned;       /* rows deleted by retention */
	uint64_t outbox_msgs;  /* outbox messages written */
	uint64_t outbox_dropped; /* outbox messages dropped unpublished (outbox_max) */
};

struct flow_rollup;

/* Open the store at path for writing rollups (creating it, its directory and the
 * table as the alert store does). NULL with the reason in err. */
struct flow_rollup *flow_rollup_open(const char *path, const struct flow_rollup_opts *opts, char *err,
				     size_t errlen);
/* Write what is pending (at the last report's time for pruning), then close. NULL is fine. */
void flow_rollup_close(struct flow_rollup *r);

/*
 * Count one flow report. self is the metadata of f's own container (NULL: the
 * id from f, no name; the host when f->container_id is ""), peer that of the
 * peer's container when it is on this node (NULL: from f->peer_container_id).
 * boot_to_realtime turns f->ts_ns into wall-clock ns. The strings are copied.
 * Returns 0, or -1 when an early write failed (the rows are lost and counted).
 */
int flow_rollup_add(struct flow_rollup *r, const struct vg_flow *f, const struct vg_container_meta *self,
		    const struct vg_container_meta *peer, uint64_t boot_to_realtime);

/*
 * Write every pending row, the current minute's partial ones included (a later
 * flush adds to them), in one transaction; then, at most once a minute, delete
 * the rows older than the retention before now_ns (wall clock). Returns the
 * rows written or -1 (the batch is lost, counted, and the reason in
 * flow_rollup_error).
 */
long flow_rollup_flush(struct flow_rollup *r, int64_t now_ns);
const char *flow_rollup_error(const struct flow_rollup *r);
void flow_rollup_stats(const struct flow_rollup *r, struct flow_rollup_stats *out);

/* The read side: sums over the minutes of a time range, per workload and peer. */
struct flow_query {
	int64_t since_ns, until_ns;  /* wall clock; the minutes that overlap [since, until); 0: open */
	const char *container;       /* selector filter (respond/selector.h), "host", or NULL */
	const char *k8s_namespace;   /* exact, or NULL */
	long limit;                  /* 0: all */
};

struct flow_row {
	const char *container_id, *container_name, *k8s_namespace, *k8s_pod; /* id "" on the host; others may be NULL */
	const char *direction; /* "out", "in", "unknown" */
	const char *proto;     /* "tcp", "udp" */
	const char *peer_addr; /* text form */
	unsigned port;         /* the service port: the remote one outbound, the local one inbound */
	const char *peer_container_id, *peer_container_name, *peer_k8s_namespace, *peer_k8s_pod;
	const char *peer_name; /* DNS name, "" if none (over several minutes: the greatest non-empty one) */
	uint64_t connections, bytes_in, bytes_out, packets_in, packets_out;
	int64_t first_minute, last_minute; /* seconds since the epoch, each a minute's start */
};

/*
 * Calls fn for each (workload, direction, protocol, peer, port) of the store at
 * path with rows in the range, most bytes first. A store without the table
 * (no flows yet) has no rows. Returns the count, or -1 with the reason in err.
 */
long flow_rollup_query(const char *path, const struct flow_query *q,
		       void (*fn)(void *ctx, const struct flow_row *row), void *ctx, char *err, size_t errlen);

#endif
