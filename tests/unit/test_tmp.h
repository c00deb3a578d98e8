/* SPDX-License-Identifier: Apache-2.0 */
/* Temporary trees of unit tests (fake procfs, runtime state directories). */
#ifndef VIGIL_TEST_TMP_H
#define VIGIL_TEST_TMP_H

#include <ftw.h>
#include <stdio.h>

static inline int tmp_remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Remove dir and everything under it, links not followed. 0, or -1 (errno set). */
static inline int tmp_remove_tree(const char *dir)
{
	return nftw(dir, tmp_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
