/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Which kills the kernel carries out by itself (include/vigil/kill.h): the
 * rules whose every alert kills -- the rule's own `actions: [kill]`, or an
 * enforcing response-policy binding without container or namespace
 * selectors -- and whose condition the kernel can decide (engine/kfilter.h).
 * The other kills happen from userspace when the alert is raised.
 */
#ifndef VIGIL_KERNEL_KILL_H
#define VIGIL_KERNEL_KILL_H

#include <stdbool.h>
#include <stddef.h>
#include "engine/engine.h"
#include "respond/response_policy.h"
#include "vigil/kill.h"

struct kernel_kill {
	struct vg_kill_term terms[VG_KILL_TERMS];
	size_t nterms;
	struct vg_kill_name *names;
	size_t nnames;
	size_t kernel_rules, userspace_rules; /* kill rules decided in the kernel / left to userspace */
};

/*
 * Plan the kernel's part for an engine. Without allow_host the terms only
 * match in containers (the responder refuses host targets anyway). Logs, for
 * each rule that kills, where its kill is decided and why.
 */
void kernel_kill_plan(struct kernel_kill *k, const struct engine *e, const struct response_policy *rp,
		      bool allow_host);
void kernel_kill_free(struct kernel_kill *k);

#endif
