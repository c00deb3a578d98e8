/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Which containers a policy entry applies to: `containers: [web, "db-*", 3f2a]`
 * in the egress and file policies. A pattern matches a container whose name
 * matches it as a glob (fnmatch(3)), whose id starts with it, or whose id
 * matches it as a glob.
 */
#ifndef VIGIL_SELECTOR_H
#define VIGIL_SELECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include "state/container_meta.h"

/* Whether any of patterns[0..n) selects the container. A host process (empty id) never matches. */
bool selector_match(char *const *patterns, size_t n, const struct vg_container_meta *m);

#endif
