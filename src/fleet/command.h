/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Response commands from a hub to one node's agent (docs/fleet.md, "Response
 * commands"): a NATS request on vigil.<cluster>.<node>.cmd, answered by the
 * agent on the request's reply subject.
 *
 * The command, one JSON object of exactly these fields (no others):
 *
 *   {"id":"9f2c...e1","time_ns":1796547108000000000,"cluster":"prod","node":"node-a",
 *    "command":"release","container":"web-1","actor":"oncall"}
 *
 *   id         16 to 64 of [A-Za-z0-9_-]: unique per command (the hub: 128 random bits)
 *   time_ns    when the hub sent it, ns since the epoch: the agent refuses one that is
 *              more than FLEET_CMD_MAX_AGE_S old (or as far in the future)
 *   cluster, node   the addressed node: must be the agent's own
 *   command    "release" (an isolation), "thaw" (a freeze) or "evidence" (a bundle)
 *   container  release, thaw: an id prefix or an exact name: 1 to 255 of [A-Za-z0-9_.-],
 *              starting with a letter or digit (no glob characters: one container)
 *   bundle     evidence (instead of container): a forensic bundle's directory name
 *              under the agent's evidence directory, 1 to 128 of [A-Za-z0-9_.-],
 *              a letter or digit first
 *   actor      optional: who asked (the hub token's name), 0 to 64 printable ASCII
 *
 * The reply: {"outcome":"ok","detail":"released web-1 (/libpod_parent/libpod-...)"}
 * with outcome one of fleet_cmd_outcome_name(); detail is free text for people.
 * An evidence command's "ok" reply carries headers Vigil-Parts (N), Vigil-Size
 * and Vigil-Sha256 of the bundle as a tar archive, and is followed on the same
 * reply subject by N messages of at most FLEET_EVIDENCE_PART bytes, header
 * Vigil-Part 0..N-1, in order (the node's NATS user must be allowed that many
 * responses: docs/fleet.md, "Evidence").
 *
 * Both are at most FLEET_CMD_MAX bytes. A parser of untrusted input: never
 * reads outside [data, data+len), refuses a NUL byte, a key twice, any
 * unknown field and values of the wrong type (tests/fuzz/fuzz_fleet_cmd.c).
 */
#ifndef VIGIL_FLEET_COMMAND_H
#define VIGIL_FLEET_COMMAND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/buf.h"
#include "fleet/nats_conn.h"

#define FLEET_CMD_MAX 4096        /* a command or a reply, in bytes */
#define FLEET_CMD_MAX_AGE_S 60    /* older commands (or as far ahead) are refused */
#define FLEET_CMD_ID_MAX 64
#define FLEET_CMD_CONTAINER_MAX 255
#define FLEET_CMD_ACTOR_MAX 64
#define FLEET_CMD_DETAIL_MAX 1024
#define FLEET_CMD_KIND "cmd"      /* the subject's last token */
#define FLEET_CMD_BUNDLE_MAX 128
#define FLEET_EVIDENCE_PART (512 * 1024)      /* bytes per message: below NATS's default 1 MiB */
#define FLEET_EVIDENCE_MAX (32 * 1024 * 1024) /* a bundle as tar, at most */

enum fleet_cmd_kind { FLEET_CMD_RELEASE, FLEET_CMD_THAW, FLEET_CMD_EVIDENCE };

struct fleet_cmd {
	char id[FLEET_CMD_ID_MAX + 1];
	int64_t time_ns;
	char cluster[FLEET_NAME_MAX + 1], node[FLEET_NAME_MAX + 1];
	enum fleet_cmd_kind kind;
	char container[FLEET_CMD_CONTAINER_MAX + 1]; /* release, thaw */
	char bundle[FLEET_CMD_BUNDLE_MAX + 1];       /* evidence */
	char actor[FLEET_CMD_ACTOR_MAX + 1];
};

/* What came of a command: the reply's "outcome". */
enum fleet_cmd_outcome {
	FLEET_CMD_OK,            /* done */
	FLEET_CMD_FAILED,        /* tried and failed (detail says why) */
	FLEET_CMD_NOT_FOUND,     /* no isolation (freeze) of that container was ever recorded */
	FLEET_CMD_NOT_ISOLATED,  /* release: the container is not isolated (any more) */
	FLEET_CMD_NOT_FROZEN,    /* thaw: the container is not frozen (any more) */
	FLEET_CMD_GONE,          /* the container's cgroup is gone: nothing to undo */
	FLEET_CMD_INVALID,       /* the command is malformed, or not for this node */
	FLEET_CMD_STALE,         /* older than FLEET_CMD_MAX_AGE_S (or from the future) */
	FLEET_CMD_REPLAYED,      /* an id seen before */
	FLEET_CMD_BUSY,          /* too many commands within FLEET_CMD_MAX_AGE_S */
	FLEET_CMD_OUTCOME__N
};

/* "ok", "failed", "not_found", ...: a static string; "?" out of range. */
const char *fleet_cmd_outcome_name(enum fleet_cmd_outcome o);
/* The outcome named s, or -1. */
int fleet_cmd_outcome_parse(const char *s);
/* "release", "thaw" or "evidence". */
const char *fleet_cmd_kind_name(enum fleet_cmd_kind k);
/* The kind of "release", "thaw" or "evidence", or -1. */
int fleet_cmd_kind_parse(const char *s);
/* A valid container argument: an id prefix or a name, no pattern. */
bool fleet_cmd_container_valid(const char *s);
/* A valid bundle argument: a directory name, never a path. */
bool fleet_cmd_bundle_valid(const char *s);
/* A valid actor: 0 to FLEET_CMD_ACTOR_MAX printable ASCII characters. */
bool fleet_cmd_actor_valid(const char *s);

/* Decode a command (the rules above). 0, or -1 with the reason in err. */
int fleet_cmd_decode(const void *data, size_t len, struct fleet_cmd *c, char *err, size_t errlen);
/* Encode a command (valid fields assumed) into out (appended). */
void fleet_cmd_encode(const struct fleet_cmd *c, struct vg_buf *out);
/* A fresh id: 128 random bits as 32 hex digits (getrandom). 0, or -1. */
int fleet_cmd_new_id(char id[FLEET_CMD_ID_MAX + 1]);

/* Encode a reply into out (appended); detail is cut to FLEET_CMD_DETAIL_MAX. */
void fleet_cmd_reply_encode(enum fleet_cmd_outcome o, const char *detail, struct vg_buf *out);
/*
 * Decode a reply: exactly "outcome" (a known name) and "detail" (a string of
 * at most FLEET_CMD_DETAIL_MAX bytes). 0, or -1 with err.
 */
int fleet_cmd_reply_decode(const void *data, size_t len, enum fleet_cmd_outcome *o, char *detail, size_t dlen,
			   char *err, size_t errlen);

/*
 * Replay protection: the ids of the commands accepted within the last
 * FLEET_CMD_MAX_AGE_S, at most FLEET_CMD_SEEN_MAX of them. A command older
 * than that is refused by its time, so an id need not be kept longer; when
 * the table is full of ids still in their window, new commands are refused
 * (FLEET_CMD_BUSY) rather than an id forgotten early. Not thread-safe: one
 * caller (the subscription's callback) at a time.
 */
#define FLEET_CMD_SEEN_MAX 1024
struct fleet_cmd_guard {
	struct {
		char id[FLEET_CMD_ID_MAX + 1];
		int64_t time_ns;
	} seen[FLEET_CMD_SEEN_MAX];
	size_t n;
};
/*
 * Whether a decoded command may run now (now_ns: the wall clock): FLEET_CMD_OK
 * (its id is then remembered), FLEET_CMD_STALE, FLEET_CMD_REPLAYED or
 * FLEET_CMD_BUSY.
 */
enum fleet_cmd_outcome fleet_cmd_guard_check(struct fleet_cmd_guard *g, const struct fleet_cmd *c, int64_t now_ns);

#endif
