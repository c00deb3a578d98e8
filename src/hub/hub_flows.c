/* SPDX-License-Identifier: Apache-2.0 */
#include "hub/hub_flows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "output/flow_graph.h"

#define NS 1000000000LL

const char *const hub_retain_names[HUB_RET__N] = { "alerts", "actions", "losses", "flows" };

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS flow_msgs (id INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE,"
	" cluster TEXT NOT NULL, node TEXT NOT NULL, seq INTEGER NOT NULL, time_ns INTEGER NOT NULL,"
	" recv_ns INTEGER NOT NULL, rows INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS flow_msgs_recv ON flow_msgs(recv_ns);"
	"CREATE TABLE IF NOT EXISTS flows (minute INTEGER NOT NULL, cluster TEXT NOT NULL, node TEXT NOT NULL,"
	" container_id TEXT NOT NULL, container_name TEXT, namespace TEXT, pod TEXT, local_addr TEXT NOT NULL,"
	" direction TEXT NOT NULL, proto TEXT NOT NULL, peer_addr TEXT NOT NULL, port INTEGER NOT NULL,"
	" peer_container_id TEXT NOT NULL, peer_container_name TEXT, peer_namespace TEXT, peer_pod TEXT,"
	" peer_name TEXT NOT NULL, connections INTEGER NOT NULL, bytes_in INTEGER NOT NULL,"
	" bytes_out INTEGER NOT NULL, packets_in INTEGER NOT NULL, packets_out INTEGER NOT NULL,"
	" PRIMARY KEY (minute, cluster, node, container_id, direction, proto, peer_addr, port, peer_container_id));"
	"CREATE TABLE IF NOT EXISTS flow_endpoints (minute INTEGER NOT NULL, addr TEXT NOT NULL,"
	" cluster TEXT NOT NULL, node TEXT NOT NULL, container_id TEXT NOT NULL,"
	" PRIMARY KEY (minute, addr, cluster, node, container_id));"
	"CREATE INDEX IF NOT EXISTS actions_time ON actions(time_ns);"
	"CREATE INDEX IF NOT EXISTS losses_time ON losses(time_ns);";

int hub_flows_schema(sqlite3 *db, char *err, size_t errlen)
{
	if (sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot set up the hub's flows: %s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

static void bind_opt(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/* An address another node's peer could mean: not loopback, not unspecified. */
static bool joinable(const char *a)
{
	return a && *a && strcmp(a, "?") && strncmp(a, "127.", 4) && strcmp(a, "::1") && strcmp(a, "0.0.0.0") &&
	       strcmp(a, "::");
}

int hub_flows_add(sqlite3 *db, const struct hub_msg *m, int64_t recv_ns)
{
	sqlite3_stmt *msg = NULL, *up = NULL, *ep = NULL;
	int rc = -1;
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO flow_msgs (uuid, cluster, node, seq, time_ns, recv_ns, rows)"
			       " VALUES (?,?,?,?,?,?,?) ON CONFLICT(uuid) DO NOTHING",
			       -1, &msg, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "INSERT INTO flows (minute, cluster, node, container_id, container_name, namespace, pod,"
			       " local_addr, direction, proto, peer_addr, port, peer_container_id, peer_container_name,"
			       " peer_namespace, peer_pod, peer_name, connections, bytes_in, bytes_out, packets_in,"
			       " packets_out) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
			       " ON CONFLICT DO UPDATE SET connections = connections + excluded.connections,"
			       " bytes_in = bytes_in + excluded.bytes_in, bytes_out = bytes_out + excluded.bytes_out,"
			       " packets_in = packets_in + excluded.packets_in,"
			       " packets_out = packets_out + excluded.packets_out,"
			       " container_name = coalesce(excluded.container_name, container_name),"
			       " namespace = coalesce(excluded.namespace, namespace), pod = coalesce(excluded.pod, pod),"
			       " peer_container_name = coalesce(excluded.peer_container_name, peer_container_name),"
			       " peer_namespace = coalesce(excluded.peer_namespace, peer_namespace),"
			       " peer_pod = coalesce(excluded.peer_pod, peer_pod),"
			       " local_addr = CASE WHEN excluded.local_addr != '?' THEN excluded.local_addr ELSE local_addr END,"
			       " peer_name = CASE WHEN excluded.peer_name != '' THEN excluded.peer_name ELSE peer_name END",
			       -1, &up, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "INSERT INTO flow_endpoints (minute, addr, cluster, node, container_id) VALUES (?,?,?,?,?)"
			       " ON CONFLICT DO NOTHING",
			       -1, &ep, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(msg, 1, m->uuid, -1, SQLITE_STATIC);
	sqlite3_bind_text(msg, 2, m->cluster, -1, SQLITE_STATIC);
	sqlite3_bind_text(msg, 3, m->node, -1, SQLITE_STATIC);
	sqlite3_bind_int64(msg, 4, m->seq);
	sqlite3_bind_int64(msg, 5, m->time_ns);
	sqlite3_bind_int64(msg, 6, recv_ns);
	sqlite3_bind_int64(msg, 7, (int64_t)m->nflows);
	if (sqlite3_step(msg) != SQLITE_DONE)
		goto out;
	if (!sqlite3_changes(db)) {
		rc = 0; /* seen before: its rows were added then */
		goto out;
	}
	for (size_t i = 0; i < m->nflows; i++) {
		struct hub_flow_row r;
		hub_msg_flow_row(m, i, &r);
		if (!r.direction)
			continue;
		sqlite3_reset(up);
		sqlite3_bind_int64(up, 1, r.minute);
		sqlite3_bind_text(up, 2, m->cluster, -1, SQLITE_STATIC);
		sqlite3_bind_text(up, 3, m->node, -1, SQLITE_STATIC);
		bind_opt(up, 4, r.cid);
		bind_opt(up, 5, r.cname);
		bind_opt(up, 6, r.ns);
		bind_opt(up, 7, r.pod);
		bind_opt(up, 8, r.local_addr);
		bind_opt(up, 9, r.direction);
		bind_opt(up, 10, r.proto);
		bind_opt(up, 11, r.peer_addr);
		sqlite3_bind_int(up, 12, (int)r.port);
		bind_opt(up, 13, r.pcid);
		bind_opt(up, 14, r.pcname);
		bind_opt(up, 15, r.pns);
		bind_opt(up, 16, r.ppod);
		bind_opt(up, 17, r.peer_name);
		sqlite3_bind_int64(up, 18, r.connections);
		sqlite3_bind_int64(up, 19, r.bytes_in);
		sqlite3_bind_int64(up, 20, r.bytes_out);
		sqlite3_bind_int64(up, 21, r.packets_in);
		sqlite3_bind_int64(up, 22, r.packets_out);
		if (sqlite3_step(up) != SQLITE_DONE)
			goto out;
		if (joinable(r.local_addr)) {
			sqlite3_reset(ep);
			sqlite3_bind_int64(ep, 1, r.minute);
			bind_opt(ep, 2, r.local_addr);
			sqlite3_bind_text(ep, 3, m->cluster, -1, SQLITE_STATIC);
			sqlite3_bind_text(ep, 4, m->node, -1, SQLITE_STATIC);
			bind_opt(ep, 5, r.cid);
			if (sqlite3_step(ep) != SQLITE_DONE)
				goto out;
		}
	}
	rc = 1;
out:
	sqlite3_finalize(msg);
	sqlite3_finalize(up);
	sqlite3_finalize(ep);
	return rc;
}

/* ---- retention ---- */

long hub_retain_delete(sqlite3 *db, const char *sql, int64_t cutoff_ns, long batch, const char *what, char *err,
		       size_t errlen)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(db));
		sqlite3_finalize(st);
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	sqlite3_bind_int64(st, 1, cutoff_ns);
	sqlite3_bind_int64(st, 2, batch);
	int rc = sqlite3_step(st);
	long n = sqlite3_changes(db);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE || sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(db));
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return n;
}

long hub_retain_step(sqlite3 *db, int64_t cutoff_ns, long batch, uint64_t deleted[HUB_RET__N], char *err,
		     size_t errlen)
{
	/*
	 * each: at most ?2 rows older than ?1 (ns). Records go by when the hub received
	 * them, not by their own time (a capture replayed today is kept like any record of
	 * today, and what the streams may still deliver again is never deleted first):
	 * ids grow in the order of receipt, so the oldest ?2 by id, those received
	 * before the cutoff, are the ones to delete, read without a scan.
	 */
	static const char *const sql[] = {
		"DELETE FROM alerts WHERE id IN (SELECT id FROM (SELECT id, recv_ns FROM alerts ORDER BY id LIMIT ?2)"
		" WHERE recv_ns < ?1)",
		"DELETE FROM actions WHERE id IN (SELECT id FROM (SELECT id, recv_ns FROM actions ORDER BY id LIMIT ?2)"
		" WHERE recv_ns < ?1)",
		"DELETE FROM losses WHERE id IN (SELECT id FROM (SELECT id, recv_ns FROM losses ORDER BY id LIMIT ?2)"
		" WHERE recv_ns < ?1)",
		"DELETE FROM flows WHERE rowid IN (SELECT rowid FROM flows WHERE minute < ?1 / 1000000000 - 59 LIMIT ?2)",
		"DELETE FROM flow_endpoints WHERE rowid IN (SELECT rowid FROM flow_endpoints"
		" WHERE minute < ?1 / 1000000000 - 59 LIMIT ?2)",
		"DELETE FROM flow_msgs WHERE id IN (SELECT id FROM flow_msgs WHERE recv_ns < ?1 LIMIT ?2)",
	};
	long total = 0;
	for (size_t i = 0; i < sizeof(sql) / sizeof(*sql); i++) {
		long n = hub_retain_delete(db, sql[i], cutoff_ns, batch, "retention", err, errlen);
		if (n < 0)
			return -1;
		if (i < HUB_RET__N)
			deleted[i] += (uint64_t)n;
		total += n;
	}
	return total;
}

/* ---- reading ---- */

/* A string-keyed table of indexes (linear probing); keys owned. */
struct smap {
	char **k;
	size_t *v, cap, n;
};

static uint64_t shash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h ^ (h >> 29);
}

static size_t *smap_slot(struct smap *m, const char *key, bool create)
{
	if (create && (m->n + 1) * 2 > m->cap) {
		struct smap g = { .cap = m->cap ? m->cap * 2 : 64 };
		g.k = xcalloc(g.cap, sizeof(*g.k));
		g.v = xcalloc(g.cap, sizeof(*g.v));
		for (size_t i = 0; i < m->cap; i++)
			if (m->k[i]) {
				size_t j = shash(m->k[i]) & (g.cap - 1);
				while (g.k[j])
					j = (j + 1) & (g.cap - 1);
				g.k[j] = m->k[i];
				g.v[j] = m->v[i];
			}
		g.n = m->n;
		free(m->k);
		free(m->v);
		*m = g;
	}
	if (!m->cap)
		return NULL;
	size_t j = shash(key) & (m->cap - 1);
	while (m->k[j]) {
		if (!strcmp(m->k[j], key))
			return &m->v[j];
		j = (j + 1) & (m->cap - 1);
	}
	if (!create)
		return NULL;
	m->k[j] = xstrdup(key);
	m->n++;
	m->v[j] = (size_t)-1;
	return &m->v[j];
}

static void smap_free(struct smap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->k[i]);
	free(m->k);
	free(m->v);
}

/* The workload on another node that reported addr as its own in the range. */
struct endpoint {
	char cluster[65], node[65], cid[65];
	int64_t minute;
	bool ambiguous;
};
struct endpoints {
	struct smap by_addr;
	struct endpoint *e;
	size_t n;
};

static void col(char *dst, size_t len, sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	snprintf(dst, len, "%s", t ? (const char *)t : "");
}

static int load_endpoints(sqlite3 *db, int64_t since_m, int64_t until_m, struct endpoints *eps)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db,
			       "SELECT addr, cluster, node, container_id, max(minute) FROM flow_endpoints"
			       " WHERE minute >= ?1 AND minute < ?2 GROUP BY addr, cluster, node, container_id"
			       " ORDER BY addr, max(minute) DESC, cluster, node, container_id LIMIT 200000",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, since_m);
	sqlite3_bind_int64(st, 2, until_m);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *addr = (const char *)sqlite3_column_text(st, 0);
		size_t *slot = smap_slot(&eps->by_addr, addr ? addr : "", true);
		if (*slot != (size_t)-1) {
			/* a second workload used the address in the range: the latest one wins (listed first) */
			continue;
		}
		eps->e = xrealloc(eps->e, (eps->n + 1) * sizeof(*eps->e));
		struct endpoint *e = &eps->e[eps->n];
		memset(e, 0, sizeof(*e));
		col(e->cluster, sizeof(e->cluster), st, 1);
		col(e->node, sizeof(e->node), st, 2);
		col(e->cid, sizeof(e->cid), st, 3);
		e->minute = sqlite3_column_int64(st, 4);
		*slot = eps->n++;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* The endpoint that addr resolves to from a row of (cluster, node): in the same cluster, another node. */
static const struct endpoint *resolve(struct endpoints *eps, const char *cluster, const char *node, const char *addr)
{
	if (!joinable(addr))
		return NULL;
	size_t *slot = smap_slot(&eps->by_addr, addr, false);
	if (!slot || *slot == (size_t)-1)
		return NULL;
	const struct endpoint *e = &eps->e[*slot];
	if (strcmp(e->cluster, cluster) || !strcmp(e->node, node))
		return NULL;
	return e;
}

static void range_minutes(const struct hub_flow_query *q, int64_t *since_m, int64_t *until_m)
{
	/* the minutes that overlap [since, until) */
	*since_m = q->since_ns > 0 ? q->since_ns / NS / 60 * 60 : 0;
	*until_m = q->until_ns > 0 ? (q->until_ns + NS - 1) / NS : INT64_MAX / 2;
}

static const char row_sql[] =
	"SELECT cluster, node, container_id, max(container_name), max(namespace), max(pod), direction, proto,"
	" peer_addr, port, peer_container_id, max(peer_container_name), max(peer_namespace), max(peer_pod),"
	" max(peer_name), sum(connections), sum(bytes_in), sum(bytes_out), sum(packets_in), sum(packets_out),"
	" min(minute), max(minute), max(local_addr)"
	" FROM flows WHERE minute >= ?1 AND minute < ?2 AND (?3 IS NULL OR cluster = ?3)"
	" AND (?4 IS NULL OR node = ?4) AND (?5 IS NULL OR namespace = ?5 OR peer_namespace = ?5)"
	" GROUP BY cluster, node, container_id, direction, proto, peer_addr, port, peer_container_id";

static const char *txt(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static sqlite3_stmt *rows_stmt(sqlite3 *db, const struct hub_flow_query *q, const char *tail)
{
	sqlite3_stmt *st = NULL;
	char sql[2048];
	snprintf(sql, sizeof(sql), "%s%s", row_sql, tail);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	int64_t since_m, until_m;
	range_minutes(q, &since_m, &until_m);
	sqlite3_bind_int64(st, 1, since_m);
	sqlite3_bind_int64(st, 2, until_m);
	bind_opt(st, 3, q->cluster);
	bind_opt(st, 4, q->node);
	bind_opt(st, 5, q->ns);
	return st;
}

static void jw_opt(struct vg_json *j, const char *k, const char *v)
{
	if (v)
		jw_str(j, k, v);
	else
		jw_null(j, k);
}

long hub_flows_list(sqlite3 *db, const struct hub_flow_query *q, struct vg_buf *out, char *err, size_t errlen)
{
	struct endpoints eps = { 0 };
	int64_t since_m, until_m;
	range_minutes(q, &since_m, &until_m);
	char tail[128];
	snprintf(tail, sizeof(tail),
		 " ORDER BY cluster, node, container_id, direction, proto, peer_addr, port, peer_container_id"
		 " LIMIT %ld OFFSET %ld",
		 q->limit + 1, q->offset);
	sqlite3_stmt *st = rows_stmt(db, q, tail);
	if (!st || load_endpoints(db, since_m, until_m, &eps)) {
		snprintf(err, errlen, "cannot read flows: %s", sqlite3_errmsg(db));
		sqlite3_finalize(st);
		smap_free(&eps.by_addr);
		free(eps.e);
		return -1;
	}
	struct vg_json j;
	jw_init(&j, out);
	jw_obj_begin(&j, NULL);
	jw_arr_begin(&j, "flows");
	long n = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < q->limit) {
		const char *cluster = txt(st, 0), *node = txt(st, 1), *pcid = txt(st, 10), *paddr = txt(st, 8);
		int64_t first = sqlite3_column_int64(st, 20), last = sqlite3_column_int64(st, 21);
		jw_obj_begin(&j, NULL);
		jw_str(&j, "cluster", cluster);
		jw_str(&j, "node", node);
		jw_obj_begin(&j, "workload");
		jw_str(&j, "container_id", txt(st, 2));
		jw_opt(&j, "container_name", txt(st, 3));
		jw_opt(&j, "k8s_namespace", txt(st, 4));
		jw_opt(&j, "k8s_pod", txt(st, 5));
		jw_obj_end(&j);
		jw_str(&j, "local_addr", txt(st, 22));
		jw_str(&j, "direction", txt(st, 6));
		jw_str(&j, "proto", txt(st, 7));
		jw_int(&j, "port", sqlite3_column_int(st, 9));
		jw_obj_begin(&j, "peer");
		jw_str(&j, "address", paddr);
		jw_str(&j, "name", txt(st, 14) ? txt(st, 14) : "");
		const struct endpoint *e = pcid && *pcid ? NULL : resolve(&eps, cluster, node, paddr);
		jw_str(&j, "container_id", e ? e->cid : pcid);
		jw_opt(&j, "container_name", e ? NULL : txt(st, 11));
		jw_opt(&j, "k8s_namespace", e ? NULL : txt(st, 12));
		jw_opt(&j, "k8s_pod", e ? NULL : txt(st, 13));
		/* the node the peer is on: this one for a peer container, another when the address resolved */
		jw_opt(&j, "node", e ? e->node : pcid && *pcid ? node : NULL);
		jw_obj_end(&j);
		jw_int(&j, "connections", sqlite3_column_int64(st, 15));
		jw_int(&j, "bytes_in", sqlite3_column_int64(st, 16));
		jw_int(&j, "bytes_out", sqlite3_column_int64(st, 17));
		jw_int(&j, "packets_in", sqlite3_column_int64(st, 18));
		jw_int(&j, "packets_out", sqlite3_column_int64(st, 19));
		jw_int(&j, "first_minute", first);
		jw_int(&j, "last_minute", last);
		jw_obj_end(&j);
		n++;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		snprintf(err, errlen, "cannot read flows: %s", sqlite3_errmsg(db));
		n = -1;
	} else {
		jw_arr_end(&j);
		if (rc == SQLITE_ROW) {
			char cur[32];
			snprintf(cur, sizeof(cur), "%ld", q->offset + n);
			jw_str(&j, "next_cursor", cur);
		} else
			jw_null(&j, "next_cursor");
		jw_obj_end(&j);
	}
	sqlite3_finalize(st);
	smap_free(&eps.by_addr);
	free(eps.e);
	return n;
}

/* ---- the service map ---- */

struct mnode {
	char *id, *label, *cluster, *node, *ns, *pod, *cname, *cid, *addr, *dns;
	bool external;
	int64_t alerts;
	bool used;
};

struct medge {
	size_t from, to;
	const char *proto; /* static */
	unsigned port;
	int64_t v[2][3]; /* view (0: the connecting side's, 1: the accepting side's) x conns, bytes out, bytes in */
};

struct map {
	struct smap nodes, edges;
	struct mnode *n;
	size_t nn;
	struct medge *e;
	size_t ne;
};

static char *dupn(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static size_t workload(struct map *m, const char *cluster, const char *node, const char *cid, const char *cname,
		       const char *ns, const char *pod)
{
	char key[256];
	snprintf(key, sizeof(key), "w:%s/%s/%s", cluster, node, cid && *cid ? cid : "host");
	size_t *slot = smap_slot(&m->nodes, key, true);
	if (*slot != (size_t)-1) {
		struct mnode *x = &m->n[*slot];
		if (!x->cname && cname)
			x->cname = xstrdup(cname);
		if (!x->ns && ns)
			x->ns = xstrdup(ns);
		if (!x->pod && pod)
			x->pod = xstrdup(pod);
		return *slot;
	}
	m->n = xrealloc(m->n, (m->nn + 1) * sizeof(*m->n));
	struct mnode *x = &m->n[m->nn];
	memset(x, 0, sizeof(*x));
	x->id = xstrdup(key);
	x->cluster = xstrdup(cluster);
	x->node = xstrdup(node);
	x->cid = xstrdup(cid ? cid : "");
	x->cname = dupn(cname);
	x->ns = dupn(ns);
	x->pod = dupn(pod);
	*slot = m->nn;
	return m->nn++;
}

static size_t external(struct map *m, const char *addr, const char *dns)
{
	char key[320];
	bool named = dns && *dns;
	snprintf(key, sizeof(key), "x:%s", named ? dns : addr);
	size_t *slot = smap_slot(&m->nodes, key, true);
	if (*slot != (size_t)-1)
		return *slot;
	m->n = xrealloc(m->n, (m->nn + 1) * sizeof(*m->n));
	struct mnode *x = &m->n[m->nn];
	memset(x, 0, sizeof(*x));
	x->id = xstrdup(key);
	x->external = true;
	x->addr = xstrdup(addr);
	x->dns = dupn(named ? dns : NULL);
	*slot = m->nn;
	return m->nn++;
}

static void edge_add(struct map *m, size_t from, size_t to, const char *proto, unsigned port, int view,
		     int64_t conns, int64_t out, int64_t in)
{
	char key[128];
	snprintf(key, sizeof(key), "%zu>%zu/%s/%u", from, to, proto, port);
	size_t *slot = smap_slot(&m->edges, key, true);
	if (*slot == (size_t)-1) {
		m->e = xrealloc(m->e, (m->ne + 1) * sizeof(*m->e));
		memset(&m->e[m->ne], 0, sizeof(*m->e));
		m->e[m->ne].from = from;
		m->e[m->ne].to = to;
		m->e[m->ne].proto = !strcmp(proto, "udp") ? "udp" : "tcp";
		m->e[m->ne].port = port;
		*slot = m->ne++;
	}
	struct medge *e = &m->e[*slot];
	e->v[view][0] += conns;
	e->v[view][1] += out;
	e->v[view][2] += in;
}

static int64_t imax(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

static int64_t edge_val(const struct medge *e, int k)
{
	/* a flow between two workloads is seen by both sides: the larger view, never the sum */
	return imax(e->v[0][k], e->v[1][k]);
}

static int edge_cmp(const void *a, const void *b)
{
	const struct medge *x = a, *y = b;
	int64_t vx = edge_val(x, 1) + edge_val(x, 2), vy = edge_val(y, 1) + edge_val(y, 2);
	if (vx != vy)
		return vx > vy ? -1 : 1;
	vx = edge_val(x, 0);
	vy = edge_val(y, 0);
	if (vx != vy)
		return vx > vy ? -1 : 1;
	return x->from != y->from ? (x->from < y->from ? -1 : 1) : x->to != y->to ? (x->to < y->to ? -1 : 1)
									       : (int)x->port - (int)y->port;
}

static void map_free(struct map *m)
{
	for (size_t i = 0; i < m->nn; i++) {
		struct mnode *x = &m->n[i];
		free(x->id);
		free(x->label);
		free(x->cluster);
		free(x->node);
		free(x->ns);
		free(x->pod);
		free(x->cname);
		free(x->cid);
		free(x->addr);
		free(x->dns);
	}
	free(m->n);
	free(m->e);
	smap_free(&m->nodes);
	smap_free(&m->edges);
}

/* Each workload's alerts in the range (alerts name a container by its first 12 digits). */
static int count_alerts(sqlite3 *db, const struct hub_flow_query *q, struct map *m)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db,
			       "SELECT cluster, node, container_id, count(*) FROM alerts"
			       " WHERE time_ns >= ?1 AND (?2 = 0 OR time_ns < ?2) GROUP BY cluster, node, container_id",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, q->since_ns > 0 ? q->since_ns : 0);
	sqlite3_bind_int64(st, 2, q->until_ns > 0 ? q->until_ns : 0);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *c = txt(st, 0), *n = txt(st, 1), *cid = txt(st, 2);
		bool host = !cid || !*cid || !strcmp(cid, "host");
		size_t len = host ? 0 : strlen(cid);
		for (size_t i = 0; i < m->nn; i++) {
			struct mnode *x = &m->n[i];
			if (x->external || strcmp(x->cluster, c ? c : "") || strcmp(x->node, n ? n : ""))
				continue;
			if (host ? !*x->cid : (*x->cid && len >= 12 && !strncmp(x->cid, cid, len)))
				x->alerts += sqlite3_column_int64(st, 3);
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static void label(struct mnode *x)
{
	char b[400];
	if (x->external)
		snprintf(b, sizeof(b), "%s", x->dns ? x->dns : x->addr);
	else if (x->cname && *x->cname)
		snprintf(b, sizeof(b), "%s", x->cname);
	else if (*x->cid)
		snprintf(b, sizeof(b), "%.12s", x->cid);
	else
		snprintf(b, sizeof(b), "host %s", x->node);
	x->label = xstrdup(b);
}

int hub_servicemap(sqlite3 *db, const struct hub_flow_query *q, enum hub_map_format f, struct vg_buf *out,
		   char *err, size_t errlen)
{
	struct map m = { 0 };
	struct endpoints eps = { 0 };
	int64_t since_m, until_m;
	range_minutes(q, &since_m, &until_m);
	/* the namespace filter applies to the edges' ends below, not to the rows read */
	struct hub_flow_query all = *q;
	all.ns = NULL;
	all.node = NULL;
	char tail[64];
	snprintf(tail, sizeof(tail), " LIMIT %d", HUB_MAP_MAX_ROWS);
	sqlite3_stmt *st = rows_stmt(db, &all, tail);
	int rc = -1;
	if (!st || load_endpoints(db, since_m, until_m, &eps))
		goto out;
	long rows = 0;
	int src;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		const char *cluster = txt(st, 0), *node = txt(st, 1), *dir = txt(st, 6), *proto = txt(st, 7);
		const char *paddr = txt(st, 8), *pcid = txt(st, 10);
		size_t self = workload(&m, cluster, node, txt(st, 2), txt(st, 3), txt(st, 4), txt(st, 5));
		size_t peer;
		const struct endpoint *e;
		if (pcid && *pcid)
			peer = workload(&m, cluster, node, pcid, txt(st, 11), txt(st, 12), txt(st, 13));
		else if ((e = resolve(&eps, cluster, node, paddr)))
			peer = workload(&m, e->cluster, e->node, e->cid, NULL, NULL, NULL);
		else
			peer = external(&m, paddr, txt(st, 14));
		bool in = dir && !strcmp(dir, "in");
		int64_t conns = sqlite3_column_int64(st, 15), bin = sqlite3_column_int64(st, 16),
			bout = sqlite3_column_int64(st, 17);
		if (in)
			edge_add(&m, peer, self, proto, (unsigned)sqlite3_column_int(st, 9), 1, conns, bin, bout);
		else
			edge_add(&m, self, peer, proto, (unsigned)sqlite3_column_int(st, 9), 0, conns, bout, bin);
		rows++;
	}
	if (src != SQLITE_DONE)
		goto out;
	if (count_alerts(db, q, &m))
		goto out;
	/* the filters on the ends: an edge stays when either end is the node's / in the namespace */
	size_t keep = 0;
	for (size_t i = 0; i < m.ne; i++) {
		const struct mnode *a = &m.n[m.e[i].from], *b = &m.n[m.e[i].to];
		bool ok = true;
		if (q->node)
			ok = (!a->external && !strcmp(a->node, q->node)) || (!b->external && !strcmp(b->node, q->node));
		if (ok && q->ns)
			ok = (a->ns && !strcmp(a->ns, q->ns)) || (b->ns && !strcmp(b->ns, q->ns));
		if (ok)
			m.e[keep++] = m.e[i];
	}
	size_t dropped_edges = 0;
	if (keep > 1) /* m.e is NULL before the first edge */
		qsort(m.e, keep, sizeof(*m.e), edge_cmp);
	/* bounded: the edges with the most bytes, as long as their ends fit in the node bound */
	size_t nnodes = 0, nedges = 0;
	for (size_t i = 0; i < keep; i++) {
		struct mnode *a = &m.n[m.e[i].from], *b = &m.n[m.e[i].to];
		size_t need = !a->used + (!b->used && a != b);
		if (nedges >= HUB_MAP_MAX_EDGES || nnodes + need > HUB_MAP_MAX_NODES) {
			dropped_edges++;
			continue;
		}
		nnodes += need;
		a->used = b->used = true;
		m.e[nedges++] = m.e[i];
	}
	for (size_t i = 0; i < m.nn; i++)
		label(&m.n[i]);
	if (f == HUB_MAP_JSON) {
		struct vg_json j;
		jw_init(&j, out);
		jw_obj_begin(&j, NULL);
		jw_arr_begin(&j, "nodes");
		for (size_t i = 0; i < m.nn; i++) {
			const struct mnode *x = &m.n[i];
			if (!x->used)
				continue;
			jw_obj_begin(&j, NULL);
			jw_str(&j, "id", x->id);
			jw_str(&j, "label", x->label);
			jw_str(&j, "kind", x->external ? "external" : "workload");
			jw_str(&j, "cluster", x->external ? "" : x->cluster);
			jw_str(&j, "node", x->external ? "" : x->node);
			jw_str(&j, "namespace", x->ns ? x->ns : "");
			jw_str(&j, "pod", x->pod ? x->pod : "");
			jw_str(&j, "container", x->external ? "" : x->cname ? x->cname : *x->cid ? x->cid : "host");
			if (x->external)
				jw_str(&j, "address", x->addr);
			jw_int(&j, "alerts", x->alerts);
			jw_obj_end(&j);
		}
		jw_arr_end(&j);
		jw_arr_begin(&j, "edges");
		for (size_t i = 0; i < nedges; i++) {
			const struct medge *e = &m.e[i];
			jw_obj_begin(&j, NULL);
			jw_str(&j, "from", m.n[e->from].id);
			jw_str(&j, "to", m.n[e->to].id);
			jw_str(&j, "proto", e->proto);
			jw_int(&j, "port", e->port);
			jw_int(&j, "connections", edge_val(e, 0));
			jw_int(&j, "bytes_out", edge_val(e, 1));
			jw_int(&j, "bytes_in", edge_val(e, 2));
			jw_obj_end(&j);
		}
		jw_arr_end(&j);
		jw_int(&j, "rows", rows);
		jw_int(&j, "edges_left_out", (int64_t)dropped_edges);
		jw_obj_end(&j);
	} else {
		/* drawn as `vigil flows --graph` draws one node's map: one row per edge */
		struct flow_graph *g = flow_graph_new();
		for (size_t i = 0; i < nedges; i++) {
			const struct medge *e = &m.e[i];
			const struct mnode *a = &m.n[e->from], *b = &m.n[e->to];
			const struct mnode *w = a->external ? b : a, *p = a->external ? a : b;
			struct flow_row r = {
				.container_id = w->cid, .container_name = w->cname ? w->cname : w->label,
				.k8s_namespace = w->ns, .k8s_pod = w->pod,
				.direction = a->external ? "in" : "out", .proto = e->proto,
				.peer_addr = p->external ? p->addr : p->label, .port = e->port,
				.peer_container_id = p->external ? "" : *p->cid ? p->cid : "",
				.peer_container_name = p->external ? NULL : p->cname ? p->cname : p->label,
				.peer_k8s_namespace = p->ns, .peer_k8s_pod = p->pod,
				/* a host on another node is drawn by its label ("host NODE") */
				.peer_name = p->external ? (p->dns ? p->dns : "") : *p->cid ? "" : p->label,
				.connections = (uint64_t)edge_val(e, 0),
				.bytes_out = (uint64_t)(a->external ? edge_val(e, 2) : edge_val(e, 1)),
				.bytes_in = (uint64_t)(a->external ? edge_val(e, 1) : edge_val(e, 2)),
			};
			flow_graph_add(g, &r);
		}
		char caption[160];
		snprintf(caption, sizeof(caption), "cluster-wide service map: %zu edges%s", nedges,
			 dropped_edges ? " (more left out)" : "");
		if (f == HUB_MAP_DOT)
			flow_graph_dot(g, caption, out);
		else
			flow_graph_svg(g, caption, out);
		flow_graph_free(g);
	}
	rc = 0;
out:
	if (rc)
		snprintf(err, errlen, "cannot build the service map: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	smap_free(&eps.by_addr);
	free(eps.e);
	map_free(&m);
	return rc;
}
