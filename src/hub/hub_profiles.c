/* SPDX-License-Identifier: Apache-2.0 */
/* Profiles in the hub: ingest, merge, the bucket (hub_profiles.h). */
#include "hub/hub_profiles.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/log.h"
#include "hub/hub_msg.h"
#include "hub/hub_fetch.h"

#define INC(x) __atomic_add_fetch(&(x), 1, __ATOMIC_RELAXED)
#define BATCH 64
#define MAX_ITEMS 4096

static int64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

int hub_profiles_schema(sqlite3 *db)
{
	return sqlite3_exec(
		       db,
		       "CREATE TABLE IF NOT EXISTS hub_profiles(id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE,"
		       " kv_key TEXT NOT NULL, image TEXT NOT NULL, digest TEXT NOT NULL, owner TEXT NOT NULL,"
		       " namespace TEXT NOT NULL, mode TEXT, mode_set_by TEXT, mode_set_ns INTEGER,"
		       " updated_ns INTEGER NOT NULL, kv_dirty INTEGER NOT NULL DEFAULT 1);"
		       "CREATE INDEX IF NOT EXISTS hub_profiles_kv ON hub_profiles(kv_key);"
		       "CREATE TABLE IF NOT EXISTS hub_profile_items(pid INTEGER NOT NULL, kind TEXT NOT NULL,"
		       " value TEXT NOT NULL, first_ns INTEGER NOT NULL, PRIMARY KEY(pid, kind, value)) WITHOUT ROWID;"
		       "CREATE TABLE IF NOT EXISTS hub_profile_seen(pid INTEGER NOT NULL, kind TEXT NOT NULL,"
		       " value TEXT NOT NULL, cluster TEXT NOT NULL, node TEXT NOT NULL,"
		       " PRIMARY KEY(pid, kind, value, cluster, node)) WITHOUT ROWID;"
		       "CREATE TABLE IF NOT EXISTS hub_profile_nodes(pid INTEGER NOT NULL, cluster TEXT NOT NULL,"
		       " node TEXT NOT NULL, mode TEXT NOT NULL, learn_started INTEGER NOT NULL, last_ns INTEGER NOT NULL,"
		       " PRIMARY KEY(pid, cluster, node)) WITHOUT ROWID;",
		       NULL, NULL, NULL) == SQLITE_OK
		       ? 0
		       : -1;
}

static int step_done(sqlite3_stmt *st)
{
	int r = sqlite3_step(st);
	return r == SQLITE_DONE || r == SQLITE_ROW ? 0 : -1;
}

int hub_profiles_add(sqlite3 *db, const char *cluster, const char *node, const struct profile_share *m,
		     int64_t recv_ns)
{
	sqlite3_stmt *up = NULL, *id = NULL, *nd = NULL, *cnt = NULL, *item = NULL, *seen = NULL, *dirty = NULL;
	int ret = -1, grew = 0;
	char kk[65];
	profile_kv_key(m->key, kk);
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO hub_profiles(key, kv_key, image, digest, owner, namespace, updated_ns)"
			       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(key) DO UPDATE SET"
			       " image = CASE WHEN ?3 <> '' THEN ?3 ELSE image END,"
			       " digest = CASE WHEN ?4 <> '' THEN ?4 ELSE digest END,"
			       " owner = CASE WHEN ?5 <> '' THEN ?5 ELSE owner END,"
			       " namespace = CASE WHEN ?6 <> '' THEN ?6 ELSE namespace END, updated_ns = ?7",
			       -1, &up, NULL) ||
	    sqlite3_prepare_v2(db, "SELECT id, changes() FROM hub_profiles WHERE key = ?", -1, &id, NULL) ||
	    sqlite3_prepare_v2(db,
			       "INSERT INTO hub_profile_nodes(pid, cluster, node, mode, learn_started, last_ns)"
			       " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(pid, cluster, node) DO UPDATE SET"
			       " mode = ?4, learn_started = ?5, last_ns = ?6",
			       -1, &nd, NULL) ||
	    sqlite3_prepare_v2(db, "SELECT count(*) FROM hub_profile_items WHERE pid = ?", -1, &cnt, NULL) ||
	    sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO hub_profile_items(pid, kind, value, first_ns) VALUES (?, ?, ?, ?)",
			       -1, &item, NULL) ||
	    sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO hub_profile_seen(pid, kind, value, cluster, node) VALUES (?, ?, ?, ?, ?)",
			       -1, &seen, NULL) ||
	    sqlite3_prepare_v2(db, "UPDATE hub_profiles SET kv_dirty = 1 WHERE id = ?", -1, &dirty, NULL))
		goto out;
	bool existed = false;
	{
		sqlite3_stmt *ex = NULL;
		if (sqlite3_prepare_v2(db, "SELECT 1 FROM hub_profiles WHERE key = ?", -1, &ex, NULL))
			goto out;
		sqlite3_bind_text(ex, 1, m->key, -1, SQLITE_STATIC);
		existed = sqlite3_step(ex) == SQLITE_ROW;
		sqlite3_finalize(ex);
	}
	sqlite3_bind_text(up, 1, m->key, -1, SQLITE_STATIC);
	sqlite3_bind_text(up, 2, kk, -1, SQLITE_STATIC);
	sqlite3_bind_text(up, 3, m->image ? m->image : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(up, 4, m->digest ? m->digest : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(up, 5, m->owner ? m->owner : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(up, 6, m->ns ? m->ns : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(up, 7, recv_ns);
	if (step_done(up))
		goto out;
	sqlite3_bind_text(id, 1, m->key, -1, SQLITE_STATIC);
	if (sqlite3_step(id) != SQLITE_ROW)
		goto out;
	int64_t pid = sqlite3_column_int64(id, 0);
	grew = !existed;
	sqlite3_bind_int64(nd, 1, pid);
	sqlite3_bind_text(nd, 2, cluster, -1, SQLITE_STATIC);
	sqlite3_bind_text(nd, 3, node, -1, SQLITE_STATIC);
	sqlite3_bind_text(nd, 4, profile_mode_name((enum profile_mode)(m->mode >= 0 ? m->mode : 0)), -1, SQLITE_STATIC);
	sqlite3_bind_int64(nd, 5, m->learn_started);
	sqlite3_bind_int64(nd, 6, recv_ns);
	if (step_done(nd))
		goto out;
	sqlite3_bind_int64(cnt, 1, pid);
	size_t have = sqlite3_step(cnt) == SQLITE_ROW ? (size_t)sqlite3_column_int64(cnt, 0) : 0;
	for (int k = 0; k < PROF_NKINDS; k++) {
		const char *kn = profile_kind_name((enum profile_kind)k);
		for (size_t i = 0; i < m->nitems[k]; i++) {
			const char *v = m->items[k][i];
			if (have < MAX_ITEMS) {
				sqlite3_reset(item);
				sqlite3_bind_int64(item, 1, pid);
				sqlite3_bind_text(item, 2, kn, -1, SQLITE_STATIC);
				sqlite3_bind_text(item, 3, v, -1, SQLITE_STATIC);
				sqlite3_bind_int64(item, 4, recv_ns);
				if (step_done(item))
					goto out;
				if (sqlite3_changes(db)) {
					have++;
					grew = 1;
				}
			}
			sqlite3_reset(seen);
			sqlite3_bind_int64(seen, 1, pid);
			sqlite3_bind_text(seen, 2, kn, -1, SQLITE_STATIC);
			sqlite3_bind_text(seen, 3, v, -1, SQLITE_STATIC);
			sqlite3_bind_text(seen, 4, cluster, -1, SQLITE_STATIC);
			sqlite3_bind_text(seen, 5, node, -1, SQLITE_STATIC);
			if (step_done(seen))
				goto out;
		}
	}
	if (grew) {
		sqlite3_bind_int64(dirty, 1, pid);
		if (step_done(dirty))
			goto out;
	}
	ret = grew;
out:
	sqlite3_finalize(up);
	sqlite3_finalize(id);
	sqlite3_finalize(nd);
	sqlite3_finalize(cnt);
	sqlite3_finalize(item);
	sqlite3_finalize(seen);
	sqlite3_finalize(dirty);
	return ret;
}

int hub_profiles_kv_write(sqlite3 *db, kvStore *kv, const char *key, int mode, const char *who, uint64_t *rev,
			  char *err, size_t errlen)
{
	char kk[65], text[256];
	profile_kv_key(key, kk);
	for (int attempt = 0; attempt < 8; attempt++) {
		struct profile_share v, cur;
		sqlite3_stmt *h = NULL, *it = NULL;
		kvEntry *e = NULL;
		uint64_t last = 0;
		bool have_cur = false;
		profile_share_init(&v);
		profile_share_init(&cur);
		natsStatus s = kvStore_Get(&e, kv, kk);
		if (s == NATS_OK) {
			last = kvEntry_Revision(e);
			char derr[256];
			have_cur = !profile_share_decode(PROFILE_DOC_KV, kvEntry_Value(e), (size_t)kvEntry_ValueLen(e), &cur,
							 derr, sizeof(derr));
			if (!have_cur)
				vg_warn("hub: profiles: the bucket's value of %s is refused (%s): written again", key, derr);
		} else if (s != NATS_NOT_FOUND) {
			snprintf(err, errlen, "bucket %s: %s", PROFILE_BUCKET, fleet_status_text(s, text, sizeof(text)));
			return -1;
		}
		kvEntry_Destroy(e);
		if (sqlite3_prepare_v2(db,
				       "SELECT id, image, digest, owner, namespace FROM hub_profiles WHERE key = ?", -1, &h,
				       NULL) ||
		    sqlite3_prepare_v2(db, "SELECT kind, value FROM hub_profile_items WHERE pid = ? ORDER BY kind, value", -1,
				       &it, NULL)) {
			snprintf(err, errlen, "hub store: %s", sqlite3_errmsg(db));
			sqlite3_finalize(h);
			profile_share_free(&cur);
			return -1;
		}
		sqlite3_bind_text(h, 1, key, -1, SQLITE_STATIC);
		if (sqlite3_step(h) != SQLITE_ROW) {
			snprintf(err, errlen, "no profile %s in the hub", key);
			sqlite3_finalize(h);
			sqlite3_finalize(it);
			profile_share_free(&cur);
			return -1;
		}
		profile_share_set(&v.key, key);
		profile_share_set(&v.image, (const char *)sqlite3_column_text(h, 1));
		profile_share_set(&v.digest, (const char *)sqlite3_column_text(h, 2));
		profile_share_set(&v.owner, (const char *)sqlite3_column_text(h, 3));
		profile_share_set(&v.ns, (const char *)sqlite3_column_text(h, 4));
		sqlite3_bind_int64(it, 1, sqlite3_column_int64(h, 0));
		while (sqlite3_step(it) == SQLITE_ROW) {
			int k = profile_kind_from_name((const char *)sqlite3_column_text(it, 0));
			if (k >= 0)
				profile_share_add(&v, (enum profile_kind)k, (const char *)sqlite3_column_text(it, 1));
		}
		sqlite3_finalize(h);
		sqlite3_finalize(it);
		if (have_cur) {
			for (int k = 0; k < PROF_NKINDS; k++)
				for (size_t i = 0; i < cur.nitems[k]; i++)
					if (!profile_share_has(&v, (enum profile_kind)k, cur.items[k][i]))
						profile_share_add(&v, (enum profile_kind)k, cur.items[k][i]);
			v.mode = cur.mode;
			profile_share_set(&v.mode_by, cur.mode_by);
			v.mode_at_ns = cur.mode_at_ns;
		}
		if (mode >= 0) {
			v.mode = mode;
			profile_share_set(&v.mode_by, who ? who : "");
			v.mode_at_ns = now_ns();
		}
		size_t len = 0;
		char *data = profile_share_encode(PROFILE_DOC_KV, &v, &len);
		profile_share_free(&v);
		profile_share_free(&cur);
		if (len > PROFILE_DOC_MAX_BYTES) {
			snprintf(err, errlen, "the merged profile %s is %zu bytes: more than the bucket holds", key, len);
			free(data);
			return -1;
		}
		uint64_t r = 0;
		s = last ? kvStore_Update(&r, kv, kk, data, (int)len, last) : kvStore_Create(&r, kv, kk, data, (int)len);
		free(data);
		if (s == NATS_OK) {
			if (rev)
				*rev = r;
			return 0;
		}
		/* another writer came between: read again and merge again */
		vg_debug("hub: profiles: %s: %s; again", key, fleet_status_text(s, text, sizeof(text)));
	}
	snprintf(err, errlen, "bucket %s: %s kept changing under this hub's writes", PROFILE_BUCKET, key);
	return -1;
}

/* ---- the consumer ---- */

struct hub_profiles {
	struct fleet_conn *fc;
	char *path, *durable;
	size_t max_msg;
	struct hub_stats *stats;
	sqlite3 *db;
	pthread_t thread;
	atomic_bool stop;
	int64_t next_log_ns;
};

static void reject(struct hub_profiles *hp, enum hub_reject r, const char *why)
{
	INC(hp->stats->rejected[r]);
	if (now_ns() >= hp->next_log_ns) {
		vg_warn("hub: profile message refused (%s): %s", hub_reject_name(r), why);
		hp->next_log_ns = now_ns() + 1000000000LL;
	}
}

/* The dirty profiles to the bucket: each written stays dirty until it is. */
static void kv_flush(struct hub_profiles *hp, kvStore *kv)
{
	sqlite3_stmt *q = NULL, *clean = NULL;
	char err[256];
	if (sqlite3_prepare_v2(hp->db, "SELECT key FROM hub_profiles WHERE kv_dirty = 1 LIMIT 256", -1, &q, NULL) ||
	    sqlite3_prepare_v2(hp->db, "UPDATE hub_profiles SET kv_dirty = 0 WHERE key = ?", -1, &clean, NULL)) {
		sqlite3_finalize(q);
		return;
	}
	char **keys = NULL;
	size_t n = 0;
	while (sqlite3_step(q) == SQLITE_ROW) {
		keys = xrealloc(keys, (n + 1) * sizeof(*keys));
		keys[n++] = xstrdup((const char *)sqlite3_column_text(q, 0));
	}
	sqlite3_finalize(q);
	for (size_t i = 0; i < n; i++) {
		if (hub_profiles_kv_write(hp->db, kv, keys[i], -1, NULL, NULL, err, sizeof(err)) == 0) {
			sqlite3_reset(clean);
			sqlite3_bind_text(clean, 1, keys[i], -1, SQLITE_STATIC);
			sqlite3_step(clean);
		} else {
			vg_warn("hub: profiles: %s", err);
		}
		free(keys[i]);
	}
	free(keys);
	sqlite3_finalize(clean);
}

static void take(struct hub_profiles *hp, natsMsgList *list)
{
	int64_t recv = now_ns();
	bool termed[BATCH] = { false };
	if (list->Count > BATCH)
		return;
	if (sqlite3_exec(hp->db, "BEGIN IMMEDIATE", NULL, NULL, NULL)) {
		for (int i = 0; i < list->Count; i++)
			natsMsg_Nak(list->Msgs[i], NULL);
		return;
	}
	for (int i = 0; i < list->Count; i++) {
		natsMsg *msg = list->Msgs[i];
		struct hub_headers h = { 0 };
		struct hub_msg m;
		char err[256];
		natsMsgHeader_Get(msg, "Nats-Msg-Id", &h.msg_id);
		natsMsgHeader_Get(msg, "Vigil-Node", &h.node);
		natsMsgHeader_Get(msg, "Vigil-Cluster", &h.cluster);
		natsMsgHeader_Get(msg, "Vigil-Kind", &h.kind);
		natsMsgHeader_Get(msg, "Vigil-Seq", &h.seq);
		natsMsgHeader_Get(msg, "Vigil-Version", &h.version);
		const char *body = natsMsg_GetData(msg);
		size_t len = (size_t)natsMsg_GetDataLength(msg);
		const char *cnt = NULL;
		natsMsgHeader_Get(msg, "Vigil-Count", &cnt);
		if (cnt) { /* profile messages are never batched */
			reject(hp, HUB_REJ_COUNT, "a profile message with Vigil-Count");
			natsMsg_Term(msg, NULL);
			termed[i] = true;
			continue;
		}
		enum hub_reject r = hub_msg_parse(natsMsg_GetSubject(msg), &h, body, len, hp->max_msg, &m, err, sizeof(err));
		if (r == HUB_OK && m.kind != HUB_PROFILE) {
			r = HUB_REJ_KIND;
			snprintf(err, sizeof(err), "not a profile message on the profiles stream");
			hub_msg_free(&m);
		}
		if (r != HUB_OK) {
			reject(hp, r, err);
			natsMsg_Term(msg, NULL);
			termed[i] = true;
			continue;
		}
		struct profile_share ps;
		if (profile_share_decode(PROFILE_DOC_MSG, body, len, &ps, err, sizeof(err))) {
			char why[400];
			snprintf(why, sizeof(why), "%s on %s", err, natsMsg_GetSubject(msg));
			reject(hp, HUB_REJ_FIELDS, why);
			hub_msg_free(&m);
			natsMsg_Term(msg, NULL);
			termed[i] = true;
			continue;
		}
		int rc = hub_profiles_add(hp->db, m.cluster, m.node, &ps, recv);
		profile_share_free(&ps);
		hub_msg_free(&m);
		if (rc < 0) {
			vg_err("hub: profiles: %s; the batch is delivered again", sqlite3_errmsg(hp->db));
			sqlite3_exec(hp->db, "ROLLBACK", NULL, NULL, NULL);
			for (int j = 0; j < list->Count; j++)
				natsMsg_Nak(list->Msgs[j], NULL);
			return;
		}
	}
	if (sqlite3_exec(hp->db, "COMMIT", NULL, NULL, NULL)) {
		vg_err("hub: profiles: %s; the batch is delivered again", sqlite3_errmsg(hp->db));
		sqlite3_exec(hp->db, "ROLLBACK", NULL, NULL, NULL);
		for (int j = 0; j < list->Count; j++)
			natsMsg_Nak(list->Msgs[j], NULL);
		return;
	}
	for (int i = 0; i < list->Count; i++)
		if (!termed[i])
			natsMsg_Ack(list->Msgs[i], NULL);
}

static natsSubscription *bind(struct hub_profiles *hp)
{
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	jsOptions jo;
	jsSubOptions so;
	natsSubscription *sub = NULL;
	jsOptions_Init(&jo);
	jo.Wait = 500;
	if (js_GetStreamInfo(&si, fleet_js(hp->fc), PROFILE_STREAM, &jo, &jerr) != NATS_OK)
		return NULL;
	jsStreamInfo_Destroy(si);
	jsSubOptions_Init(&so);
	so.Stream = PROFILE_STREAM;
	so.Config.Durable = hp->durable;
	so.Config.AckPolicy = js_AckExplicit;
	so.Config.DeliverPolicy = js_DeliverAll;
	so.Config.AckWait = 30LL * 1000000000LL;
	so.Config.MaxAckPending = 1024;
	if (js_PullSubscribe(&sub, fleet_js(hp->fc), PROFILE_SUBJECTS, hp->durable, NULL, &so, &jerr) != NATS_OK)
		return NULL;
	vg_info("hub: consuming %s as durable '%s'", PROFILE_STREAM, hp->durable);
	return sub;
}

static void *consume(void *arg)
{
	struct hub_profiles *hp = arg;
	natsSubscription *sub = NULL;
	kvStore *kv = NULL;
	int64_t next_bind = 0, next_kv = 0, next_kv_try = 0;
	while (!atomic_load(&hp->stop)) {
		if (!fleet_conn_up(hp->fc)) {
			usleep(200 * 1000);
			continue;
		}
		if (!sub && now_ns() >= next_bind) {
			sub = bind(hp);
			next_bind = now_ns() + 2000000000LL;
		}
		if (!sub) {
			usleep(200 * 1000);
			continue;
		}
		natsMsgList list = { 0 };
		jsErrCode jerr = 0;
		natsStatus s = hub_fetch(&list, sub, BATCH, 500, &jerr);
		if (s == NATS_OK) {
			take(hp, &list);
			natsMsgList_Destroy(&list);
			next_kv = 0;
		} else {
			natsMsgList_Destroy(&list);
		}
		if (!kv && now_ns() >= next_kv_try) {
			if (js_KeyValue(&kv, fleet_js(hp->fc), PROFILE_BUCKET) != NATS_OK)
				kv = NULL;
			next_kv_try = now_ns() + 2000000000LL;
		}
		if (kv && now_ns() >= next_kv) {
			kv_flush(hp, kv);
			next_kv = now_ns() + 2000000000LL; /* what could not be written: tried again */
		}
	}
	natsSubscription_Destroy(sub);
	kvStore_Destroy(kv);
	return NULL;
}

struct hub_profiles *hub_profiles_start(struct fleet_conn *fc, const char *store_path, const char *durable,
					size_t max_msg, struct hub_stats *stats)
{
	struct hub_profiles *hp = xcalloc(1, sizeof(*hp));
	hp->fc = fc;
	hp->path = xstrdup(store_path);
	hp->durable = xstrdup(durable);
	hp->max_msg = max_msg;
	hp->stats = stats;
	if (sqlite3_open_v2(store_path, &hp->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) ||
	    sqlite3_busy_timeout(hp->db, 5000) || hub_profiles_schema(hp->db) ||
	    pthread_create(&hp->thread, NULL, consume, hp)) {
		vg_err("hub: profiles: %s: %s", store_path, hp->db ? sqlite3_errmsg(hp->db) : "cannot open");
		sqlite3_close(hp->db);
		free(hp->path);
		free(hp->durable);
		free(hp);
		return NULL;
	}
	return hp;
}

void hub_profiles_stop(struct hub_profiles *hp)
{
	if (!hp)
		return;
	atomic_store(&hp->stop, true);
	pthread_join(hp->thread, NULL);
	sqlite3_close(hp->db);
	free(hp->path);
	free(hp->durable);
	free(hp);
}
