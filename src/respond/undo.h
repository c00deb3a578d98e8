/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Undoing a response: `release` lifts a container's isolation, `thaw` its
 * freeze. One implementation for `vigil respond release|thaw` (the CLI, over
 * the local store) and the agent's response commands from a hub
 * (agent/agent_commands.c, docs/fleet.md).
 *
 * Which cgroup: the newest successful `isolate` (for release) or `freeze` (for
 * thaw) recorded in the store for the container named (an id prefix or a
 * name, as the store's selectors match it). The caller reads the store's
 * actions of that container, oldest first, and hands each to undo_note(); then
 * undo_run() acts on what was found and says what came of it; the caller
 * records the result (undo_record() gives the action row's fields).
 */
#ifndef VIGIL_RESPOND_UNDO_H
#define VIGIL_RESPOND_UNDO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "respond/action.h"

enum undo_kind { UNDO_RELEASE, UNDO_THAW };

/* What came of an undo; the names are the hub command's outcomes (fleet/command.h). */
enum undo_outcome {
	UNDO_OK,
	UNDO_FAILED,
	UNDO_NOT_FOUND,    /* no successful isolate (freeze) of that container recorded */
	UNDO_NOT_ISOLATED, /* release: not (any more) in the isolation map */
	UNDO_NOT_FROZEN,   /* thaw: the cgroup is not frozen (any more) */
	UNDO_GONE,         /* the container's cgroup no longer exists */
};

/* The container found in the store, and what became of the undo. */
struct undo {
	enum undo_kind kind;
	bool found;
	char cgroup[4096], id[65], name[256], rule[256];
	uint64_t cgroup_id;  /* undo_run: the cgroup's id (its inode), 0 when it is gone */
	enum undo_outcome outcome;
	char detail[1024];
	char target[96];
};

/* Start: kind to undo (nothing found yet). */
void undo_init(struct undo *u, enum undo_kind kind);
/* One recorded action of the container (oldest first): the newest successful
 * isolate (freeze) with a cgroup is kept. Strings may be NULL. */
void undo_note(struct undo *u, const char *action, const char *outcome, const char *cgroup, const char *container_id,
	       const char *container_name, const char *rule);
/*
 * Carry the undo out on what was found; actor says who asked, for the detail
 * ("vigil respond", "the hub (oncall)"). Fills outcome and detail; returns
 * the outcome. With nothing found: UNDO_NOT_FOUND (nothing to record).
 */
enum undo_outcome undo_run(struct undo *u, const char *actor);
/* "ok", "failed", "not_found", "not_isolated", "not_frozen", "gone". */
const char *undo_outcome_name(enum undo_outcome o);

/* The action row to record for a run undo (when found): its fields, borrowed from u. */
struct undo_row {
	const char *rule, *action, *target, *container_id, *container_name, *cgroup, *outcome, *detail, *path;
};
void undo_record(const struct undo *u, struct undo_row *row);

#endif
