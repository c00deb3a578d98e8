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

#include <stdbool.h>
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
/*
 * Allow lists (a protecting behaviour profile, docs/profiles.md): programs of
 * their own (a second set of the same cgroup programs, not pinned: the agent
 * arms the lists again at its start), with no policy file. A cgroup given a
 * list may connect to (and send to) its destinations only; anything else fails
 * with EPERM. Beside an egress policy both apply: a refusal by either wins.
 */
#define EGRESS_ALLOW_MAX 4096
struct egress_dest {
	int family;       /* 4 or 6 */
	uint8_t addr[16]; /* network order */
	uint16_t port;    /* 0: every port */
};
struct egress *egress_start_lists(char *err, size_t errlen);
/* The cgroup's list, replacing the one it had. 0, or -1 with the reason (then the cgroup is not policed).
 * egress_forget ends it. */
int egress_allow_only(struct egress *e, uint64_t cgroup_id, const struct egress_dest *d, size_t n, char *err,
		      size_t errlen);
/* connect()/sendmsg() calls refused so far. */
uint64_t egress_denied(const struct egress *e);

#endif
