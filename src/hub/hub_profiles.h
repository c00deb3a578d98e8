/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Profiles in the hub (docs/hub.md, "Profiles"; docs/profiles.md, "In a
 * fleet"): a consumer of its own on the stream VIGIL_PROFILE_MSGS (bound when
 * it exists, as the flows are) that checks each node's profile message, keeps
 * the union of every node's items (and which nodes saw each) in the hub's
 * store, and writes the merged profile to the bucket VIGIL_PROFILES, keeping
 * the mode set centrally there (compare-and-set: several hubs may write).
 */
#ifndef VIGIL_HUB_PROFILES_H
#define VIGIL_HUB_PROFILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "fleet/nats_conn.h"
#include "fleet/profile_msg.h"
#include "hub/hub_api.h"

struct sqlite3;
struct hub_profiles;

/* The tables (idempotent): 0 or -1. */
int hub_profiles_schema(struct sqlite3 *db);
/* One node's message into the store (in the caller's transaction): 1 when the merged profile grew or is new, 0 not, -1 error. */
int hub_profiles_add(struct sqlite3 *db, const char *cluster, const char *node, const struct profile_share *m,
		     int64_t recv_ns);
/*
 * Write the hub's merged profile of key to the bucket (union with what is
 * there); mode >= 0: set that mode centrally (by who). 0 with *rev the
 * bucket's revision, or -1 with err.
 */
int hub_profiles_kv_write(struct sqlite3 *db, kvStore *kv, const char *key, int mode, const char *who, uint64_t *rev,
			  char *err, size_t errlen);

/* The consumer thread (durable `durable` on VIGIL_PROFILE_MSGS). stats: rejections are counted there. */
struct hub_profiles *hub_profiles_start(struct fleet_conn *fc, const char *store_path, const char *durable,
					size_t max_msg, struct hub_stats *stats);
void hub_profiles_stop(struct hub_profiles *hp); /* NULL is fine */

#endif
