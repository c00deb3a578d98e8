/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_PATH_H
#define VIGIL_PATH_H

#include "common/buf.h"

/*
 * The absolute path that `raw` names when relative to directory `base`
 * (ignored when raw is absolute), normalised lexically: "." and empty
 * components dropped, ".." removes the previous component (never above "/").
 * Symlinks are not followed: the result is what the program asked for, as
 * Falco reports it. An empty raw path gives "" (the syscall failed on it).
 * Appends to out; can't fail.
 */
void path_resolve(const char *base, const char *raw, struct vg_buf *out);

/*
 * mkdir -p for `dir`: the missing directories above it are made 0755 and `dir`
 * itself `mode` (a store's or an evidence directory is private to root). One
 * that exists already is left as it is. 0, or -1 with err naming the directory
 * that could not be made and why.
 */
int path_mkdirs(const char *dir, unsigned int mode, char *err, size_t errlen);

/* path_mkdirs() for the directory holding the file `path` ("a/b/f" makes "a/b"). */
int path_mkdir_parent(const char *path, unsigned int mode, char *err, size_t errlen);

#endif
