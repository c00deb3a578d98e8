/* SPDX-License-Identifier: Apache-2.0 */
/* The alert store as a sink: a batch of alerts and actions, one transaction, committed on flush. */
#include <stdlib.h>
#include "common/log.h"
#include "output/alert_store.h"
#include "output/sink.h"

struct sink_store {
	struct vg_sink base;
	struct alert_store *store;
	bool failed; /* reported once: the agent goes on showing alerts */
};

/* The first failure only: one broken disk should not flood the log. */
static void report(struct sink_store *s, const char *what, const char *note)
{
	if (s->failed)
		return;
	vg_err("%s: %s%s", what, alert_store_error(s->store), note);
	s->failed = true;
}

static int store_alert(struct vg_sink *base, const struct vg_sink_alert *al)
{
	struct sink_store *s = (struct sink_store *)base;
	if (alert_store_add_alert(s->store, al->a, al->json, al->boot_to_realtime))
		report(s, "cannot store an alert", " (alerts are still printed)");
	return 0;
}

static void store_action(struct vg_sink *base, const struct alert *a, const struct action_result *res,
			 const struct vg_container_meta *m, uint64_t b2r)
{
	struct sink_store *s = (struct sink_store *)base;
	struct alert_store_action row = {
		.time_ns = (int64_t)(a->ev->hdr.ts + b2r),
		.rule = a->name,
		.action = action_name(res->action),
		.target = res->target,
		.container_id = m ? m->id : "",
		.container_name = m ? m->name : NULL,
		.cgroup = res->cgroup,
		.outcome = action_outcome_name(res->outcome),
		.detail = res->detail,
		.path = res->path,
		.latency_ns = (int64_t)res->latency_ns,
	};
	if (alert_store_add_action(s->store, &row))
		report(s, "cannot store an action", "");
}

static int store_flush(struct vg_sink *base)
{
	struct sink_store *s = (struct sink_store *)base;
	if (alert_store_commit(s->store))
		report(s, "cannot store alerts", " (alerts are still printed)");
	return 0;
}

static int store_close(struct vg_sink *base)
{
	struct sink_store *s = (struct sink_store *)base;
	alert_store_close(s->store);
	free(s);
	return 0;
}

static int store_open(const struct vg_sink_config *c, struct vg_sink **out, char *err, size_t errlen);

const struct vg_sink_ops sink_store_ops = {
	.name = "store",
	.open = store_open,
	.alert = store_alert,
	.action = store_action,
	.flush = store_flush,
	.close = store_close,
};

static int store_open(const struct vg_sink_config *c, struct vg_sink **out, char *err, size_t errlen)
{
	*out = NULL;
	if (!c->store_path)
		return 0;
	struct alert_store *st = alert_store_open(c->store_path, false, err, errlen);
	if (!st)
		return -1;
	struct sink_store *s = xcalloc(1, sizeof(*s));
	if (c->on_commit)
		alert_store_on_commit(st, c->on_commit, c->on_commit_ctx);
	s->base.ops = &sink_store_ops;
	s->store = st;
	*out = &s->base;
	return 0;
}
