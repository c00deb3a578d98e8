/* SPDX-License-Identifier: Apache-2.0 */
/* A node's profiles in a fleet: publish what it learnt, merge what others learnt (profile_sync.h). */
#include "fleet/profile_sync.h"

#include <inttypes.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/hmap.h"
#include "common/log.h"
#include "common/version.h"
#include "profile/profile_store.h"
#include "profile/profile_yaml.h"

#define ROUND_MS 1000
#define FULL_EVERY_S 600
#define OVERLAP_S 2 /* the agent writes what it learnt once a second: items that far back are sent again */
#define MAX_ITEMS 4096

static int64_t wall_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

int profile_sync_schema(sqlite3 *db)
{
	return sqlite3_exec(db,
			    "CREATE TABLE IF NOT EXISTS profile_fleet_items(key TEXT NOT NULL, kind TEXT NOT NULL,"
			    " value TEXT NOT NULL, PRIMARY KEY(key, kind, value)) WITHOUT ROWID;"
			    "CREATE TABLE IF NOT EXISTS profile_fleet_mode(key TEXT PRIMARY KEY, mode_at INTEGER NOT NULL);",
			    NULL, NULL, NULL) == SQLITE_OK
		       ? 0
		       : -1;
}

int profile_sync_merge(sqlite3 *db, const struct profile_share *v, size_t max_items, int64_t now,
		       struct profile_sync_stats *st)
{
	sqlite3_stmt *q = NULL, *cnt = NULL, *add = NULL, *mark = NULL;
	int changes = 0, ret = -1;
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL))
		return -1;
	if (sqlite3_prepare_v2(db,
			       "SELECT p.mode, coalesce(m.mode_at, 0) FROM profiles p LEFT JOIN profile_fleet_mode m"
			       " ON m.key = p.key WHERE p.key = ?",
			       -1, &q, NULL))
		goto out;
	sqlite3_bind_text(q, 1, v->key, -1, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_ROW) { /* not a workload of this node: nothing to do */
		ret = 0;
		goto out;
	}
	int mode = profile_mode_from_name((const char *)sqlite3_column_text(q, 0));
	int64_t applied = sqlite3_column_int64(q, 1);
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM profile_items WHERE key = ?", -1, &cnt, NULL) ||
	    sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO profile_items(key, kind, value, first_seen) VALUES (?, ?, ?, ?)",
			       -1, &add, NULL) ||
	    sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO profile_fleet_items(key, kind, value) VALUES (?, ?, ?)", -1,
			       &mark, NULL))
		goto out;
	sqlite3_bind_text(cnt, 1, v->key, -1, SQLITE_STATIC);
	size_t have = sqlite3_step(cnt) == SQLITE_ROW ? (size_t)sqlite3_column_int64(cnt, 0) : 0;
	for (int k = 0; k < PROF_NKINDS; k++) {
		const char *kn = profile_kind_name((enum profile_kind)k);
		for (size_t i = 0; i < v->nitems[k]; i++) {
			if (have >= max_items) {
				if (st)
					st->refused++;
				continue;
			}
			sqlite3_reset(add);
			sqlite3_bind_text(add, 1, v->key, -1, SQLITE_STATIC);
			sqlite3_bind_text(add, 2, kn, -1, SQLITE_STATIC);
			sqlite3_bind_text(add, 3, v->items[k][i], -1, SQLITE_STATIC);
			sqlite3_bind_int64(add, 4, now);
			if (sqlite3_step(add) != SQLITE_DONE)
				goto out;
			if (!sqlite3_changes(db))
				continue;
			sqlite3_reset(mark);
			sqlite3_bind_text(mark, 1, v->key, -1, SQLITE_STATIC);
			sqlite3_bind_text(mark, 2, kn, -1, SQLITE_STATIC);
			sqlite3_bind_text(mark, 3, v->items[k][i], -1, SQLITE_STATIC);
			if (sqlite3_step(mark) != SQLITE_DONE)
				goto out;
			have++;
			changes++;
			if (st)
				st->merged_items++;
		}
	}
	if (v->mode >= 0 && v->mode_at_ns > applied) {
		sqlite3_stmt *u = NULL, *r = NULL;
		int rc = 0;
		if (mode != v->mode) {
			rc = sqlite3_prepare_v2(db,
						v->mode == PROF_LEARNING
							? "UPDATE profiles SET mode = ?2, learn_started = ?3, last_new = ?3 WHERE key = ?1"
							: "UPDATE profiles SET mode = ?2 WHERE key = ?1 AND ?3 = ?3",
						-1, &u, NULL);
			if (!rc) {
				sqlite3_bind_text(u, 1, v->key, -1, SQLITE_STATIC);
				sqlite3_bind_text(u, 2, profile_mode_name((enum profile_mode)v->mode), -1, SQLITE_STATIC);
				sqlite3_bind_int64(u, 3, now);
				rc = sqlite3_step(u) != SQLITE_DONE;
			}
			changes++;
			if (st)
				st->modes++;
		}
		if (!rc)
			rc = sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO profile_fleet_mode(key, mode_at) VALUES (?, ?)", -1,
						&r, NULL);
		if (!rc) {
			sqlite3_bind_text(r, 1, v->key, -1, SQLITE_STATIC);
			sqlite3_bind_int64(r, 2, v->mode_at_ns);
			rc = sqlite3_step(r) != SQLITE_DONE;
		}
		sqlite3_finalize(u);
		sqlite3_finalize(r);
		if (rc)
			goto out;
	}
	if (changes && sqlite3_exec(db,
				    "INSERT INTO profile_generation(id, gen) VALUES (1, 1)"
				    " ON CONFLICT(id) DO UPDATE SET gen = gen + 1",
				    NULL, NULL, NULL))
		goto out;
	ret = changes;
out:
	sqlite3_finalize(q);
	sqlite3_finalize(cnt);
	sqlite3_finalize(add);
	sqlite3_finalize(mark);
	if (sqlite3_exec(db, ret < 0 ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL) && ret >= 0)
		ret = -1;
	return ret;
}

/* ---- the thread ---- */

struct sent {
	struct hmap_node node;
	int64_t learn_started, last_new;
	int mode;
	bool fetched; /* the bucket's value was merged once (a profile new here) */
	char key[];
};

struct profile_sync {
	struct fleet_conn *conn;
	char *path;
	sqlite3 *db;
	struct hmap sent;
	int64_t next_full_ns;
	bool full;
	bool was_up;
	uint64_t reconnects; /* the connection's count at the last round */
	pthread_t thread;
	atomic_bool stop;
	pthread_mutex_t lock;
	struct profile_sync_stats st;
	char subject[160];
};

static uint64_t key_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static struct sent *sent_get(struct profile_sync *s, const char *key)
{
	for (struct hmap_node *n = hmap_get(&s->sent, key_hash(key)); n; n = n->next) {
		struct sent *e = hmap_entry(n, struct sent, node);
		if (n->key == key_hash(key) && !strcmp(e->key, key))
			return e;
	}
	return NULL;
}

static void sent_clear(struct profile_sync *s)
{
	struct hmap_node *n, *tmp;
	size_t i;
	hmap_for_each(&s->sent, n, tmp, i) {
		hmap_del(&s->sent, n->key);
		free(hmap_entry(n, struct sent, node));
	}
}

static int publish_doc(struct profile_sync *s, struct profile_share *ps)
{
	unsigned char raw[16];
	char seq[24], text[256];
	natsMsg *m = NULL;
	jsPubOptions po;
	jsErrCode jerr = 0;
	jsPubAck *pa = NULL;
	size_t len = 0;

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -1;
	for (int i = 0; i < 16; i++)
		snprintf(ps->uuid + 2 * i, 3, "%02x", raw[i]);
	char *body = profile_share_encode(PROFILE_DOC_MSG, ps, &len);
	snprintf(seq, sizeof(seq), "%" PRId64, wall_ns() / 1000);
	natsStatus st = natsMsg_Create(&m, s->subject, NULL, body, (int)len);
	if (st == NATS_OK)
		st = natsMsgHeader_Set(m, "Nats-Msg-Id", ps->uuid);
	if (st == NATS_OK)
		st = natsMsgHeader_Set(m, "Vigil-Node", fleet_node(s->conn));
	if (st == NATS_OK)
		st = natsMsgHeader_Set(m, "Vigil-Cluster", fleet_cluster(s->conn));
	if (st == NATS_OK)
		st = natsMsgHeader_Set(m, "Vigil-Kind", "profile");
	if (st == NATS_OK)
		st = natsMsgHeader_Set(m, "Vigil-Seq", seq);
	if (st == NATS_OK)
		st = natsMsgHeader_Set(m, "Vigil-Version", VIGIL_VERSION);
	if (st == NATS_OK) {
		jsPubOptions_Init(&po);
		po.MaxWait = 5000;
		st = js_PublishMsg(&pa, fleet_js(s->conn), m, &po, &jerr);
	}
	free(body);
	natsMsg_Destroy(m);
	jsPubAck_Destroy(pa);
	pthread_mutex_lock(&s->lock);
	if (st == NATS_OK)
		s->st.messages++;
	else
		s->st.failures++;
	pthread_mutex_unlock(&s->lock);
	if (st != NATS_OK) {
		vg_debug("profiles: publish: %s", fleet_status_text(st, text, sizeof(text)));
		return -1;
	}
	return 0;
}

/* Profile key's items (all, or first seen since `since`) not received from the fleet, in messages. */
static int publish_profile(struct profile_sync *s, sqlite3_stmt *hdr, bool all, int64_t since)
{
	struct profile_share ps;
	sqlite3_stmt *q = NULL;
	int rc = 0;
	bool sent_one = false;
	profile_share_init(&ps);
	profile_share_set(&ps.key, (const char *)sqlite3_column_text(hdr, 0));
	profile_share_set(&ps.image, (const char *)sqlite3_column_text(hdr, 1));
	profile_share_set(&ps.digest, (const char *)sqlite3_column_text(hdr, 2));
	profile_share_set(&ps.owner, (const char *)sqlite3_column_text(hdr, 3));
	profile_share_set(&ps.ns, (const char *)sqlite3_column_text(hdr, 4));
	ps.mode = profile_mode_from_name((const char *)sqlite3_column_text(hdr, 5));
	ps.learn_started = sqlite3_column_int64(hdr, 6);
	if (ps.mode < 0)
		ps.mode = PROF_LEARNING;
	if (sqlite3_prepare_v2(s->db,
			       "SELECT i.kind, i.value FROM profile_items i WHERE i.key = ?1 AND i.first_seen >= ?2"
			       " AND NOT EXISTS (SELECT 1 FROM profile_fleet_items f WHERE f.key = i.key AND"
			       " f.kind = i.kind AND f.value = i.value) ORDER BY i.kind, i.value",
			       -1, &q, NULL)) {
		profile_share_free(&ps);
		return -1;
	}
	sqlite3_bind_text(q, 1, ps.key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, all ? INT64_MIN : since);
	size_t bytes = 0;
	int r;
	while ((r = sqlite3_step(q)) == SQLITE_ROW) {
		int k = profile_kind_from_name((const char *)sqlite3_column_text(q, 0));
		const char *v = (const char *)sqlite3_column_text(q, 1);
		if (k < 0 || !v || profile_item_invalid((enum profile_kind)k, v))
			continue; /* what the hub would refuse: not sent */
		size_t n = strlen(v) + 8;
		if (ps.total && (bytes + n > PROFILE_MSG_CHUNK || ps.total >= PROFILE_DOC_MAX_ITEMS)) {
			if (publish_doc(s, &ps)) {
				rc = -1;
				break;
			}
			sent_one = true;
			struct profile_share keep = ps;
			for (int j = 0; j < PROF_NKINDS; j++) {
				for (size_t x = 0; x < keep.nitems[j]; x++)
					free(keep.items[j][x]);
				ps.nitems[j] = 0;
			}
			ps.total = 0;
			bytes = 0;
		}
		profile_share_add(&ps, (enum profile_kind)k, v);
		bytes += n;
	}
	if (r != SQLITE_DONE && r != SQLITE_ROW)
		rc = -1;
	if (!rc && (ps.total || !sent_one))
		rc = publish_doc(s, &ps);
	sqlite3_finalize(q);
	profile_share_free(&ps);
	return rc;
}

static int publish_round(struct profile_sync *s)
{
	sqlite3_stmt *hdr = NULL;
	int rc = 0;
	int64_t now = wall_ns();
	if (now >= s->next_full_ns) {
		s->full = true;
		s->next_full_ns = now + FULL_EVERY_S * 1000000000LL;
	}
	if (sqlite3_prepare_v2(s->db,
			       "SELECT key, image, digest, owner, namespace, mode, learn_started, last_new FROM profiles",
			       -1, &hdr, NULL))
		return -1;
	bool full = s->full;
	while (sqlite3_step(hdr) == SQLITE_ROW) {
		const char *key = (const char *)sqlite3_column_text(hdr, 0);
		int mode = profile_mode_from_name((const char *)sqlite3_column_text(hdr, 5));
		int64_t ls = sqlite3_column_int64(hdr, 6), ln = sqlite3_column_int64(hdr, 7);
		if (!key)
			continue;
		struct sent *e = sent_get(s, key);
		bool all = full || !e || e->learn_started != ls;
		if (!all && e->mode == mode && e->last_new == ln)
			continue;
		if (publish_profile(s, hdr, all, e ? e->last_new - OVERLAP_S : 0)) {
			rc = -1;
			break;
		}
		if (!e) {
			size_t kl = strlen(key) + 1;
			e = xcalloc(1, sizeof(*e) + kl);
			memcpy(e->key, key, kl);
			e->node.key = key_hash(key);
			hmap_put(&s->sent, &e->node);
		}
		e->learn_started = ls;
		e->last_new = ln;
		e->mode = mode;
	}
	sqlite3_finalize(hdr);
	if (rc) { /* what was not acknowledged: everything again, next round */
		s->full = true;
		return -1;
	}
	s->full = false;
	return 0;
}

/* A bucket value: parsed and merged (a value that does not parse is refused, counted). */
static void take_value(struct profile_sync *s, const char *data, int len, const char *kvkey)
{
	struct profile_share v;
	char err[256];
	if (profile_share_decode(PROFILE_DOC_KV, data, (size_t)(len < 0 ? 0 : len), &v, err, sizeof(err))) {
		pthread_mutex_lock(&s->lock);
		s->st.refused++;
		pthread_mutex_unlock(&s->lock);
		vg_warn("profiles: bucket value %.64s refused: %s", kvkey, err);
		return;
	}
	char want[65];
	profile_kv_key(v.key, want);
	if (strcmp(want, kvkey)) {
		pthread_mutex_lock(&s->lock);
		s->st.refused++;
		pthread_mutex_unlock(&s->lock);
		vg_warn("profiles: bucket value %.64s names another profile: refused", kvkey);
		profile_share_free(&v);
		return;
	}
	struct profile_sync_stats d = { 0 };
	int n = profile_sync_merge(s->db, &v, MAX_ITEMS, wall_ns() / 1000000000LL, &d);
	if (n < 0)
		vg_warn("profiles: cannot merge %s into the store: %s", v.key, sqlite3_errmsg(s->db));
	else if (n > 0)
		vg_info("profiles: %s: %llu items learnt elsewhere%s", v.key, (unsigned long long)d.merged_items,
			d.modes ? ", mode set centrally" : "");
	pthread_mutex_lock(&s->lock);
	s->st.merged_items += d.merged_items;
	s->st.modes += d.modes;
	s->st.refused += d.refused;
	pthread_mutex_unlock(&s->lock);
	profile_share_free(&v);
}

/* The bucket's value of every local profile not fetched yet (new here, or all after a reconnect). */
static void fetch_new(struct profile_sync *s, kvStore *kv)
{
	struct hmap_node *n, *tmp;
	size_t i;
	hmap_for_each(&s->sent, n, tmp, i) {
		struct sent *e = hmap_entry(n, struct sent, node);
		if (e->fetched)
			continue;
		char kk[65];
		kvEntry *ke = NULL;
		profile_kv_key(e->key, kk);
		natsStatus st = kvStore_Get(&ke, kv, kk);
		if (st == NATS_OK)
			take_value(s, kvEntry_Value(ke), kvEntry_ValueLen(ke), kk);
		if (st == NATS_OK || st == NATS_NOT_FOUND)
			e->fetched = true;
		kvEntry_Destroy(ke);
	}
}

static int open_db(struct profile_sync *s, char *err, size_t errlen)
{
	char e2[512];
	struct profile_store *ps = profile_store_open(s->path, true, e2, sizeof(e2)); /* the tables, checked */
	if (!ps) {
		snprintf(err, errlen, "%s", e2);
		return -1;
	}
	profile_store_close(ps);
	if (sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) ||
	    sqlite3_busy_timeout(s->db, 5000) || profile_sync_schema(s->db)) {
		snprintf(err, errlen, "%s: %s", s->path, s->db ? sqlite3_errmsg(s->db) : "cannot open");
		sqlite3_close(s->db);
		s->db = NULL;
		return -1;
	}
	return 0;
}

static struct profile_sync *sync_new(struct fleet_conn *c, const char *path, char *err, size_t errlen)
{
	struct profile_sync *s = xcalloc(1, sizeof(*s));
	s->conn = c;
	s->path = xstrdup(path);
	s->full = true;
	hmap_init(&s->sent, 64);
	pthread_mutex_init(&s->lock, NULL);
	fleet_subject(s->subject, sizeof(s->subject), fleet_cluster(c), fleet_node(c), "profile");
	if (open_db(s, err, errlen)) {
		hmap_free(&s->sent);
		free(s->path);
		free(s);
		return NULL;
	}
	return s;
}

static void sync_free(struct profile_sync *s)
{
	sent_clear(s);
	hmap_free(&s->sent);
	sqlite3_close(s->db);
	pthread_mutex_destroy(&s->lock);
	free(s->path);
	free(s);
}

/* How often the connection came back: a change means a possible gap in what was published and watched. */
static uint64_t reconnect_count(struct fleet_conn *c)
{
	natsStatistics *st = NULL;
	uint64_t in_m = 0, in_b = 0, out_m = 0, out_b = 0, r = 0;
	if (natsStatistics_Create(&st) == NATS_OK && natsConnection_GetStats(fleet_nc(c), st) == NATS_OK)
		natsStatistics_GetCounts(st, &in_m, &in_b, &out_m, &out_b, &r);
	natsStatistics_Destroy(st);
	return r;
}

static void refetch_all(struct profile_sync *s)
{
	struct hmap_node *n, *tmp;
	size_t i;
	hmap_for_each(&s->sent, n, tmp, i) hmap_entry(n, struct sent, node)->fetched = false;
}

static void *sync_thread(void *arg)
{
	struct profile_sync *s = arg;
	kvStore *kv = NULL;
	kvWatcher *kw = NULL;
	int64_t next_kv_try = 0;
	while (!atomic_load(&s->stop)) {
		bool up = fleet_conn_up(s->conn);
		if (!up) {
			if (s->was_up) { /* back later: everything again, and the bucket read again */
				s->full = true;
				kvWatcher_Destroy(kw);
				kvStore_Destroy(kv);
				kw = NULL;
				kv = NULL;
				next_kv_try = 0;
			}
			s->was_up = false;
			usleep(200 * 1000);
			continue;
		}
		uint64_t rc = reconnect_count(s->conn);
		if (!s->was_up || rc != s->reconnects) {
			/* (back) on line: everything published again, the bucket read and watched again */
			s->full = true;
			s->reconnects = rc;
			refetch_all(s);
			kvWatcher_Destroy(kw);
			kw = NULL;
		}
		s->was_up = true;
		if (wall_ns() >= s->next_full_ns)
			refetch_all(s); /* with the periodic full round: the bucket's values read again too */
		publish_round(s);
		if (!kv && wall_ns() >= next_kv_try) { /* no bucket yet (or no access): looked for every 10 s */
			if (js_KeyValue(&kv, fleet_js(s->conn), PROFILE_BUCKET) != NATS_OK)
				kv = NULL;
			next_kv_try = wall_ns() + 10000000000LL;
		}
		if (kv && !kw && kvStore_WatchAll(&kw, kv, NULL) != NATS_OK)
			kw = NULL;
		if (kv)
			fetch_new(s, kv);
		/* the bucket's changes until the next round */
		int64_t until = wall_ns() + ROUND_MS * 1000000LL;
		while (!atomic_load(&s->stop) && wall_ns() < until) {
			if (!kw) {
				usleep(100 * 1000);
				continue;
			}
			kvEntry *e = NULL;
			natsStatus st = kvWatcher_Next(&e, kw, 200);
			if (st == NATS_TIMEOUT)
				continue;
			if (st != NATS_OK) {
				kvWatcher_Destroy(kw);
				kw = NULL;
				continue;
			}
			if (e && kvEntry_Operation(e) == kvOp_Put)
				take_value(s, kvEntry_Value(e), kvEntry_ValueLen(e), kvEntry_Key(e));
			kvEntry_Destroy(e);
		}
	}
	kvWatcher_Destroy(kw);
	kvStore_Destroy(kv);
	return NULL;
}

struct profile_sync *profile_sync_start(struct fleet_conn *c, const char *store_path, char *err, size_t errlen)
{
	struct profile_sync *s = sync_new(c, store_path, err, errlen);
	if (!s)
		return NULL;
	if (pthread_create(&s->thread, NULL, sync_thread, s)) {
		snprintf(err, errlen, "profiles: cannot start a thread");
		sync_free(s);
		return NULL;
	}
	return s;
}

void profile_sync_stop(struct profile_sync *s)
{
	if (!s)
		return;
	atomic_store(&s->stop, true);
	pthread_join(s->thread, NULL);
	sync_free(s);
}

void profile_sync_get_stats(struct profile_sync *s, struct profile_sync_stats *st)
{
	pthread_mutex_lock(&s->lock);
	*st = s->st;
	pthread_mutex_unlock(&s->lock);
}

int profile_sync_once(struct fleet_conn *c, const char *store_path, struct profile_sync_stats *st, char *err,
		      size_t errlen)
{
	struct profile_sync *s = sync_new(c, store_path, err, errlen);
	kvStore *kv = NULL;
	char text[256];
	int rc = -1;
	if (!s)
		return -1;
	if (publish_round(s)) {
		snprintf(err, errlen, "publishing the profiles failed (is 'vigil fleet init' done, the server up?)");
		goto out;
	}
	natsStatus ns = js_KeyValue(&kv, fleet_js(c), PROFILE_BUCKET);
	if (ns != NATS_OK) {
		snprintf(err, errlen, "key-value bucket %s: %s", PROFILE_BUCKET, fleet_status_text(ns, text, sizeof(text)));
		goto out;
	}
	fetch_new(s, kv);
	rc = 0;
out:
	kvStore_Destroy(kv);
	if (st)
		*st = s->st;
	sync_free(s);
	return rc;
}
