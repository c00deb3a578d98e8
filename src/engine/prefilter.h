/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Necessary-condition prefilters for the rules of one event type.
 *
 * From a condition specialised for the type, prefilter_add derives clauses
 * that must hold for it to be true: each clause is a set of checks (atoms)
 * of which at least one is true -- `fd.name startswith /etc/` from an `and`,
 * {fd.name in (...), fd.directory in (...)} from an `or` of them. An event
 * skips a rule when a clause of it is false, without walking its tree.
 *
 * Atoms are the condition's own checks (structurally equal ones shared) and
 * are computed at most once per event. The atoms on one string field with
 * `=`, `in`, `intersects`, `startswith`, `bstartswith`, `endswith`, `pmatch`
 * and `glob` with a literal head form a group: one pass over the field's
 * value(s) -- a hash lookup for the exact literals, binary searches in the
 * sorted prefixes and suffixes, a lookup of a path's first component, and
 * the check itself where a lookup only narrows -- gives all of them, so
 * fd.name is read once per event instead of once per check; a group with
 * prefixes or suffixes also takes the field's substrings and remembers its
 * answers per value. Other atoms are evaluated alone (filter_eval_node). A
 * clause only ever rejects when its condition is false, so results are
 * exactly the tree's.
 */
#ifndef VIGIL_ENGINE_PREFILTER_H
#define VIGIL_ENGINE_PREFILTER_H

#include <stdbool.h>
#include <stddef.h>
#include "engine/fields.h"

struct cnode;
struct prefilter;

struct prefilter *prefilter_new(void);
void prefilter_free(struct prefilter *p);

/*
 * Add the type's next rule: derive the clauses of n (its condition
 * specialised for the prefilter's event type; NULL: none). Returns the
 * rule's index, 0, 1, 2... in the order of the calls. An `always` rule is a
 * candidate on every event whatever its clauses (a sequence, whose clauses
 * are its first step's).
 */
size_t prefilter_add(struct prefilter *p, const struct cnode *n, bool always);
/* After the last prefilter_add: build the groups' lookup tables and the rule index. */
void prefilter_build(struct prefilter *p);

/* A new event: every atom unknown. */
void prefilter_reset(struct prefilter *p);
/*
 * A new event (resets every atom): the rules whose primary clause holds or
 * that have none, one bit per rule index (valid until the next call). The
 * grouped atoms of all primary clauses are computed here, once.
 */
const uint64_t *prefilter_candidates(struct prefilter *p, struct ectx *c);
/*
 * After prefilter_candidates on the same event: false when a clause of rule
 * h is false (its condition cannot be true on this event).
 */
bool prefilter_pass(struct prefilter *p, size_t h, struct ectx *c);

/*
 * Testing aid: compute every atom both ways -- grouped as prefilter_pass does
 * and each check alone -- and return how many differ (names them on stderr).
 */
size_t prefilter_selfcheck(struct prefilter *p, struct ectx *c);

#endif
