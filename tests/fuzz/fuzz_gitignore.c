/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: the ignore rules of `vigil scan fs`. The input is an ignore
 * file, then a NUL, then paths (one a line) matched against it, as files and
 * as directories, and each line also used as a glob against the next.
 */
#include <stdlib.h>
#include <string.h>
#include "common/buf.h"
#include "scan/scan_fs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *d = (const char *)data;
	const char *nul = memchr(d, 0, size);
	size_t tn = nul ? (size_t)(nul - d) : size;
	struct fs_ignore *ig = fs_ignore_new();
	struct vg_buf warn = { 0 };

	fs_ignore_add(ig, "", d, tn, &warn);
	fs_ignore_add(ig, "sub", d, tn, &warn);
	if (nul) {
		char *paths = xstrndup(nul + 1, size - tn - 1);
		char *save = NULL, *prev = NULL;
		for (char *p = strtok_r(paths, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
			(void)fs_ignore_match(ig, p, false);
			(void)fs_ignore_match(ig, p, true);
			if (prev)
				(void)fs_glob(prev, strlen(prev), p, strlen(p));
			prev = p;
		}
		free(paths);
	}
	buf_free(&warn);
	fs_ignore_free(ig);
	return 0;
}
