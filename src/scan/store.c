/* SPDX-License-Identifier: Apache-2.0 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "scan/report.h"
#include "scan/store.h"

static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"CREATE TABLE IF NOT EXISTS scans(key TEXT PRIMARY KEY, target TEXT, kind TEXT,"
	" scanned_at TEXT, critical INTEGER, high INTEGER, medium INTEGER, low INTEGER,"
	" unknown INTEGER, secrets INTEGER, config INTEGER, report TEXT);";

int scan_store_put(const char *path, const struct scan_result *r, struct vg_buf *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	struct vg_buf json = { 0 };
	long counts[5] = { 0 };
	char now[32];
	time_t t = time(NULL);
	struct tm tm;
	int ret = -1;
	const char *keys[2] = { r->image_digest, r->image_id };

	if (!r->image_digest && !r->image_id) {
		buf_printf(err, "cannot store the scan of %s: the image has no digest", r->target);
		return -1;
	}
	for (size_t i = 0; i < r->nvulns; i++) {
		int k = scan_severity_rank(r->vulns[i].severity);
		counts[k < 0 ? 0 : k]++;
	}
	gmtime_r(&t, &tm);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
	report_write(r, REPORT_JSON, false, &json);
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO scans VALUES(?,?,?,?,?,?,?,?,?,?,?,?)", -1,
			       &st, NULL) != SQLITE_OK) {
		buf_printf(err, "cannot store the scan in %s: %s", path, sqlite3_errmsg(db));
		goto out;
	}
	for (int k = 0; k < 2; k++) {
		if (!keys[k])
			continue;
		sqlite3_bind_text(st, 1, keys[k], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, r->target, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, r->kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, now, -1, SQLITE_STATIC);
		for (int s = 0; s < 5; s++)
			sqlite3_bind_int64(st, 5 + s, counts[4 - s]);
		sqlite3_bind_int64(st, 10, (sqlite3_int64)r->nsecrets);
		sqlite3_bind_int64(st, 11, (sqlite3_int64)r->nconfig);
		sqlite3_bind_text(st, 12, json.data ? json.data : "", (int)json.len, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			buf_printf(err, "cannot store the scan in %s: %s", path, sqlite3_errmsg(db));
			goto out;
		}
		sqlite3_reset(st);
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	buf_free(&json);
	return ret;
}

int scan_store_get(const char *path, const char *digest, struct vg_buf *out, struct vg_buf *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int ret = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT report FROM scans WHERE key = ?", -1, &st, NULL) !=
		    SQLITE_OK) {
		buf_printf(err, "cannot read the scan store %s: %s", path, sqlite3_errmsg(db));
		goto out;
	}
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
