/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `vigil scan fs DIR`: a project checkout scanned like a root file system
 * (lockfiles and manifests anywhere in the tree, secrets), leaving out what
 * the project's ignore files leave out.
 *
 * Ignore rules follow gitignore(5): every .gitignore in the tree applies to
 * its directory and below, deeper files and later lines win, `!` re-includes,
 * a trailing `/` matches directories only, a pattern with a `/` before its
 * end is anchored to its file's directory, `*`, `?`, `[...]` do not cross
 * `/`, a `**` path component does (leading, trailing or in the middle). A
 * directory left out is not
 * entered (so nothing under it can be re-included, as in git). `.git` is
 * never entered. Dependency directories projects vendor and usually ignore
 * (node_modules, vendor, bower_components, third_party, .venv, venv) are
 * scanned all the same, with no ignore rule applied inside them: what is
 * vendored ships. Patterns given with --skip apply everywhere, vendored
 * directories included.
 *
 * Bounds against a hostile tree: an ignore file is read up to 1 MiB, at most
 * 10000 rules a file and 100000 in force, a pattern up to 1024 bytes; the
 * matcher is a dynamic program, O(pattern x path) per rule, never exponential.
 */
#ifndef VIGIL_SCAN_FS_H
#define VIGIL_SCAN_FS_H

#include <stdbool.h>
#include <stddef.h>
#include "scan/scan.h"

struct fs_opts {
	bool no_ignore;          /* do not read .gitignore files */
	const char *const *skip; /* extra gitignore-style patterns, relative to DIR */
	size_t nskip;
};

/* Scan the project tree dir into r (kind "fs"). Returns 0, or -1 with err set. */
int scan_fs(const char *dir, const struct fs_opts *fo, const struct scan_opts *o,
	    struct scan_result *r, struct vg_buf *err);

/* The ignore rules, exposed for tests and the fuzzer. */
struct fs_ignore;
struct fs_ignore *fs_ignore_new(void);
void fs_ignore_free(struct fs_ignore *ig);
/*
 * Add the rules of an ignore file's text, found in directory dir (relative
 * to the root, "" for the root). Returns the number of rules in force before
 * (a mark for fs_ignore_pop). Lines beyond the bounds are dropped with a
 * warning in warn (may be NULL). Can't fail.
 */
size_t fs_ignore_add(struct fs_ignore *ig, const char *dir, const char *text, size_t len,
		     struct vg_buf *warn);
void fs_ignore_pop(struct fs_ignore *ig, size_t mark);
/* Whether path (relative to the root) is ignored; isdir: it is a directory. */
bool fs_ignore_match(const struct fs_ignore *ig, const char *path, bool isdir);
/* gitignore glob: '*', '?', '[...]' within a path component, '**' across. */
bool fs_glob(const char *pat, size_t pn, const char *s, size_t sn);

#endif

/*
 * Internal: the directory walk scan_rootfs and scan_fs share (scan_rootfs.c).
 * enter is called with a directory's descriptor before its entries (returns a
 * mark given back to leave after them); skip says whether an entry is left
 * out (a left-out directory is not entered). hooks may be NULL.
 */
struct scan_tree_hooks {
	size_t (*enter)(void *ctx, int dfd, const char *rel);
	void (*leave)(void *ctx, size_t mark);
	bool (*skip)(void *ctx, const char *rel, bool isdir);
	void *ctx;
};
int scan_tree(const char *dir, const char *kind, const struct scan_tree_hooks *h,
	      const struct scan_opts *o, struct scan_result *r, struct vg_buf *err);
