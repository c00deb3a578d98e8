/* SPDX-License-Identifier: Apache-2.0 */
#include <fnmatch.h>
#include <string.h>
#include "respond/selector.h"

bool selector_match(char *const *patterns, size_t n, const struct vg_container_meta *m)
{
	if (!m || !m->id[0])
		return false;
	for (size_t i = 0; i < n; i++) {
		const char *p = patterns[i];
		if ((m->name && fnmatch(p, m->name, 0) == 0) || !strncmp(m->id, p, strlen(p)) ||
		    fnmatch(p, m->id, 0) == 0)
			return true;
	}
	return false;
}
