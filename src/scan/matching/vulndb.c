/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "scan/matching/osv.h"
#include "scan/matching/vercmp.h"
#include "scan/matching/vulndb.h"
#include "scan/sources/libarchive.h"

#define RECORD_MAX (16u << 20) /* the largest OSV records are a few MB */

static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);"
	"INSERT OR IGNORE INTO meta VALUES('schema', '1');"
	"CREATE TABLE IF NOT EXISTS vulns(id TEXT PRIMARY KEY, modified TEXT, published TEXT,"
	" withdrawn TEXT, summary TEXT, aliases TEXT, severity TEXT, score REAL, imported TEXT);"
	"CREATE TABLE IF NOT EXISTS affected(vuln_id TEXT NOT NULL, ecosystem TEXT NOT NULL,"
	" base TEXT NOT NULL, name TEXT NOT NULL, ranges TEXT, versions TEXT);"
	"CREATE INDEX IF NOT EXISTS affected_pkg ON affected(base, name);"
	"CREATE INDEX IF NOT EXISTS affected_vuln ON affected(vuln_id);";

sqlite3 *vulndb_open(const char *path, bool create, struct vg_buf *err)
{
	sqlite3 *db = NULL;
	int flags = create ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY;

	if (!create && access(path, R_OK)) {
		buf_printf(err, "cannot open database %s: %s (run 'vigil db import')", path,
			   strerror(errno));
		return NULL;
	}
	if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
		buf_printf(err, "cannot open database %s: %s", path, sqlite3_errmsg(db));
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 5000);
	if (create && sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK) {
		buf_printf(err, "cannot create database %s: %s", path, sqlite3_errmsg(db));
		sqlite3_close(db);
		return NULL;
	}
	char *v = NULL;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key='schema'", -1, &st, NULL) ==
		    SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (!v || strcmp(v, "1")) {
		buf_printf(err, "%s is not a vigil vulnerability database (schema %s)", path,
			   v ? v : "missing");
		free(v);
		sqlite3_close(db);
		return NULL;
	}
	free(v);
	return db;
}

void vulndb_close(sqlite3 *db)
{
	sqlite3_close(db);
}

struct importer {
	sqlite3 *db;
	sqlite3_stmt *del, *ins_v, *ins_a;
	struct vulndb_stats *st;
	char now[32];
};

static void imp_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

/* Import one record's bytes; a bad record is a warning, a database error is fatal. */
static int imp_record(struct importer *im, const char *data, size_t len, const char *name,
		      struct vg_buf *err)
{
	struct osv_record r;
	struct vg_buf why = { 0 };

	if (osv_parse(data, len, name, &r, &why)) {
		fprintf(stderr, "vigil: %s\n", why.data);
		buf_free(&why);
		im->st->skipped++;
		return 0;
	}
	sqlite3_bind_text(im->del, 1, r.id, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(im->del);
	sqlite3_reset(im->del);
	imp_text(im->ins_v, 1, r.id);
	imp_text(im->ins_v, 2, r.modified);
	imp_text(im->ins_v, 3, r.published);
	imp_text(im->ins_v, 4, r.withdrawn);
	imp_text(im->ins_v, 5, r.summary);
	imp_text(im->ins_v, 6, r.aliases);
	imp_text(im->ins_v, 7, severity_name(r.severity));
	if (r.score >= 0)
		sqlite3_bind_double(im->ins_v, 8, r.score);
	else
		sqlite3_bind_null(im->ins_v, 8);
	imp_text(im->ins_v, 9, im->now);
	if (rc == SQLITE_DONE)
		rc = sqlite3_step(im->ins_v);
	sqlite3_reset(im->ins_v);
	for (size_t i = 0; i < r.naffected && rc == SQLITE_DONE; i++) {
		struct osv_affected *a = &r.affected[i];
		size_t bl = strcspn(a->ecosystem, ":");
		imp_text(im->ins_a, 1, r.id);
		imp_text(im->ins_a, 2, a->ecosystem);
		sqlite3_bind_text(im->ins_a, 3, a->ecosystem, (int)bl, SQLITE_TRANSIENT);
		imp_text(im->ins_a, 4, a->name);
		imp_text(im->ins_a, 5, a->ranges);
		imp_text(im->ins_a, 6, a->versions);
		rc = sqlite3_step(im->ins_a);
		sqlite3_reset(im->ins_a);
	}
	osv_record_free(&r);
	if (rc != SQLITE_DONE) {
		buf_printf(err, "cannot import %s: %s", name, sqlite3_errmsg(im->db));
		return -1;
	}
	im->st->records++;
	return 0;
}

static bool has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);
	return n >= m && !strcmp(s + n - m, suf);
}

static int imp_file(struct importer *im, const char *path, struct vg_buf *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat sb;

	if (fd < 0 || fstat(fd, &sb) || !S_ISREG(sb.st_mode) || sb.st_size > RECORD_MAX) {
		fprintf(stderr, "vigil: skipping %s: %s\n", path,
			fd < 0 ? strerror(errno) : "not a regular file of at most 16 MiB");
		if (fd >= 0)
			close(fd);
		im->st->skipped++;
		return 0;
	}
	char *d = xmalloc((size_t)sb.st_size + 1);
	ssize_t n = read(fd, d, (size_t)sb.st_size);
	close(fd);
	int rc = 0;
	if (n != sb.st_size) {
		fprintf(stderr, "vigil: cannot read %s\n", path);
		im->st->skipped++;
	} else {
		rc = imp_record(im, d, (size_t)n, path, err);
	}
	free(d);
	return rc;
}

static int imp_dir(struct importer *im, const char *dir, int depth, struct vg_buf *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int rc = 0;

	if (!d) {
		buf_printf(err, "cannot open %s: %s", dir, strerror(errno));
		return -1;
	}
	/* sorted, so that duplicate ids resolve the same way on every machine */
	char **names = NULL;
	size_t n = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		names = xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n > 1) /* names is NULL when the directory is empty */
		qsort(names, n, sizeof(*names), (int (*)(const void *, const void *))strcmp);
	for (size_t i = 0; i < n; i++) {
		char p[4096];
		struct stat sb;
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		if (!rc && !lstat(p, &sb)) {
			if (S_ISDIR(sb.st_mode) && depth < 8)
				rc = imp_dir(im, p, depth + 1, err);
			else if (S_ISREG(sb.st_mode) && has_suffix(names[i], ".json"))
				rc = imp_file(im, p, err);
		}
		free(names[i]);
	}
	free(names);
	return rc;
}


static int imp_zip(struct importer *im, const char *path, struct vg_buf *err)
{
	const char *why = libarchive_load();
	if (why) {
		buf_printf(err, "%s", why);
		return -1;
	}
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	int rc = 0, r;

	archive_read_support_format_zip(a);
	if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK) {
		buf_printf(err, "cannot open %s: %s", path, archive_error_string(a));
		archive_read_free(a);
		return -1;
	}
	while (!rc && (r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);
		int64_t size = archive_entry_size(e);
		if (!name || !has_suffix(name, ".json") || archive_entry_filetype(e) != AE_IFREG)
			continue;
		if (size > RECORD_MAX) {
			fprintf(stderr, "vigil: skipping %s:%s: larger than 16 MiB\n", path, name);
			im->st->skipped++;
			continue;
		}
		struct vg_buf b = { 0 };
		char chunk[65536];
		la_ssize_t n;
		while ((n = archive_read_data(a, chunk, sizeof(chunk))) > 0 && b.len <= RECORD_MAX)
			buf_add(&b, chunk, (size_t)n);
		if (n < 0) {
			buf_printf(err, "cannot read %s: %s: %s", path, name, archive_error_string(a));
			buf_free(&b);
			rc = -1;
			break;
		}
		char full[4096];
		snprintf(full, sizeof(full), "%s:%s", path, name);
		if (b.len > RECORD_MAX) {
			fprintf(stderr, "vigil: skipping %s: larger than 16 MiB\n", full);
			im->st->skipped++;
		} else {
			rc = imp_record(im, b.data ? b.data : "", b.len, full, err);
		}
		buf_free(&b);
	}
	if (!rc && r != ARCHIVE_EOF) {
		buf_printf(err, "cannot read %s: %s", path, archive_error_string(a));
		rc = -1;
	}
	archive_read_free(a);
	return rc;
}

int vulndb_import(sqlite3 *db, const char *path, struct vulndb_stats *st, struct vg_buf *err)
{
	struct importer im = { .db = db, .st = st };
	struct stat sb;
	time_t now = time(NULL);
	struct tm tm;
	int rc = -1;

	gmtime_r(&now, &tm);
	strftime(im.now, sizeof(im.now), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (stat(path, &sb)) {
		buf_printf(err, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (sqlite3_prepare_v2(db, "DELETE FROM affected WHERE vuln_id=?", -1, &im.del, NULL) ||
	    sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO vulns VALUES(?,?,?,?,?,?,?,?,?)", -1,
			       &im.ins_v, NULL) ||
	    sqlite3_prepare_v2(db, "INSERT INTO affected VALUES(?,?,?,?,?,?)", -1, &im.ins_a,
			       NULL)) {
		buf_printf(err, "cannot prepare the import: %s", sqlite3_errmsg(db));
		goto out;
	}
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	if (S_ISDIR(sb.st_mode))
		rc = imp_dir(&im, path, 0, err);
	else if (has_suffix(path, ".zip"))
		rc = imp_zip(&im, path, err);
	else
		rc = imp_file(&im, path, err);
	if (rc == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		buf_printf(err, "cannot commit the import: %s", sqlite3_errmsg(db));
		rc = -1;
	}
	if (rc)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
out:
	sqlite3_finalize(im.del);
	sqlite3_finalize(im.ins_v);
	sqlite3_finalize(im.ins_a);
	return rc;
}

int vulndb_status(sqlite3 *db, struct vg_buf *out, struct vg_buf *err)
{
	sqlite3_stmt *s;
	const char *q = "SELECT a.base, COUNT(DISTINCT a.vuln_id), MAX(v.modified), MAX(v.imported)"
			" FROM affected a JOIN vulns v ON v.id = a.vuln_id"
			" WHERE v.withdrawn IS NULL GROUP BY a.base ORDER BY a.base";

	if (sqlite3_prepare_v2(db,
			       "SELECT COUNT(*), SUM(withdrawn IS NOT NULL), MAX(imported) FROM vulns",
			       -1, &s, NULL) != SQLITE_OK) {
		buf_printf(err, "cannot read the database: %s", sqlite3_errmsg(db));
		return -1;
	}
	if (sqlite3_step(s) == SQLITE_ROW)
		buf_printf(out, "records: %lld (withdrawn: %lld)\nlast import: %s\n",
			   sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1),
			   sqlite3_column_text(s, 2) ? (const char *)sqlite3_column_text(s, 2) :
						       "never");
	sqlite3_finalize(s);
	if (sqlite3_prepare_v2(db, q, -1, &s, NULL) != SQLITE_OK) {
		buf_printf(err, "cannot read the database: %s", sqlite3_errmsg(db));
		return -1;
	}
	buf_printf(out, "\n%-20s %10s  %s\n", "ECOSYSTEM", "RECORDS", "NEWEST MODIFIED");
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *m = (const char *)sqlite3_column_text(s, 2);
		buf_printf(out, "%-20s %10lld  %s\n", (const char *)sqlite3_column_text(s, 0),
			   sqlite3_column_int64(s, 1), m ? m : "-");
	}
	sqlite3_finalize(s);
	return 0;
}

static void add_vuln(struct scan_result *r, size_t pkg, sqlite3_stmt *s, char *fixed)
{
	const char *id = (const char *)sqlite3_column_text(s, 3);

	for (size_t i = 0; i < r->nvulns; i++)
		if (r->vulns[i].pkg == pkg && !strcmp(r->vulns[i].id, id)) {
			if (fixed && (!r->vulns[i].fixed || !r->vulns[i].fixed[0])) {
				free(r->vulns[i].fixed);
				r->vulns[i].fixed = fixed;
			} else {
				free(fixed);
			}
			return; /* matched through another affected entry */
		}
	if (r->nvulns == r->cap_vulns) {
		r->cap_vulns = r->cap_vulns ? r->cap_vulns * 2 : 32;
		r->vulns = xrealloc(r->vulns, r->cap_vulns * sizeof(*r->vulns));
	}
	struct scan_vuln *v = &r->vulns[r->nvulns++];
	memset(v, 0, sizeof(*v)); /* fields added later start NULL */
	const char *t;
	v->id = xstrdup(id);
	v->aliases = xstrdup((t = (const char *)sqlite3_column_text(s, 4)) ? t : "");
	v->summary = xstrdup((t = (const char *)sqlite3_column_text(s, 5)) ? t : "");
	int sev = severity_parse((const char *)sqlite3_column_text(s, 6));
	v->severity = sev < 0 ? SEV_UNKNOWN : (enum vg_severity)sev;
	v->score = sqlite3_column_type(s, 7) == SQLITE_NULL ? -1 : sqlite3_column_double(s, 7);
	v->fixed = fixed ? fixed : xstrdup("");
	v->pkg = pkg;
}

int vulndb_match(sqlite3 *db, struct scan_result *r, struct vg_buf *err)
{
	sqlite3_stmt *s;
	const char *q = "SELECT a.ecosystem, a.ranges, a.versions, v.id, v.aliases, v.summary,"
			" v.severity, v.score FROM affected a JOIN vulns v ON v.id = a.vuln_id"
			" WHERE a.base = ? AND a.name = ? AND v.withdrawn IS NULL ORDER BY v.id";

	if (sqlite3_prepare_v2(db, q, -1, &s, NULL) != SQLITE_OK) {
		buf_printf(err, "cannot query the database: %s", sqlite3_errmsg(db));
		return -1;
	}
	for (size_t i = 0; i < r->npkgs; i++) {
		struct scan_pkg *p = &r->pkgs[i];
		if (!p->ecosystem)
			continue;
		bool os = !strcmp(p->type, "deb") || !strcmp(p->type, "apk") || !strcmp(p->type, "rpm");
		const char *name = os && p->src_name ? p->src_name : p->name;
		const char *ver = os && p->src_version ? p->src_version : p->version;
		enum vercmp_scheme sch = vercmp_scheme(p->ecosystem);
		size_t bl = strcspn(p->ecosystem, ":");
		char *key = osv_name_key(p->ecosystem, name);
		sqlite3_bind_text(s, 1, p->ecosystem, (int)bl, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 2, key, -1, SQLITE_TRANSIENT);
		while (sqlite3_step(s) == SQLITE_ROW) {
			const char *eco = (const char *)sqlite3_column_text(s, 0);
			/* "Debian:12" records match Debian 12 only; a bare "Debian" matches all */
			if (strcmp(eco, p->ecosystem) && strchr(eco, ':'))
				continue;
			char *fixed = NULL;
			if (osv_affects(sch, ver, (const char *)sqlite3_column_text(s, 1),
					(const char *)sqlite3_column_text(s, 2), &fixed))
				add_vuln(r, i, s, fixed);
			else
				free(fixed);
		}
		sqlite3_reset(s);
		free(key);
	}
	sqlite3_finalize(s);
	return 0;
}
