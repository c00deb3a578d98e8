/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <time.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "common/buf.h"
#include "common/log.h"
#include "common/path.h"
#include "output/alert_store.h"
#include "output/wal_checkpointer.h"
#include "respond/selector.h"

#define STORE_SCHEMA_VERSION 2 /* 2: alerts.uuid, actions.uuid (the outbox's stable ids) */

struct alert_store {
	sqlite3 *db;
	sqlite3_stmt *insert, *insert_action;
	bool in_tx;
	char err[256];
	/* checkpoints run on their own thread and connection, so that moving the WAL
	 * into the database file (and its fsync) does not delay an alert (a commit only
	 * restarts the log now and then: output/wal_checkpointer.h) */
	struct wal_checkpointer *checkpointer;
	/* called after each commit (the outbox wakes its forwarders) */
	void (*on_commit)(void *ctx);
	void *on_commit_ctx;
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS alerts ("
	" id INTEGER PRIMARY KEY,"
	" time_ns INTEGER NOT NULL,"         /* wall clock, ns since the epoch */
	" rule TEXT NOT NULL,"
	" priority INTEGER NOT NULL,"        /* 0 emergency .. 7 debug */
	" container_id TEXT NOT NULL,"       /* full id, '' on the host */
	" container_name TEXT,"
	" k8s_namespace TEXT,"
	" k8s_pod TEXT,"
	" output TEXT NOT NULL,"
	" json TEXT NOT NULL,"
	" uuid TEXT);"                       /* 32 hex digits, random, stable: the outbox's id */
	"CREATE INDEX IF NOT EXISTS alerts_time ON alerts(time_ns);"
	"CREATE INDEX IF NOT EXISTS alerts_rule ON alerts(rule, time_ns);"
	"CREATE INDEX IF NOT EXISTS alerts_container ON alerts(container_id, time_ns);"
	"CREATE TABLE IF NOT EXISTS actions ("
	" id INTEGER PRIMARY KEY,"
	" time_ns INTEGER NOT NULL,"
	" rule TEXT NOT NULL,"
	" action TEXT NOT NULL,"             /* action_name(): kill, freeze, isolate, capture, thaw, release */
	" target TEXT NOT NULL,"
	" container_id TEXT NOT NULL,"
	" container_name TEXT,"
	" cgroup TEXT NOT NULL,"
	" outcome TEXT NOT NULL,"            /* action_outcome_name(): done, audit, refused, failed, skipped */
	" detail TEXT NOT NULL,"
	" path TEXT NOT NULL,"               /* userspace or kernel */
	" latency_ns INTEGER NOT NULL,"      /* from the event's kernel timestamp */
	" uuid TEXT);"
	"CREATE INDEX IF NOT EXISTS actions_time ON actions(time_ns);";

/* How long the agent's connection waits for another writer of the store. */
#define STORE_BUSY_MS 5000

/* A stable random id (128 bits as 32 hex digits), made by SQLite at insert. */
#define NEW_UUID "lower(hex(randomblob(16)))"

/*
 * Stores made before schema 2 have no uuid columns: add them and give every
 * old row its id, once, in one transaction (docs/fleet.md).
 */
static int add_uuids(sqlite3 *db)
{
	static const char *const tables[] = { "alerts", "actions" };
	for (size_t i = 0; i < 2; i++) {
		char sql[256];
		sqlite3_stmt *st;
		bool has = false;
		snprintf(sql, sizeof(sql), "PRAGMA table_info(%s)", tables[i]);
		if (sqlite3_prepare_v2(db, sql, -1, &st, NULL))
			return -1;
		while (sqlite3_step(st) == SQLITE_ROW)
			if (!strcmp((const char *)sqlite3_column_text(st, 1), "uuid"))
				has = true;
		sqlite3_finalize(st);
		if (has)
			continue;
		snprintf(sql, sizeof(sql),
			 "BEGIN; ALTER TABLE %s ADD COLUMN uuid TEXT; UPDATE %s SET uuid = " NEW_UUID "; COMMIT;",
			 tables[i], tables[i]);
		if (sqlite3_exec(db, sql, NULL, NULL, NULL)) {
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
	}
	return 0;
}

static int fail(struct alert_store *s, const char *what)
{
	snprintf(s->err, sizeof(s->err), "%s: %s", what, sqlite3_errmsg(s->db));
	return -1;
}

const char *alert_store_error(const struct alert_store *s)
{
	return s->err;
}

/*
 * selects(filter, container_id, container_name): whether the `--container`
 * filter selects a stored row's container, by the one definition the agent's
 * filter and the policies use (respond/selector.h), so `vigil alerts
 * --container X` keeps what `vigil run --container X` would have shown.
 */
static void sql_selects(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	const char *filter = (const char *)sqlite3_value_text(argv[0]);
	const char *id = (const char *)sqlite3_value_text(argv[1]);
	const char *name = (const char *)sqlite3_value_text(argv[2]);
	struct vg_container_meta m = { .name = (char *)name };

	if (!filter) {
		sqlite3_result_int(ctx, 0);
		return;
	}
	snprintf(m.id, sizeof(m.id), "%s", id ? id : "");
	sqlite3_result_int(ctx, selector_filter(filter, m.id[0] ? &m : NULL));
}

struct alert_store *alert_store_open(const char *path, bool readonly, char *err, size_t errlen)
{
	struct alert_store *s = xcalloc(1, sizeof(*s));
	int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;

	if (!readonly && path_mkdir_parent(path, 0700, err, errlen)) {
		free(s);
		return NULL;
	}
	mode_t old = umask(077); /* alerts name users, files and commands: not for everyone */
	int rc = sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
	umask(old);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot open store %s: %s", path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
		sqlite3_close(s->db);
		free(s);
		return NULL;
	}
	sqlite3_busy_timeout(s->db, STORE_BUSY_MS);
	if (sqlite3_create_function(s->db, "selects", 3, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, sql_selects,
				    NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot initialise store %s: %s", path, sqlite3_errmsg(s->db));
		alert_store_close(s);
		return NULL;
	}
	if (!readonly) {
		/* WAL: readers (vigil alerts) never block the agent. synchronous=NORMAL: a
		 * committed alert is in the database file's log before the agent prints it, so
		 * it survives the agent crashing or being killed; only a power loss or kernel
		 * crash before the next checkpoint can lose the last ones. FULL would fsync
		 * every batch (milliseconds each on virtual disks): set VIGIL_STORE_FSYNC=1. */
		const char *sync = getenv("VIGIL_STORE_FSYNC") && !strcmp(getenv("VIGIL_STORE_FSYNC"), "1")
					   ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
					   : "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;";
		if (sqlite3_exec(s->db, sync, NULL, NULL, NULL) ||
		    sqlite3_exec(s->db, schema, NULL, NULL, NULL) || add_uuids(s->db)) {
			snprintf(err, errlen, "cannot initialise store %s: %s", path, sqlite3_errmsg(s->db));
			alert_store_close(s);
			return NULL;
		}
		char pragma[64];
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version=%d;", STORE_SCHEMA_VERSION);
		sqlite3_exec(s->db, pragma, NULL, NULL, NULL);
		/* checkpoints on a thread of their own (output/wal_checkpointer.h) */
		char why[256];
		if (!(s->checkpointer = wal_checkpointer_start(s->db, path, WAL_RESTART_FRAMES, STORE_BUSY_MS, why, sizeof(why))))
			vg_warn("store: %s; commits checkpoint the store themselves", why);
		if (sqlite3_prepare_v2(s->db,
				       "INSERT INTO actions(time_ns, rule, action, target, container_id, container_name,"
				       " cgroup, outcome, detail, path, latency_ns, uuid)"
				       " VALUES (?,?,?,?,?,?,?,?,?,?,?," NEW_UUID ")",
				       -1, &s->insert_action, NULL)) {
			snprintf(err, errlen, "cannot prepare store %s: %s", path, sqlite3_errmsg(s->db));
			alert_store_close(s);
			return NULL;
		}
		if (sqlite3_prepare_v2(s->db,
				       "INSERT INTO alerts(time_ns, rule, priority, container_id, container_name,"
				       " k8s_namespace, k8s_pod, output, json, uuid) VALUES (?,?,?,?,?,?,?,?,?," NEW_UUID ")",
				       -1, &s->insert, NULL)) {
			snprintf(err, errlen, "cannot prepare store %s: %s", path, sqlite3_errmsg(s->db));
			alert_store_close(s);
			return NULL;
		}
	} else {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM alerts", -1, &st, NULL)) {
			snprintf(err, errlen, "%s is not a Vigil store: %s", path, sqlite3_errmsg(s->db));
			alert_store_close(s);
			return NULL;
		}
		sqlite3_finalize(st);
	}
	return s;
}

void alert_store_close(struct alert_store *s)
{
	if (!s)
		return;
	if (s->in_tx)
		alert_store_commit(s);
	if (s->checkpointer) {
		wal_checkpointer_stop(s->checkpointer);
		/* leave a compact database behind */
		sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	}
	sqlite3_finalize(s->insert);
	sqlite3_finalize(s->insert_action);
	sqlite3_close(s->db);
	free(s);
}

int alert_store_add_alert(struct alert_store *s, const struct alert *a, const char *json, uint64_t b2r)
{
	const struct vg_cgroup *cg = a->st ? state_cgroup(a->st, a->ev->hdr.cgroup_id) : NULL;
	const struct vg_container_meta *m = cg && cg->meta.id[0] ? &cg->meta : NULL;

	if (!s->in_tx) {
		if (sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL))
			return fail(s, "begin");
		s->in_tx = true;
	}
	sqlite3_reset(s->insert);
	sqlite3_bind_int64(s->insert, 1, (int64_t)(a->ev->hdr.ts + b2r));
	sqlite3_bind_text(s->insert, 2, a->name, -1, SQLITE_STATIC);
	sqlite3_bind_int(s->insert, 3, a->priority);
	sqlite3_bind_text(s->insert, 4, m ? m->id : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(s->insert, 5, m ? m->name : NULL, -1, SQLITE_STATIC);
	sqlite3_bind_text(s->insert, 6, m ? m->k8s_namespace : NULL, -1, SQLITE_STATIC);
	sqlite3_bind_text(s->insert, 7, m ? m->k8s_pod_name : NULL, -1, SQLITE_STATIC);
	sqlite3_bind_text(s->insert, 8, a->output, (int)a->output_len, SQLITE_STATIC);
	sqlite3_bind_text(s->insert, 9, json, -1, SQLITE_STATIC);
	if (sqlite3_step(s->insert) != SQLITE_DONE)
		return fail(s, "insert alert");
	return 0;
}

int alert_store_commit(struct alert_store *s)
{
	if (!s->in_tx)
		return 0;
	s->in_tx = false;
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL)) {
		fail(s, "commit");
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	if (s->on_commit)
		s->on_commit(s->on_commit_ctx);
	wal_checkpointer_after_commit(s->checkpointer, s->db);
	return 0;
}

void alert_store_on_commit(struct alert_store *s, void (*fn)(void *ctx), void *ctx)
{
	s->on_commit = fn;
	s->on_commit_ctx = ctx;
}

long alert_store_query_alerts(struct alert_store *s, const struct alert_store_query *q,
			      void (*fn)(void *ctx, const char *json), void *ctx)
{
	struct vg_buf sql = { 0 };
	sqlite3_stmt *st;
	long n = 0;
	int i = 1;

	buf_adds(&sql, "SELECT json FROM alerts WHERE 1");
	if (q->since_ns)
		buf_adds(&sql, " AND time_ns >= ?");
	if (q->rule)
		buf_adds(&sql, " AND rule = ?");
	if (q->max_priority >= 0)
		buf_adds(&sql, " AND priority <= ?");
	if (q->container)
		buf_adds(&sql, " AND selects(?, container_id, container_name)");
	buf_adds(&sql, " ORDER BY time_ns, id");
	if (q->limit > 0)
		buf_printf(&sql, " LIMIT %ld", q->limit);
	if (sqlite3_prepare_v2(s->db, sql.data, -1, &st, NULL)) {
		buf_free(&sql);
		return fail(s, "query");
	}
	buf_free(&sql);
	if (q->since_ns)
		sqlite3_bind_int64(st, i++, q->since_ns);
	if (q->rule)
		sqlite3_bind_text(st, i++, q->rule, -1, SQLITE_STATIC);
	if (q->max_priority >= 0)
		sqlite3_bind_int(st, i++, q->max_priority);
	if (q->container)
		sqlite3_bind_text(st, i++, q->container, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		fn(ctx, (const char *)sqlite3_column_text(st, 0));
		n++;
	}
	if (rc != SQLITE_DONE)
		n = fail(s, "query");
	sqlite3_finalize(st);
	return n;
}

int alert_store_add_action(struct alert_store *s, const struct alert_store_action *a)
{
	if (!s->in_tx) {
		if (sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL))
			return fail(s, "begin");
		s->in_tx = true;
	}
	sqlite3_stmt *st = s->insert_action;
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, a->time_ns);
	sqlite3_bind_text(st, 2, a->rule, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, a->action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, a->target, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, a->container_id ? a->container_id : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, a->container_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, a->cgroup ? a->cgroup : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, a->outcome, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, a->detail, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, a->path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 11, a->latency_ns);
	if (sqlite3_step(st) != SQLITE_DONE)
		return fail(s, "insert action");
	return 0;
}

long alert_store_query_actions(struct alert_store *s, const char *container,
			       void (*fn)(void *ctx, const struct alert_store_action *a), void *ctx)
{
	sqlite3_stmt *st;
	long n = 0;
	const char *sql = "SELECT time_ns, rule, action, target, container_id, container_name, cgroup, outcome,"
			  " detail, path, latency_ns FROM actions"
			  " WHERE ?1 IS NULL OR selects(?1, container_id, container_name)"
			  " ORDER BY time_ns, id";
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL))
		return fail(s, "query actions");
	sqlite3_bind_text(st, 1, container, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct alert_store_action a = {
			.time_ns = sqlite3_column_int64(st, 0),
			.rule = (const char *)sqlite3_column_text(st, 1),
			.action = (const char *)sqlite3_column_text(st, 2),
			.target = (const char *)sqlite3_column_text(st, 3),
			.container_id = (const char *)sqlite3_column_text(st, 4),
			.container_name = (const char *)sqlite3_column_text(st, 5),
			.cgroup = (const char *)sqlite3_column_text(st, 6),
			.outcome = (const char *)sqlite3_column_text(st, 7),
			.detail = (const char *)sqlite3_column_text(st, 8),
			.path = (const char *)sqlite3_column_text(st, 9),
			.latency_ns = sqlite3_column_int64(st, 10),
		};
		fn(ctx, &a);
		n++;
	}
	if (rc != SQLITE_DONE)
		n = fail(s, "query actions");
	sqlite3_finalize(st);
	return n;
}
