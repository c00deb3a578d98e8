/* SPDX-License-Identifier: Apache-2.0 */
#include "hub/hub_scans.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hub/hub_flows.h"

static const char *const sev_names[HUB_SEV__N] = { "CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN" };
static const char *const sev_keys[HUB_SEV__N] = { "critical", "high", "medium", "low", "unknown" };

/* A string of 0 (or 1 when !empty_ok) to max bytes without control characters or NUL; NULL when not. */
static const char *text(json_t *o, const char *key, size_t max, bool empty_ok)
{
	json_t *v = json_object_get(o, key);
	const char *s = json_string_value(v);
	if (!s || json_string_length(v) > max || strlen(s) != json_string_length(v) || (!*s && !empty_ok))
		return NULL;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return NULL;
	return s;
}

static bool digest_ok(const char *s)
{
	if (!s || strncmp(s, "sha256:", 7) || strlen(s) != 71)
		return false;
	for (const char *p = s + 7; *p; p++)
		if (!isdigit((unsigned char)*p) && !(*p >= 'a' && *p <= 'f'))
			return false;
	return true;
}

static json_t *array(json_t *o, const char *key)
{
	json_t *a = json_object_get(o, key);
	return json_is_array(a) && json_array_size(a) <= HUB_SCAN_MAX_ITEMS ? a : NULL;
}

static int check_scan(struct hub_msg *m, struct hub_scan_fields *f, char *err, size_t errlen)
{
	json_t *b = m->body, *rep = json_object_get(b, "report");
	f->reference = text(b, "reference", 1024, false);
	f->digest = json_string_value(json_object_get(b, "digest"));
	if (!f->reference || !digest_ok(f->digest) || !m->time_ns) {
		snprintf(err, errlen, "a scan without a valid time, reference and digest (sha256:<64 hex>)");
		return -1;
	}
	json_t *pk = array(rep, "packages"), *vu = array(rep, "vulnerabilities"), *se = array(rep, "secrets"),
	       *co = array(rep, "config");
	if (!json_is_object(rep) || !pk || !vu || !se || !co) {
		snprintf(err, errlen, "a scan whose report lacks packages, vulnerabilities, secrets and config arrays (at most %d each)",
			 HUB_SCAN_MAX_ITEMS);
		return -1;
	}
	size_t i;
	json_t *v;
	json_array_foreach(pk, i, v)
	{
		if (!text(v, "name", HUB_SCAN_MAX_STR, false) || !text(v, "version", HUB_SCAN_MAX_STR, true)) {
			snprintf(err, errlen, "a scan's package %zu without a name and version", i);
			return -1;
		}
	}
	json_array_foreach(vu, i, v)
	{
		const char *sev = json_string_value(json_object_get(v, "severity"));
		int k = -1;
		for (int s = 0; sev && s < HUB_SEV__N; s++)
			if (!strcmp(sev, sev_names[s]))
				k = s;
		if (k < 0 || !text(v, "id", 256, false) || !text(v, "package", HUB_SCAN_MAX_STR, false)) {
			snprintf(err, errlen, "a scan's vulnerability %zu without an id, a package and a severity", i);
			return -1;
		}
		f->sev[k]++;
	}
	f->packages = (int64_t)json_array_size(pk);
	f->secrets = (int64_t)json_array_size(se);
	f->misconfigs = (int64_t)json_array_size(co);
	json_t *os = json_object_get(rep, "os");
	if (json_is_object(os)) {
		const char *id = text(os, "id", 64, true), *ver = text(os, "version", 64, true);
		if (id) {
			snprintf(f->osbuf, sizeof(f->osbuf), "%s%s%s", id, ver ? " " : "", ver ? ver : "");
			f->os = f->osbuf;
		}
	}
	f->sbom_format = json_string_value(json_object_get(b, "sbom_format"));
	json_t *sb = json_object_get(b, "sbom");
	if (!f->sbom_format || (strcmp(f->sbom_format, "cyclonedx") && strcmp(f->sbom_format, "spdx")) ||
	    !json_is_string(sb)) {
		snprintf(err, errlen, "a scan without an SBOM (sbom_format cyclonedx or spdx, sbom a string)");
		return -1;
	}
	f->sbom = json_string_value(sb);
	f->sbom_len = json_string_length(sb);
	json_error_t je;
	json_t *doc = strlen(f->sbom) == f->sbom_len ? json_loadb(f->sbom, f->sbom_len, 0, &je) : NULL;
	bool ok = json_is_object(doc);
	json_decref(doc);
	if (!ok) {
		snprintf(err, errlen, "a scan whose SBOM is not one JSON object");
		return -1;
	}
	f->report = json_dumps(rep, JSON_COMPACT);
	if (!f->report) {
		snprintf(err, errlen, "a scan whose report cannot be written back");
		return -1;
	}
	return 0;
}

static int check_admission(struct hub_msg *m, struct hub_scan_fields *f, char *err, size_t errlen)
{
	json_t *b = m->body, *al = json_object_get(b, "allowed");
	f->uid = text(b, "uid", 256, true);
	f->operation = text(b, "operation", 16, true);
	f->obj_kind = text(b, "kind", 64, true);
	f->ns = text(b, "namespace", 256, true);
	f->name = text(b, "name", 256, true);
	f->user = text(b, "user", 256, true);
	f->reason = text(b, "reason", 64, true);
	f->policy_version = text(b, "policy_version", 128, true);
	/* the status message may hold newlines (one violation a line): bounded, no NUL */
	json_t *msg = json_object_get(b, "message");
	f->message = json_string_value(msg);
	if (f->message && (json_string_length(msg) > 65536 || strlen(f->message) != json_string_length(msg)))
		f->message = NULL;
	if (!json_is_boolean(al) || !m->time_ns || !f->uid || !f->operation || !f->obj_kind || !f->ns || !f->name ||
	    !f->user || !f->reason || !f->policy_version || !f->message) {
		snprintf(err, errlen, "an admission decision without a valid time, uid, operation, kind, namespace, name,"
				      " user, allowed, reason, message and policy_version");
		return -1;
	}
	f->allowed = json_is_true(al);
	return 0;
}

int hub_scans_check(struct hub_msg *m, char *err, size_t errlen)
{
	struct hub_scan_fields *f = calloc(1, sizeof(*f));
	if (!f) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	m->scan = f;
	return m->kind == HUB_SCAN ? check_scan(m, f, err, errlen) : check_admission(m, f, err, errlen);
}

void hub_scans_fields_free(struct hub_msg *m)
{
	if (!m->scan)
		return;
	free(m->scan->report);
	free(m->scan);
	m->scan = NULL;
}

/* ---- the store ---- */

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS image_scans (id INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE,"
	" cluster TEXT NOT NULL, node TEXT NOT NULL, time_ns INTEGER NOT NULL, recv_ns INTEGER NOT NULL,"
	" reference TEXT NOT NULL, digest TEXT NOT NULL, os TEXT, packages INTEGER NOT NULL,"
	" critical INTEGER NOT NULL, high INTEGER NOT NULL, medium INTEGER NOT NULL, low INTEGER NOT NULL,"
	" unknown INTEGER NOT NULL, secrets INTEGER NOT NULL, misconfigs INTEGER NOT NULL,"
	" report TEXT NOT NULL, sbom_format TEXT NOT NULL, sbom TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS image_scans_digest ON image_scans(digest, id);"
	"CREATE TABLE IF NOT EXISTS admissions (id INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE,"
	" cluster TEXT NOT NULL, node TEXT NOT NULL, time_ns INTEGER NOT NULL, recv_ns INTEGER NOT NULL,"
	" uid TEXT NOT NULL, operation TEXT NOT NULL, kind TEXT NOT NULL, namespace TEXT NOT NULL,"
	" name TEXT NOT NULL, user TEXT NOT NULL, allowed INTEGER NOT NULL, reason TEXT NOT NULL,"
	" message TEXT NOT NULL, policy_version TEXT NOT NULL, json TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS admissions_ns ON admissions(namespace, id);"
	"CREATE INDEX IF NOT EXISTS admissions_time ON admissions(time_ns);";

int hub_scans_schema(sqlite3 *db, char *err, size_t errlen)
{
	if (sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot set up the hub's scans and admissions: %s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

static void bt(sqlite3_stmt *st, int i, const char *s)
{
	sqlite3_bind_text(st, i, s ? s : "", -1, SQLITE_STATIC);
}

int hub_scans_add(sqlite3 *db, const struct hub_msg *m, int64_t recv_ns)
{
	const struct hub_scan_fields *f = m->scan;
	sqlite3_stmt *st = NULL;
	if (!f)
		return -1;
	const char *sql =
		m->kind == HUB_SCAN
			? "INSERT INTO image_scans (uuid, cluster, node, time_ns, recv_ns, reference, digest, os, packages,"
			  " critical, high, medium, low, unknown, secrets, misconfigs, report, sbom_format, sbom)"
			  " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19)"
			  " ON CONFLICT(uuid) DO NOTHING"
			: "INSERT INTO admissions (uuid, cluster, node, time_ns, recv_ns, uid, operation, kind, namespace,"
			  " name, user, allowed, reason, message, policy_version, json)"
			  " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16) ON CONFLICT(uuid) DO NOTHING";
	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
		return -1;
	bt(st, 1, m->uuid);
	bt(st, 2, m->cluster);
	bt(st, 3, m->node);
	sqlite3_bind_int64(st, 4, m->time_ns);
	sqlite3_bind_int64(st, 5, recv_ns);
	if (m->kind == HUB_SCAN) {
		bt(st, 6, f->reference);
		bt(st, 7, f->digest);
		if (f->os)
			sqlite3_bind_text(st, 8, f->os, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 9, f->packages);
		for (int i = 0; i < HUB_SEV__N; i++)
			sqlite3_bind_int64(st, 10 + i, f->sev[i]);
		sqlite3_bind_int64(st, 15, f->secrets);
		sqlite3_bind_int64(st, 16, f->misconfigs);
		bt(st, 17, f->report);
		bt(st, 18, f->sbom_format);
		sqlite3_bind_text(st, 19, f->sbom, (int)f->sbom_len, SQLITE_STATIC);
	} else {
		bt(st, 6, f->uid);
		bt(st, 7, f->operation);
		bt(st, 8, f->obj_kind);
		bt(st, 9, f->ns);
		bt(st, 10, f->name);
		bt(st, 11, f->user);
		sqlite3_bind_int(st, 12, f->allowed);
		bt(st, 13, f->reason);
		bt(st, 14, f->message);
		bt(st, 15, f->policy_version);
		sqlite3_bind_text(st, 16, m->raw, (int)m->raw_len, SQLITE_STATIC);
	}
	int rc = sqlite3_step(st);
	int changed = sqlite3_changes(db);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return -1;
	return changed ? 1 : 0;
}

static void iso(char *buf, size_t len, int64_t ns)
{
	time_t sec = ns / 1000000000LL;
	struct tm tm;
	gmtime_r(&sec, &tm);
	size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%09lldZ", (long long)(ns % 1000000000LL));
}

static const char *col(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);
	return s ? s : "";
}

#define IMAGE_COLS                                                                                                  \
	"s.id, s.digest, s.reference, s.cluster, s.node, s.time_ns, s.recv_ns, s.os, s.packages, s.critical, s.high," \
	" s.medium, s.low, s.unknown, s.secrets, s.misconfigs, s.sbom_format"

static void image_json(struct vg_json *j, const char *key, sqlite3_stmt *st)
{
	char t[40];
	jw_obj_begin(j, key);
	jw_int(j, "id", sqlite3_column_int64(st, 0));
	jw_str(j, "digest", col(st, 1));
	jw_str(j, "reference", col(st, 2));
	jw_str(j, "cluster", col(st, 3));
	jw_str(j, "node", col(st, 4));
	iso(t, sizeof(t), sqlite3_column_int64(st, 5));
	jw_str(j, "scanned", t);
	iso(t, sizeof(t), sqlite3_column_int64(st, 6));
	jw_str(j, "received", t);
	if (sqlite3_column_type(st, 7) == SQLITE_NULL)
		jw_null(j, "os");
	else
		jw_str(j, "os", col(st, 7));
	jw_int(j, "packages", sqlite3_column_int64(st, 8));
	jw_obj_begin(j, "vulnerabilities");
	for (int i = 0; i < HUB_SEV__N; i++)
		jw_int(j, sev_keys[i], sqlite3_column_int64(st, 9 + i));
	jw_obj_end(j);
	jw_int(j, "secrets", sqlite3_column_int64(st, 14));
	jw_int(j, "misconfigurations", sqlite3_column_int64(st, 15));
	jw_str(j, "sbom_format", col(st, 16));
	jw_obj_end(j);
}

/* A page's end: the array closed, the statement's error said, the cursor of the next page. */
static long page_end(struct vg_json *j, sqlite3 *db, sqlite3_stmt *st, int rc, bool more, int64_t last, long n,
		    const char *what, char *err, size_t errlen)
{
	jw_arr_end(j);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	if (more) {
		char c[24];
		snprintf(c, sizeof(c), "%lld", (long long)last);
		jw_str(j, "next_cursor", c);
	} else
		jw_null(j, "next_cursor");
	jw_obj_end(j);
	return n;
}

long hub_images_list(sqlite3 *db, const struct hub_images_query *q, struct vg_buf *out, char *err, size_t errlen)
{
	static const char *const sev_cond[HUB_SEV__N] = {
		" AND s.critical > 0",
		" AND s.critical + s.high > 0",
		" AND s.critical + s.high + s.medium > 0",
		" AND s.critical + s.high + s.medium + s.low > 0",
		" AND s.critical + s.high + s.medium + s.low + s.unknown > 0",
	};
	struct vg_buf sql = { 0 };
	buf_adds(&sql, "SELECT " IMAGE_COLS " FROM image_scans s"
		       " WHERE s.id = (SELECT max(id) FROM image_scans WHERE digest = s.digest) AND s.id > ?1"
		       " AND (?2 IS NULL OR s.cluster = ?2) AND (?3 IS NULL OR s.node = ?3)"
		       " AND (?4 IS NULL OR instr(s.reference, ?4) > 0)"
		       " AND (?5 IS NULL OR substr(s.digest, 1, length(?5)) = ?5)");
	if (q->min_sev >= 0 && q->min_sev < HUB_SEV__N)
		buf_adds(&sql, sev_cond[q->min_sev]);
	buf_adds(&sql, " ORDER BY s.id LIMIT ?6");
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql.data, -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "images: %s", sqlite3_errmsg(db));
		buf_free(&sql);
		return -1;
	}
	buf_free(&sql);
	sqlite3_bind_int64(st, 1, q->after_id);
	const char *t[4] = { q->cluster, q->node, q->reference, q->digest };
	for (int i = 0; i < 4; i++)
		if (t[i])
			sqlite3_bind_text(st, 2 + i, t[i], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, q->limit + 1);
	struct vg_json j;
	jw_init(&j, out);
	jw_obj_begin(&j, NULL);
	jw_arr_begin(&j, "images");
	long n = 0;
	int64_t last = 0;
	bool more = false;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == q->limit) {
			more = true;
			break;
		}
		image_json(&j, NULL, st);
		last = sqlite3_column_int64(st, 0);
		n++;
	}
	return page_end(&j, db, st, rc, more, last, n, "images", err, errlen);
}

int hub_image_get(sqlite3 *db, const char *digest, struct vg_buf *out, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db,
			       "SELECT " IMAGE_COLS ", s.report FROM image_scans s WHERE s.digest = ?1"
			       " ORDER BY s.id DESC LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "image: %s", sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_bind_text(st, 1, digest, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st), ret = 0;
	if (rc == SQLITE_ROW) {
		struct vg_json j;
		jw_init(&j, out);
		jw_obj_begin(&j, NULL);
		image_json(&j, "image", st);
		jw_raw(&j, "report", col(st, 17));
		jw_obj_end(&j);
		ret = 1;
	} else if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "image: %s", sqlite3_errmsg(db));
		ret = -1;
	}
	sqlite3_finalize(st);
	return ret;
}

int hub_image_sbom(sqlite3 *db, const char *digest, struct vg_buf *out, char *format, size_t flen, char *err,
		   size_t errlen)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT sbom_format, sbom FROM image_scans WHERE digest = ?1 ORDER BY id DESC LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "sbom: %s", sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_bind_text(st, 1, digest, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st), ret = 0;
	if (rc == SQLITE_ROW) {
		snprintf(format, flen, "%s", col(st, 0));
		buf_add(out, sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1));
		ret = 1;
	} else if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "sbom: %s", sqlite3_errmsg(db));
		ret = -1;
	}
	sqlite3_finalize(st);
	return ret;
}

long hub_admissions_list(sqlite3 *db, const struct hub_adm_query *q, struct vg_buf *out, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db,
			       "SELECT id, uuid, cluster, node, time_ns, recv_ns, uid, operation, kind, namespace, name, user,"
			       " allowed, reason, message, policy_version FROM admissions WHERE id > ?1"
			       " AND (?2 IS NULL OR cluster = ?2) AND (?3 IS NULL OR node = ?3)"
			       " AND (?4 IS NULL OR namespace = ?4) AND (?5 IS NULL OR allowed = ?5)"
			       " AND (?6 IS NULL OR time_ns >= ?6) AND (?7 IS NULL OR time_ns < ?7)"
			       " ORDER BY id LIMIT ?8",
			       -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "admissions: %s", sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_bind_int64(st, 1, q->after_id);
	const char *t[3] = { q->cluster, q->node, q->ns };
	for (int i = 0; i < 3; i++)
		if (t[i])
			sqlite3_bind_text(st, 2 + i, t[i], -1, SQLITE_STATIC);
	if (q->allowed >= 0)
		sqlite3_bind_int(st, 5, q->allowed);
	if (q->since_ns)
		sqlite3_bind_int64(st, 6, q->since_ns);
	if (q->until_ns)
		sqlite3_bind_int64(st, 7, q->until_ns);
	sqlite3_bind_int64(st, 8, q->limit + 1);
	struct vg_json j;
	char ts[40];
	jw_init(&j, out);
	jw_obj_begin(&j, NULL);
	jw_arr_begin(&j, "admissions");
	long n = 0;
	int64_t last = 0;
	bool more = false;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == q->limit) {
			more = true;
			break;
		}
		jw_obj_begin(&j, NULL);
		jw_int(&j, "id", sqlite3_column_int64(st, 0));
		jw_str(&j, "uuid", col(st, 1));
		jw_str(&j, "cluster", col(st, 2));
		jw_str(&j, "node", col(st, 3));
		iso(ts, sizeof(ts), sqlite3_column_int64(st, 4));
		jw_str(&j, "time", ts);
		iso(ts, sizeof(ts), sqlite3_column_int64(st, 5));
		jw_str(&j, "received", ts);
		jw_str(&j, "uid", col(st, 6));
		jw_str(&j, "operation", col(st, 7));
		jw_str(&j, "kind", col(st, 8));
		jw_str(&j, "namespace", col(st, 9));
		jw_str(&j, "name", col(st, 10));
		jw_str(&j, "user", col(st, 11));
		jw_bool(&j, "allowed", sqlite3_column_int(st, 12));
		jw_str(&j, "reason", col(st, 13));
		jw_str(&j, "message", col(st, 14));
		jw_str(&j, "policy_version", col(st, 15));
		jw_obj_end(&j);
		last = sqlite3_column_int64(st, 0);
		n++;
	}
	return page_end(&j, db, st, rc, more, last, n, "admissions", err, errlen);
}

long hub_scans_retain(sqlite3 *db, int64_t cutoff_ns, long batch, char *err, size_t errlen)
{
	/* as the alerts: the oldest by id (the order of receipt), those received before the cutoff */
	static const char *const sql[] = {
		"DELETE FROM image_scans WHERE id IN (SELECT id FROM (SELECT id, recv_ns FROM image_scans ORDER BY id"
		" LIMIT ?2) WHERE recv_ns < ?1)",
		"DELETE FROM admissions WHERE id IN (SELECT id FROM (SELECT id, recv_ns FROM admissions ORDER BY id"
		" LIMIT ?2) WHERE recv_ns < ?1)",
	};
	long most = 0;
	for (size_t i = 0; i < sizeof(sql) / sizeof(*sql); i++) {
		long n = hub_retain_delete(db, sql[i], cutoff_ns, batch, "retention of scans and admissions", err,
					   errlen);
		if (n < 0)
			return -1;
		if (n > most)
			most = n;
	}
	return most;
}
