/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Response: the actions a rule names (`actions: [kill, freeze]`) carried out
 * when it alerts. This first part acts from userspace, as soon as the alert is
 * raised: `kill` (SIGKILL to the offending process), `freeze` (every
 * process of the container, through cgroup v2's cgroup.freeze) and `isolate`
 * (the container's packets dropped, src/respond/isolate.c) and `capture` (a
 * forensic bundle, src/respond/bundle.c). The other
 * actions of docs/response.md are refused at start rather than ignored.
 *
 * Safety: never the agent itself, pid 1, kernel threads, or a process outside
 * a container unless allow_host, never freeze or isolate a cgroup whose path
 * is unknown; the same target is acted on once per action;
 * at most RESPOND_MAX_PER_SEC actions a second. In audit mode every decision is
 * recorded and nothing is done.
 */
#ifndef VIGIL_RESPOND_H
#define VIGIL_RESPOND_H

#include <stdbool.h>
#include <stdint.h>
#include "engine/engine.h"
#include "respond/action.h"

#define RESPOND_MAX_PER_SEC 50

enum respond_mode { RESPOND_OFF, RESPOND_AUDIT, RESPOND_ENFORCE };

struct responder;

/* Whether a rule may name this action (kill, freeze, isolate, capture); for rule validation. */
bool respond_action_known(const char *name);
/* Check every enabled rule's actions; -1 with the first problem in err. */
int respond_check_rules(const struct engine *e, char *err, size_t errlen);

struct isolate;
struct bundle_opts;
/* iso: the isolation programs when some rule uses `isolate`; bundles: where and from what
 * `capture` writes forensic bundles (NULL when no rule captures). */
struct responder *responder_new(enum respond_mode mode, bool allow_host, const char *procfs, struct isolate *iso,
				const struct bundle_opts *bundles);
/* Whether some enabled rule names `action`. */
bool respond_rules_use(const struct engine *e, const char *action);
void responder_free(struct responder *r);
/*
 * For each action, fn receives the result (strings valid during the call).
 * Never blocks for long: a kill is one syscall, a freeze one write.
 */
struct action_req;
/* Carry out acts[0..n) for the alert (an act with audit set is only recorded). */
void responder_handle(struct responder *r, const struct alert *a, const struct action_req *acts, size_t n,
		      void (*fn)(void *ctx, const struct alert *a, const struct action_result *res), void *ctx);

/*
 * Forget that action was taken on a target (a pid, or a container's cgroup id):
 * the next alert on it acts again instead of recording `skipped` (a release or
 * a thaw undid it). Call it from the thread that calls responder_handle.
 */
void responder_forget(struct responder *r, uint64_t key, enum action_kind action);

/* Write cgroup.freeze of a cgroup v2 path ("/libpod_parent/libpod-ID"). 0 or -1 (err set). */
int respond_cgroup_freeze(const char *cgroup_path, bool freeze, char *err, size_t errlen);

#endif
