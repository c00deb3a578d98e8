/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Which containers a pattern selects: the one meaning of `containers:` in
 * every policy (egress, file policy, response bindings) and of the
 * `--container` filter. A pattern selects a container when
 *
 *   - the container's name matches it as a glob (fnmatch(3) without flags:
 *     "web", "db-*", "api-?"), or
 *   - the container's id starts with it ("3f2a", as `podman ps` shortens ids), or
 *   - the container's id matches it as a glob ("3f2a*", "*beef").
 *
 * A pattern without glob characters thus selects the container of that name
 * or the containers whose id starts with it. A process outside any container
 * (no container id, or a cgroup whose metadata is unknown) is never selected
 * by a policy pattern: policies act on containers. Only the filter word
 * "host" selects it (selector_filter).
 */
#ifndef VIGIL_SELECTOR_H
#define VIGIL_SELECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include "common/strv.h"
#include "state/container_meta.h"

/* Whether pattern selects the container m (NULL or a host process: false). Can't fail. */
bool selector_match_one(const char *pattern, const struct vg_container_meta *m);
/* Whether any of the patterns selects the container m (none: false). Can't fail. */
bool selector_match(const struct strv *patterns, const struct vg_container_meta *m);
/*
 * The `--container` filter of trace, capture, replay and run: "host" selects
 * the processes outside containers (m NULL or without an id) and a container
 * named "host"; any other value is a pattern as above. Can't fail.
 */
bool selector_filter(const char *filter, const struct vg_container_meta *m);

#endif
