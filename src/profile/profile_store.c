/* SPDX-License-Identifier: Apache-2.0 */
/* Profiles in SQLite (profile_store.h). */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "common/buf.h"
#include "profile/profile_store.h"

struct profile_store {
	sqlite3 *db;
	char err[512];
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS profile_schema(version INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS profiles("
	" key TEXT PRIMARY KEY, image TEXT NOT NULL, digest TEXT NOT NULL, owner TEXT NOT NULL,"
	" namespace TEXT NOT NULL, mode TEXT NOT NULL, learn_started INTEGER NOT NULL,"
	" last_new INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS profile_items("
	" key TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL, first_seen INTEGER NOT NULL,"
	" PRIMARY KEY(key, kind, value)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS profile_generation(id INTEGER PRIMARY KEY CHECK(id = 1), gen INTEGER NOT NULL);";

static int fail(struct profile_store *ps, const char *what)
{
	snprintf(ps->err, sizeof(ps->err), "%s: %s", what, sqlite3_errmsg(ps->db));
	return -1;
}

const char *profile_store_error(const struct profile_store *ps)
{
	return ps->err;
}

static int schema_version(struct profile_store *ps, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int v = -1;
	if (sqlite3_prepare_v2(ps->db, "SELECT max(version) FROM profile_schema", -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "profiles: %s", sqlite3_errmsg(ps->db));
		return -1;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_type(st, 0) == SQLITE_NULL ? 0 : sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (v == 0 && sqlite3_exec(ps->db, "INSERT INTO profile_schema(version) VALUES (1)", NULL, NULL, NULL)) {
		snprintf(err, errlen, "profiles: %s", sqlite3_errmsg(ps->db));
		return -1;
	}
	if (v > PROFILE_SCHEMA_VERSION) {
		snprintf(err, errlen, "profiles: the store's profile tables are of version %d, newer than this "
				      "vigil's (%d): refusing to change them", v, PROFILE_SCHEMA_VERSION);
		return -1;
	}
	return 0;
}

struct profile_store *profile_store_open(const char *path, bool create, char *err, size_t errlen)
{
	struct profile_store *ps = xcalloc(1, sizeof(*ps));
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
	mode_t old = umask(077);
	int rc = sqlite3_open_v2(path, &ps->db, flags, NULL);
	umask(old);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot open store %s: %s", path, ps->db ? sqlite3_errmsg(ps->db) : "out of memory");
		goto bad;
	}
	sqlite3_busy_timeout(ps->db, 5000);
	if (sqlite3_exec(ps->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL, NULL) ||
	    sqlite3_exec(ps->db, schema, NULL, NULL, NULL)) {
		snprintf(err, errlen, "cannot initialise profiles in %s: %s", path, sqlite3_errmsg(ps->db));
		goto bad;
	}
	if (schema_version(ps, err, errlen))
		goto bad;
	return ps;
bad:
	sqlite3_close(ps->db);
	free(ps);
	return NULL;
}

void profile_store_close(struct profile_store *ps)
{
	if (!ps)
		return;
	sqlite3_close(ps->db);
	free(ps);
}

static const char *col(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);
	return s ? s : "";
}

int profile_store_load(struct profile_store *ps, struct profile_set *s)
{
	sqlite3_stmt *st;
	bool rec = s->record_ops;
	s->record_ops = false; /* what comes from the store need not go back */
	if (sqlite3_prepare_v2(ps->db,
			       "SELECT key, image, digest, owner, namespace, mode, learn_started, last_new FROM profiles",
			       -1, &st, NULL) != SQLITE_OK)
		return s->record_ops = rec, fail(ps, "profiles");
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct profile *p = profile_make(s, col(st, 0), col(st, 1), col(st, 2), col(st, 3), col(st, 4),
						 sqlite3_column_int64(st, 6));
		if (!p)
			continue;
		int m = profile_mode_from_name(col(st, 5));
		p->mode = m < 0 ? PROF_MONITORING : (enum profile_mode)m;
		p->learn_started = sqlite3_column_int64(st, 6);
		p->last_new = sqlite3_column_int64(st, 7);
	}
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(ps->db, "SELECT key, kind, value, first_seen FROM profile_items", -1, &st, NULL) !=
	    SQLITE_OK)
		return s->record_ops = rec, fail(ps, "profile items");
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct profile *p = profile_get(s, col(st, 0));
		int k = profile_kind_from_name(col(st, 1));
		if (p && k >= 0 && profile_add(s, p, (enum profile_kind)k, col(st, 2), sqlite3_column_int64(st, 3)))
			p->dropped++;
	}
	sqlite3_finalize(st);
	s->record_ops = rec;
	return 0;
}

static int put_header(struct profile_store *ps, const struct profile *p)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(ps->db,
			       "INSERT INTO profiles(key, image, digest, owner, namespace, mode, learn_started, last_new)"
			       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(key) DO UPDATE SET"
			       " image = ?2, digest = ?3, owner = ?4, namespace = ?5, mode = ?6, learn_started = ?7,"
			       " last_new = max(last_new, ?8)",
			       -1, &st, NULL) != SQLITE_OK)
		return fail(ps, "profiles");
	sqlite3_bind_text(st, 1, p->key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, p->image, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, p->digest, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, p->owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, p->ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, profile_mode_name(p->mode), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, p->learn_started);
	sqlite3_bind_int64(st, 8, p->last_new);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : fail(ps, "profiles");
}

static int exec_item(sqlite3_stmt *st, const char *key, unsigned kind, const char *value, int64_t ts)
{
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, profile_kind_name(kind), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, value, -1, SQLITE_STATIC);
	if (sqlite3_bind_parameter_count(st) >= 4)
		sqlite3_bind_int64(st, 4, ts);
	return sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
}

int profile_store_apply(struct profile_store *ps, const struct profile_set *s, const struct profile_op *ops, size_t n)
{
	sqlite3_stmt *add = NULL, *del = NULL, *touch = NULL;
	int ret = -1;
	if (!n)
		return 0;
	if (sqlite3_exec(ps->db, "BEGIN IMMEDIATE", NULL, NULL, NULL))
		return fail(ps, "profiles");
	if (sqlite3_prepare_v2(ps->db, "INSERT OR IGNORE INTO profile_items(key, kind, value, first_seen) VALUES (?, ?, ?, ?)",
			       -1, &add, NULL) ||
	    sqlite3_prepare_v2(ps->db, "DELETE FROM profile_items WHERE key = ? AND kind = ? AND value = ?", -1, &del,
			       NULL) ||
	    sqlite3_prepare_v2(ps->db, "UPDATE profiles SET last_new = max(last_new, ?2) WHERE key = ?1", -1, &touch,
			       NULL)) {
		fail(ps, "profiles");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct profile_op *o = &ops[i];
		if (o->op == PROF_OP_META) {
			const struct profile *p = profile_get(s, o->key);
			if (p && put_header(ps, p))
				goto out;
			continue;
		}
		if (exec_item(o->op == PROF_OP_ADD ? add : del, o->key, o->kind, o->value, o->ts)) {
			fail(ps, "profile items");
			goto out;
		}
		if (o->op == PROF_OP_ADD) {
			sqlite3_reset(touch);
			sqlite3_bind_text(touch, 1, o->key, -1, SQLITE_STATIC);
			sqlite3_bind_int64(touch, 2, o->ts);
			sqlite3_step(touch);
		}
	}
	ret = 0;
out:
	sqlite3_finalize(add);
	sqlite3_finalize(del);
	sqlite3_finalize(touch);
	if (sqlite3_exec(ps->db, ret ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL) && !ret)
		ret = fail(ps, "profiles");
	return ret;
}

static int bump(struct profile_store *ps)
{
	if (sqlite3_exec(ps->db,
			 "INSERT INTO profile_generation(id, gen) VALUES (1, 1)"
			 " ON CONFLICT(id) DO UPDATE SET gen = gen + 1",
			 NULL, NULL, NULL))
		return fail(ps, "profile generation");
	return 0;
}

int profile_store_put(struct profile_store *ps, const struct profile *p)
{
	sqlite3_stmt *add = NULL, *clear = NULL;
	int ret = -1;
	if (sqlite3_exec(ps->db, "BEGIN IMMEDIATE", NULL, NULL, NULL))
		return fail(ps, "profiles");
	if (put_header(ps, p))
		goto out;
	if (sqlite3_prepare_v2(ps->db, "DELETE FROM profile_items WHERE key = ?", -1, &clear, NULL) ||
	    sqlite3_prepare_v2(ps->db, "INSERT OR IGNORE INTO profile_items(key, kind, value, first_seen) VALUES (?, ?, ?, ?)",
			       -1, &add, NULL)) {
		fail(ps, "profile items");
		goto out;
	}
	sqlite3_bind_text(clear, 1, p->key, -1, SQLITE_STATIC);
	if (sqlite3_step(clear) != SQLITE_DONE) {
		fail(ps, "profile items");
		goto out;
	}
	size_t n;
	const struct profile_item **items = profile_sorted_items(p, &n);
	for (size_t i = 0; i < n; i++)
		if (exec_item(add, p->key, items[i]->kind, items[i]->value, items[i]->first_seen)) {
			free(items);
			fail(ps, "profile items");
			goto out;
		}
	free(items);
	ret = bump(ps);
out:
	sqlite3_finalize(add);
	sqlite3_finalize(clear);
	if (sqlite3_exec(ps->db, ret ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL) && !ret)
		ret = fail(ps, "profiles");
	return ret;
}

/* Run sql (binding ?1 key when given, ?2 the mode name, ?3 now) and bump the generation. */
static int change(struct profile_store *ps, const char *sql, const char *key, const char *mode, int64_t now,
		  const char *items_sql)
{
	sqlite3_stmt *st = NULL;
	int changed = -1;
	if (sqlite3_exec(ps->db, "BEGIN IMMEDIATE", NULL, NULL, NULL))
		return fail(ps, "profiles");
	if (sqlite3_prepare_v2(ps->db, sql, -1, &st, NULL)) {
		fail(ps, "profiles");
		goto out;
	}
	if (key)
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, mode, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	if (sqlite3_step(st) != SQLITE_DONE) {
		fail(ps, "profiles");
		goto out;
	}
	changed = sqlite3_changes(ps->db);
	sqlite3_finalize(st);
	st = NULL;
	if (items_sql) {
		if (sqlite3_prepare_v2(ps->db, items_sql, -1, &st, NULL)) {
			changed = fail(ps, "profile items");
			goto out;
		}
		if (key)
			sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			changed = fail(ps, "profile items");
			goto out;
		}
	}
	if (changed > 0 && bump(ps))
		changed = -1;
out:
	sqlite3_finalize(st);
	if (sqlite3_exec(ps->db, changed < 0 ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL) && changed >= 0)
		changed = fail(ps, "profiles");
	return changed;
}

int profile_store_set_mode(struct profile_store *ps, const char *key, enum profile_mode m, int64_t now)
{
	/* back to learning: the clocks of learning start again */
	if (m == PROF_LEARNING)
		return change(ps,
			      key ? "UPDATE profiles SET mode = ?2, learn_started = ?3, last_new = ?3 WHERE key = ?1"
				  : "UPDATE profiles SET mode = ?2, learn_started = ?3, last_new = ?3",
			      key, profile_mode_name(m), now, NULL);
	return change(ps, key ? "UPDATE profiles SET mode = ?2 WHERE key = ?1 AND ?3 = ?3"
			      : "UPDATE profiles SET mode = ?2 WHERE ?3 = ?3",
		      key, profile_mode_name(m), now, NULL);
}

int profile_store_reset(struct profile_store *ps, const char *key, int64_t now)
{
	return change(ps,
		      key ? "UPDATE profiles SET mode = ?2, learn_started = ?3, last_new = ?3 WHERE key = ?1"
			  : "UPDATE profiles SET mode = ?2, learn_started = ?3, last_new = ?3",
		      key, "learning", now,
		      key ? "DELETE FROM profile_items WHERE key = ?1" : "DELETE FROM profile_items");
}

int64_t profile_store_generation(struct profile_store *ps)
{
	sqlite3_stmt *st;
	int64_t g = 0;
	if (sqlite3_prepare_v2(ps->db, "SELECT gen FROM profile_generation WHERE id = 1", -1, &st, NULL) != SQLITE_OK) {
		fail(ps, "profile generation");
		return -1;
	}
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		g = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE)
		g = -1;
	sqlite3_finalize(st);
	return g;
}
