/* SPDX-License-Identifier: Apache-2.0 */
/* The flow features' memory in the store (flow_seen.h). */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/buf.h"
#include "output/flow_seen.h"

#define PENDING_MAX 4096

struct row {
	char *workload, *dest;
	int64_t ts;
};

struct flow_seen {
	sqlite3 *db;
	sqlite3_stmt *ins, *prune;
	size_t max_rows;
	struct row *pending;
	size_t npending;
	char err[256];
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS flow_seen ("
	" workload TEXT NOT NULL, dest TEXT NOT NULL, first_seen INTEGER NOT NULL,"
	" PRIMARY KEY (workload, dest));"
	"CREATE INDEX IF NOT EXISTS flow_seen_first ON flow_seen(first_seen);";

struct flow_seen *flow_seen_open(const char *path, size_t max_rows, char *err, size_t errlen)
{
	struct flow_seen *s = xcalloc(1, sizeof(*s));
	s->max_rows = max_rows ? max_rows : FLOW_SEEN_MAX_ROWS;
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK)
		goto bad;
	sqlite3_busy_timeout(s->db, 5000);
	if (sqlite3_exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL, NULL) ||
	    sqlite3_exec(s->db, schema, NULL, NULL, NULL) ||
	    sqlite3_prepare_v2(s->db,
			       "INSERT INTO flow_seen(workload, dest, first_seen) VALUES (?, ?, ?)"
			       " ON CONFLICT(workload, dest) DO UPDATE SET first_seen = min(first_seen, excluded.first_seen)",
			       -1, &s->ins, NULL) ||
	    sqlite3_prepare_v2(s->db,
			       "DELETE FROM flow_seen WHERE rowid IN (SELECT rowid FROM flow_seen"
			       " ORDER BY first_seen DESC LIMIT -1 OFFSET ?)",
			       -1, &s->prune, NULL))
		goto bad;
	s->pending = xcalloc(PENDING_MAX, sizeof(*s->pending));
	return s;
bad:
	snprintf(err, errlen, "cannot open the flow memory in %s: %s", path,
		 s->db ? sqlite3_errmsg(s->db) : "out of memory");
	sqlite3_finalize(s->ins);
	sqlite3_close(s->db);
	free(s);
	return NULL;
}

const char *flow_seen_error(const struct flow_seen *s)
{
	return s->err;
}

int flow_seen_load(struct flow_seen *s, void (*fn)(void *ctx, const char *workload, const char *dest, int64_t wall_ns),
		   void *ctx)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(s->db,
			       "SELECT workload, dest, first_seen FROM flow_seen ORDER BY first_seen DESC LIMIT ?", -1,
			       &q, NULL)) {
		snprintf(s->err, sizeof(s->err), "%s", sqlite3_errmsg(s->db));
		return -1;
	}
	sqlite3_bind_int64(q, 1, (sqlite3_int64)s->max_rows);
	int rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *w = (const char *)sqlite3_column_text(q, 0), *d = (const char *)sqlite3_column_text(q, 1);
		if (w && d)
			fn(ctx, w, d[0] ? d : NULL, sqlite3_column_int64(q, 2));
	}
	if (rc != SQLITE_DONE)
		snprintf(s->err, sizeof(s->err), "%s", sqlite3_errmsg(s->db));
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? 0 : -1;
}

void flow_seen_add(struct flow_seen *s, const char *workload, const char *dest, int64_t wall_ns)
{
	if (s->npending >= PENDING_MAX)
		flow_seen_flush(s); /* on failure the batch is dropped: pending stays bounded */
	struct row *r = &s->pending[s->npending++];
	r->workload = xstrdup(workload);
	r->dest = xstrdup(dest ? dest : "");
	r->ts = wall_ns;
}

static void drop_pending(struct flow_seen *s)
{
	for (size_t i = 0; i < s->npending; i++) {
		free(s->pending[i].workload);
		free(s->pending[i].dest);
	}
	s->npending = 0;
}

int flow_seen_flush(struct flow_seen *s)
{
	int ret = 0;
	if (!s->npending)
		return 0;
	if (sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL))
		goto bad;
	for (size_t i = 0; i < s->npending; i++) {
		struct row *r = &s->pending[i];
		sqlite3_reset(s->ins);
		sqlite3_bind_text(s->ins, 1, r->workload, -1, SQLITE_STATIC);
		sqlite3_bind_text(s->ins, 2, r->dest, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s->ins, 3, r->ts);
		if (sqlite3_step(s->ins) != SQLITE_DONE)
			goto rollback;
	}
	sqlite3_reset(s->prune);
	sqlite3_bind_int64(s->prune, 1, (sqlite3_int64)s->max_rows);
	if (sqlite3_step(s->prune) != SQLITE_DONE)
		goto rollback;
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL))
		goto rollback;
	goto out;
rollback:
	snprintf(s->err, sizeof(s->err), "%s", sqlite3_errmsg(s->db));
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	ret = -1;
	goto out;
bad:
	snprintf(s->err, sizeof(s->err), "%s", sqlite3_errmsg(s->db));
	ret = -1;
out:
	sqlite3_reset(s->ins);
	sqlite3_reset(s->prune);
	drop_pending(s);
	return ret;
}

void flow_seen_close(struct flow_seen *s)
{
	if (!s)
		return;
	flow_seen_flush(s);
	free(s->pending);
	sqlite3_finalize(s->ins);
	sqlite3_finalize(s->prune);
	sqlite3_close(s->db);
	free(s);
}
