/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The flows' publisher (docs/fleet.md, "Flows"): the flow rollups' outbox
 * (table flow_outbox of the store, written by output/flow_rollup.c in each
 * flush's own transaction) to JetStream, on vigil.<cluster>.<node>.flows,
 * oldest first, with the contract's headers (Nats-Msg-Id the row's uuid,
 * Vigil-Seq its id). A row is deleted once the stream acknowledged it
 * (a duplicate counts as stored): a publisher killed between the two sends
 * it again, and JetStream (duplicate window) and the hub (uuid) drop it.
 *
 * One thread of its own with its own SQLite connection; woken by
 * flow_pub_notify() after a flush and every second.
 */
#ifndef VIGIL_FLEET_FLOW_PUB_H
#define VIGIL_FLEET_FLOW_PUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "fleet/nats_conn.h"

struct flow_pub_stats {
	uint64_t published;  /* messages the stream stored (duplicates included) */
	uint64_t duplicates; /* of them, already in the stream */
	uint64_t failures;   /* publish attempts that failed (retried) */
	int64_t depth;       /* messages waiting in the outbox at the last look */
};

struct flow_pub;

/* Start on an open connection (not owned) and the store at path. NULL with err. */
struct flow_pub *flow_pub_start(struct fleet_conn *c, const char *store_path, char *err, size_t errlen);
void flow_pub_notify(struct flow_pub *p);
/* Wait until the outbox is empty or timeout_ms passed; true when empty. */
bool flow_pub_drain(struct flow_pub *p, long timeout_ms);
void flow_pub_get_stats(struct flow_pub *p, struct flow_pub_stats *st);
/* Stop the thread (a publish in progress finishes). NULL is fine. */
void flow_pub_stop(struct flow_pub *p);

#endif
