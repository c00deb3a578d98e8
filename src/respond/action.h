/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The response actions and their outcomes, as values, and the result of one
 * action carried out. A leaf header (standard headers only): the responder
 * fills an action_result, the alert formatter and the alert store read it,
 * and neither needs the other. The names are those of docs/response.md, the
 * ones stored in the alert store and printed in an alert's "responses".
 */
#ifndef VIGIL_ACTION_H
#define VIGIL_ACTION_H

#include <stdint.h>

enum action_kind {
	ACTION_KILL,    /* SIGKILL to the offending process */
	ACTION_FREEZE,  /* cgroup.freeze of the container */
	ACTION_ISOLATE, /* the container's packets dropped */
	ACTION_CAPTURE, /* a forensic bundle */
	ACTION_THAW,    /* vigil respond thaw: a freeze undone */
	ACTION_RELEASE, /* vigil respond release: an isolation undone */
	ACTION_DENY_EXEC, /* an execution refused before it ran (a protecting profile's allow list) */
	ACTION_COUNT
};

enum action_outcome {
	OUTCOME_DONE,
	OUTCOME_AUDIT,   /* audit mode: recorded, not done */
	OUTCOME_REFUSED, /* a safety rule or the rate limit said no */
	OUTCOME_FAILED,
	OUTCOME_SKIPPED, /* already done for this target, or the target is gone */
	OUTCOME_COUNT
};

struct action_result {
	enum action_kind action;
	enum action_outcome outcome;
	const char *target;     /* "pid 1234" or "container <id>" */
	const char *detail;     /* why (refused/failed/skipped), or what was done */
	const char *path;       /* "userspace" or "kernel" */
	const char *cgroup;     /* the container's cgroup v2 path (freeze: what thaw undoes) */
	uint64_t latency_ns;    /* event timestamp to the action carried out */
};

/* "kill", "freeze", ...: a static string; "?" for a value out of range. */
const char *action_name(enum action_kind k);
/* The action named s (as a rule names it), or -1 for a name that is none of them. */
int action_parse(const char *s);
/* "done", "audit", "refused", "failed", "skipped": a static string; "?" out of range. */
const char *action_outcome_name(enum action_outcome o);

#endif
