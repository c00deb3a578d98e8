/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the flow features learnt that must outlive the agent (state/flow_stats.h):
 * when each workload was first seen, and which external destinations each
 * workload has connected to, in the table `flow_seen` of the store (the SQLite
 * file of the alerts):
 *
 *   CREATE TABLE flow_seen (workload TEXT NOT NULL, dest TEXT NOT NULL,
 *                           first_seen INTEGER NOT NULL,  -- Unix ns
 *                           PRIMARY KEY (workload, dest))
 *
 * dest '' is the row of the workload itself (its first sight). Rows are
 * written in batches (flow_seen_flush, every few seconds, and at close); at
 * most max_rows are kept, the oldest first_seen pruned first, and at most that
 * many are loaded back. One owner: not thread-safe; its own SQLite connection.
 */
#ifndef VIGIL_FLOW_SEEN_H
#define VIGIL_FLOW_SEEN_H

#include <stddef.h>
#include <stdint.h>

#define FLOW_SEEN_MAX_ROWS 65536

struct flow_seen;

/* Open (creating the table) the store at path. NULL with err on failure. max_rows 0: the default. */
struct flow_seen *flow_seen_open(const char *path, size_t max_rows, char *err, size_t errlen);
/* Close, writing what is pending first. NULL is fine. */
void flow_seen_close(struct flow_seen *s);
/* Call fn with every row kept (the most recent max_rows), dest NULL for a workload's own row. 0 or -1. */
int flow_seen_load(struct flow_seen *s, void (*fn)(void *ctx, const char *workload, const char *dest, int64_t wall_ns),
		   void *ctx);
/* Queue a row (dest NULL: the workload's first sight); written by the next flush. Can't fail:
 * beyond 4096 pending rows, the flush happens at once. */
void flow_seen_add(struct flow_seen *s, const char *workload, const char *dest, int64_t wall_ns);
/* Write the pending rows in one transaction and prune. 0, or -1 (flow_seen_error). */
int flow_seen_flush(struct flow_seen *s);
const char *flow_seen_error(const struct flow_seen *s);

#endif
