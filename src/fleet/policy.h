/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Central policy: rule files, the response policy, the file policy and the
 * egress policy of a fleet, kept in the JetStream key-value bucket
 * VIGIL_POLICY (docs/fleet.md, "Central policy").
 *
 * One push is one value: a JSON envelope holding the policy's files, the nodes
 * it is for (a glob on node names), its digest, who pushed it and when. Its key
 * is "<kind>.<scope>" (scope "all" for every node, else a hash of the glob), so a
 * push to the same nodes replaces the previous one and the bucket's history
 * keeps the pushes before it. A node runs, for each kind, the newest push whose
 * glob matches its name; a push is validated before it is published and again
 * by every node before it is applied.
 */
#ifndef VIGIL_FLEET_POLICY_H
#define VIGIL_FLEET_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "fleet/nats_conn.h"

#define POLICY_BUCKET "VIGIL_POLICY"
#define POLICY_MAX_FILES 64
#define POLICY_MAX_BYTES (900u * 1024u) /* an envelope, under JetStream's 1 MiB message limit */
#define POLICY_HISTORY 64               /* pushes kept per key */
#define POLICY_MAX_VALUE (POLICY_MAX_BYTES + 64u * 1024u) /* an envelope: the files and their JSON */
#define POLICY_DIGEST_LEN 72            /* "sha256:" and 64 hex digits, NUL */

enum policy_kind {
	POLICY_RULES,
	POLICY_RESPONSE,
	POLICY_FILES,
	POLICY_EGRESS,
	POLICY_KINDS
};

const char *policy_kind_name(enum policy_kind k);
/* -1 when name is none of "rules", "response", "files", "egress". */
int policy_kind_parse(const char *name);

struct policy_file {
	char *name;    /* a plain file name: no '/', not "." or ".." */
	char *content;
	size_t len;
};

struct policy_push {
	enum policy_kind kind;
	char *nodes;             /* glob on node names; "*" for all */
	bool defaults;           /* rules: Vigil's default rules load before the files */
	char digest[POLICY_DIGEST_LEN];
	char *pushed_by;         /* user@host */
	int64_t pushed_at;       /* seconds since the epoch */
	struct policy_file files[POLICY_MAX_FILES];
	size_t nfiles;
	uint64_t revision;       /* the bucket's revision (set when read back) */
};

void policy_push_free(struct policy_push *p);

/*
 * The digest of a policy: sha256 over each file's name, a NUL, its length as 8
 * bytes little-endian and its bytes, in order. The same files give the same
 * digest on every node.
 */
void policy_digest(const struct policy_file *files, size_t n, bool defaults,
		   char out[POLICY_DIGEST_LEN]);

/* Read files from disk into p (names are the paths' base names). 0 or -1 with err. */
int policy_read_files(struct policy_push *p, const char *const *paths, size_t n, char *err,
		      size_t errlen);

/* The envelope as JSON (malloc'd), and back. NULL / -1 with err on a bad envelope. */
char *policy_encode(const struct policy_push *p, size_t *len);
int policy_decode(const void *data, size_t len, struct policy_push *p, char *err, size_t errlen);

/* "<kind>.all" or "<kind>.<16 hex of sha256(glob)>" */
void policy_key(enum policy_kind k, const char *nodes, char *buf, size_t len);

/*
 * Validate a policy as the agent would load it, from files on disk: rules
 * compile (file:line:column), the response policy names known actions, the
 * file and egress policies parse. 0 or -1 with err.
 */
int policy_validate(enum policy_kind k, const char *const *paths, size_t n, bool defaults,
		    char *err, size_t errlen);

/*
 * Write p's files under dir/<kind>/<digest hex>/ (0700, files 0600), fill
 * paths[] with their paths (malloc'd). 0 or -1 with err.
 */
int policy_materialize(const struct policy_push *p, const char *dir, char **paths, char *err,
		       size_t errlen);

/* The bucket (made by `vigil fleet init`, fleet/streams.c). 0 or -1 with err. */
int policy_bucket(struct fleet_conn *c, kvStore **kv, char *err, size_t errlen);

/* Publish a validated push. Fills p->revision. 0 or -1 with err. */
int policy_publish(struct fleet_conn *c, struct policy_push *p, char *err, size_t errlen);

/*
 * Every push kept in the bucket (all keys, their history), oldest first, as
 * one JSON object per line on f (files left out, their names and sizes kept).
 * Returns the number of pushes or -1 with err.
 */
long policy_history(struct fleet_conn *c, FILE *f, char *err, size_t errlen);

#endif
