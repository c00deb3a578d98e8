/* SPDX-License-Identifier: Apache-2.0 */
/*
 * File policy (`vigil run --file-policy FILE`): per container, the paths that
 * must not be opened and the programs that must not be executed, enforced by
 * fanotify permission events (src/respond/file_guard.c answers them):
 *
 *   fail: open                        # an event that cannot be decided: open
 *                                     # (allow, default) or closed (deny)
 *   files:
 *     - containers: [web, "db-*"]     # respond/selector.h; first match wins
 *       deny_open: [/etc/shadow, "/root/.ssh"]
 *       deny_exec: [wget, nc, /tmp]
 *       allow_exec: [/bin, /usr/bin, /lib/ld-musl-x86_64.so.1]   # optional
 *
 * A pattern with a '/' is an absolute path glob (fnmatch(3) without flags, so
 * '*' also crosses '/') that also covers everything below the path it names;
 * a pattern without '/' (exec lists only) is a glob on the file's base name.
 * Paths are the container's own (from its root), symlinks resolved: the file
 * that is opened or executed, not the name that was typed.
 * With allow_exec, a program it does not list is refused too; deny_exec wins.
 */
#ifndef VIGIL_FILE_POLICY_H
#define VIGIL_FILE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include "state/container_meta.h"

struct file_policy;
struct file_rules;

/* Parse a policy file. NULL with "path:line:col: problem" in err. */
struct file_policy *file_policy_load(const char *path, char *err, size_t errlen);
void file_policy_free(struct file_policy *p);
/* What an event that cannot be decided gets: true allow (fail: open), false deny. */
bool file_policy_fail_open(const struct file_policy *p);

/* The rules of the first entry that selects the container, or NULL (not policed). */
const struct file_rules *file_policy_match(const struct file_policy *p, const struct vg_container_meta *m);

/* Whether the rules police opens, executions. */
bool file_rules_has_open(const struct file_rules *r);
bool file_rules_has_exec(const struct file_rules *r);
/* Whether opening / executing `path` (absolute, inside the container) is refused. */
bool file_rules_deny_open(const struct file_rules *r, const char *path);
bool file_rules_deny_exec(const struct file_rules *r, const char *path);
/* The deny_open patterns without glob characters (exact paths), i-th of them, NULL past the end. */
const char *file_rules_literal_open(const struct file_rules *r, size_t i);

#endif
