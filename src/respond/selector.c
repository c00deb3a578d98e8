/* SPDX-License-Identifier: Apache-2.0 */
#include <fnmatch.h>
#include <string.h>
#include "respond/selector.h"

static bool is_host(const struct vg_container_meta *m)
{
	return !m || !m->id[0];
}

bool selector_match_one(const char *p, const struct vg_container_meta *m)
{
	if (is_host(m))
		return false;
	return (m->name && fnmatch(p, m->name, 0) == 0) || !strncmp(m->id, p, strlen(p)) || fnmatch(p, m->id, 0) == 0;
}

bool selector_match(const struct strv *patterns, const struct vg_container_meta *m)
{
	for (size_t i = 0; i < patterns->n; i++)
		if (selector_match_one(patterns->v[i], m))
			return true;
	return false;
}

bool selector_filter(const char *filter, const struct vg_container_meta *m)
{
	if (is_host(m))
		return !strcmp(filter, "host");
	return selector_match_one(filter, m);
}
