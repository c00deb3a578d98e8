/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's side of central policy: a thread that watches the VIGIL_POLICY
 * bucket, picks for each kind the newest push whose node glob matches this
 * node, writes its files under the policy directory, validates them as the
 * agent would load them, and hands the ones that pass to the agent, which
 * applies them between two batches as SIGHUP does and reports the outcome.
 *
 * What a node runs is kept across restarts: the policy directory holds, per
 * kind, the files of the last set applied and a "current" file naming its
 * digest, so an agent restarted while NATS is down starts with the fleet's
 * policy, not with its own files.
 */
#ifndef VIGIL_FLEET_POLICY_WATCH_H
#define VIGIL_FLEET_POLICY_WATCH_H

#include "common/buf.h"
#include "fleet/policy.h"

/*
 * A policy for the agent to apply. paths == NULL: no push names this node for
 * this kind any more; go back to the node's own files. Called on the watcher's
 * thread: copy what you keep, and answer later with policy_watch_report().
 */
typedef void (*policy_apply_fn)(void *ctx, enum policy_kind k, const char *digest,
				const char *const *paths, size_t n, bool defaults);

struct policy_watch;

struct policy_watch *policy_watch_start(struct fleet_conn *c, const char *dir, policy_apply_fn fn,
					void *ctx, char *err, size_t errlen);
void policy_watch_stop(struct policy_watch *w);

enum policy_outcome {
	POLICY_APPLIED,      /* running now */
	POLICY_REFUSED,      /* did not load or cannot be carried out: why says */
	POLICY_NEXT_START,   /* valid and kept; applies when the agent starts again */
};

/* The agent's answer to a handed policy. Thread-safe. */
void policy_watch_report(struct policy_watch *w, enum policy_kind k, const char *digest,
			 enum policy_outcome outcome, const char *why);

/* What the node runs, per kind, as a JSON object (for the heartbeat). Thread-safe. */
void policy_watch_status_json(struct policy_watch *w, struct vg_buf *b);

/*
 * The set of kind k applied last (the policy directory's "current"): its
 * paths (malloc'd, *n of them), digest and defaults. 0, or -1 when there is none.
 */
int policy_cached(const char *dir, enum policy_kind k, char ***paths, size_t *n,
		  char digest[POLICY_DIGEST_LEN], bool *defaults);
/* Record that the set paths (under dir/<kind>/<digest>/) is the one applied now: 0 or -1. */
int policy_set_current(const char *dir, enum policy_kind k, const char *digest,
		       const char *const *paths, size_t n, bool defaults);

#endif
