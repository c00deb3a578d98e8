/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "common/hmap.h"
#include "common/log.h"
#include "common/path.h"
#include "engine/ruleset.h"
#include "hub/hub_flows.h"
#include "hub/hub_scans.h"
#include "hub/hub_store.h"
#include "output/wal_checkpointer.h"

#define SCHEMA_VERSION 1

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS alerts (id INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE,"
	" cluster TEXT NOT NULL, node TEXT NOT NULL, seq INTEGER NOT NULL, time_ns INTEGER NOT NULL,"
	" recv_ns INTEGER NOT NULL, rule TEXT NOT NULL, priority INTEGER NOT NULL,"
	" container_id TEXT NOT NULL, container_name TEXT, image TEXT, namespace TEXT, pod TEXT,"
	" json TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS alerts_node ON alerts(node, id);"
	"CREATE INDEX IF NOT EXISTS alerts_rule ON alerts(rule, id);"
	"CREATE INDEX IF NOT EXISTS alerts_time ON alerts(time_ns);"
	"CREATE INDEX IF NOT EXISTS alerts_ns ON alerts(namespace, id);"
	"CREATE TABLE IF NOT EXISTS actions (id INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE,"
	" cluster TEXT NOT NULL, node TEXT NOT NULL, seq INTEGER NOT NULL, time_ns INTEGER NOT NULL,"
	" recv_ns INTEGER NOT NULL, rule TEXT, action TEXT NOT NULL, outcome TEXT NOT NULL,"
	" target TEXT, container_id TEXT NOT NULL, container_name TEXT, json TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS actions_node ON actions(node, id);"
	"CREATE TABLE IF NOT EXISTS losses (id INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE,"
	" cluster TEXT NOT NULL, node TEXT NOT NULL, seq INTEGER NOT NULL, time_ns INTEGER NOT NULL,"
	" recv_ns INTEGER NOT NULL, json TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS nodes (cluster TEXT NOT NULL, node TEXT NOT NULL,"
	" last_seen_ns INTEGER NOT NULL DEFAULT 0, heartbeat TEXT, hb_seq INTEGER NOT NULL DEFAULT 0,"
	" version TEXT, alert_seq INTEGER NOT NULL DEFAULT 0, action_seq INTEGER NOT NULL DEFAULT 0,"
	" loss_seq INTEGER NOT NULL DEFAULT 0, alerts INTEGER NOT NULL DEFAULT 0,"
	" actions INTEGER NOT NULL DEFAULT 0, losses INTEGER NOT NULL DEFAULT 0,"
	" seq_gaps INTEGER NOT NULL DEFAULT 0, seq_out_of_order INTEGER NOT NULL DEFAULT 0,"
	" last_alert_ns INTEGER NOT NULL DEFAULT 0, ingest_lag_ms INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (cluster, node));"
	/* the web console's acknowledgements (docs/console.md): one per alert */
	"CREATE TABLE IF NOT EXISTS acks (uuid TEXT PRIMARY KEY, acked_by TEXT NOT NULL,"
	" time_ns INTEGER NOT NULL);";

/* A node's counters, kept in memory by the writer and written with each commit. */
struct node {
	struct hmap_node hn;
	char cluster[65], name[65];
	int64_t last_seen_ns, hb_seq, seq[3], count[3], gaps, ooo, last_alert_ns, lag_ms;
	char *heartbeat, *version;
	bool dirty;
	struct node *next_dirty;
};

/* How long the hub's connection waits for another writer or a checkpoint. */
#define HUB_STORE_BUSY_MS 2000

struct hub_store {
	sqlite3 *db;
	bool readonly, in_tx;
	sqlite3_stmt *ins[3], *node_put;
	struct hmap nodes;
	struct node *dirty;
	char err[256];
	uint64_t budget, spent; /* hub_store_set_budget: VM steps, in hundreds */
	bool bounded;
	/* checkpoints on a thread of their own: a commit does not copy the log (and fsync) */
	struct wal_checkpointer *checkpointer;
};

static int fail(struct hub_store *s, const char *what)
{
	snprintf(s->err, sizeof(s->err), "%s: %s", what, sqlite3_errmsg(s->db));
	return -1;
}

const char *hub_store_error(const struct hub_store *s)
{
	return s->err;
}

sqlite3 *hub_store_db(struct hub_store *s)
{
	return s->db;
}

static uint64_t node_key(const char *cluster, const char *name)
{
	uint64_t h = 1469598103934665603ULL;
	for (const char *p = cluster; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	h = (h ^ '.') * 1099511628211ULL;
	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return h;
}

/* The node's entry, created when absent (keys are probed on a hash collision). */
static struct node *node_get(struct hub_store *s, const char *cluster, const char *name)
{
	uint64_t k = node_key(cluster, name);
	for (;; k++) {
		struct hmap_node *hn = hmap_get(&s->nodes, k);
		if (!hn)
			break;
		struct node *n = hmap_entry(hn, struct node, hn);
		if (!strcmp(n->cluster, cluster) && !strcmp(n->name, name))
			return n;
	}
	struct node *n = xcalloc(1, sizeof(*n));
	snprintf(n->cluster, sizeof(n->cluster), "%s", cluster);
	snprintf(n->name, sizeof(n->name), "%s", name);
	n->hn.key = k;
	hmap_put(&s->nodes, &n->hn);
	return n;
}

static void mark(struct hub_store *s, struct node *n)
{
	if (!n->dirty) {
		n->dirty = true;
		n->next_dirty = s->dirty;
		s->dirty = n;
	}
}

static char *dup_col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? xstrdup((const char *)t) : NULL;
}

static int load_nodes(struct hub_store *s)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db,
			       "SELECT cluster, node, last_seen_ns, heartbeat, hb_seq, version, alert_seq, action_seq,"
			       " loss_seq, alerts, actions, losses, seq_gaps, seq_out_of_order, last_alert_ns,"
			       " ingest_lag_ms FROM nodes",
			       -1, &st, NULL) != SQLITE_OK)
		return fail(s, "cannot read nodes");
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct node *n = node_get(s, (const char *)sqlite3_column_text(st, 0),
					  (const char *)sqlite3_column_text(st, 1));
		n->last_seen_ns = sqlite3_column_int64(st, 2);
		n->heartbeat = dup_col(st, 3);
		n->hb_seq = sqlite3_column_int64(st, 4);
		n->version = dup_col(st, 5);
		for (int i = 0; i < 3; i++) {
			n->seq[i] = sqlite3_column_int64(st, 6 + i);
			n->count[i] = sqlite3_column_int64(st, 9 + i);
		}
		n->gaps = sqlite3_column_int64(st, 12);
		n->ooo = sqlite3_column_int64(st, 13);
		n->last_alert_ns = sqlite3_column_int64(st, 14);
		n->lag_ms = sqlite3_column_int64(st, 15);
	}
	sqlite3_finalize(st);
	return 0;
}

struct hub_store *hub_store_open(const char *path, bool readonly, bool fsync, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	if (!readonly && path_mkdir_parent(path, 0700, err, errlen))
		return NULL;
	int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	mode_t old = umask(077);
	int rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL);
	umask(old);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot open hub store %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, HUB_STORE_BUSY_MS);
	struct hub_store *s = xcalloc(1, sizeof(*s));
	s->db = db;
	s->readonly = readonly;
	hmap_init(&s->nodes, 64);
	if (readonly)
		return s;
	char sql[256];
	/* a 32 MiB page cache: the uuid index is read on every insert. No mmap: its pages
	 * would count in the hub's RSS and grow with the store */
	snprintf(sql, sizeof(sql), "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; PRAGMA cache_size=-32768;",
		 fsync ? "FULL" : "NORMAL");
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK || sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot set up hub store %s: %s", path, sqlite3_errmsg(db));
		goto bad;
	}
	sqlite3_stmt *st;
	int ver = 0;
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			ver = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	if (ver == 0)
		sqlite3_exec(db, "PRAGMA user_version = 1", NULL, NULL, NULL);
	else if (ver != SCHEMA_VERSION) {
		snprintf(err, errlen, "hub store %s has schema version %d, this hub knows %d", path, ver, SCHEMA_VERSION);
		goto bad;
	}
	if (hub_flows_schema(db, err, errlen))
		goto bad;
	if (hub_scans_schema(db, err, errlen))
		goto bad;
	static const char *const ins_sql[3] = {
		"INSERT INTO alerts (uuid, cluster, node, seq, time_ns, recv_ns, rule, priority, container_id,"
		" container_name, image, namespace, pod, json) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)"
		" ON CONFLICT(uuid) DO NOTHING",
		"INSERT INTO actions (uuid, cluster, node, seq, time_ns, recv_ns, rule, action, outcome, target,"
		" container_id, container_name, json) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)"
		" ON CONFLICT(uuid) DO NOTHING",
		"INSERT INTO losses (uuid, cluster, node, seq, time_ns, recv_ns, json) VALUES (?1,?2,?3,?4,?5,?6,?7)"
		" ON CONFLICT(uuid) DO NOTHING",
	};
	for (int i = 0; i < 3; i++)
		if (sqlite3_prepare_v3(db, ins_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->ins[i], NULL) != SQLITE_OK) {
			snprintf(err, errlen, "cannot prepare: %s", sqlite3_errmsg(db));
			goto bad;
		}
	if (sqlite3_prepare_v3(db,
			       "INSERT INTO nodes (cluster, node, last_seen_ns, heartbeat, hb_seq, version, alert_seq,"
			       " action_seq, loss_seq, alerts, actions, losses, seq_gaps, seq_out_of_order,"
			       " last_alert_ns, ingest_lag_ms) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16)"
			       " ON CONFLICT(cluster, node) DO UPDATE SET last_seen_ns=?3, heartbeat=?4, hb_seq=?5,"
			       " version=?6, alert_seq=?7, action_seq=?8, loss_seq=?9, alerts=?10, actions=?11,"
			       " losses=?12, seq_gaps=?13, seq_out_of_order=?14, last_alert_ns=?15, ingest_lag_ms=?16",
			       -1, SQLITE_PREPARE_PERSISTENT, &s->node_put, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot prepare: %s", sqlite3_errmsg(db));
		goto bad;
	}
	if (load_nodes(s)) {
		snprintf(err, errlen, "%s", s->err);
		goto bad;
	}
	/* checkpoints off the commits (output/wal_checkpointer.h) */
	char why[256];
	if (!(s->checkpointer = wal_checkpointer_start(db, path, WAL_RESTART_FRAMES, HUB_STORE_BUSY_MS, why, sizeof(why))))
		vg_warn("hub store: %s; commits checkpoint the store themselves", why);
	return s;
bad:
	hub_store_close(s);
	return NULL;
}

void hub_store_close(struct hub_store *s)
{
	if (!s)
		return;
	if (s->in_tx)
		hub_store_commit(s);
	for (int i = 0; i < 3; i++)
		sqlite3_finalize(s->ins[i]);
	sqlite3_finalize(s->node_put);
	struct hmap_node *hn, *tmp;
	size_t i;
	hmap_for_each(&s->nodes, hn, tmp, i)
	{
		struct node *n = hmap_entry(hn, struct node, hn);
		free(n->heartbeat);
		free(n->version);
		free(n);
	}
	hmap_free(&s->nodes);
	wal_checkpointer_stop(s->checkpointer);
	if (!s->readonly)
		sqlite3_exec(s->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	sqlite3_close(s->db);
	free(s);
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static int begin(struct hub_store *s)
{
	if (s->in_tx)
		return 0;
	if (sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return fail(s, "cannot begin");
	s->in_tx = true;
	return 0;
}

int hub_store_add(struct hub_store *s, const struct hub_msg *m, int64_t recv_ns)
{
	if (m->kind == HUB_PROFILE)
		return 0; /* profiles have a consumer of their own (hub_profiles.c) */
	if (begin(s))
		return -1;
	if (m->kind == HUB_FLOWS) {
		int r = hub_flows_add(s->db, m, recv_ns);
		return r < 0 ? fail(s, "cannot store flows") : r;
	}
	if (m->kind == HUB_SCAN || m->kind == HUB_ADMISSION) {
		int r = hub_scans_add(s->db, m, recv_ns);
		return r < 0 ? fail(s, m->kind == HUB_SCAN ? "cannot store a scan" : "cannot store an admission") : r;
	}
	struct node *n = node_get(s, m->cluster, m->node);
	if (m->kind == HUB_HEARTBEAT) {
		n->last_seen_ns = recv_ns > n->last_seen_ns ? recv_ns : n->last_seen_ns;
		mark(s, n);
		if (m->seq <= n->hb_seq)
			return 0; /* an older heartbeat than the one kept: latest wins */
		n->hb_seq = m->seq;
		free(n->heartbeat);
		n->heartbeat = xstrndup(m->raw, m->raw_len);
		if (m->version) {
			free(n->version);
			n->version = xstrdup(m->version);
		}
		return 1;
	}
	int t = m->kind == HUB_ALERT ? 0 : m->kind == HUB_ACTION ? 1 : 2;
	sqlite3_stmt *st = s->ins[t];
	sqlite3_reset(st);
	bind_text(st, 1, m->uuid);
	bind_text(st, 2, m->cluster);
	bind_text(st, 3, m->node);
	sqlite3_bind_int64(st, 4, m->seq);
	sqlite3_bind_int64(st, 5, m->time_ns);
	sqlite3_bind_int64(st, 6, recv_ns);
	if (t == 0) {
		bind_text(st, 7, m->rule);
		sqlite3_bind_int(st, 8, m->priority);
		bind_text(st, 9, m->container_id ? m->container_id : "");
		bind_text(st, 10, m->container_name);
		bind_text(st, 11, m->image);
		bind_text(st, 12, m->ns);
		bind_text(st, 13, m->pod);
		sqlite3_bind_text(st, 14, m->raw, (int)m->raw_len, SQLITE_STATIC);
	} else if (t == 1) {
		bind_text(st, 7, m->rule);
		bind_text(st, 8, m->action);
		bind_text(st, 9, m->outcome);
		bind_text(st, 10, m->target);
		bind_text(st, 11, m->container_id ? m->container_id : "");
		bind_text(st, 12, m->container_name);
		sqlite3_bind_text(st, 13, m->raw, (int)m->raw_len, SQLITE_STATIC);
	} else
		sqlite3_bind_text(st, 7, m->raw, (int)m->raw_len, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return fail(s, "cannot store a record");
	if (!sqlite3_changes(s->db))
		return 0; /* a redelivery: stored before, counted before */
	if (m->seq > n->seq[t] + 1 && n->seq[t])
		n->gaps += m->seq - n->seq[t] - 1;
	else if (m->seq <= n->seq[t])
		n->ooo++;
	if (m->seq > n->seq[t])
		n->seq[t] = m->seq;
	n->count[t]++;
	if (t == 0 && m->time_ns) {
		n->last_alert_ns = m->time_ns;
		n->lag_ms = (recv_ns - m->time_ns) / 1000000;
	}
	mark(s, n);
	return 1;
}

static int flush_nodes(struct hub_store *s)
{
	for (struct node *n = s->dirty; n; n = n->next_dirty) {
		sqlite3_stmt *st = s->node_put;
		sqlite3_reset(st);
		bind_text(st, 1, n->cluster);
		bind_text(st, 2, n->name);
		sqlite3_bind_int64(st, 3, n->last_seen_ns);
		bind_text(st, 4, n->heartbeat);
		sqlite3_bind_int64(st, 5, n->hb_seq);
		bind_text(st, 6, n->version);
		for (int i = 0; i < 3; i++) {
			sqlite3_bind_int64(st, 7 + i, n->seq[i]);
			sqlite3_bind_int64(st, 10 + i, n->count[i]);
		}
		sqlite3_bind_int64(st, 13, n->gaps);
		sqlite3_bind_int64(st, 14, n->ooo);
		sqlite3_bind_int64(st, 15, n->last_alert_ns);
		sqlite3_bind_int64(st, 16, n->lag_ms);
		if (sqlite3_step(st) != SQLITE_DONE)
			return fail(s, "cannot store a node");
	}
	return 0;
}

static void clear_dirty(struct hub_store *s)
{
	struct node *n = s->dirty, *next;
	for (; n; n = next) {
		next = n->next_dirty;
		n->dirty = false;
		n->next_dirty = NULL;
	}
	s->dirty = NULL;
}

static int finish(struct hub_store *s, bool commit)
{
	if (!s->in_tx)
		return 0;
	int r = commit ? flush_nodes(s) : -1;
	if (!r && sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		r = fail(s, "cannot commit");
	if (!r)
		wal_checkpointer_after_commit(s->checkpointer, s->db);
	if (r) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		/* the counters in memory may now be ahead of the store: read them back */
		struct hmap_node *hn, *tmp;
		size_t i;
		clear_dirty(s);
		hmap_for_each(&s->nodes, hn, tmp, i)
		{
			struct node *n = hmap_entry(hn, struct node, hn);
			hmap_del(&s->nodes, hn->key);
			free(n->heartbeat);
			free(n->version);
			free(n);
		}
		load_nodes(s);
	}
	clear_dirty(s);
	s->in_tx = false;
	return commit ? r : 0;
}

int hub_store_commit(struct hub_store *s)
{
	return finish(s, true);
}

void hub_store_rollback(struct hub_store *s)
{
	finish(s, false);
}

int hub_store_counts(struct hub_store *s, struct hub_store_counts *c)
{
	static const char *const q[4] = { "SELECT count(*) FROM alerts", "SELECT count(*) FROM actions",
					  "SELECT count(*) FROM losses", "SELECT count(*) FROM nodes" };
	int64_t *out[4] = { &c->alerts, &c->actions, &c->losses, &c->nodes };
	for (int i = 0; i < 4; i++) {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(s->db, q[i], -1, &st, NULL) != SQLITE_OK)
			return fail(s, "cannot count");
		*out[i] = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
		sqlite3_finalize(st);
	}
	return 0;
}

static void iso_time(char *buf, size_t len, int64_t ns)
{
	time_t sec = ns / 1000000000LL;
	struct tm tm;
	gmtime_r(&sec, &tm);
	size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%09lldZ", (long long)(ns % 1000000000LL));
}

/* A WHERE clause with numbered parameters bound afterwards in the same order. */
struct where {
	struct vg_buf sql;
	const char *text[16];
	int64_t num[16];
	bool is_num[16];
	int n;
	bool any;
};

static void w_add(struct where *w, const char *cond, const char *text, int64_t num, bool is_num)
{
	buf_adds(&w->sql, w->any ? " AND " : " WHERE ");
	w->any = true;
	if (!strstr(cond, "?%d")) {
		buf_adds(&w->sql, cond); /* no parameter */
		return;
	}
	buf_printf(&w->sql, cond, w->n + 1, w->n + 1, w->n + 1);
	w->text[w->n] = text;
	w->num[w->n] = num;
	w->is_num[w->n] = is_num;
	w->n++;
}

/* The WHERE clause of a query's filters (all but the cursor), appended to w. */
static void query_where(struct where *w, const struct hub_query *q)
{
	if (q->uuid)
		w_add(w, "uuid = ?%d", q->uuid, 0, false);
	if (q->cluster)
		w_add(w, "cluster = ?%d", q->cluster, 0, false);
	if (q->node)
		w_add(w, "node = ?%d", q->node, 0, false);
	if (q->table == HUB_T_ALERTS) {
		if (q->ns)
			w_add(w, "namespace = ?%d", q->ns, 0, false);
		if (q->pod)
			w_add(w, "pod = ?%d", q->pod, 0, false);
		if (q->image)
			w_add(w, "image = ?%d", q->image, 0, false);
		if (q->prio_most >= 0)
			w_add(w, "priority <= ?%d", NULL, q->prio_most, true);
		if (q->prio_least >= 0)
			w_add(w, "priority >= ?%d", NULL, q->prio_least, true);
	}
	if (q->table == HUB_T_ACTIONS) {
		if (q->action)
			w_add(w, "action = ?%d", q->action, 0, false);
		if (q->outcome)
			w_add(w, "outcome = ?%d", q->outcome, 0, false);
	}
	if (q->rule && q->table != HUB_T_LOSSES)
		w_add(w, "rule = ?%d", q->rule, 0, false);
	if (q->container && q->table != HUB_T_LOSSES) {
		if (!strcmp(q->container, "host"))
			w_add(w, "container_id = ''", NULL, 0, false);
		else
			w_add(w, "(substr(container_id, 1, length(?%d)) = ?%d OR container_name = ?%d)", q->container, 0, false);
	}
	if (q->since_ns)
		w_add(w, "time_ns >= ?%d", NULL, q->since_ns, true);
	if (q->until_ns)
		w_add(w, "time_ns < ?%d", NULL, q->until_ns, true);
	if (q->table == HUB_T_ALERTS && q->tactic)
		w_add(w, "EXISTS (SELECT 1 FROM json_each(alerts.json, '$.tags') WHERE value = ?%d)", q->tactic, 0, false);
	if (q->table == HUB_T_ALERTS && q->technique)
		w_add(w, "EXISTS (SELECT 1 FROM json_each(alerts.json, '$.tags') WHERE value = ?%d OR value LIKE ?%d || '.%%')",
		      q->technique, 0, false);
}

long hub_store_query(struct hub_store *s, const struct hub_query *q, struct vg_buf *out)
{
	static const char *const tables[] = { "alerts", "actions", "losses" };
	static const char *const keys[] = { "alert", "action", "loss" };
	struct where w = { 0 };
	buf_printf(&w.sql, "SELECT id, uuid, cluster, node, seq, recv_ns, json%s FROM %s",
		   q->table == HUB_T_ALERTS ? ", (SELECT acked_by FROM acks WHERE acks.uuid = alerts.uuid),"
					      " (SELECT time_ns FROM acks WHERE acks.uuid = alerts.uuid)"
					    : "",
		   tables[q->table]);
	query_where(&w, q);
	if (q->after_id)
		w_add(&w, "id > ?%d", NULL, q->after_id, true);
	long limit = q->uuid ? 1 : q->limit;
	/* one row more than asked says whether there is a next page */
	buf_printf(&w.sql, " ORDER BY id LIMIT %ld", limit + 1);
	sqlite3_stmt *st;
	long n = -1;
	if (sqlite3_prepare_v2(s->db, w.sql.data, -1, &st, NULL) != SQLITE_OK) {
		fail(s, "cannot query");
		goto out;
	}
	for (int i = 0; i < w.n; i++) {
		if (w.is_num[i])
			sqlite3_bind_int64(st, i + 1, w.num[i]);
		else
			bind_text(st, i + 1, w.text[i]);
	}
	struct vg_json j;
	jw_init(&j, out);
	if (!q->uuid) {
		jw_obj_begin(&j, NULL);
		jw_arr_begin(&j, tables[q->table]);
	}
	int64_t last = 0;
	int rc;
	n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == limit)
			break;
		char recv[48];
		last = sqlite3_column_int64(st, 0);
		iso_time(recv, sizeof(recv), sqlite3_column_int64(st, 5));
		jw_obj_begin(&j, NULL);
		jw_int(&j, "id", last);
		jw_str(&j, "uuid", (const char *)sqlite3_column_text(st, 1));
		jw_str(&j, "cluster", (const char *)sqlite3_column_text(st, 2));
		jw_str(&j, "node", (const char *)sqlite3_column_text(st, 3));
		jw_int(&j, "seq", sqlite3_column_int64(st, 4));
		jw_str(&j, "received", recv);
		jw_raw(&j, keys[q->table], (const char *)sqlite3_column_text(st, 6));
		if (q->table == HUB_T_ALERTS) {
			/* the console's acknowledgement, or null */
			if (sqlite3_column_type(st, 7) != SQLITE_NULL) {
				char at[48];
				iso_time(at, sizeof(at), sqlite3_column_int64(st, 8));
				jw_obj_begin(&j, "ack");
				jw_str(&j, "by", (const char *)sqlite3_column_text(st, 7));
				jw_str(&j, "time", at);
				jw_obj_end(&j);
			} else
				jw_null(&j, "ack");
		}
		jw_obj_end(&j);
		n++;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		fail(s, "cannot query");
		n = -1;
	} else if (!q->uuid) {
		jw_arr_end(&j);
		if (rc == SQLITE_ROW) {
			char cur[32];
			snprintf(cur, sizeof(cur), "%lld", (long long)last);
			jw_str(&j, "next_cursor", cur);
		} else
			jw_null(&j, "next_cursor");
		jw_obj_end(&j);
	}
	sqlite3_finalize(st);
out:
	buf_free(&w.sql);
	return n;
}

/* A node refused a central policy set: its heartbeat's policy has a kind with "refused" or
 * "error", or says "status":"error" (docs/fleet.md). */
static bool policy_refused(json_t *policy)
{
	const char *k;
	json_t *v;
	const char *st = json_string_value(json_object_get(policy, "status"));
	if (st && !strcmp(st, "error"))
		return true;
	json_object_foreach(policy, k, v)
	{
		if (json_is_object(v) && ((json_object_get(v, "refused") && !json_is_null(json_object_get(v, "refused"))) ||
					  (json_object_get(v, "error") && !json_is_null(json_object_get(v, "error")))))
			return true;
	}
	return false;
}

int hub_store_nodes(struct hub_store *s, int64_t now_ns, int64_t silent_after_ns, struct vg_buf *out)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db,
			       "SELECT cluster, node, last_seen_ns, heartbeat, version, alerts, actions, losses,"
			       " seq_gaps, seq_out_of_order, last_alert_ns, ingest_lag_ms, alert_seq FROM nodes"
			       " ORDER BY cluster, node",
			       -1, &st, NULL) != SQLITE_OK)
		return fail(s, "cannot list nodes");
	struct vg_json j;
	jw_init(&j, out);
	jw_obj_begin(&j, NULL);
	jw_arr_begin(&j, "nodes");
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t seen = sqlite3_column_int64(st, 2);
		const char *hb = (const char *)sqlite3_column_text(st, 3);
		json_t *h = hb ? json_loads(hb, 0, NULL) : NULL;
		jw_obj_begin(&j, NULL);
		jw_str(&j, "cluster", (const char *)sqlite3_column_text(st, 0));
		jw_str(&j, "node", (const char *)sqlite3_column_text(st, 1));
		const char *health = !seen ? "unknown" : now_ns - seen > silent_after_ns ? "silent" : "ok";
		json_t *policy = json_object_get(h, "policy");
		if (!strcmp(health, "ok") && policy_refused(policy))
			health = "degraded";
		jw_str(&j, "health", health);
		if (seen) {
			char t[48];
			iso_time(t, sizeof(t), seen);
			jw_str(&j, "last_heartbeat", t);
			jw_int(&j, "heartbeat_age_s", (now_ns - seen) / 1000000000LL);
		} else {
			jw_null(&j, "last_heartbeat");
			jw_null(&j, "heartbeat_age_s");
		}
		const char *ver = json_string_value(json_object_get(h, "version"));
		jw_str(&j, "version", ver ? ver : (const char *)sqlite3_column_text(st, 4));
		/* docs/fleet.md's heartbeat: outbox.depth, policy as sent */
		json_t *depth = json_object_get(h, "outbox_depth");
		if (!depth)
			depth = json_object_get(json_object_get(h, "outbox"), "depth");
		struct { const char *key; json_t *v; } hbv[] = {
			{ "rules_digest", json_object_get(h, "rules_digest") }, { "uptime_s", json_object_get(h, "uptime_s") },
			{ "events_per_s", json_object_get(h, "events_per_s") }, { "lost_records", json_object_get(h, "lost_records") },
			{ "outbox_depth", depth }, { "policy", policy },
		};
		for (size_t i = 0; i < sizeof(hbv) / sizeof(*hbv); i++) {
			char *enc = hbv[i].v ? json_dumps(hbv[i].v, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
			if (enc)
				jw_raw(&j, hbv[i].key, enc);
			else
				jw_null(&j, hbv[i].key);
			free(enc);
		}
		jw_int(&j, "alerts", sqlite3_column_int64(st, 5));
		jw_int(&j, "actions", sqlite3_column_int64(st, 6));
		jw_int(&j, "loss_records", sqlite3_column_int64(st, 7));
		jw_int(&j, "seq_gaps", sqlite3_column_int64(st, 8));
		jw_int(&j, "seq_out_of_order", sqlite3_column_int64(st, 9));
		jw_int(&j, "last_alert_seq", sqlite3_column_int64(st, 12));
		jw_int(&j, "ingest_lag_ms", sqlite3_column_int64(st, 11));
		jw_obj_end(&j);
		json_decref(h);
	}
	jw_arr_end(&j);
	jw_obj_end(&j);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : fail(s, "cannot list nodes");
}

int hub_store_node_metrics(struct hub_store *s, int64_t now_ns, struct vg_buf *out)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db,
			       "SELECT cluster, node, last_seen_ns, ingest_lag_ms, seq_gaps, seq_out_of_order, alerts"
			       " FROM nodes ORDER BY cluster, node",
			       -1, &st, NULL) != SQLITE_OK)
		return fail(s, "cannot list nodes");
	static const char *const m[] = {
		"vigil_hub_node_heartbeat_age_seconds", "gauge", "Seconds since the node's last heartbeat (-1: none yet).",
		"vigil_hub_node_ingest_lag_seconds", "gauge", "The hub's receipt of the node's latest alert minus its time.",
		"vigil_hub_node_seq_gaps_total", "counter", "Records the node's sequence skipped.",
		"vigil_hub_node_seq_out_of_order_total", "counter", "Records that came after a later one of the node.",
		"vigil_hub_node_alerts_total", "counter", "Alerts of the node stored.",
	};
	struct vg_buf rows[5] = { 0 };
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *c = (const char *)sqlite3_column_text(st, 0), *n = (const char *)sqlite3_column_text(st, 1);
		int64_t seen = sqlite3_column_int64(st, 2);
		/* cluster and node are subject tokens ([A-Za-z0-9_-]): nothing to escape */
		buf_printf(&rows[0], "%s{cluster=\"%s\",node=\"%s\"} %.3f\n", m[0], c, n,
			   seen ? (double)(now_ns - seen) / 1e9 : -1.0);
		buf_printf(&rows[1], "%s{cluster=\"%s\",node=\"%s\"} %.3f\n", m[3], c, n,
			   (double)sqlite3_column_int64(st, 3) / 1e3);
		for (int i = 2; i < 5; i++)
			buf_printf(&rows[i], "%s{cluster=\"%s\",node=\"%s\"} %lld\n", m[i * 3], c, n,
				   (long long)sqlite3_column_int64(st, i + 2));
	}
	sqlite3_finalize(st);
	for (int i = 0; i < 5; i++) {
		buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", m[i * 3], m[i * 3 + 2], m[i * 3], m[i * 3 + 1]);
		if (rows[i].len)
			buf_add(out, rows[i].data, rows[i].len);
		buf_free(&rows[i]);
	}
	return rc == SQLITE_DONE ? 0 : fail(s, "cannot list nodes");
}

/* ---- the web console's additions (docs/console.md) ---- */

static int budget_check(void *arg)
{
	struct hub_store *s = arg;
	return ++s->spent > s->budget; /* non-zero interrupts the statement */
}

void hub_store_set_budget(struct hub_store *s, uint64_t steps)
{
	s->spent = 0;
	s->budget = steps / 100;
	s->bounded = steps != 0;
	sqlite3_progress_handler(s->db, steps ? 100 : 0, steps ? budget_check : NULL, s);
}

bool hub_store_over_budget(const struct hub_store *s)
{
	return s->bounded && s->spent > s->budget;
}

long hub_store_alert_counts(struct hub_store *s, const struct hub_query *q, int64_t bucket_ns, bool by_rule,
			    struct vg_buf *out)
{
	struct where w = { 0 };
	/* the newest HUB_COUNTS_MAX_ROWS alerts of the range at most (the time index, read
	 * backwards): "partial" says when that many were counted */
	buf_printf(&w.sql, "SELECT (time_ns - %lld) / %lld AS b, k, count(*), min(time_ns) FROM"
			   " (SELECT time_ns, %s AS k FROM alerts",
		   (long long)q->since_ns, (long long)bucket_ns, by_rule ? "rule" : "priority");
	query_where(&w, q);
	buf_printf(&w.sql, " ORDER BY time_ns DESC LIMIT %d) GROUP BY b, k ORDER BY b, k", HUB_COUNTS_MAX_ROWS);
	sqlite3_stmt *st;
	long n = -1;
	if (sqlite3_prepare_v2(s->db, w.sql.data, -1, &st, NULL) != SQLITE_OK) {
		fail(s, "cannot count");
		goto out;
	}
	for (int i = 0; i < w.n; i++) {
		if (w.is_num[i])
			sqlite3_bind_int64(st, i + 1, w.num[i]);
		else
			bind_text(st, i + 1, w.text[i]);
	}
	struct vg_json j;
	jw_init(&j, out);
	jw_obj_begin(&j, NULL);
	char t[48];
	iso_time(t, sizeof(t), q->since_ns);
	jw_str(&j, "since", t);
	iso_time(t, sizeof(t), q->until_ns);
	jw_str(&j, "until", t);
	jw_int(&j, "bucket_s", bucket_ns / 1000000000LL);
	jw_str(&j, "by", by_rule ? "rule" : "priority");
	jw_arr_begin(&j, "counts");
	int rc;
	n = 0;
	int64_t oldest = 0, total = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t b = sqlite3_column_int64(st, 0);
		total += sqlite3_column_int64(st, 2);
		if (!oldest || sqlite3_column_int64(st, 3) < oldest)
			oldest = sqlite3_column_int64(st, 3);
		iso_time(t, sizeof(t), q->since_ns + b * bucket_ns);
		jw_obj_begin(&j, NULL);
		jw_str(&j, "t", t);
		if (by_rule)
			jw_str(&j, "key", (const char *)sqlite3_column_text(st, 1));
		else
			jw_str(&j, "key", priority_name(sqlite3_column_int(st, 1)));
		jw_int(&j, "count", sqlite3_column_int64(st, 2));
		jw_obj_end(&j);
		n++;
	}
	jw_arr_end(&j);
	bool partial = total >= HUB_COUNTS_MAX_ROWS;
	jw_bool(&j, "partial", partial);
	if (partial) {
		iso_time(t, sizeof(t), oldest);
		jw_str(&j, "counted_since", t);
	}
	jw_obj_end(&j);
	if (rc != SQLITE_DONE) {
		fail(s, "cannot count");
		n = -1;
	}
	sqlite3_finalize(st);
out:
	buf_free(&w.sql);
	return n;
}

int hub_store_ack(struct hub_store *s, const char *uuid, const char *who, int64_t now_ns)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM alerts WHERE uuid = ?1", -1, &st, NULL) != SQLITE_OK)
		return fail(s, "cannot acknowledge");
	sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return -2;
	if (rc != SQLITE_ROW)
		return fail(s, "cannot acknowledge");
	if (sqlite3_prepare_v2(s->db, "INSERT INTO acks (uuid, acked_by, time_ns) VALUES (?1, ?2, ?3)"
				      " ON CONFLICT(uuid) DO NOTHING",
			       -1, &st, NULL) != SQLITE_OK)
		return fail(s, "cannot acknowledge");
	sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, who, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now_ns);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return fail(s, "cannot acknowledge");
	return sqlite3_changes(s->db) ? 1 : 0;
}

int hub_store_max_alert_id(struct hub_store *s, int64_t *id)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "SELECT max(id) FROM alerts", -1, &st, NULL) != SQLITE_OK)
		return fail(s, "cannot read");
	*id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return 0;
}
