/* SPDX-License-Identifier: Apache-2.0 */
/*
 * In-kernel dropping: which events the sys_exit program may drop before it
 * builds them, because no consumer can use them (docs/performance.md).
 *
 * A plan is the union of every consumer's needs. Each need is either
 *
 *   kdrop_keep_all(k, T)          every event of type T is kept, or
 *   kdrop_keep_when(k, cond, ...) events for which a condition in the rule
 *                                 language can hold are kept
 *
 * and the kernel keeps an event when one of the needs of its type holds.
 * A condition is weakened to what the kernel can test (engine/kfilter.h,
 * kfilter_compile_keep): what it cannot test is taken as true, so an event
 * is dropped only when the condition is certainly false on it. A type
 * nobody named is kept whole (the wanted set decides whether it is
 * captured at all).
 *
 *   struct kdrop *k = kdrop_new();
 *   kdrop_add_engine(k, engine);     every enabled rule's condition
 *   kdrop_add_state(k);              what the process table needs (lifecycle)
 *   kdrop_keep_when(k, "evt.type in (connect, listen)", err, sizeof(err));
 *   kdrop_build(k, &tables);         to source_bpf_set_kdrop()
 *
 * Consumers other than the rules add their needs here before kdrop_build
 * (for instance a behaviour profile that learns file writes, execs, listens
 * and connects: kdrop_keep_when(k, "evt.is_open_write = true", ...) and
 * kdrop_keep_all(k, VG_EVT_EXECVE), ...). A need must be added on every
 * rebuild (a reload rebuilds the plan from scratch).
 */
#ifndef VIGIL_ENGINE_KDROP_H
#define VIGIL_ENGINE_KDROP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "engine/engine.h"
#include "vigil/event.h"
#include "vigil/kdrop.h"

struct kdrop;

struct kdrop *kdrop_new(void);
void kdrop_free(struct kdrop *k);

/* Keep every event of type t (a syscall event type, VG_EVT_*). */
void kdrop_keep_all(struct kdrop *k, unsigned int t);
/* Keep every event of these types. */
void kdrop_keep_types(struct kdrop *k, const struct evtset *types);
/*
 * Keep the events on which cond (Falco's condition language, without macros
 * or lists) can hold; its evt.type tests say which types it is about (none:
 * every type). 0, or -1 with the parse error in err (nothing added).
 */
int kdrop_keep_when(struct kdrop *k, const char *cond, char *err, size_t errlen);
/*
 * Every enabled rule of e: its keep filter (engine_rule_info .keep), or all of
 * its types when it has none (a sequence) or it cannot be weakened.
 */
void kdrop_add_engine(struct kdrop *k, const struct engine *e);
/*
 * What the agent's state needs whatever the rules say: process lifecycle
 * (clone, fork, vfork, execve, execveat, procexit), the working directory
 * (chdir, fchdir), identity changes (setuid, setgid and their kin).
 */
void kdrop_add_state(struct kdrop *k);

/* What the kernel is given (include/vigil/kdrop.h). */
struct kdrop_tables {
	uint8_t mode[VG_EVT_MAX];   /* enum vg_kdrop_mode */
	uint16_t first[VG_EVT_MAX]; /* the type's terms: terms[first .. first + count) */
	uint8_t count[VG_EVT_MAX];
	struct vg_kdrop_term *terms;
	size_t nterms;
	struct vg_kdrop_name *names;
	size_t nnames;
	struct vg_kdrop_comm *comms; /* the names by type, for the kernel: keys, and their masks */
	struct vg_kdrop_comm_val *cvals;
	size_t ncomms;
	uint64_t bloom[VG_KDROP_BLOOM / 64]; /* the path keys of length plens[0] (vigil/kdrop.h) */
	struct vg_kdrop_path *paths; /* keys, and their masks */
	uint64_t *masks;
	size_t npaths;
	uint16_t plens[VG_KDROP_PLENS]; /* prefix lengths, ascending */
	size_t nplens;
	struct vg_kdrop_fast fast[VG_EVT_MAX]; /* the cheap tests of each filtered type's terms */
	/* for the log: why a type named by some need is kept whole (NULL: it is filtered) */
	const char *why[VG_EVT_MAX];
};

/* Build the kernel's tables from the needs added so far. Free with kdrop_tables_free. */
void kdrop_build(struct kdrop *k, struct kdrop_tables *out);
void kdrop_tables_free(struct kdrop_tables *t);
/*
 * The kernel's test in userspace (lib/kdrop.bpf.h line for line): whether the
 * sys_exit program keeps ev, its cgroup's side being side (VG_KDROP_CONTAINER,
 * VG_KDROP_HOST, 0: not known). For `vigil replay --kernel-filter-sim` and tests.
 */
struct vg_event;
bool kdrop_tables_keep(const struct kdrop_tables *t, const struct vg_event *ev, int side);
/* The same decision taken term by term (no masks): the tests check that both agree. */
bool kdrop_tables_keep_terms(const struct kdrop_tables *t, const struct vg_event *ev, int side);
/* The number of types filtered (the others are kept whole). */
size_t kdrop_filtered_types(const struct kdrop_tables *t);

#endif
