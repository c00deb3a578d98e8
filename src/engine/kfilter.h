/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kernel filters: the part of Falco's condition language the sys_exit program
 * can decide by itself (include/vigil/kill.h), so that a `kill` happens on the
 * offending syscall instead of after userspace saw the event.
 *
 * A rule's condition, macros and lists expanded, is put in disjunctive normal
 * form; each conjunction becomes a kernel term when every test in it is one
 * the kernel can make with exactly the engine's meaning:
 *
 *   evt.type       =, !=, in             the event type
 *   evt.rawres     =, !=, <, <=, >, >=, in
 *   evt.failed     = true/false
 *   container.id   = host, != host       from the cgroup, as userspace classified it
 *   proc.name      =, !=, in             the thread's comm
 *   user.uid       =, !=, in             effective uid
 *   fd.type        =, in (ipv4, ipv6, unix)     dup/dup2/dup3 only: the fd dup'ed
 *   proc.is_exe_upper_layer, proc.is_exe_from_memfd = true/false
 *                                        execve/execveat with evt.rawres = 0 only
 *
 * combined with and, or, not and parentheses. Anything else (another field,
 * an operator such as contains or glob, a transformer, exceptions, sequences,
 * thresholds) leaves the rule to userspace, with the reason.
 */
#ifndef VIGIL_ENGINE_KFILTER_H
#define VIGIL_ENGINE_KFILTER_H

#include <stdbool.h>
#include <stddef.h>
#include "engine/ruleset.h"
#include "engine/filter.h"
#include "vigil/kdrop.h"
#include "vigil/kill.h"

#define KFILTER_TERMS_MAX 8 /* conjunctions of one rule */
#define KFILTER_KEEP_TERMS_MAX 32 /* conjunctions of one rule's keep filter */

struct kfilter;

/*
 * Never NULL. kfilter_reason() says whether the kernel can decide the rule.
 * cond: r's condition already parsed (cond_parse of r->cond.s, left to the
 * caller), or NULL to parse it here.
 */
struct kfilter *kfilter_compile(const struct ruleset *rs, const struct rs_rule *r, const struct cond_node *cond);
void kfilter_free(struct kfilter *k);

/* NULL when the kernel decides the rule, else why it cannot ("proc.cmdline is not known to the kernel"). */
const char *kfilter_reason(const struct kfilter *k);
/* Number of terms (0: the condition can never match). */
size_t kfilter_nterms(const struct kfilter *k);
/*
 * Term i in the kernel's form (term->rule is left 0 for the caller), and its
 * process-name sets: names_in / names_out receive pointers valid while k lives.
 */
void kfilter_term(const struct kfilter *k, size_t i, struct vg_kill_term *term, const char *const **names_in,
		  size_t *nin, const char *const **names_out, size_t *nout);

/*
 * Keep filters (in-kernel dropping, engine/kdrop.h): the same DNF, but every
 * test the kernel cannot make exactly is replaced by one it can that the
 * test implies, or by true; exceptions are left out. The result is implied
 * by the condition: an event it rejects cannot match the rule. Beyond the
 * kill filter's tests it knows, for opens (open, openat, openat2, creat):
 * fd.name / evt.arg.path =, in, startswith, pmatch, glob (their literal head),
 * fd.directory =, in, evt.is_open_read / evt.is_open_write = true,
 * evt.arg.flags contains O_CREAT / O_EXCL / O_TRUNC / O_APPEND / O_DIRECTORY,
 * fd.num >= 0, and vigil.tamper (memory: a path below /proc/; the agent's
 * files and pins: opened to write). kfilter_reason() is non-NULL only when
 * the rule cannot be weakened at all (a sequence, too many alternatives):
 * then every event of its types must be kept.
 */
struct kfilter *kfilter_compile_keep(const struct ruleset *rs, const struct rs_rule *r, const struct cond_node *cond);
/* The same for a condition text (rs: its macros and lists; may be an empty rule set). */
struct kfilter *kfilter_compile_keep_text(const struct ruleset *rs, const char *cond);

struct kfilter_keep {
	struct evtset types;          /* the term holds only for these types */
	struct vg_kdrop_term t;       /* the kernel's form (paths apart) */
	const char *const *names_in, *const *names_out;
	size_t nin, nout;
	const char *const *exact, *const *prefix; /* t.path: the path is one of exact or starts with one of prefix */
	size_t nexact, nprefix;
};
/* Term i of a keep filter (pointers valid while k lives). */
void kfilter_keep_term(const struct kfilter *k, size_t i, struct kfilter_keep *out);

#endif
