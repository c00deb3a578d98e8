/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>
#include "respond/action.h"

/* One name table each: the stored and printed spelling of every value. */
static const char *const action_names[ACTION_COUNT] = {
	[ACTION_KILL] = "kill",	      [ACTION_FREEZE] = "freeze", [ACTION_ISOLATE] = "isolate",
	[ACTION_CAPTURE] = "capture", [ACTION_THAW] = "thaw",	  [ACTION_RELEASE] = "release",
	[ACTION_DENY_EXEC] = "deny_exec",
};

static const char *const outcome_names[OUTCOME_COUNT] = {
	[OUTCOME_DONE] = "done",     [OUTCOME_AUDIT] = "audit",	  [OUTCOME_REFUSED] = "refused",
	[OUTCOME_FAILED] = "failed", [OUTCOME_SKIPPED] = "skipped",
};

const char *action_name(enum action_kind k)
{
	return (unsigned int)k < ACTION_COUNT ? action_names[k] : "?";
}

int action_parse(const char *s)
{
	for (int k = 0; k < ACTION_COUNT; k++)
		if (!strcmp(action_names[k], s))
			return k;
	return -1;
}

const char *action_outcome_name(enum action_outcome o)
{
	return (unsigned int)o < OUTCOME_COUNT ? outcome_names[o] : "?";
}
