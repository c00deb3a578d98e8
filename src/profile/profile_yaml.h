/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Profiles as YAML (docs/profiles.md, "The file"): one document per profile,
 * items sorted, every string quoted, so that a profile can be reviewed and
 * kept in git. Import checks everything and refuses a bad file with
 * file:line:column.
 */
#ifndef VIGIL_PROFILE_YAML_H
#define VIGIL_PROFILE_YAML_H

#include <stddef.h>
#include "common/buf.h"
#include "profile/profile.h"

#define PROFILE_YAML_VERSION 1
#define PROFILE_YAML_MAX_BYTES (64u << 20)

/* Append p as one YAML document ("---" first). */
void profile_yaml_write(struct vg_buf *out, const struct profile *p);

/*
 * Read the profiles of buf[0..len) (path names it in errors) into s, which
 * the caller initialised. 0, or -1 with "path:line:col: message" in err (s
 * may hold the profiles read before the error: free it).
 */
int profile_yaml_read(const char *buf, size_t len, const char *path, struct profile_set *s, char *err,
		      size_t errlen);
/* The same from a file (at most PROFILE_YAML_MAX_BYTES). */
int profile_yaml_read_file(const char *path, struct profile_set *s, char *err, size_t errlen);

/* Whether value is well-formed for kind k (the import's check): NULL, or why not. */
const char *profile_item_invalid(enum profile_kind k, const char *value);

#endif
