/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An alert's response: the rule's actions, adjusted by the response policy,
 * plus the kill the kernel already made on the event; each result goes to the
 * sinks (the store records it) and is kept for the alert's "responses".
 */
#include <stdio.h>
#include <string.h>
#include "agent/agent_int.h"
#include "common/log.h"
#include "respond/response_policy.h"

static const struct vg_container_meta *container_of(const struct agent *a, const struct alert *al)
{
	const struct vg_cgroup *cg = state_cgroup(a->state, al->ev->hdr.cgroup_id);
	return cg && cg->meta.id[0] ? &cg->meta : NULL;
}

/* Keep a copy of the result: its strings live only during the responder's call. */
static void keep(struct agent_responses *r, const struct action_result *res)
{
	if (r->n == AGENT_RESPONSES_MAX)
		return;
	char (*t)[512] = r->text[r->n];
	snprintf(t[0], sizeof(t[0]), "%s", res->target);
	snprintf(t[1], sizeof(t[1]), "%s", res->detail);
	snprintf(t[2], sizeof(t[2]), "%s", res->cgroup ? res->cgroup : "");
	r->res[r->n] = *res;
	r->res[r->n].target = t[0];
	r->res[r->n].detail = t[1];
	r->res[r->n].cgroup = t[2];
	r->n++;
}

/* One action carried out: into the sinks and the alert's "responses". */
static void on_action(void *ctx, const struct alert *al, const struct action_result *res)
{
	struct agent *a = ctx;
	const struct vg_container_meta *m = container_of(a, al);

	for (size_t i = 0; i < a->nsinks; i++)
		if (a->sinks[i]->ops->action)
			a->sinks[i]->ops->action(a->sinks[i], al, res, m, a->src->boot_to_realtime);
	keep(&a->responses, res);
	agent_metrics_action(a, res);
	vg_info("response: %s %s for rule '%s': %s (%s)", action_name(res->action), res->target, al->name,
		action_outcome_name(res->outcome), res->detail);
}

void agent_respond(struct agent *a, const struct alert *al)
{
	struct action_req acts[AGENT_ACTS_MAX];
	size_t n = 0;

	a->responses.n = 0;
	/* what was done before the alert (an execution refused by the file guard): recorded with it */
	if (a->done_before) {
		on_action(a, al, a->done_before);
		a->done_before = NULL;
	}
	if (!a->responder)
		return;
	for (size_t i = 0; i < al->nactions && n < AGENT_ACTS_MAX; i++)
		acts[n++] = (struct action_req){ al->actions[i], false };
	if (a->rpolicy)
		n = response_policy_actions(a->rpolicy, al, container_of(a, al), acts, n, AGENT_ACTS_MAX);
	/* the kernel killed on this event for some kill rule: record it with this alert
	 * even when this rule (the first to match) does not kill */
	bool has_kill = false;
	for (size_t i = 0; i < n; i++)
		has_kill |= !strcmp(acts[i].name, "kill");
	if ((al->ev->hdr.flags & VG_HDR_KILLED) && !has_kill && n < AGENT_ACTS_MAX)
		acts[n++] = (struct action_req){ "kill", false };
	if (n)
		responder_handle(a->responder, al, acts, n, on_action, a);
}
