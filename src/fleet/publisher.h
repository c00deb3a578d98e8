/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The NATS forwarder: the outbox's records to JetStream (docs/fleet.md). Each
 * batch is published asynchronously (all of it in flight at once) on
 * vigil.<cluster>.<node>.<kind> with the contract's headers: a few records
 * one message each (Nats-Msg-Id the record's uuid), a backlog packed into
 * messages of many consecutive records (Vigil-Count; Nats-Msg-Id
 * "<first uuid>+<count>"), whose boundaries are kept in the store (table
 * outbox_batch) until acknowledged, so that a resend, also by a restarted
 * agent, sends the same messages with the same ids. deliver() waits for the
 * stream's acknowledgements and says how long a prefix of the batch was
 * stored. A duplicate (JetStream saw that Nats-Msg-Id within its window)
 * counts as stored: that is what happens when a batch is sent again after an
 * ack was lost.
 */
#ifndef VIGIL_FLEET_PUBLISHER_H
#define VIGIL_FLEET_PUBLISHER_H

#include <stdint.h>
#include "fleet/nats_conn.h"
#include "output/forwarder.h"

struct fleet_publisher_stats {
	uint64_t published;  /* records handed to the client */
	uint64_t stored;     /* acknowledged by the stream (duplicates included) */
	uint64_t duplicates; /* of them, already in the stream */
	uint64_t failed;     /* refused or not acknowledged in time */
	uint64_t messages;   /* messages those records went in */
};

/*
 * How long the agent's outbox holds records committed while a message is in
 * flight, so that they go in one message when its ack comes (outbox_opts.linger_ms;
 * docs/fleet.md, "Pipelining"). About a stream round trip at R3 on loopback.
 */
#define FLEET_LINGER_MS 5

/* name "nats"; open(spec) connects to spec's servers by itself (node: the host name) */
extern const struct vg_forwarder_ops fleet_publisher_ops;

/*
 * A forwarder context on an existing connection (not owned: close it after
 * the outbox). ack_timeout_ms: how long a batch waits for its acks (0: 5000).
 */
void *fleet_publisher_new(struct fleet_conn *c, long ack_timeout_ms, char *err, size_t errlen);
/*
 * Keep the batches' boundaries in this store (the outbox's) until the stream
 * acknowledges them. Without it they are kept in memory only: a restarted
 * agent may then cut its resend differently (duplicates in the stream, which
 * hubs drop by uuid). Call before the first delivery.
 */
void fleet_publisher_set_store(void *ctx, const char *store_path);
void fleet_publisher_get_stats(void *ctx, struct fleet_publisher_stats *st);

#endif
