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

#endif
