/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A node's profiles in a fleet (docs/profiles.md, "In a fleet"): works on the
 * node's profile store (the tables of profile/profile_store.h), beside the
 * agent that learns into it.
 *
 *  - publishes what each profile learnt (new items, a new mode, a reset) on
 *    vigil.<cluster>.<node>.profile, read from the store, so nothing learnt is
 *    lost to an outage: every profile is sent whole again when the connection
 *    comes back, at each start and every 10 minutes (the hub takes the union,
 *    so sending again is harmless), and in between only what changed;
 *  - watches the bucket VIGIL_PROFILES and merges what other nodes learnt (and
 *    a mode set centrally) into the store's profiles of the same key, then
 *    increments the store's generation: a running agent reads its profiles
 *    again within a second. Items received so are remembered (table
 *    profile_fleet_items) and never published as this node's own.
 */
#ifndef VIGIL_FLEET_PROFILE_SYNC_H
#define VIGIL_FLEET_PROFILE_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "fleet/nats_conn.h"
#include "fleet/profile_msg.h"

struct profile_sync_stats {
	uint64_t messages;     /* profile messages the stream stored */
	uint64_t failures;     /* publishes that failed (everything is sent again) */
	uint64_t merged_items; /* items learnt elsewhere, added here */
	uint64_t modes;        /* central modes applied */
	uint64_t refused;      /* bucket values that did not parse, items beyond the bounds */
};

struct profile_sync;

/* Start a thread on connection c (not owned) and the store at path; NULL with err. */
struct profile_sync *profile_sync_start(struct fleet_conn *c, const char *store_path, char *err, size_t errlen);
void profile_sync_stop(struct profile_sync *s); /* NULL is fine */
void profile_sync_get_stats(struct profile_sync *s, struct profile_sync_stats *st);

/* One round, synchronously (vigil profile sync): publish every profile whole, then merge the bucket's. */
int profile_sync_once(struct fleet_conn *c, const char *store_path, struct profile_sync_stats *st, char *err,
		      size_t errlen);

/*
 * Merge a bucket value into the store db (an open connection on the profile
 * tables): its items into the profile of the same key (when the store has one;
 * at most max_items in the profile), its central mode when newer than the one
 * applied. Returns the number of changes (items added + mode), -1 on error.
 * Increments the store's generation when it changed anything.
 */
struct sqlite3;
int profile_sync_merge(struct sqlite3 *db, const struct profile_share *v, size_t max_items, int64_t now,
		       struct profile_sync_stats *st);
/* Create the sync's own tables (profile_fleet_items, profile_fleet_mode): 0 or -1. */
int profile_sync_schema(struct sqlite3 *db);

#endif
