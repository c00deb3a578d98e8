/* SPDX-License-Identifier: Apache-2.0 */
/* A single agent's hub store, fed in-process (hub_local.h, docs/console.md). */
#include "hub/hub_local.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/version.h"
#include "fleet/nats_conn.h"
#include "hub/hub.h"
#include "hub/hub_flows.h"
#include "hub/hub_msg.h"
#include "hub/hub_store.h"
#include "output/forwarders.h"

#define LOCAL_MAX_MSG (8u << 20) /* a record of the agent's own store: bounded there already */
#define FLOWS_BATCH 64

struct hub_local {
	char *hub_path, *agent_path;
	char node[FLEET_NAME_MAX + 1], cluster[FLEET_NAME_MAX + 1];
	pthread_mutex_t mu; /* the writer: the outbox's runner and the flows thread */
	struct hub_store *store;
	int64_t started_ns;
	/* the flows and heartbeat thread */
	pthread_t thread;
	bool running, stopping;
	pthread_cond_t wake;
	sqlite3 *adb; /* the agent's store: flow_outbox */
	sqlite3_stmt *sel, *del;
	uint64_t refused; /* records the hub's contract refused (logged, skipped) */
};

static int64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/*
 * One record through the hub's check and ingest, as if it came on the node's
 * subject (called with mu held). 1 added (or already there), 0 refused by the
 * contract (logged), -1 a store error.
 */
static int add_one(struct hub_local *l, const char *kind, const char *uuid, int64_t seq, const char *json,
		   size_t len)
{
	char subject[256], seqs[24], err[512];
	struct hub_msg m;
	fleet_subject(subject, sizeof(subject), l->cluster, l->node, kind);
	snprintf(seqs, sizeof(seqs), "%" PRId64, seq);
	struct hub_headers h = { .msg_id = uuid && uuid[0] ? uuid : NULL, .node = l->node, .cluster = l->cluster,
				 .kind = kind, .seq = seqs, .version = VIGIL_VERSION };
	enum hub_reject r = hub_msg_parse(subject, &h, json, len, LOCAL_MAX_MSG, &m, err, sizeof(err));
	if (r != HUB_OK) {
		if (l->refused++ < 10)
			vg_warn("console: a record (%s) refused by the hub's checks (%s), skipped: %s", kind, hub_reject_name(r), err);
		return 0;
	}
	int rc = hub_store_add(l->store, &m, now_ns());
	hub_msg_free(&m);
	return rc < 0 ? -1 : 1;
}

static long local_deliver(void *ctx, const struct outbox_record *recs, size_t n, char *err, size_t errlen)
{
	static const char *const kinds[] = { [OUTBOX_ALERT] = "alert", [OUTBOX_ACTION] = "action",
					     [OUTBOX_LOSS] = "loss" };
	struct hub_local *l = ctx;
	long rc = (long)n;
	pthread_mutex_lock(&l->mu);
	for (size_t i = 0; i < n; i++) {
		if (recs[i].kind < OUTBOX_ALERT || recs[i].kind > OUTBOX_LOSS)
			continue;
		if (add_one(l, kinds[recs[i].kind], recs[i].uuid, recs[i].seq, recs[i].json, recs[i].json_len) < 0) {
			rc = -1;
			break;
		}
	}
	/* arrived only once committed: the outbox's cursor never gets ahead of the hub store */
	if (rc >= 0 && hub_store_commit(l->store))
		rc = -1;
	if (rc < 0) {
		snprintf(err, errlen, "console store %s: %s", l->hub_path, hub_store_error(l->store));
		hub_store_rollback(l->store);
	}
	pthread_mutex_unlock(&l->mu);
	return rc;
}

/* The flow rollups' outbox into the hub store: messages moved, or -1. */
static long move_flows(struct hub_local *l)
{
	if (!l->sel) {
		/* the table appears with the first rollup (flows on, --store): look again later */
		if (sqlite3_prepare_v2(l->adb, "SELECT id, uuid, json FROM flow_outbox ORDER BY id LIMIT ?1", -1,
				       &l->sel, NULL) != SQLITE_OK ||
		    sqlite3_prepare_v2(l->adb, "DELETE FROM flow_outbox WHERE id <= ?1", -1, &l->del, NULL) != SQLITE_OK) {
			sqlite3_finalize(l->sel);
			l->sel = NULL;
			return 0;
		}
	}
	int64_t last = 0;
	long n = 0;
	int failed = 0;
	struct vg_buf body = { 0 };
	sqlite3_bind_int(l->sel, 1, FLOWS_BATCH);
	pthread_mutex_lock(&l->mu);
	while (sqlite3_step(l->sel) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(l->sel, 0);
		const char *uuid = (const char *)sqlite3_column_text(l->sel, 1);
		const char *json = (const char *)sqlite3_column_text(l->sel, 2);
		size_t len = (size_t)sqlite3_column_bytes(l->sel, 2);
		last = id;
		n++;
		if (!uuid || !json || len < 2 || json[0] != '{')
			continue;
		/* the body carries its uuid first, as the NATS publisher sends it (fleet/flow_pub.c) */
		buf_reset(&body);
		buf_printf(&body, "{\"uuid\":\"%s\"%s%.*s", uuid, json[1] == '}' ? "" : ",", (int)(len - 1), json + 1);
		if (add_one(l, "flows", uuid, id, body.data, body.len) < 0) {
			failed = 1;
			break;
		}
	}
	sqlite3_reset(l->sel);
	if (!failed && n && hub_store_commit(l->store))
		failed = 1;
	if (failed)
		hub_store_rollback(l->store);
	pthread_mutex_unlock(&l->mu);
	buf_free(&body);
	if (failed) {
		vg_warn("console: flows into %s: %s", l->hub_path, hub_store_error(l->store));
		return -1;
	}
	if (n) {
		/* committed in the hub store: gone from the agent's outbox (a crash before this adds
		 * nothing twice: the hub keeps each message's uuid) */
		sqlite3_bind_int64(l->del, 1, last);
		if (sqlite3_step(l->del) != SQLITE_DONE)
			vg_warn("console: cannot trim the flows' outbox: %s", sqlite3_errmsg(l->adb));
		sqlite3_reset(l->del);
	}
	return n;
}

/* The node's heartbeat, as a hub would receive it (docs/fleet.md): what this process knows. */
static void heartbeat(struct hub_local *l)
{
	struct vg_buf b = { 0 };
	struct vg_json j;
	char t[64];
	int64_t now = now_ns();
	time_t sec = (time_t)(now / 1000000000LL);
	struct tm tm;
	gmtime_r(&sec, &tm);
	size_t k = strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(t + k, sizeof(t) - k, ".%09lldZ", (long long)(now % 1000000000LL));
	jw_init(&j, &b);
	jw_obj_begin(&j, NULL);
	jw_str(&j, "time", t);
	jw_str(&j, "node", l->node);
	jw_str(&j, "cluster", l->cluster);
	jw_str(&j, "version", VIGIL_VERSION);
	jw_int(&j, "uptime_s", (now - l->started_ns) / 1000000000LL);
	jw_obj_end(&j);
	pthread_mutex_lock(&l->mu);
	/* the sequence: ms of the wall clock, so that a restarted agent's heartbeat is newer */
	if (add_one(l, "heartbeat", NULL, now / 1000000, b.data, b.len) < 0 || hub_store_commit(l->store)) {
		vg_warn("console: heartbeat into %s: %s", l->hub_path, hub_store_error(l->store));
		hub_store_rollback(l->store);
	}
	pthread_mutex_unlock(&l->mu);
	buf_free(&b);
}

/* The hub's retention (HUB_DEFAULT_RETAIN_NS, by receipt), in small batches as vigil hub runs
 * it: true when a kind filled its batch (more waits). */
static bool retain(struct hub_local *l)
{
	char err[256];
	uint64_t del[HUB_RET__N] = { 0 };
	pthread_mutex_lock(&l->mu);
	long n = hub_retain_step(hub_store_db(l->store), now_ns() - HUB_DEFAULT_RETAIN_NS, 500, del, err, sizeof(err));
	pthread_mutex_unlock(&l->mu);
	if (n < 0)
		vg_warn("console: retention in %s: %s", l->hub_path, err);
	return n >= 500;
}

static void *feeder(void *arg)
{
	struct hub_local *l = arg;
	int64_t next_hb = 0, next_retain = 0;
	pthread_mutex_lock(&l->mu);
	while (!l->stopping) {
		pthread_mutex_unlock(&l->mu);
		int64_t now = now_ns();
		if (now >= next_hb) {
			heartbeat(l);
			next_hb = now + (int64_t)HUB_LOCAL_HEARTBEAT_MS * 1000000;
		}
		if (now >= next_retain) /* a full batch: more to delete, again at the next turn */
			next_retain = retain(l) ? now : now + (int64_t)HUB_LOCAL_HEARTBEAT_MS * 1000000;
		long moved = move_flows(l);
		pthread_mutex_lock(&l->mu);
		if (moved == FLOWS_BATCH)
			continue; /* more waiting */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		if (!l->stopping)
			pthread_cond_timedwait(&l->wake, &l->mu, &ts);
	}
	pthread_mutex_unlock(&l->mu);
	move_flows(l); /* what the agent's last flush wrote */
	return NULL;
}

static void local_close(void *ctx)
{
	struct hub_local *l = ctx;
	if (!l)
		return;
	if (l->running) {
		pthread_mutex_lock(&l->mu);
		l->stopping = true;
		pthread_cond_signal(&l->wake);
		pthread_mutex_unlock(&l->mu);
		pthread_join(l->thread, NULL);
	}
	sqlite3_finalize(l->sel);
	sqlite3_finalize(l->del);
	if (l->adb)
		sqlite3_close(l->adb);
	hub_store_close(l->store);
	pthread_cond_destroy(&l->wake);
	pthread_mutex_destroy(&l->mu);
	free(l->hub_path);
	free(l->agent_path);
	free(l);
}

static int local_open(void **ctx, const char *spec, char *err, size_t errlen)
{
	static const char known[] = "store, node, cluster";
	struct fwd_spec s;
	*ctx = NULL;
	if (fwd_spec_parse(spec, &s, err, errlen))
		return -1;
	struct hub_local *l = xcalloc(1, sizeof(*l));
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->wake, NULL);
	l->started_ns = now_ns();
	const char *store = fwd_spec_get(&s, "store"), *node = fwd_spec_get(&s, "node"),
		   *cluster = fwd_spec_get(&s, "cluster");
	if (fwd_spec_check_used(&s, HUB_LOCAL_NAME, known, err, errlen))
		goto fail;
	if (!store || store[0] != '/' || s.target[0] != '/') {
		snprintf(err, errlen, "console: the hub store and store= (the agent's) are absolute paths");
		goto fail;
	}
	if (!fleet_name_valid(node) || !fleet_name_valid(cluster)) {
		snprintf(err, errlen, "console: node= and cluster= are 1 to %d of A-Z a-z 0-9 - _", FLEET_NAME_MAX);
		goto fail;
	}
	snprintf(l->node, sizeof(l->node), "%s", node);
	snprintf(l->cluster, sizeof(l->cluster), "%s", cluster);
	l->hub_path = xstrdup(s.target);
	l->agent_path = xstrdup(store);
	if (!(l->store = hub_store_open(l->hub_path, false, true, err, errlen)))
		goto fail;
	if (sqlite3_open_v2(l->agent_path, &l->adb, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "console: cannot open %s: %s", l->agent_path,
			 l->adb ? sqlite3_errmsg(l->adb) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(l->adb, 5000);
	if (pthread_create(&l->thread, NULL, feeder, l)) {
		snprintf(err, errlen, "console: cannot start a thread");
		goto fail;
	}
	l->running = true;
	fwd_spec_free(&s);
	*ctx = l;
	return 0;
fail:
	fwd_spec_free(&s);
	local_close(l);
	return -1;
}

const struct vg_forwarder_ops hub_local_ops = {
	.name = HUB_LOCAL_NAME,
	.open = local_open,
	.deliver = local_deliver,
	.close = local_close,
};
