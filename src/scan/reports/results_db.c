/* SPDX-License-Identifier: Apache-2.0 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "scan/reports/report.h"
#include "scan/reports/results_db.h"

static const char reports_schema[] =
	"CREATE TABLE IF NOT EXISTS scan_reports(key TEXT PRIMARY KEY, target TEXT, kind TEXT,"
	" scanned_at INTEGER NOT NULL, report TEXT NOT NULL)";

static int exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

int results_db_put(const char *path, const struct scan_result *r, struct vg_buf *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *gate = NULL, *rep = NULL;
	struct vg_buf json = { 0 };
	long counts[SEV_COUNT] = { 0 };
	int ret = -1;
	const char *keys[2] = { r->image_digest, r->image_id };
	/* the webhook looks up manifest digests; an archive without one has only its ID */
	const char *gate_key = r->image_digest ? r->image_digest : r->image_id;

	if (!gate_key) {
		buf_printf(err, "cannot store the scan of %s: the image has no digest", r->target);
		return -1;
	}
	for (size_t i = 0; i < r->nvulns; i++) {
		counts[r->vulns[i].severity]++;
	}
	report_write(r, REPORT_JSON, false, &json);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		goto dberr;
	sqlite3_busy_timeout(db, 5000); /* the webhook may be reading */
	if (exec(db, "PRAGMA journal_mode=WAL") || exec(db, RESULTS_DB_SCANS_SCHEMA) ||
	    exec(db, reports_schema) || exec(db, "BEGIN IMMEDIATE") ||
	    sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO image_scans VALUES(?,?,?,?,?,?,?)", -1,
			       &gate, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO scan_reports VALUES(?,?,?,?,?)", -1, &rep,
			       NULL) != SQLITE_OK)
		goto dberr;
	sqlite3_int64 now = (sqlite3_int64)time(NULL);
	sqlite3_bind_text(gate, 1, gate_key, -1, SQLITE_STATIC);
	sqlite3_bind_text(gate, 2, r->tag ? r->tag : r->target, -1, SQLITE_STATIC);
	sqlite3_bind_int64(gate, 3, now);
	for (int s = 0; s < 4; s++) /* critical, high, medium, low */
		sqlite3_bind_int64(gate, 4 + s, counts[SEV_CRITICAL - s]);
	if (sqlite3_step(gate) != SQLITE_DONE)
		goto dberr;
	for (int k = 0; k < 2; k++) {
		if (!keys[k])
			continue;
		sqlite3_reset(rep);
		sqlite3_bind_text(rep, 1, keys[k], -1, SQLITE_STATIC);
		sqlite3_bind_text(rep, 2, r->target, -1, SQLITE_STATIC);
		sqlite3_bind_text(rep, 3, r->kind, -1, SQLITE_STATIC);
		sqlite3_bind_int64(rep, 4, now);
		sqlite3_bind_text(rep, 5, json.data ? json.data : "", (int)json.len, SQLITE_STATIC);
		if (sqlite3_step(rep) != SQLITE_DONE)
			goto dberr;
	}
	if (exec(db, "COMMIT"))
		goto dberr;
	ret = 0;
	goto out;
dberr:
	buf_printf(err, "cannot store the scan in %s: %s", path,
		   db ? sqlite3_errmsg(db) : "out of memory");
out:
	sqlite3_finalize(gate);
	sqlite3_finalize(rep);
	sqlite3_close(db); /* an open transaction is rolled back */
	buf_free(&json);
	return ret;
}

int results_db_get(const char *path, const char *digest, struct vg_buf *out, struct vg_buf *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int ret = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT report FROM scan_reports WHERE key = ?", -1, &st, NULL) !=
		    SQLITE_OK) {
		buf_printf(err, "cannot read the scan store %s: %s", path,
			   db ? sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(db, 5000);
	sqlite3_bind_text(st, 1, digest, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		buf_adds(out, (const char *)sqlite3_column_text(st, 0));
		ret = 1;
	} else if (rc == SQLITE_DONE) {
		ret = 0;
	} else {
		buf_printf(err, "cannot read the scan store %s: %s", path, sqlite3_errmsg(db));
	}
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return ret;
}

struct results_db {
	sqlite3 *db;
	sqlite3_stmt *q;
	pthread_mutex_t mu; /* one prepared statement, used by one request at a time */
};

struct results_db *results_db_open(const char *path, char *err, size_t errlen)
{
	struct results_db *s = xcalloc(1, sizeof(*s));
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db,
			       "SELECT critical, high, medium, low FROM image_scans WHERE digest = ?1",
			       -1, &s->q, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open scan results %s: %s", path,
			 s->db ? sqlite3_errmsg(s->db) : "out of memory");
		sqlite3_close(s->db);
		free(s);
		return NULL;
	}
	sqlite3_busy_timeout(s->db, 1000); /* the scanner may be writing */
	pthread_mutex_init(&s->mu, NULL);
	return s;
}

void results_db_close(struct results_db *s)
{
	if (!s)
		return;
	sqlite3_finalize(s->q);
	sqlite3_close(s->db);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

int results_db_max_severity(struct results_db *s, const char *digest, int *max, char *err,
			    size_t errlen)
{
	int rc;
	pthread_mutex_lock(&s->mu);
	sqlite3_reset(s->q);
	sqlite3_bind_text(s->q, 1, digest, -1, SQLITE_TRANSIENT);
	int step = sqlite3_step(s->q);
	if (step == SQLITE_ROW) {
		static const int sev[] = { SEV_CRITICAL, SEV_HIGH, SEV_MEDIUM, SEV_LOW };
		*max = -1;
		for (int i = 0; i < 4; i++)
			if (sqlite3_column_int64(s->q, i) > 0) {
				*max = sev[i];
				break;
			}
		rc = 1;
	} else if (step == SQLITE_DONE) {
		rc = 0;
	} else {
		snprintf(err, errlen, "cannot read scan results: %s", sqlite3_errmsg(s->db));
		rc = -1;
	}
	sqlite3_reset(s->q);
	pthread_mutex_unlock(&s->mu);
	return rc;
}
