/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Ignore files (the .trivyignore convention, extended with paths): one entry
 * a line, '#' starts a comment:
 *   CVE-2023-1234                  a vulnerability id or alias, a secret rule
 *                                  or a config check id
 *   GO-2023-1751 exp:2026-12-31    ... until that date (UTC), then it counts again
 *   path:usr/lib/python3/NAME*     every finding in files matching the glob (fnmatch)
 *   CVE-2023-1234 # not reachable  a comment after an entry is its reason, kept with
 *                                  the suppressed finding in the report
 */
#ifndef VIGIL_SCAN_IGNORE_H
#define VIGIL_SCAN_IGNORE_H

#include "scan/scan.h"

struct ignore_entry {
	char *id, *glob; /* one of them */
	char exp[11];    /* "YYYY-MM-DD" or "" */
	unsigned line;
	char *reason;    /* the comment after the entry, "" when none */
};

struct ignore_list {
	struct ignore_entry *e;
	size_t n;
	char *name;      /* the file, for the report */
};

/* Parse text (name for messages); -1 with "name:line:col: ..." in err. */
int ignore_parse(const char *text, size_t len, const char *name, struct ignore_list *l,
		 struct vg_buf *err);
int ignore_load(const char *path, struct ignore_list *l, struct vg_buf *err);
void ignore_free(struct ignore_list *l);
/*
 * Remove ignored findings from r (listed in r->suppressed with the entry's
 * file, line and reason); entries expired before today ("YYYY-MM-DD") do not
 * apply. Returns the number removed. Can't fail.
 */
size_t ignore_apply(const struct ignore_list *l, struct scan_result *r, const char *today);

#endif
