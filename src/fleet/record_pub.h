/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One record published on vigil.<cluster>.<node>.<kind> outside the agent's
 * outbox (docs/fleet.md, "Scan results and admission decisions"): a scan
 * result from `vigil scan image --nats` (synchronous: the command says
 * whether the stream stored it), and admission decisions from `vigil
 * admission serve --nats` (asynchronous: a bounded queue and one thread, so
 * that a NATS outage never delays or changes an admission answer; what the
 * queue cannot hold is dropped, counted and logged).
 */
#ifndef VIGIL_FLEET_RECORD_PUB_H
#define VIGIL_FLEET_RECORD_PUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/buf.h"
#include "fleet/nats_conn.h"

/* Single records larger than this (plain) are sent zlib-compressed when that is smaller. */
#define FLEET_RECORD_COMPRESS_OVER 4096

/*
 * Publish body (a JSON object) as one message of kind with Nats-Msg-Id msg_id
 * and Vigil-Seq seq; compressed (Vigil-Encoding: zlib) when over
 * FLEET_RECORD_COMPRESS_OVER and smaller so. A message (as sent) larger than
 * max_msg, or than the server's max payload, is refused before sending.
 * Returns 1 stored, 2 a duplicate the stream already had, or -1 with err.
 * *sent_len: the bytes sent (may be NULL).
 */
int fleet_record_publish(struct fleet_conn *c, const char *kind, const char *msg_id, int64_t seq, const char *body,
			 size_t len, size_t max_msg, long ack_wait_ms, size_t *sent_len, char *err, size_t errlen);

/* zlib (RFC 1950) of in at level 1 into out. 0, or -1. */
int fleet_deflate(const char *in, size_t len, struct vg_buf *out);

/* The asynchronous publisher. */
struct fleet_async_pub;
struct fleet_async_stats {
	uint64_t queued, published, duplicates, dropped, failed_attempts;
	size_t depth;
};
/* Takes over c (closed by fleet_async_pub_stop). cap: the queue's bound in records. */
struct fleet_async_pub *fleet_async_pub_start(struct fleet_conn *c, const char *kind, size_t cap);
/*
 * Queue one record (body copied). Never blocks on NATS: when the queue is full
 * the record is dropped, counted, and false returned (logged, rate-limited).
 */
bool fleet_async_pub_offer(struct fleet_async_pub *p, const char *msg_id, const char *body, size_t len);
void fleet_async_pub_stats(struct fleet_async_pub *p, struct fleet_async_stats *st);
/* Give what waits up to drain_ms to go, then stop (and say what was left). */
void fleet_async_pub_stop(struct fleet_async_pub *p, long drain_ms);

#endif
