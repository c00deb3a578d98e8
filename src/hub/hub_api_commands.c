/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Response commands through the hub (docs/hub.md, "Response commands"):
 *
 *   POST /api/v1/commands  {"cluster":"c","node":"n","command":"release"|"thaw","container":"id-or-name"}
 *     200 {"outcome":"...","detail":"...","node":"n"}  the node's agent answered (fleet/command.h)
 *     403 a viewer's token; 400 a malformed body; 404 a node the hub never saw;
 *     503 the hub has no NATS connection now; 504 no agent answered within 5 s;
 *     429 as many commands in flight as the API has threads but one
 *   GET /api/v1/commands   the hub's log of commands: who, what, and what came of it
 *
 * The hub sends the command as a NATS request on vigil.<cluster>.<node>.cmd
 * with a fresh id and its time (the agent refuses stale and replayed ones)
 * and the token's name as the actor. Every POST that names a command (a
 * viewer's refused one included) is logged in table `commands` of the hub's
 * store, on a connection of this module's own.
 */
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include <openssl/evp.h>
#include "common/log.h"
#include "fleet/command.h"
#include "fleet/nats_conn.h"
#include "hub/hub_api_int.h"

#define CMD_TIMEOUT_MS 5000

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS commands (id INTEGER PRIMARY KEY, uuid TEXT NOT NULL, time_ns INTEGER NOT NULL,"
	" who TEXT NOT NULL, role TEXT NOT NULL, cluster TEXT NOT NULL, node TEXT NOT NULL,"
	" command TEXT NOT NULL, container TEXT NOT NULL, status INTEGER NOT NULL, outcome TEXT NOT NULL,"
	" detail TEXT NOT NULL, took_ms INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS commands_node ON commands(node, id);";

/*
 * The module's store connection (one per process: a process runs one hub API),
 * opened on first use on the API's store, and the commands in flight.
 */
static struct {
	pthread_mutex_t mu;
	sqlite3 *db;
	char *path;
	unsigned inflight;
} cm = { .mu = PTHREAD_MUTEX_INITIALIZER };

#define INC(x) __atomic_add_fetch(&(x), 1, __ATOMIC_RELAXED)

/* The connection, opened (and the table made) on first use; call with cm.mu held. NULL logged. */
static sqlite3 *db_locked(const char *path)
{
	if (cm.db && cm.path && !strcmp(cm.path, path))
		return cm.db;
	if (cm.db) {
		sqlite3_close(cm.db);
		cm.db = NULL;
	}
	free(cm.path);
	cm.path = NULL;
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		vg_err("hub api: commands: cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK) {
		vg_err("hub api: commands: cannot create the table in %s: %s", path, sqlite3_errmsg(db));
		sqlite3_close(db);
		return NULL;
	}
	cm.db = db;
	cm.path = xstrdup(path);
	return db;
}

/* Whether the hub has stored anything of the node: 1, 0, or -1 (store error, logged). */
static int node_known(struct hub_api *a, const char *cluster, const char *node)
{
	int known = -1;
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&cm.mu);
	sqlite3 *db = db_locked(a->o->store_path);
	if (db && sqlite3_prepare_v2(db, "SELECT 1 FROM nodes WHERE cluster = ?1 AND node = ?2", -1, &st, NULL) ==
			  SQLITE_OK) {
		sqlite3_bind_text(st, 1, cluster, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, node, -1, SQLITE_STATIC);
		int rc = sqlite3_step(st);
		known = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
	}
	if (known < 0)
		vg_err("hub api: commands: cannot look the node up: %s", db ? sqlite3_errmsg(db) : "no store");
	sqlite3_finalize(st);
	pthread_mutex_unlock(&cm.mu);
	return known;
}

/* A place among the commands in flight: each holds an API thread until its answer (5 s at
 * most), so one thread is always left for everything else. false: as many as that already. */
static bool inflight_take(struct hub_api *a)
{
	unsigned threads = a->o->threads ? a->o->threads : 2u;
	unsigned max_inflight = threads > 1 ? threads - 1 : 1;
	pthread_mutex_lock(&cm.mu);
	bool ok = cm.inflight < max_inflight;
	if (ok)
		cm.inflight++;
	pthread_mutex_unlock(&cm.mu);
	return ok;
}

static void inflight_put(void)
{
	pthread_mutex_lock(&cm.mu);
	cm.inflight--;
	pthread_mutex_unlock(&cm.mu);
}

struct logged {
	const char *uuid, *who, *role, *cluster, *node, *command, *container, *outcome, *detail;
	int64_t time_ns, took_ms;
	unsigned status;
};

static void log_command(struct hub_api *a, const struct logged *l)
{
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&cm.mu);
	sqlite3 *db = db_locked(a->o->store_path);
	int rc = SQLITE_ERROR;
	if (db && sqlite3_prepare_v2(db,
				     "INSERT INTO commands(uuid, time_ns, who, role, cluster, node, command, container,"
				     " status, outcome, detail, took_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
				     -1, &st, NULL) == SQLITE_OK) {
		const char *s[] = { l->uuid, NULL, l->who, l->role, l->cluster, l->node, l->command, l->container };
		for (int i = 0; i < 8; i++)
			if (i != 1)
				sqlite3_bind_text(st, i + 1, s[i] ? s[i] : "", -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, l->time_ns);
		sqlite3_bind_int(st, 9, (int)l->status);
		sqlite3_bind_text(st, 10, l->outcome, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 11, l->detail ? l->detail : "", -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 12, l->took_ms);
		rc = sqlite3_step(st);
	}
	if (rc != SQLITE_DONE)
		vg_err("hub api: commands: cannot log a command: %s", db ? sqlite3_errmsg(db) : "no store");
	sqlite3_finalize(st);
	pthread_mutex_unlock(&cm.mu);
	vg_info("hub: command %s by %s (%s): %s %s on %s/%s: %u %s%s%s", l->uuid[0] ? l->uuid : "-",
		l->who[0] ? l->who : "an unnamed token", l->role, l->command, l->container, l->cluster, l->node,
		l->status, l->outcome, l->detail && l->detail[0] ? ": " : "", l->detail ? l->detail : "");
}

/* The body: exactly cluster (optional, default "default"), node, command, container. 0 or -1 with err. */
static int parse_body(const struct hub_req *rq, struct fleet_cmd *c, char *err, size_t errlen)
{
	static const char *const known[] = { "cluster", "node", "command", "container" };
	json_error_t je;
	int rc = -1;
	memset(c, 0, sizeof(*c));
	if (!rq->body || !rq->body_len || memchr(rq->body, 0, rq->body_len)) {
		snprintf(err, errlen, "the body must be one JSON object");
		return -1;
	}
	json_t *o = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(o)) {
		snprintf(err, errlen, "the body must be one JSON object%s%.200s", o ? "" : ": ", o ? "" : je.text);
		goto out;
	}
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v)
	{
		bool ok = false;
		for (size_t i = 0; i < sizeof(known) / sizeof(*known); i++)
			ok |= !strcmp(k, known[i]);
		if (!ok) {
			snprintf(err, errlen, "unknown field '%.64s' (cluster, node, command, container)", k);
			goto out;
		}
		if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
			snprintf(err, errlen, "%s must be a string", k);
			goto out;
		}
	}
	const char *cluster = json_string_value(json_object_get(o, "cluster"));
	const char *node = json_string_value(json_object_get(o, "node"));
	const char *cmd = json_string_value(json_object_get(o, "command"));
	const char *ct = json_string_value(json_object_get(o, "container"));
	if (!cluster)
		cluster = "default";
	if (!fleet_name_valid(cluster) || !fleet_name_valid(node)) {
		snprintf(err, errlen, "node (required) and cluster must be 1 to %d of A-Z a-z 0-9 - _", FLEET_NAME_MAX);
		goto out;
	}
	int kind = fleet_cmd_kind_parse(cmd);
	if (kind < 0 || kind == FLEET_CMD_EVIDENCE) { /* evidence: GET /api/v1/evidence/ACTION */
		snprintf(err, errlen, "command must be release or thaw");
		goto out;
	}
	if (!fleet_cmd_container_valid(ct)) {
		snprintf(err, errlen, "container must be an id prefix or a name: 1 to %d of A-Z a-z 0-9 _ . - "
				      "(a letter or digit first)", FLEET_CMD_CONTAINER_MAX);
		goto out;
	}
	snprintf(c->cluster, sizeof(c->cluster), "%s", cluster);
	snprintf(c->node, sizeof(c->node), "%s", node);
	snprintf(c->container, sizeof(c->container), "%s", ct);
	c->kind = (enum fleet_cmd_kind)kind;
	rc = 0;
out:
	json_decref(o);
	return rc;
}

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status, const char *outcome, const char *detail,
			      const char *node)
{
	struct vg_buf b = { 0 };
	struct vg_json j;
	jw_init(&j, &b);
	jw_obj_begin(&j, NULL);
	jw_str(&j, "outcome", outcome);
	jw_str(&j, "detail", detail);
	jw_str(&j, "node", node);
	jw_obj_end(&j);
	enum MHD_Result r = hub_api_respond(c, status, "application/json", b.data, b.len);
	buf_free(&b);
	return r;
}

static enum MHD_Result post_command(struct hub_api *a, const struct hub_req *rq)
{
	struct fleet_cmd c;
	char err[512], detail[FLEET_CMD_DETAIL_MAX + 1] = "";
	int64_t t0 = hub_api_now_ns();
	bool responder = rq->role == HUB_ROLE_RESPONDER;
	struct logged l = { .uuid = "", .who = rq->who ? rq->who : "", .role = responder ? "responder" : "viewer",
			    .time_ns = t0 };
	int bad = parse_body(rq, &c, err, sizeof(err));
	if (!bad) {
		l.cluster = c.cluster;
		l.node = c.node;
		l.command = fleet_cmd_kind_name(c.kind);
		l.container = c.container;
	}
	if (!responder) {
		/* refused before anything is looked at; logged when it says what it wanted */
		if (!bad) {
			l.status = MHD_HTTP_FORBIDDEN;
			l.outcome = "forbidden";
			log_command(a, &l);
		}
		return hub_api_error(rq->c, MHD_HTTP_FORBIDDEN, "commands need a responder token");
	}
	if (bad)
		return INC(a->bad), hub_api_error(rq->c, MHD_HTTP_BAD_REQUEST, err);
	int known = node_known(a, c.cluster, c.node);
	if (known <= 0) {
		l.status = known < 0 ? MHD_HTTP_INTERNAL_SERVER_ERROR : MHD_HTTP_NOT_FOUND;
		l.outcome = known < 0 ? "store_error" : "unknown_node";
		log_command(a, &l);
		return hub_api_error(rq->c, l.status, known < 0 ? "store error" : "the hub has never seen this node");
	}
	struct fleet_conn *fc = __atomic_load_n(&a->o->nats, __ATOMIC_ACQUIRE);
	if (!a->o->local_command && (!fc || !fleet_conn_up(fc))) {
		l.status = MHD_HTTP_SERVICE_UNAVAILABLE;
		l.outcome = "no_nats";
		log_command(a, &l);
		return hub_api_error(rq->c, l.status, "the hub is not connected to NATS");
	}
	if (!inflight_take(a)) {
		l.status = MHD_HTTP_TOO_MANY_REQUESTS;
		l.outcome = "busy";
		log_command(a, &l);
		return hub_api_error(rq->c, l.status, "another command is in flight; try again");
	}
	if (fleet_cmd_new_id(c.id)) {
		snprintf(c.id, sizeof(c.id), "%016llx%016llx", (unsigned long long)t0, (unsigned long long)random());
	}
	c.time_ns = hub_api_now_ns();
	snprintf(c.actor, sizeof(c.actor), "%s", fleet_cmd_actor_valid(l.who) ? l.who : "");
	l.uuid = c.id;
	char subject[256];
	fleet_subject(subject, sizeof(subject), c.cluster, c.node, FLEET_CMD_KIND);
	struct vg_buf b = { 0 };
	fleet_cmd_encode(&c, &b);
	natsMsg *reply = NULL;
	natsStatus s = NATS_OK;
	int local = -1;
	if (a->o->local_command) /* a single agent's console: carried out here (hub_api.h) */
		local = a->o->local_command(a->o->local_ctx, &c, detail, sizeof(detail));
	else
		s = natsConnection_Request(&reply, fleet_nc(fc), subject, b.data, (int)b.len, CMD_TIMEOUT_MS);
	buf_free(&b);
	inflight_put();
	enum MHD_Result r;
	enum fleet_cmd_outcome o;
	if (local >= 0) {
		o = local < FLEET_CMD_OUTCOME__N ? (enum fleet_cmd_outcome)local : FLEET_CMD_FAILED;
		l.status = MHD_HTTP_OK;
		l.outcome = fleet_cmd_outcome_name(o);
		l.detail = detail;
		r = answer(rq->c, MHD_HTTP_OK, l.outcome, detail, c.node);
	} else if (s == NATS_OK && !fleet_cmd_reply_decode(natsMsg_GetData(reply), (size_t)natsMsg_GetDataLength(reply), &o,
						    detail, sizeof(detail), err, sizeof(err))) {
		l.status = MHD_HTTP_OK;
		l.outcome = fleet_cmd_outcome_name(o);
		l.detail = detail;
		r = answer(rq->c, MHD_HTTP_OK, l.outcome, detail, c.node);
	} else if (s == NATS_OK) {
		/* an answer that is not one: said as such, never passed on */
		l.status = MHD_HTTP_BAD_GATEWAY;
		l.outcome = "bad_reply";
		l.detail = err;
		r = hub_api_error(rq->c, MHD_HTTP_BAD_GATEWAY, "the node's reply is malformed");
	} else if (s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS) {
		l.status = MHD_HTTP_GATEWAY_TIMEOUT;
		l.outcome = "timeout";
		l.detail = s == NATS_NO_RESPONDERS ? "no agent answers on the node's command subject"
						   : "no reply within 5 s";
		r = hub_api_error(rq->c, MHD_HTTP_GATEWAY_TIMEOUT, s == NATS_NO_RESPONDERS
								   ? "no agent of that node is listening (is it running with --nats?)"
								   : "the node did not answer within 5 s");
	} else {
		char text[256];
		l.status = MHD_HTTP_SERVICE_UNAVAILABLE;
		l.outcome = "no_nats";
		l.detail = fleet_status_text(s, text, sizeof(text));
		r = hub_api_error(rq->c, MHD_HTTP_SERVICE_UNAVAILABLE, "the command could not be sent over NATS");
	}
	natsMsg_Destroy(reply);
	l.took_ms = (hub_api_now_ns() - t0) / 1000000;
	log_command(a, &l);
	return r;
}

static void fmt_time(int64_t ns, char *buf, size_t len)
{
	time_t sec = (time_t)(ns / 1000000000LL);
	struct tm tm;
	gmtime_r(&sec, &tm);
	size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%09lldZ", (long long)(ns % 1000000000LL));
}

/* GET /api/v1/commands?[node=][&cluster=][&limit=][&cursor=]: oldest first, paged like the other lists. */
static enum MHD_Result list_commands(struct hub_api *a, const struct hub_req *rq)
{
	const char *node = NULL, *cluster = NULL;
	long limit = 100;
	long long after = 0;
	for (size_t i = 0; i < rq->args.n; i++) {
		const char *k = rq->args.k[i], *v = rq->args.v[i] ? rq->args.v[i] : "";
		char *end;
		bool dup = false;
		for (size_t j = 0; j < i; j++)
			dup |= !strcmp(rq->args.k[j], k);
		if (dup)
			return INC(a->bad), hub_api_error(rq->c, MHD_HTTP_BAD_REQUEST, "a parameter is given twice");
		if (!strcmp(k, "node") || !strcmp(k, "cluster")) {
			if (!fleet_name_valid(v))
				return INC(a->bad), hub_api_error(rq->c, MHD_HTTP_BAD_REQUEST,
								   "node and cluster must be 1 to 64 of A-Z a-z 0-9 - _");
			*(!strcmp(k, "node") ? &node : &cluster) = v;
		} else if (!strcmp(k, "limit")) {
			limit = strtol(v, &end, 10);
			if (!*v || *end || limit < 1 || limit > 1000)
				return INC(a->bad), hub_api_error(rq->c, MHD_HTTP_BAD_REQUEST, "limit must be 1 to 1000");
		} else if (!strcmp(k, "cursor")) {
			after = strtoll(v, &end, 10);
			if (!*v || *end || after < 0 || v[0] == '-' || v[0] == '+')
				return INC(a->bad), hub_api_error(rq->c, MHD_HTTP_BAD_REQUEST,
								   "cursor must be a next_cursor the API returned");
		} else
			return INC(a->bad), hub_api_error(rq->c, MHD_HTTP_BAD_REQUEST, "unknown parameter");
	}
	struct vg_buf b = { 0 };
	struct vg_json j;
	sqlite3_stmt *st = NULL;
	jw_init(&j, &b);
	jw_obj_begin(&j, NULL);
	jw_arr_begin(&j, "commands");
	pthread_mutex_lock(&cm.mu);
	sqlite3 *db = db_locked(a->o->store_path);
	int rc = SQLITE_ERROR;
	long n = 0;
	long long last = 0;
	if (db && sqlite3_prepare_v2(db,
				     "SELECT id, uuid, time_ns, who, role, cluster, node, command, container, status,"
				     " outcome, detail, took_ms FROM commands WHERE id > ?1 AND (?2 IS NULL OR node = ?2)"
				     " AND (?3 IS NULL OR cluster = ?3) ORDER BY id LIMIT ?4",
				     -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, after);
		sqlite3_bind_text(st, 2, node, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, cluster, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, limit + 1);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (n == limit)
				break;
			char t[64];
			last = sqlite3_column_int64(st, 0);
			fmt_time(sqlite3_column_int64(st, 2), t, sizeof(t));
			jw_obj_begin(&j, NULL);
			jw_int(&j, "id", last);
			jw_str(&j, "uuid", (const char *)sqlite3_column_text(st, 1));
			jw_str(&j, "time", t);
			static const char *const cols[] = { "who", "role", "cluster", "node", "command", "container" };
			for (int c = 0; c < 6; c++)
				jw_str(&j, cols[c], (const char *)sqlite3_column_text(st, 3 + c));
			jw_int(&j, "status", sqlite3_column_int(st, 9));
			jw_str(&j, "outcome", (const char *)sqlite3_column_text(st, 10));
			jw_str(&j, "detail", (const char *)sqlite3_column_text(st, 11));
			jw_int(&j, "took_ms", sqlite3_column_int64(st, 12));
			jw_obj_end(&j);
			n++;
		}
	}
	bool ok = rc == SQLITE_ROW || rc == SQLITE_DONE;
	bool more = rc == SQLITE_ROW;
	if (!ok)
		vg_err("hub api: commands: %s", db ? sqlite3_errmsg(db) : "no store");
	sqlite3_finalize(st);
	pthread_mutex_unlock(&cm.mu);
	jw_arr_end(&j);
	if (more) {
		char cur[32];
		snprintf(cur, sizeof(cur), "%lld", last);
		jw_str(&j, "next_cursor", cur);
	} else
		jw_null(&j, "next_cursor");
	jw_obj_end(&j);
	enum MHD_Result r = ok ? hub_api_respond(rq->c, MHD_HTTP_OK, "application/json", b.data, b.len)
			       : hub_api_error(rq->c, MHD_HTTP_INTERNAL_SERVER_ERROR, "store error");
	buf_free(&b);
	return r;
}

/* ---- evidence: a capture action's bundle, fetched from its node (docs/hub.md, "Evidence") ---- */

#define EVIDENCE_PREFIX "/api/v1/evidence/"
#define EVIDENCE_PART_WAIT_MS 10000

/* The capture action uuid's node and bundle name: 1, 0 (no such action), -1 (store error), -2 (not a bundle). */
static int evidence_of(struct hub_api *a, const char *uuid, struct fleet_cmd *c)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;
	pthread_mutex_lock(&cm.mu);
	sqlite3 *db = db_locked(a->o->store_path);
	if (db && sqlite3_prepare_v2(db,
				     "SELECT cluster, node, action, outcome, json_extract(json, '$.detail') FROM actions"
				     " WHERE uuid = ?1",
				     -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
		int r = sqlite3_step(st);
		rc = r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 : -1;
		if (rc == 1) {
			const char *cluster = (const char *)sqlite3_column_text(st, 0),
				   *node = (const char *)sqlite3_column_text(st, 1),
				   *action = (const char *)sqlite3_column_text(st, 2),
				   *outcome = (const char *)sqlite3_column_text(st, 3),
				   *detail = (const char *)sqlite3_column_text(st, 4);
			/* the capture's detail: "bundle <evidence dir>/<name>" (respond/respond.c) */
			const char *slash = detail ? strrchr(detail, '/') : NULL;
			rc = -2;
			if (cluster && node && action && outcome && !strcmp(action, "capture") &&
			    !strcmp(outcome, "done") && detail && !strncmp(detail, "bundle ", 7) && slash &&
			    fleet_cmd_bundle_valid(slash + 1) && fleet_name_valid(cluster) && fleet_name_valid(node)) {
				snprintf(c->cluster, sizeof(c->cluster), "%s", cluster);
				snprintf(c->node, sizeof(c->node), "%s", node);
				snprintf(c->bundle, sizeof(c->bundle), "%s", slash + 1);
				rc = 1;
			}
		}
	}
	if (rc == -1)
		vg_err("hub api: evidence: cannot look the action up: %s", db ? sqlite3_errmsg(db) : "no store");
	sqlite3_finalize(st);
	pthread_mutex_unlock(&cm.mu);
	return rc;
}

static bool uuid_valid(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
		      s[n] == '-'))
			return false;
	return n >= 8 && n <= 64;
}

static long header_num(natsMsg *m, const char *name)
{
	const char *v = NULL;
	char *end;
	if (natsMsgHeader_Get(m, name, &v) != NATS_OK || !v || !*v)
		return -1;
	long n = strtol(v, &end, 10);
	return *end || n < 0 ? -1 : n;
}

/*
 * Ask the node for the bundle (an evidence command on a fresh inbox), then
 * read the reply and the parts it announces into tar; the status to answer
 * with, and for anything but 200 the message in l->detail / msg.
 */
static unsigned fetch_evidence(struct fleet_conn *fc, struct fleet_cmd *c, struct vg_buf *tar, char *msg, size_t mlen,
			       struct logged *l, char *detail, size_t dlen)
{
	natsInbox *inbox = NULL;
	natsSubscription *sub = NULL;
	natsMsg *m = NULL;
	char subject[256], sha[80] = "";
	struct vg_buf b = { 0 };
	unsigned status = MHD_HTTP_BAD_GATEWAY;
	natsStatus s = natsInbox_Create(&inbox);
	if (s == NATS_OK)
		s = natsConnection_SubscribeSync(&sub, fleet_nc(fc), inbox);
	if (s == NATS_OK) /* the whole bundle may wait here while this thread reads it */
		s = natsSubscription_SetPendingLimits(sub, 1024, FLEET_EVIDENCE_MAX + 16 * 1024 * 1024);
	fleet_subject(subject, sizeof(subject), c->cluster, c->node, FLEET_CMD_KIND);
	fleet_cmd_encode(c, &b);
	if (s == NATS_OK)
		s = natsConnection_PublishRequest(fleet_nc(fc), subject, inbox, b.data, (int)b.len);
	buf_free(&b);
	if (s == NATS_OK)
		s = natsSubscription_NextMsg(&m, sub, CMD_TIMEOUT_MS);
	enum fleet_cmd_outcome o;
	char err[256];
	if (s == NATS_TIMEOUT) {
		status = MHD_HTTP_GATEWAY_TIMEOUT;
		l->outcome = "timeout";
		snprintf(msg, mlen, "the node did not answer within 5 s");
	} else if (s != NATS_OK) {
		status = MHD_HTTP_SERVICE_UNAVAILABLE;
		l->outcome = "no_nats";
		snprintf(msg, mlen, "the request could not be sent over NATS");
	} else if (fleet_cmd_reply_decode(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), &o, detail, dlen, err,
					  sizeof(err))) {
		l->outcome = "bad_reply";
		snprintf(msg, mlen, "the node's reply is malformed");
	} else if (o != FLEET_CMD_OK) {
		status = o == FLEET_CMD_NOT_FOUND ? MHD_HTTP_NOT_FOUND : MHD_HTTP_BAD_GATEWAY;
		l->outcome = fleet_cmd_outcome_name(o);
		snprintf(msg, mlen, "the node answered %s: %.300s", l->outcome, detail);
	} else {
		long parts = header_num(m, "Vigil-Parts"), size = header_num(m, "Vigil-Size");
		const char *h = NULL;
		if (natsMsgHeader_Get(m, "Vigil-Sha256", &h) == NATS_OK && h && strlen(h) == 64)
			snprintf(sha, sizeof(sha), "%s", h);
		if (parts < 0 || size < 0 || size > FLEET_EVIDENCE_MAX || !sha[0] ||
		    parts != (size + FLEET_EVIDENCE_PART - 1) / FLEET_EVIDENCE_PART) {
			l->outcome = "bad_reply";
			snprintf(msg, mlen, "the node's reply does not describe a bundle");
		} else {
			long got = 0;
			l->outcome = "incomplete";
			for (; got < parts; got++) {
				natsMsg_Destroy(m);
				m = NULL;
				if (natsSubscription_NextMsg(&m, sub, EVIDENCE_PART_WAIT_MS) != NATS_OK ||
				    header_num(m, "Vigil-Part") != got ||
				    tar->len + (size_t)natsMsg_GetDataLength(m) > (size_t)size)
					break;
				buf_add(tar, natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m));
			}
			unsigned char md[EVP_MAX_MD_SIZE];
			unsigned mdlen = 0;
			char hex[2 * EVP_MAX_MD_SIZE + 1] = "";
			if (got == parts && tar->len == (size_t)size) {
				EVP_Digest(tar->data, tar->len, md, &mdlen, EVP_sha256(), NULL);
				for (unsigned i = 0; i < mdlen; i++)
					snprintf(hex + 2 * i, 3, "%02x", md[i]);
			}
			if (got < parts)
				snprintf(msg, mlen,
					 "%ld of the bundle's %ld parts arrived: may the node's NATS user answer a request "
					 "that many times? (allow_responses, docs/fleet.md \"Evidence\")",
					 got, parts);
			else if (strcmp(hex, sha))
				snprintf(msg, mlen, "the bundle arrived damaged (size or sha256 differs)");
			else {
				status = MHD_HTTP_OK;
				l->outcome = "ok";
			}
		}
	}
	natsMsg_Destroy(m);
	if (sub) {
		natsSubscription_Unsubscribe(sub);
		natsSubscription_Destroy(sub);
	}
	natsInbox_Destroy(inbox);
	return status;
}

/* 200 with the bundle as a tar download, logged. */
static enum MHD_Result send_tar(struct hub_api *a, const struct hub_req *rq, struct logged *l,
				const struct fleet_cmd *c, const struct vg_buf *tar, char *detail, size_t dlen)
{
	char disp[FLEET_CMD_BUNDLE_MAX + 48];
	snprintf(detail, dlen, "%zu bytes", tar->len);
	l->detail = detail;
	log_command(a, l);
	struct MHD_Response *resp = MHD_create_response_from_buffer(tar->len, tar->data, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	snprintf(disp, sizeof(disp), "attachment; filename=\"%s.tar\"", c->bundle);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/x-tar");
	MHD_add_response_header(resp, "Content-Disposition", disp);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	enum MHD_Result r = MHD_queue_response(rq->c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return r;
}

static enum MHD_Result get_evidence(struct hub_api *a, const struct hub_req *rq)
{
	const char *uuid = rq->url + strlen(EVIDENCE_PREFIX);
	struct fleet_cmd c;
	char msg[512], detail[FLEET_CMD_DETAIL_MAX + 1] = "";
	int64_t t0 = hub_api_now_ns();
	struct logged l = { .uuid = "", .who = rq->who ? rq->who : "",
			    .role = rq->role == HUB_ROLE_RESPONDER ? "responder" : "viewer", .time_ns = t0,
			    .command = "evidence" };
	memset(&c, 0, sizeof(c));
	if (!uuid_valid(uuid) || rq->args.n)
		return INC(a->bad), hub_api_error(rq->c, MHD_HTTP_BAD_REQUEST,
						  "GET /api/v1/evidence/<capture action's uuid>, no parameters");
	int found = evidence_of(a, uuid, &c);
	if (found == 0)
		return hub_api_error(rq->c, MHD_HTTP_NOT_FOUND, "no action with this uuid");
	if (found == -2)
		return hub_api_error(rq->c, MHD_HTTP_CONFLICT, "the action is not a capture that wrote a bundle");
	if (found < 0)
		return hub_api_error(rq->c, MHD_HTTP_INTERNAL_SERVER_ERROR, "store error");
	l.cluster = c.cluster;
	l.node = c.node;
	l.container = c.bundle;
	struct vg_buf tar = { 0 };
	if (a->o->local_evidence) { /* a single agent's console: its own bundles */
		enum MHD_Result r;
		if (a->o->local_evidence(a->o->local_ctx, c.bundle, &tar, msg, sizeof(msg))) {
			l.status = errno == ENOENT ? MHD_HTTP_NOT_FOUND : MHD_HTTP_INTERNAL_SERVER_ERROR;
			l.outcome = errno == ENOENT ? "not_found" : "failed";
			l.detail = msg;
			log_command(a, &l);
			r = hub_api_error(rq->c, l.status, msg);
		} else {
			l.status = MHD_HTTP_OK;
			l.outcome = "ok";
			r = send_tar(a, rq, &l, &c, &tar, detail, sizeof(detail));
		}
		buf_free(&tar);
		return r;
	}
	struct fleet_conn *fc = __atomic_load_n(&a->o->nats, __ATOMIC_ACQUIRE);
	if (!fc || !fleet_conn_up(fc)) {
		l.status = MHD_HTTP_SERVICE_UNAVAILABLE;
		l.outcome = "no_nats";
		log_command(a, &l);
		return hub_api_error(rq->c, l.status, "the hub is not connected to NATS");
	}
	if (!inflight_take(a)) {
		l.status = MHD_HTTP_TOO_MANY_REQUESTS;
		l.outcome = "busy";
		log_command(a, &l);
		return hub_api_error(rq->c, l.status, "another command is in flight; try again");
	}
	c.kind = FLEET_CMD_EVIDENCE;
	if (fleet_cmd_new_id(c.id))
		snprintf(c.id, sizeof(c.id), "%016llx%016llx", (unsigned long long)t0, (unsigned long long)random());
	c.time_ns = hub_api_now_ns();
	snprintf(c.actor, sizeof(c.actor), "%s", fleet_cmd_actor_valid(l.who) ? l.who : "");
	l.uuid = c.id;
	l.status = fetch_evidence(fc, &c, &tar, msg, sizeof(msg), &l, detail, sizeof(detail));
	inflight_put();
	l.took_ms = (hub_api_now_ns() - t0) / 1000000;
	enum MHD_Result r;
	if (l.status == MHD_HTTP_OK) {
		r = send_tar(a, rq, &l, &c, &tar, detail, sizeof(detail));
	} else {
		l.detail = msg;
		log_command(a, &l);
		r = hub_api_error(rq->c, l.status, msg);
	}
	buf_free(&tar);
	return r;
}

bool hub_routes_commands(struct hub_api *a, const struct hub_req *rq, enum MHD_Result *ret)
{
	if (!strncmp(rq->url, EVIDENCE_PREFIX, strlen(EVIDENCE_PREFIX))) {
		if (!strcmp(rq->method, "GET"))
			*ret = get_evidence(a, rq);
		else
			*ret = hub_api_error(rq->c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only");
		return true;
	}
	if (strcmp(rq->url, "/api/v1/commands"))
		return false;
	if (!strcmp(rq->method, "POST")) {
		if (rq->args.n)
			*ret = (INC(a->bad), hub_api_error(rq->c, MHD_HTTP_BAD_REQUEST, "POST takes no query parameters"));
		else
			*ret = post_command(a, rq);
	} else if (!strcmp(rq->method, "GET") || !strcmp(rq->method, "HEAD"))
		*ret = list_commands(a, rq);
	else
		*ret = hub_api_error(rq->c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET or POST only");
	return true;
}
