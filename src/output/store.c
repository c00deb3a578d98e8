/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "common/buf.h"
#include "common/log.h"
#include "output/store.h"

#define STORE_SCHEMA_VERSION 1

struct store {
	sqlite3 *db;
	sqlite3_stmt *insert;
	bool in_tx;
	char err[256];
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
	" json TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS alerts_time ON alerts(time_ns);"
	"CREATE INDEX IF NOT EXISTS alerts_rule ON alerts(rule, time_ns);"
	"CREATE INDEX IF NOT EXISTS alerts_container ON alerts(container_id, time_ns);";

static int fail(struct store *s, const char *what)
{
	snprintf(s->err, sizeof(s->err), "%s: %s", what, sqlite3_errmsg(s->db));
	return -1;
}

const char *store_error(const struct store *s)
{
	return s->err;
}

/* mkdir -p for the store's directory, private to root */
static int make_parent(const char *path, char *err, size_t errlen)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir) {
		free(dir);
		return 0;
	}
	*slash = 0;
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(dir, 0755) && errno != EEXIST)
			goto bad;
		*p = '/';
	}
	if (mkdir(dir, 0700) && errno != EEXIST)
		goto bad;
	free(dir);
	return 0;
bad:
	snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
	free(dir);
	return -1;
}

struct store *store_open(const char *path, bool readonly, char *err, size_t errlen)
{
	struct store *s = xcalloc(1, sizeof(*s));
	int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;

	if (!readonly && make_parent(path, err, errlen)) {
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
	sqlite3_busy_timeout(s->db, 5000);
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
		    sqlite3_exec(s->db, schema, NULL, NULL, NULL)) {
			snprintf(err, errlen, "cannot initialise store %s: %s", path, sqlite3_errmsg(s->db));
			store_close(s);
			return NULL;
		}
		char pragma[64];
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version=%d;", STORE_SCHEMA_VERSION);
		sqlite3_exec(s->db, pragma, NULL, NULL, NULL);
		if (sqlite3_prepare_v2(s->db,
				       "INSERT INTO alerts(time_ns, rule, priority, container_id, container_name,"
				       " k8s_namespace, k8s_pod, output, json) VALUES (?,?,?,?,?,?,?,?,?)",
				       -1, &s->insert, NULL)) {
			snprintf(err, errlen, "cannot prepare store %s: %s", path, sqlite3_errmsg(s->db));
			store_close(s);
			return NULL;
		}
	} else {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM alerts", -1, &st, NULL)) {
			snprintf(err, errlen, "%s is not a Vigil store: %s", path, sqlite3_errmsg(s->db));
			store_close(s);
			return NULL;
		}
		sqlite3_finalize(st);
	}
	return s;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	if (s->in_tx)
		store_commit(s);
	sqlite3_finalize(s->insert);
	sqlite3_close(s->db);
	free(s);
}

int store_add_alert(struct store *s, const struct alert *a, const char *json, uint64_t b2r)
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

int store_commit(struct store *s)
{
	if (!s->in_tx)
		return 0;
	s->in_tx = false;
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL)) {
		fail(s, "commit");
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

long store_query_alerts(struct store *s, const struct store_query *q, void (*fn)(void *ctx, const char *json),
			void *ctx)
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
		buf_adds(&sql, " AND (substr(container_id, 1, length(?)) = ? OR container_name = ?"
			       " OR (? = 'host' AND container_id = ''))");
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
		for (int k = 0; k < 4; k++)
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
