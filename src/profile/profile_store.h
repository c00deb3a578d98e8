/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Profiles in the agent's SQLite store (the alert store's file, tables of
 * their own: profiles, profile_items, profile_generation, profile_schema;
 * docs/profiles.md). The agent loads them at start, writes what it learns
 * once a second, and polls the generation counter that every change made
 * from outside (vigil profile mode|reset|import) increments: a new
 * generation makes it read the modes and items again, live.
 */
#ifndef VIGIL_PROFILE_STORE_H
#define VIGIL_PROFILE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "profile/profile.h"

#define PROFILE_SCHEMA_VERSION 1

struct profile_store;

/* Open (create: the file and tables if absent). NULL with err. */
struct profile_store *profile_store_open(const char *path, bool create, char *err, size_t errlen);
void profile_store_close(struct profile_store *ps);
const char *profile_store_error(const struct profile_store *ps);

/* Every stored profile into s (which the caller initialised). 0, or -1 (profile_store_error). */
int profile_store_load(struct profile_store *ps, struct profile_set *s);
/* The set's pending ops in one transaction (META: the profile's header as s holds it). */
int profile_store_apply(struct profile_store *ps, const struct profile_set *s, const struct profile_op *ops, size_t n);
/* Replace a whole profile (import): header and items. Bumps the generation. */
int profile_store_put(struct profile_store *ps, const struct profile *p);
/* Set the mode of key (NULL: all); learning starts again now. Returns profiles changed, -1 error. */
int profile_store_set_mode(struct profile_store *ps, const char *key, enum profile_mode m, int64_t now);
/* Forget what key (NULL: all) learnt and learn again from now. Returns profiles reset, -1 error. */
int profile_store_reset(struct profile_store *ps, const char *key, int64_t now);
/* The generation counter (0 when never changed from outside), -1 on error. */
int64_t profile_store_generation(struct profile_store *ps);

#endif
