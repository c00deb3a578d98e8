/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Profiles across a fleet (docs/profiles.md, "In a fleet"; docs/fleet.md,
 * "Profiles"): the two JSON documents that carry a behaviour profile between
 * nodes and hubs, and their strict codec (fuzzed by tests/fuzz/fuzz_profile_msg.c).
 *
 *  - the message a node publishes on vigil.<cluster>.<node>.profile: what one
 *    profile learnt since the node's last message (items added), its header
 *    and its mode on that node (PROFILE_DOC_MSG);
 *  - the merged profile a hub keeps in the key-value bucket VIGIL_PROFILES,
 *    keyed by profile_kv_key(key): the union of every node's items, and the
 *    mode set centrally, if any (PROFILE_DOC_KV).
 */
#ifndef VIGIL_FLEET_PROFILE_MSG_H
#define VIGIL_FLEET_PROFILE_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "profile/profile.h"

#define PROFILE_BUCKET "VIGIL_PROFILES"
#define PROFILE_STREAM "VIGIL_PROFILE_MSGS"
#define PROFILE_SUBJECTS "vigil.*.*.profile"
#define PROFILE_DOC_MAX_ITEMS 4096           /* items in one document */
#define PROFILE_DOC_MAX_BYTES (900u * 1024)  /* one document (the bucket's value limit) */
#define PROFILE_MSG_CHUNK (96u * 1024)       /* a node cuts its messages at about this size */

enum profile_doc { PROFILE_DOC_MSG, PROFILE_DOC_KV };

struct profile_share {
	char *key, *image, *digest, *owner, *ns; /* malloc'd; "" when absent */
	int mode;              /* enum profile_mode; -1: none (a bucket value without a central mode) */
	int64_t learn_started; /* message: the node's learning start (seconds) */
	char *mode_by;         /* bucket: who set the mode ("" none) */
	int64_t mode_at_ns;    /* bucket: when (0: never) */
	char uuid[65];         /* message */
	char **items[PROF_NKINDS];
	size_t nitems[PROF_NKINDS], cap[PROF_NKINDS];
	size_t total;
};

void profile_share_init(struct profile_share *ps);
void profile_share_free(struct profile_share *ps);
/* Set a string field (copies). */
void profile_share_set(char **field, const char *v);
/* Append an item (no duplicate check): 0, or -1 when the document holds PROFILE_DOC_MAX_ITEMS. */
int profile_share_add(struct profile_share *ps, enum profile_kind k, const char *value);
/* Whether value is among kind k's items (linear). */
bool profile_share_has(const struct profile_share *ps, enum profile_kind k, const char *value);
/*
 * Parse and check a document: one JSON object, no NUL, no key twice; key 1 to
 * 511 printable bytes; strings at most 511; a known mode; items an object of
 * known kinds, each an array of valid items (profile_item_invalid), at most
 * PROFILE_DOC_MAX_ITEMS in all. 0, or -1 with err (ps is left empty).
 */
int profile_share_decode(enum profile_doc d, const char *buf, size_t len, struct profile_share *ps, char *err,
			 size_t errlen);
/* The document as JSON (malloc'd, NUL-terminated, *len bytes). */
char *profile_share_encode(enum profile_doc d, const struct profile_share *ps, size_t *len);
/* The bucket's key of a profile key: 64 hex digits of its SHA-256. */
void profile_kv_key(const char *key, char out[65]);

#endif
