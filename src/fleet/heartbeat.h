/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Node heartbeats (docs/fleet.md): every interval (10 s), the node's health on
 * vigil.<cluster>.<node>.heartbeat, into the stream VIGIL_HEARTBEATS, which
 * keeps the latest per node. Not through the outbox: only the latest value
 * matters, so a heartbeat that cannot be sent now is not sent later.
 */
#ifndef VIGIL_FLEET_HEARTBEAT_H
#define VIGIL_FLEET_HEARTBEAT_H

#include <stdint.h>
#include "common/buf.h"
#include "fleet/nats_conn.h"

#define FLEET_HEARTBEAT_MS 10000

/* What the agent reports, read on the heartbeat's thread (keep the callback short). */
struct fleet_health {
	uint64_t events;        /* events read since the start (events/s is computed from it) */
	uint64_t lost_records;  /* records the kernel could not queue, since the start */
	int64_t outbox_depth;   /* records the NATS forwarder has not delivered yet */
	double outbox_oldest_s; /* the oldest of them, seconds */
	uint64_t outbox_lost;   /* records lost to the outbox's disk budget */
	/* central policy's state per kind as one JSON object (fleet/policy_watch.h), when
	 * the node watches the bucket; left empty: {"digest":null,"status":"none"} */
	struct vg_buf *policy;
	/* records the sensor dropped, by container, as one JSON array (agent_floods.c,
	 * docs/fleet.md); left empty: [] */
	struct vg_buf *dropped;
};
typedef void (*fleet_health_fn)(void *ctx, struct fleet_health *h);

struct fleet_heartbeat;

/* Start the thread (the first heartbeat as soon as the connection is up). NULL with err. */
struct fleet_heartbeat *fleet_heartbeat_start(struct fleet_conn *c, long interval_ms, fleet_health_fn fn,
					      void *ctx, char *err, size_t errlen);
/* The digest of the rules running ("sha256:..."); any thread. */
void fleet_heartbeat_set_rules(struct fleet_heartbeat *hb, const char *digest);
/* Send one now (tests, or a change worth telling at once). */
void fleet_heartbeat_kick(struct fleet_heartbeat *hb);
/* Stop the thread, sending a last heartbeat when connected. NULL is fine. */
void fleet_heartbeat_stop(struct fleet_heartbeat *hb);

/* The heartbeat's JSON (without sending it): for tests. */
struct vg_buf;
void fleet_heartbeat_json(struct fleet_heartbeat *hb, struct vg_buf *out);

#endif
