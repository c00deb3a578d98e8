/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Egress control (deny_connect): per-container allow/deny lists of networks
 * and ports, enforced in the kernel by cgroup connect4/connect6/sendmsg4/
 * sendmsg6 programs: a denied connect() fails with EPERM. Policy file:
 *
 *   egress:
 *     - containers: [web, "db-*"]     # respond/selector.h
 *       default: allow                # what is not listed: allow or deny
 *       deny: [169.254.169.254/32, {cidr: 10.0.0.0/8, ports: [5432]}]
 *       allow: ["10.1.0.0/16"]
 *
 * The first entry whose containers match applies; within it the longest
 * matching prefix decides. Containers without an entry are not touched.
 */
#ifndef VIGIL_EGRESS_POLICY_H
#define VIGIL_EGRESS_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include "state/container_table.h"

struct egress;

/* Parse the policy and load and attach the kernel programs. NULL with the reason in err. */
struct egress *egress_start(const char *policy_path, char *err, size_t errlen);
/* Parse only (for `vigil rules check`-style validation and tests). 0 or -1. */
int egress_check(const char *policy_path, char *err, size_t errlen);
void egress_stop(struct egress *e);

/* A container's metadata is known (or changed): police its cgroup if an entry matches. */
void egress_container(struct egress *e, uint64_t cgroup_id, const struct vg_container_meta *meta);
/* The cgroup is gone. */
void egress_forget(struct egress *e, uint64_t cgroup_id);
/* connect()/sendmsg() calls refused so far. */
uint64_t egress_denied(const struct egress *e);

#endif
