/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Response policy file (`vigil run --response-policy FILE`): binds actions to
 * rules, tags or priorities, per container or Kubernetes namespace, each
 * binding in enforce or audit (dry-run) mode:
 *
 *   bindings:
 *     - rules: ["Reverse shell"]        # any of rules / tags / priority matches
 *       tags: [escape]
 *       priority: critical              # at least this severe
 *       containers: ["web*"]            # respond/selector.h; default: all
 *       namespaces: [prod]              # Kubernetes namespaces; default: all
 *       actions: [kill, capture]
 *       mode: audit                     # default: enforce
 *   isolate:                            # optional: who isolated containers may still reach
 *     allow: [10.88.0.1/32, {cidr: 10.0.9.0/24, ports: [443]}]
 *
 * An alert gets its rule's own actions plus those of every matching binding.
 */
#ifndef VIGIL_RESPONSE_POLICY_H
#define VIGIL_RESPONSE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include "engine/engine.h"
#include "state/container_meta.h"

struct response_policy;

struct response_policy *response_policy_load(const char *path, char *err, size_t errlen);
void response_policy_free(struct response_policy *p);
struct netlist_net;
/* The isolate allow list (*n of them; NULL and 0 when none). Owned by the policy. */
const struct netlist_net *response_policy_isolate_allow(const struct response_policy *p, size_t *n);
/* Whether some binding names `action` (to arm isolate or capture at start). */
bool response_policy_uses(const struct response_policy *p, const char *action);
/* Check every binding's actions against what this version can do. 0 or -1. */
int response_policy_check(const struct response_policy *p, bool (*known)(const char *), char *err, size_t errlen);

/* One action an alert calls for, and whether a binding said audit. */
struct action_req {
	const char *name;
	bool audit;
};
/* Append the matching bindings' actions (at most max in total, deduplicated). Returns the count. */
size_t response_policy_actions(const struct response_policy *p, const struct alert *a,
			       const struct vg_container_meta *meta, struct action_req *out, size_t n, size_t max);

/*
 * Whether an enforcing binding kills on every alert of this rule, whatever the
 * container (no containers/namespaces selectors): the kernel may then kill by
 * itself (src/respond/kernel_kill.c).
 */
bool response_policy_kills_always(const struct response_policy *p, const char *rule, char *const *tags, size_t ntags,
				  enum rs_priority priority);

#endif
