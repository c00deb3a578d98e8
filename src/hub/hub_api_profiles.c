/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The hub API's profiles routes (docs/hub.md, "Profiles"):
 *   GET  /api/v1/profiles                 the merged profiles (cluster, namespace, image, limit, cursor)
 *   GET  /api/v1/profiles/<key>           one, with its items and the nodes that saw each
 *   POST /api/v1/profiles/<key>/mode      {"mode":"monitoring"}: set centrally, through the bucket (responder)
 * <key> is the profile's key (URL-encoded) or its bucket key (64 hex digits).
 */
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "fleet/nats_conn.h"
#include "fleet/profile_msg.h"
#include "hub/hub_api_int.h"
#include "hub/hub_profiles.h"
#include "hub/hub_store.h"

#define PREFIX "/api/v1/profiles"

static enum MHD_Result send_buf(struct MHD_Connection *c, unsigned status, struct vg_buf *b)
{
	enum MHD_Result r = hub_api_respond(c, status, "application/json", b->data ? b->data : "", b->len);
	buf_free(b);
	return r;
}

static void nodes_json(sqlite3 *db, struct vg_json *j, int64_t pid)
{
	sqlite3_stmt *q = NULL;
	jw_arr_begin(j, "nodes");
	if (!sqlite3_prepare_v2(db,
				"SELECT cluster, node, mode, learn_started, last_ns FROM hub_profile_nodes WHERE pid = ?"
				" ORDER BY cluster, node",
				-1, &q, NULL)) {
		sqlite3_bind_int64(q, 1, pid);
		while (sqlite3_step(q) == SQLITE_ROW) {
			jw_obj_begin(j, NULL);
			jw_str(j, "cluster", (const char *)sqlite3_column_text(q, 0));
			jw_str(j, "node", (const char *)sqlite3_column_text(q, 1));
			jw_str(j, "mode", (const char *)sqlite3_column_text(q, 2));
			jw_int(j, "learn_started", sqlite3_column_int64(q, 3));
			jw_int(j, "last_ns", sqlite3_column_int64(q, 4));
			jw_obj_end(j);
		}
	}
	sqlite3_finalize(q);
	jw_arr_end(j);
}

#define HDR_COLS                                                                                                    \
	"p.id, p.key, p.kv_key, p.image, p.digest, p.owner, p.namespace, p.mode, p.mode_set_by, p.mode_set_ns,"     \
	" p.updated_ns, (SELECT count(*) FROM hub_profile_items i WHERE i.pid = p.id)"

static void header_json(sqlite3 *db, struct vg_json *j, sqlite3_stmt *q)
{
	static const char *const names[] = { "id", "key", "kv_key", "image", "digest", "owner", "namespace" };
	jw_int(j, names[0], sqlite3_column_int64(q, 0));
	for (int i = 1; i < 7; i++)
		jw_str(j, names[i], (const char *)sqlite3_column_text(q, i));
	if (sqlite3_column_type(q, 7) == SQLITE_NULL)
		jw_null(j, "mode");
	else
		jw_str(j, "mode", (const char *)sqlite3_column_text(q, 7));
	jw_str(j, "mode_set_by", sqlite3_column_type(q, 8) == SQLITE_NULL ? "" : (const char *)sqlite3_column_text(q, 8));
	jw_int(j, "mode_set_ns", sqlite3_column_int64(q, 9));
	jw_int(j, "updated_ns", sqlite3_column_int64(q, 10));
	jw_int(j, "items", sqlite3_column_int64(q, 11));
	nodes_json(db, j, sqlite3_column_int64(q, 0));
}

static enum MHD_Result list(struct hub_api *api, const struct hub_req *rq)
{
	static const char *const keys[] = { "cluster", "namespace", "image", "limit", "cursor" };
	const char *v[5] = { 0 };
	if (rq->args.overflow)
		return hub_api_error(rq->c, MHD_HTTP_BAD_REQUEST, "too many parameters");
	for (size_t i = 0; i < rq->args.n; i++) {
		int ki = -1;
		for (int k = 0; k < 5; k++)
			if (!strcmp(rq->args.k[i], keys[k]))
				ki = k;
		char err[128];
		if (ki < 0) {
			snprintf(err, sizeof(err), "unknown parameter '%.64s'", rq->args.k[i]);
			return hub_api_error(rq->c, MHD_HTTP_BAD_REQUEST, err);
		}
		if (v[ki] || !rq->args.v[i] || !*rq->args.v[i] || strlen(rq->args.v[i]) > 512) {
			snprintf(err, sizeof(err), "parameter '%s': once, with a value of 1 to 512 bytes", keys[ki]);
			return hub_api_error(rq->c, MHD_HTTP_BAD_REQUEST, err);
		}
		v[ki] = rq->args.v[i];
	}
	long limit = HUB_LIMIT_DEFAULT;
	long long cursor = 0;
	char *end;
	if (v[3]) {
		limit = strtol(v[3], &end, 10);
		if (*end || limit < 1 || limit > HUB_LIMIT_MAX)
			return hub_api_error(rq->c, MHD_HTTP_BAD_REQUEST, "limit: 1 to 1000");
	}
	if (v[4]) {
		cursor = strtoll(v[4], &end, 10);
		if (*end || cursor < 0)
			return hub_api_error(rq->c, MHD_HTTP_BAD_REQUEST, "cursor: the next_cursor of the previous page");
	}
	struct hub_store *s = hub_api_store_get(api);
	sqlite3 *db = hub_store_db(s);
	sqlite3_stmt *q = NULL;
	struct vg_buf b = { 0 };
	struct vg_json j;
	jw_init(&j, &b);
	jw_obj_begin(&j, NULL);
	jw_arr_begin(&j, "profiles");
	long n = 0;
	long long last = 0;
	bool more = false;
	if (!sqlite3_prepare_v2(db,
				"SELECT " HDR_COLS " FROM hub_profiles p WHERE p.id > ?1"
				" AND (?2 IS NULL OR EXISTS (SELECT 1 FROM hub_profile_nodes n WHERE n.pid = p.id AND n.cluster = ?2))"
				" AND (?3 IS NULL OR p.namespace = ?3) AND (?4 IS NULL OR p.image = ?4)"
				" ORDER BY p.id LIMIT ?5",
				-1, &q, NULL)) {
		sqlite3_bind_int64(q, 1, cursor);
		for (int k = 0; k < 3; k++)
			if (v[k])
				sqlite3_bind_text(q, 2 + k, v[k], -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 5, limit + 1);
		while (sqlite3_step(q) == SQLITE_ROW) {
			if (n == limit) {
				more = true;
				break;
			}
			jw_obj_begin(&j, NULL);
			header_json(db, &j, q);
			jw_obj_end(&j);
			last = sqlite3_column_int64(q, 0);
			n++;
		}
	} /* no table yet: no profile yet */
	sqlite3_finalize(q);
	hub_api_store_put(api, s);
	jw_arr_end(&j);
	if (more) {
		char c[24];
		snprintf(c, sizeof(c), "%lld", last);
		jw_str(&j, "next_cursor", c);
	} else {
		jw_null(&j, "next_cursor");
	}
	jw_obj_end(&j);
	return send_buf(rq->c, MHD_HTTP_OK, &b);
}

/* The profile's key from the path's part (a bucket key, or the key itself). */
static sqlite3_stmt *find(sqlite3 *db, const char *k)
{
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(db, "SELECT " HDR_COLS " FROM hub_profiles p WHERE p.key = ?1 OR p.kv_key = ?1", -1, &q,
			       NULL))
		return NULL;
	sqlite3_bind_text(q, 1, k, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(q) != SQLITE_ROW) {
		sqlite3_finalize(q);
		return NULL;
	}
	return q;
}

static enum MHD_Result one(struct hub_api *api, const struct hub_req *rq, const char *k)
{
	if (rq->args.n)
		return hub_api_error(rq->c, MHD_HTTP_BAD_REQUEST, "no parameters here");
	struct hub_store *s = hub_api_store_get(api);
	sqlite3 *db = hub_store_db(s);
	sqlite3_stmt *q = find(db, k), *it = NULL, *seen = NULL;
	if (!q) {
		hub_api_store_put(api, s);
		return hub_api_error(rq->c, MHD_HTTP_NOT_FOUND, "no such profile");
	}
	struct vg_buf b = { 0 };
	struct vg_json j;
	jw_init(&j, &b);
	jw_obj_begin(&j, NULL);
	header_json(db, &j, q);
	int64_t pid = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	jw_obj_begin(&j, "kinds");
	if (!sqlite3_prepare_v2(db, "SELECT kind, value FROM hub_profile_items WHERE pid = ? ORDER BY kind, value", -1,
				&it, NULL) &&
	    !sqlite3_prepare_v2(db,
				"SELECT cluster, node FROM hub_profile_seen WHERE pid = ? AND kind = ? AND value = ?"
				" ORDER BY cluster, node",
				-1, &seen, NULL)) {
		sqlite3_bind_int64(it, 1, pid);
		for (int kind = 0; kind < PROF_NKINDS; kind++) {
			const char *kn = profile_kind_name((enum profile_kind)kind);
			jw_arr_begin(&j, kn);
			sqlite3_reset(it);
			while (sqlite3_step(it) == SQLITE_ROW) {
				if (strcmp((const char *)sqlite3_column_text(it, 0), kn))
					continue;
				jw_obj_begin(&j, NULL);
				jw_str(&j, "value", (const char *)sqlite3_column_text(it, 1));
				jw_arr_begin(&j, "nodes");
				sqlite3_reset(seen);
				sqlite3_bind_int64(seen, 1, pid);
				sqlite3_bind_text(seen, 2, kn, -1, SQLITE_STATIC);
				sqlite3_bind_text(seen, 3, (const char *)sqlite3_column_text(it, 1), -1, SQLITE_TRANSIENT);
				while (sqlite3_step(seen) == SQLITE_ROW) {
					char cn[140];
					snprintf(cn, sizeof(cn), "%s/%s", sqlite3_column_text(seen, 0), sqlite3_column_text(seen, 1));
					jw_str(&j, NULL, cn);
				}
				jw_arr_end(&j);
				jw_obj_end(&j);
			}
			jw_arr_end(&j);
		}
	}
	sqlite3_finalize(it);
	sqlite3_finalize(seen);
	hub_api_store_put(api, s);
	jw_obj_end(&j);
	jw_obj_end(&j);
	return send_buf(rq->c, MHD_HTTP_OK, &b);
}

static enum MHD_Result set_mode(struct hub_api *api, const struct hub_req *rq, const char *k)
{
	if (rq->role != HUB_ROLE_RESPONDER)
		return hub_api_error(rq->c, MHD_HTTP_FORBIDDEN, "setting a profile's mode needs a responder's token");
	if (rq->args.n)
		return hub_api_error(rq->c, MHD_HTTP_BAD_REQUEST, "no parameters here");
	json_error_t je;
	json_t *body = rq->body ? json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &je) : NULL;
	const char *ms = json_string_value(json_object_get(body, "mode"));
	int mode = ms ? profile_mode_from_name(ms) : -1;
	if (!json_is_object(body) || json_object_size(body) != 1 || mode < 0) {
		json_decref(body);
		return hub_api_error(rq->c, MHD_HTTP_BAD_REQUEST,
				     "the body must be {\"mode\": \"learning\"|\"monitoring\"|\"protecting\"}");
	}
	json_decref(body);
	struct fleet_conn *fc = __atomic_load_n(&api->o->nats, __ATOMIC_ACQUIRE);
	if (!fc || !fleet_conn_up(fc))
		return hub_api_error(rq->c, MHD_HTTP_SERVICE_UNAVAILABLE, "the hub is not connected to NATS");
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(api->o->store_path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) ||
	    sqlite3_busy_timeout(db, 5000)) {
		sqlite3_close(db);
		return hub_api_error(rq->c, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot open the hub's store");
	}
	sqlite3_stmt *q = find(db, k);
	if (!q) {
		sqlite3_close(db);
		return hub_api_error(rq->c, MHD_HTTP_NOT_FOUND, "no such profile");
	}
	char *key = xstrdup((const char *)sqlite3_column_text(q, 1));
	sqlite3_finalize(q);
	kvStore *kv = NULL;
	char err[320], text[200];
	uint64_t rev = 0;
	natsStatus ns = js_KeyValue(&kv, fleet_js(fc), PROFILE_BUCKET);
	enum MHD_Result r;
	const char *who = rq->who && *rq->who ? rq->who : "responder";
	if (ns != NATS_OK) {
		snprintf(err, sizeof(err), "bucket %s: %s", PROFILE_BUCKET, fleet_status_text(ns, text, sizeof(text)));
		r = hub_api_error(rq->c, MHD_HTTP_SERVICE_UNAVAILABLE, err);
	} else if (hub_profiles_kv_write(db, kv, key, mode, who, &rev, err, sizeof(err))) {
		r = hub_api_error(rq->c, MHD_HTTP_BAD_GATEWAY, err);
	} else {
		sqlite3_stmt *u = NULL;
		if (!sqlite3_prepare_v2(db, "UPDATE hub_profiles SET mode = ?2, mode_set_by = ?3, mode_set_ns = ?4 WHERE key = ?1",
					-1, &u, NULL)) {
			sqlite3_bind_text(u, 1, key, -1, SQLITE_STATIC);
			sqlite3_bind_text(u, 2, profile_mode_name((enum profile_mode)mode), -1, SQLITE_STATIC);
			sqlite3_bind_text(u, 3, who, -1, SQLITE_STATIC);
			sqlite3_bind_int64(u, 4, hub_api_now_ns());
			sqlite3_step(u);
		}
		sqlite3_finalize(u);
		vg_info("hub: profile %s set to %s by %s (bucket revision %llu)", key,
			profile_mode_name((enum profile_mode)mode), who, (unsigned long long)rev);
		struct vg_buf b = { 0 };
		struct vg_json j;
		jw_init(&j, &b);
		jw_obj_begin(&j, NULL);
		jw_str(&j, "key", key);
		jw_str(&j, "mode", profile_mode_name((enum profile_mode)mode));
		jw_str(&j, "set_by", who);
		jw_uint(&j, "revision", rev);
		jw_obj_end(&j);
		r = send_buf(rq->c, MHD_HTTP_OK, &b);
	}
	kvStore_Destroy(kv);
	free(key);
	sqlite3_close(db);
	return r;
}

bool hub_routes_profiles(struct hub_api *api, const struct hub_req *rq, enum MHD_Result *ret)
{
	const char *u = rq->url;
	size_t pl = strlen(PREFIX);
	if (strncmp(u, PREFIX, pl) || (u[pl] && u[pl] != '/'))
		return false;
	bool get = !strcmp(rq->method, "GET") || !strcmp(rq->method, "HEAD");
	if (!u[pl] || !u[pl + 1]) {
		*ret = get ? list(api, rq) : hub_api_error(rq->c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only");
		return true;
	}
	const char *k = u + pl + 1;
	size_t kl = strlen(k);
	if (kl > 5 && !strcmp(k + kl - 5, "/mode") && !strcmp(rq->method, "POST")) {
		char key[PROF_KEY_MAX];
		if (kl - 5 >= sizeof(key)) {
			*ret = hub_api_error(rq->c, MHD_HTTP_NOT_FOUND, "no such profile");
			return true;
		}
		memcpy(key, k, kl - 5);
		key[kl - 5] = 0;
		*ret = set_mode(api, rq, key);
		return true;
	}
	if (!get) {
		*ret = hub_api_error(rq->c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only (POST: .../<key>/mode)");
		return true;
	}
	*ret = one(api, rq, k);
	return true;
}
