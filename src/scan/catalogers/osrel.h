/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OS detection: /etc/os-release (or /usr/lib/os-release), then Alpine's and
 * Debian's own release files, into r->os_id, os_version and the OSV
 * ecosystem name of the distribution's packages (r->os_ecosystem).
 */
#ifndef VIGIL_SCAN_OSREL_H
#define VIGIL_SCAN_OSREL_H

#include "scan/scan.h"

/* Whether walk must keep this (small) file for osrel_detect. */
bool osrel_wanted(const char *path);

/* Returns the contents of a file of the final image (not NUL-terminated), or NULL. */
typedef const char *(*osrel_get_fn)(void *ctx, const char *path, size_t *len);
void osrel_detect(struct scan_result *r, osrel_get_fn get, void *ctx);

/*
 * The OSV ecosystem for an os-release ID / VERSION_ID / VERSION, e.g.
 * ("ubuntu", "22.04", "22.04.3 LTS (Jammy Jellyfish)") -> "Ubuntu:22.04:LTS".
 * Returns a new string, or NULL for a distribution OSV does not cover.
 */
char *osrel_ecosystem(const char *id, const char *version_id, const char *version);

#endif
