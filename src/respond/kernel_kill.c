/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>
#include "common/buf.h"
#include "common/log.h"
#include "respond/kernel_kill.h"

static bool rule_kills(const struct engine_rule_info *ri, const struct response_policy *rp)
{
	for (size_t i = 0; i < ri->nactions; i++)
		if (!strcmp(ri->actions[i], "kill"))
			return true;
	return response_policy_kills_always(rp, ri->name, ri->tags, ri->ntags, ri->priority);
}

/* Append a rule's terms; -1 (nothing appended) when they do not all fit, else how many. */
static int add_rule(struct kernel_kill *k, const struct kfilter *kf, uint32_t rule, bool allow_host)
{
	size_t n = kfilter_nterms(kf), first = k->nterms, first_name = k->nnames;

	for (size_t i = 0; i < n; i++) {
		struct vg_kill_term t;
		const char *const *in, *const *out;
		size_t nin, nout;
		kfilter_term(kf, i, &t, &in, &nin, &out, &nout);
		if (!allow_host && t.where == VG_KILL_HOST)
			continue; /* host targets are refused: nothing to kill there */
		if (!allow_host)
			t.where = VG_KILL_CONTAINER;
		if (k->nterms == VG_KILL_TERMS || k->nnames + nin + nout > VG_KILL_NAMES)
			goto full;
		t.rule = rule;
		for (size_t j = 0; j < nin + nout; j++) {
			struct vg_kill_name nm = { .term = (uint32_t)k->nterms,
						   .set = j < nin ? VG_KILL_NAMES_IN : VG_KILL_NAMES_OUT };
			/* strncpy pads with NULs, as the kernel's comm is padded */
			strncpy(nm.comm, j < nin ? in[j] : out[j - nin], sizeof(nm.comm) - 1);
			k->names = xrealloc(k->names, (k->nnames + 1) * sizeof(*k->names));
			k->names[k->nnames++] = nm;
		}
		k->terms[k->nterms++] = t;
	}
	return (int)(k->nterms - first);
full:
	k->nterms = first;
	k->nnames = first_name;
	return -1;
}

void kernel_kill_plan(struct kernel_kill *k, const struct engine *e, const struct response_policy *rp,
		      bool allow_host)
{
	memset(k, 0, sizeof(*k));
	for (size_t i = 0; i < engine_rule_count(e); i++) {
		struct engine_rule_info ri;
		engine_rule_info(e, i, &ri);
		if (!ri.enabled || !ri.kernel || !rule_kills(&ri, rp))
			continue;
		const char *why = kfilter_reason(ri.kernel);
		int added = why ? 0 : add_rule(k, ri.kernel, (uint32_t)i, allow_host);
		if (added < 0)
			why = "the kernel's kill terms are full";
		if (!why && !added && kfilter_nterms(ri.kernel)) {
			vg_info("kill for rule '%s': none, it matches host processes only and host targets are not "
				"allowed (--allow-host-actions)", ri.name);
		} else if (why) {
			k->userspace_rules++;
			vg_info("kill for rule '%s': from userspace when the alert is raised (%s)", ri.name, why);
		} else {
			k->kernel_rules++;
			vg_info("kill for rule '%s': in the kernel, on the offending syscall", ri.name);
		}
	}
}

void kernel_kill_free(struct kernel_kill *k)
{
	free(k->names);
	k->names = NULL;
	k->nnames = 0;
}
