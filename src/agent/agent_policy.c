/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent in a fleet: the fleet's central policy, over the connection the
 * publisher opened (agent_fleet.c).
 *
 * The policy watcher (fleet/policy_watch.c) hands over sets it has written to
 * disk and validated; they wait here until the agent's loop, between two
 * batches, applies them as SIGHUP does: rules and the response policy at once
 * (both or neither), and reports the outcome, which the heartbeat carries. The
 * file and egress policies are enforced by guards the agent starts once: a new
 * set of those is kept and applies from the agent's next start (said in the
 * heartbeat), since swapping them live would leave a gap in enforcement.
 */
#include <errno.h>
#include <libgen.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "common/log.h"
#include "fleet/heartbeat.h"
#include "fleet/policy_watch.h"
#include "output/alert_store.h"
#include "respond/respond.h"
#include "respond/response_policy.h"

struct policy_set {
	bool set;        /* a fleet set (else: the node's own files) */
	char digest[POLICY_DIGEST_LEN];
	char *paths[POLICY_MAX_FILES];
	size_t n;
	bool defaults;
};

struct agent_central {
	char dir[4096];
	struct policy_watch *watch;
	pthread_mutex_t lock;           /* pending[], between the watcher and the loop */
	struct policy_set pending[POLICY_KINDS];
	bool has_pending[POLICY_KINDS];
	struct policy_set run[POLICY_KINDS]; /* what the agent runs (the loop's own) */
};

static void set_free(struct policy_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->paths[i]);
	memset(s, 0, sizeof(*s));
}

static void set_copy(struct policy_set *dst, const char *digest, const char *const *paths, size_t n,
		     bool defaults)
{
	set_free(dst);
	dst->set = paths != NULL;
	snprintf(dst->digest, sizeof(dst->digest), "%s", digest ? digest : "");
	for (size_t i = 0; i < n && i < POLICY_MAX_FILES; i++)
		dst->paths[dst->n++] = strdup(paths[i]);
	dst->defaults = defaults;
}

int agent_central_open(struct agent *a)
{
	struct agent_central *c;

	if (!a->cfg.fleet.servers || a->cfg.mode != AGENT_RUN)
		return 0;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -1;
	pthread_mutex_init(&c->lock, NULL);
	if (a->cfg.fleet.policy_dir) {
		snprintf(c->dir, sizeof(c->dir), "%s", a->cfg.fleet.policy_dir);
	} else {
		char store[4096];
		snprintf(store, sizeof(store), "%s", a->cfg.store_path ? a->cfg.store_path : ALERT_STORE_DEFAULT_PATH);
		snprintf(c->dir, sizeof(c->dir), "%s/policy", dirname(store));
	}
	a->central = c;
	for (int k = 0; k < POLICY_KINDS; k++) {
		char **paths = NULL;
		size_t n = 0;
		bool defaults = false;
		char digest[POLICY_DIGEST_LEN];
		if (policy_cached(c->dir, k, &paths, &n, digest, &defaults) != 0)
			continue;
		set_copy(&c->run[k], digest, (const char *const *)paths, n, defaults);
		vg_info("central policy: %s %s (kept from the fleet) instead of the node's own", policy_kind_name(k),
			digest);
		for (size_t i = 0; i < n; i++)
			free(paths[i]);
		free(paths);
	}
	return 0;
}

void agent_rule_paths(struct agent *a, const char *const **paths, size_t *n, bool *defaults)
{
	const struct policy_set *s = a->central ? &a->central->run[POLICY_RULES] : NULL;
	if (s && s->set) {
		*paths = (const char *const *)s->paths;
		*n = s->n;
		*defaults = s->defaults;
		return;
	}
	*paths = a->cfg.rule_paths;
	*n = a->cfg.nrule_paths;
	*defaults = a->cfg.with_defaults;
}

const char *agent_policy_path(struct agent *a, enum policy_kind k, const char *own)
{
	const struct policy_set *s = a->central ? &a->central->run[k] : NULL;
	return s && s->set && s->n == 1 ? s->paths[0] : own;
}

/* The watcher's thread: keep the set for the loop and wake it as SIGHUP would. */
static void on_policy(void *ctx, enum policy_kind k, const char *digest, const char *const *paths, size_t n,
		      bool defaults)
{
	struct agent *a = ctx;
	struct agent_central *c = a->central;

	pthread_mutex_lock(&c->lock);
	set_copy(&c->pending[k], digest, paths, n, defaults);
	c->has_pending[k] = true;
	pthread_mutex_unlock(&c->lock);
	agent_reload(a);
}

int agent_central_start(struct agent *a)
{
	char err[1024];

	if (!a->central || !a->fleet)
		return 0;
	a->central->watch = policy_watch_start(a->fleet, a->central->dir, on_policy, a, err, sizeof(err));
	if (!a->central->watch) {
		vg_err("%s", err);
		return -1;
	}
	for (int k = 0; k < POLICY_KINDS; k++)
		if (a->central->run[k].set)
			policy_watch_report(a->central->watch, k, a->central->run[k].digest, POLICY_APPLIED, NULL);
	return 0;
}

void agent_central_stop(struct agent *a)
{
	struct agent_central *c = a->central;

	if (!c)
		return;
	policy_watch_stop(c->watch);
	for (int k = 0; k < POLICY_KINDS; k++) {
		set_free(&c->pending[k]);
		set_free(&c->run[k]);
	}
	pthread_mutex_destroy(&c->lock);
	free(c);
	a->central = NULL;
}

void agent_central_status(struct agent *a, struct vg_buf *out)
{
	if (a->central && a->central->watch)
		policy_watch_status_json(a->central->watch, out);
}

/* The node's own files from the next start on. 0 or -1 (errno). */
static int forget_current(struct agent_central *c, enum policy_kind k)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s/current", c->dir, policy_kind_name(k));
	return unlink(path) != 0 && errno != ENOENT ? -1 : 0;
}

/* The set now runs: remembered on disk for the next start, or forgotten (own files). */
static void now_running(struct agent *a, enum policy_kind k, struct policy_set *s)
{
	struct agent_central *c = a->central;

	if (s->set ? policy_set_current(c->dir, k, s->digest, (const char *const *)s->paths, s->n, s->defaults)
		   : forget_current(c, k))
		vg_warn("central policy: cannot record in %s what %s runs: %s", c->dir, policy_kind_name(k),
			strerror(errno));
	set_free(&c->run[k]);
	c->run[k] = *s;
	memset(s, 0, sizeof(*s));
	policy_watch_report(c->watch, k, c->run[k].digest, POLICY_APPLIED, NULL);
	vg_info("central policy: %s %s applied", policy_kind_name(k),
		c->run[k].set ? c->run[k].digest : "(the node's own files)");
}

bool agent_central_apply(struct agent *a)
{
	struct agent_central *c = a->central;
	struct policy_set got[POLICY_KINDS] = { 0 };
	bool has[POLICY_KINDS] = { 0 }, any = false;
	struct response_policy *rp = NULL;
	char err[1024] = "";

	if (!c)
		return false;
	pthread_mutex_lock(&c->lock);
	for (int k = 0; k < POLICY_KINDS; k++) {
		if (!c->has_pending[k])
			continue;
		got[k] = c->pending[k];
		memset(&c->pending[k], 0, sizeof(c->pending[k]));
		c->has_pending[k] = false;
		has[k] = any = true;
	}
	pthread_mutex_unlock(&c->lock);
	if (!any)
		return false;

	/* rules and the response policy together: the rules' actions may need the policy */
	if (has[POLICY_RULES] || has[POLICY_RESPONSE]) {
		const struct policy_set *rules = has[POLICY_RULES] ? &got[POLICY_RULES] : &c->run[POLICY_RULES];
		const char *const *paths = rules->set ? (const char *const *)rules->paths : a->cfg.rule_paths;
		size_t n = rules->set ? rules->n : a->cfg.nrule_paths;
		bool defaults = rules->set ? rules->defaults : a->cfg.with_defaults;
		int rc = 0;

		if (has[POLICY_RESPONSE] && a->cfg.response != RESPOND_OFF) {
			const char *path = got[POLICY_RESPONSE].set ? got[POLICY_RESPONSE].paths[0] : a->cfg.rpolicy_path;
			if (path && (!(rp = response_policy_load(path, err, sizeof(err))) ||
				     response_policy_check(rp, respond_action_known, err, sizeof(err))))
				rc = -1;
		}
		if (rc == 0 && a->engine)
			rc = agent_apply(a, paths, n, defaults, rp, err, sizeof(err));
		if (rc == 0) {
			rp = NULL; /* the agent's now */
			for (int k = POLICY_RULES; k <= POLICY_RESPONSE; k++)
				if (has[k])
					now_running(a, k, &got[k]);
		} else {
			for (int k = POLICY_RULES; k <= POLICY_RESPONSE; k++)
				if (has[k]) {
					vg_err("central policy: %s %s refused: %s", policy_kind_name(k),
					       got[k].set ? got[k].digest : "(own files)", err);
					policy_watch_report(c->watch, k, got[k].digest, POLICY_REFUSED, err);
				}
		}
		response_policy_free(rp);
	}
	/* the guards' policies: kept for the next start (applied here live would leave a gap) */
	for (int k = POLICY_FILES; k <= POLICY_EGRESS; k++) {
		if (!has[k])
			continue;
		if (got[k].set ? policy_set_current(c->dir, k, got[k].digest, (const char *const *)got[k].paths,
						    got[k].n, got[k].defaults)
			       : forget_current(c, k)) {
			snprintf(err, sizeof(err), "cannot keep the set on disk: %s", strerror(errno));
			policy_watch_report(c->watch, k, got[k].digest, POLICY_REFUSED, err);
			vg_err("central policy: %s %s: %s", policy_kind_name(k), got[k].digest, err);
			continue;
		}
		policy_watch_report(c->watch, k, got[k].digest, POLICY_NEXT_START, NULL);
		vg_warn("central policy: %s %s validated and kept: it applies when the agent starts again",
			policy_kind_name(k), got[k].set ? got[k].digest : "(the node's own file)");
	}
	for (int k = 0; k < POLICY_KINDS; k++)
		set_free(&got[k]);
	fleet_heartbeat_kick(a->heartbeat); /* the fleet hears what the node runs now, not in 10 s */
	return true;
}
