/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include "common/buf.h"
#include "common/hmap.h"
#include "common/log.h"
#include "common/path.h"
#include "output/flow_rollup.h"
#include "respond/selector.h"

#define DEFAULT_MAX_FLOWS 131072
#define DEFAULT_MAX_ROWS 16384
#define NS 1000000000ll
/* a closed flow's totals are kept this long (its clock) for reports that arrive after the close */
#define CLOSED_LINGER_NS (60 * NS)

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS flow_minutes ("
	" minute INTEGER NOT NULL,"            /* wall clock, seconds since the epoch, a multiple of 60 */
	" container_id TEXT NOT NULL,"         /* full id, '' on the host */
	" container_name TEXT,"
	" k8s_namespace TEXT,"
	" k8s_pod TEXT,"
	" direction TEXT NOT NULL,"            /* out, in, unknown */
	" proto TEXT NOT NULL,"                /* tcp, udp */
	" peer_addr TEXT NOT NULL,"            /* 10.0.0.5, 2001:db8::1 */
	" port INTEGER NOT NULL,"              /* the service port */
	" peer_container_id TEXT NOT NULL,"    /* the peer's container on this node, or '' */
	" peer_container_name TEXT,"
	" peer_k8s_namespace TEXT,"
	" peer_k8s_pod TEXT,"
	" peer_name TEXT NOT NULL,"            /* DNS name of peer_addr the workload resolved (the latest), or '' */
	" connections INTEGER NOT NULL,"
	" bytes_in INTEGER NOT NULL,"
	" bytes_out INTEGER NOT NULL,"
	" packets_in INTEGER NOT NULL,"
	" packets_out INTEGER NOT NULL,"
	" PRIMARY KEY (minute, container_id, direction, proto, peer_addr, port, peer_container_id));"
	"CREATE INDEX IF NOT EXISTS flow_minutes_container ON flow_minutes(container_id, minute);";

/* The flows' outbox (docs/fleet.md, "Flows"): each flush's deltas as messages for the hub,
 * written in the flush's own transaction; the NATS flow publisher deletes what the stream
 * acknowledged. AUTOINCREMENT: ids (the messages' Vigil-Seq) never go back. */
static const char outbox_schema[] = FLOW_OUTBOX_SCHEMA;

static const char upsert_sql[] =
	"INSERT INTO flow_minutes(minute, container_id, container_name, k8s_namespace, k8s_pod, direction, proto,"
	" peer_addr, port, peer_container_id, peer_container_name, peer_k8s_namespace, peer_k8s_pod, peer_name,"
	" connections, bytes_in, bytes_out, packets_in, packets_out)"
	" VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
	" ON CONFLICT DO UPDATE SET"
	" connections = connections + excluded.connections, bytes_in = bytes_in + excluded.bytes_in,"
	" bytes_out = bytes_out + excluded.bytes_out, packets_in = packets_in + excluded.packets_in,"
	" packets_out = packets_out + excluded.packets_out,"
	" container_name = coalesce(excluded.container_name, container_name),"
	" k8s_namespace = coalesce(excluded.k8s_namespace, k8s_namespace),"
	" k8s_pod = coalesce(excluded.k8s_pod, k8s_pod),"
	" peer_container_name = coalesce(excluded.peer_container_name, peer_container_name),"
	" peer_k8s_namespace = coalesce(excluded.peer_k8s_namespace, peer_k8s_namespace),"
	" peer_k8s_pod = coalesce(excluded.peer_k8s_pod, peer_k8s_pod),"
	" peer_name = CASE WHEN excluded.peer_name != '' THEN excluded.peer_name ELSE peer_name END";

/* one flow's last totals */
struct flow_ent {
	struct hmap_node node; /* key: the cookie */
	struct flow_ent *prev, *next; /* on the live LRU list or the closed list */
	uint64_t bytes_in, bytes_out, pkts_in, pkts_out;
	uint64_t last_ts;
	bool closed;
};

struct flow_list {
	struct flow_ent *head, *tail;
};

/* one pending minute row; every string owned */
struct row {
	struct row *hnext;
	uint64_t hash;
	int64_t minute;
	char *cid, *cname, *ns, *pod;
	const char *dir, *proto; /* static */
	char addr[INET6_ADDRSTRLEN];
	unsigned port;
	char *pcid, *pname, *pns, *ppod;
	char *dns;
	char laddr[INET6_ADDRSTRLEN]; /* the workload's own address in the latest flow (not part of the key) */
	uint64_t conns, bytes_in, bytes_out, pkts_in, pkts_out;
	struct row *lnext; /* all rows, for the flush */
};

struct flow_rollup {
	sqlite3 *db;
	sqlite3_stmt *upsert, *prune, *ob_ins, *ob_trim;
	bool outbox;
	size_t outbox_max;
	int64_t flush_ns; /* the wall clock of the flush being written */
	int64_t retention_s;
	size_t max_flows, max_rows;
	struct hmap flows;
	struct flow_list live, closed;
	struct row **buckets;
	size_t nbuckets;
	struct row *rows;
	int64_t last_prune_s;
	bool pruned_once;
	struct flow_rollup_stats st;
	char err[256];
};

static void list_unlink(struct flow_list *l, struct flow_ent *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		l->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		l->tail = e->prev;
	e->prev = e->next = NULL;
}

static void list_append(struct flow_list *l, struct flow_ent *e)
{
	e->prev = l->tail;
	e->next = NULL;
	if (l->tail)
		l->tail->next = e;
	else
		l->head = e;
	l->tail = e;
}

struct flow_rollup *flow_rollup_open(const char *path, const struct flow_rollup_opts *o, char *err, size_t errlen)
{
	struct flow_rollup *r = xcalloc(1, sizeof(*r));
	unsigned days = o && o->retention_days ? o->retention_days : FLOW_ROLLUP_DEFAULT_RETENTION_DAYS;

	r->retention_s = (int64_t)days * 86400;
	r->max_flows = o && o->max_flows ? o->max_flows : DEFAULT_MAX_FLOWS;
	r->max_rows = o && o->max_rows ? o->max_rows : DEFAULT_MAX_ROWS;
	r->outbox = o && o->outbox;
	r->outbox_max = o && o->outbox_max ? o->outbox_max : FLOW_OUTBOX_DEFAULT_MAX;
	if (path_mkdir_parent(path, 0700, err, errlen)) {
		free(r);
		return NULL;
	}
	mode_t old = umask(077);
	int rc = sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	umask(old);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot open store %s: %s", path, r->db ? sqlite3_errmsg(r->db) : "out of memory");
		sqlite3_close(r->db);
		free(r);
		return NULL;
	}
	sqlite3_busy_timeout(r->db, 5000);
	if (sqlite3_exec(r->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL, NULL) ||
	    sqlite3_exec(r->db, schema, NULL, NULL, NULL) ||
	    sqlite3_prepare_v2(r->db, upsert_sql, -1, &r->upsert, NULL) ||
	    sqlite3_prepare_v2(r->db, "DELETE FROM flow_minutes WHERE minute <= ?", -1, &r->prune, NULL)) {
		snprintf(err, errlen, "cannot initialise flow rollups in %s: %s", path, sqlite3_errmsg(r->db));
		sqlite3_finalize(r->upsert);
		sqlite3_finalize(r->prune);
		sqlite3_close(r->db);
		free(r);
		return NULL;
	}
	if (r->outbox &&
	    (sqlite3_exec(r->db, outbox_schema, NULL, NULL, NULL) ||
	     sqlite3_prepare_v2(r->db, "INSERT INTO flow_outbox(uuid, time_ns, json) VALUES (lower(hex(randomblob(16))),?,?)",
				-1, &r->ob_ins, NULL) ||
	     sqlite3_prepare_v2(r->db,
				"DELETE FROM flow_outbox WHERE id <= (SELECT max(id) FROM flow_outbox) - ?", -1,
				&r->ob_trim, NULL))) {
		snprintf(err, errlen, "cannot initialise the flows' outbox in %s: %s", path, sqlite3_errmsg(r->db));
		sqlite3_finalize(r->upsert);
		sqlite3_finalize(r->prune);
		sqlite3_finalize(r->ob_ins);
		sqlite3_close(r->db);
		free(r);
		return NULL;
	}
	hmap_init(&r->flows, 1024);
	r->nbuckets = 64;
	while (r->nbuckets < r->max_rows)
		r->nbuckets <<= 1;
	r->buckets = xcalloc(r->nbuckets, sizeof(*r->buckets));
	return r;
}

const char *flow_rollup_error(const struct flow_rollup *r)
{
	return r->err;
}

void flow_rollup_stats(const struct flow_rollup *r, struct flow_rollup_stats *out)
{
	*out = r->st;
	out->tracked = r->flows.count;
}

static void row_free(struct row *w)
{
	free(w->cid);
	free(w->cname);
	free(w->ns);
	free(w->pod);
	free(w->pcid);
	free(w->pname);
	free(w->pns);
	free(w->ppod);
	free(w->dns);
	free(w);
}

static void rows_clear(struct flow_rollup *r)
{
	for (struct row *w = r->rows, *n; w; w = n) {
		n = w->lnext;
		row_free(w);
	}
	r->rows = NULL;
	memset(r->buckets, 0, r->nbuckets * sizeof(*r->buckets));
	r->st.pending = 0;
}

static void bind_opt(sqlite3_stmt *st, int i, const char *s)
{
	sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC); /* NULL binds SQL NULL */
}

static void jw_opt(struct vg_json *j, const char *key, const char *s)
{
	if (s)
		jw_str(j, key, s);
	else
		jw_null(j, key);
}

static void outbox_row(struct vg_json *j, const struct row *w)
{
	jw_obj_begin(j, NULL);
	jw_int(j, "minute", w->minute);
	jw_obj_begin(j, "workload");
	jw_str(j, "container_id", w->cid);
	jw_opt(j, "container_name", w->cname);
	jw_opt(j, "k8s_namespace", w->ns);
	jw_opt(j, "k8s_pod", w->pod);
	jw_obj_end(j);
	jw_str(j, "local_addr", w->laddr);
	jw_str(j, "direction", w->dir);
	jw_str(j, "proto", w->proto);
	jw_int(j, "port", w->port);
	jw_obj_begin(j, "peer");
	jw_str(j, "address", w->addr);
	jw_str(j, "name", w->dns ? w->dns : "");
	jw_str(j, "container_id", w->pcid ? w->pcid : "");
	jw_opt(j, "container_name", w->pname);
	jw_opt(j, "k8s_namespace", w->pns);
	jw_opt(j, "k8s_pod", w->ppod);
	jw_obj_end(j);
	jw_uint(j, "connections", w->conns);
	jw_uint(j, "bytes_in", w->bytes_in);
	jw_uint(j, "bytes_out", w->bytes_out);
	jw_uint(j, "packets_in", w->pkts_in);
	jw_uint(j, "packets_out", w->pkts_out);
	jw_obj_end(j);
}

/* The pending rows (this flush's deltas) as outbox messages of at most FLOW_OUTBOX_ROWS
 * rows each, inside the flush's transaction; then the outbox is kept to outbox_max. */
static int write_outbox(struct flow_rollup *r)
{
	struct vg_buf b = { 0 };
	const struct row *w = r->rows;
	char t[40];
	time_t sec = (time_t)(r->flush_ns / NS);
	struct tm tm;
	gmtime_r(&sec, &tm);
	size_t tl = strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(t + tl, sizeof(t) - tl, ".%09lldZ", (long long)(r->flush_ns % NS));
	while (w) {
		struct vg_json j;
		b.len = 0;
		jw_init(&j, &b);
		jw_obj_begin(&j, NULL);
		jw_str(&j, "time", t);
		jw_arr_begin(&j, "flows");
		for (int k = 0; w && k < FLOW_OUTBOX_ROWS; k++, w = w->lnext)
			outbox_row(&j, w);
		jw_arr_end(&j);
		jw_obj_end(&j);
		sqlite3_reset(r->ob_ins);
		sqlite3_bind_int64(r->ob_ins, 1, r->flush_ns);
		sqlite3_bind_text(r->ob_ins, 2, b.data, (int)b.len, SQLITE_STATIC);
		if (sqlite3_step(r->ob_ins) != SQLITE_DONE) {
			buf_free(&b);
			return -1;
		}
		r->st.outbox_msgs++;
	}
	buf_free(&b);
	sqlite3_reset(r->ob_trim);
	sqlite3_bind_int64(r->ob_trim, 1, (int64_t)r->outbox_max);
	if (sqlite3_step(r->ob_trim) != SQLITE_DONE)
		return -1;
	long dropped = sqlite3_changes(r->db);
	if (dropped > 0) {
		r->st.outbox_dropped += (uint64_t)dropped;
		vg_warn("flow rollups: the flows' outbox holds %zu messages not yet published; dropped the %ld oldest",
			r->outbox_max, dropped);
	}
	return 0;
}

/* Write the pending rows in one transaction; they are freed either way. */
static long write_rows(struct flow_rollup *r)
{
	long n = 0;
	if (!r->rows)
		return 0;
	if (sqlite3_exec(r->db, "BEGIN", NULL, NULL, NULL))
		goto fail;
	for (struct row *w = r->rows; w; w = w->lnext) {
		sqlite3_stmt *st = r->upsert;
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, w->minute);
		bind_opt(st, 2, w->cid);
		bind_opt(st, 3, w->cname);
		bind_opt(st, 4, w->ns);
		bind_opt(st, 5, w->pod);
		bind_opt(st, 6, w->dir);
		bind_opt(st, 7, w->proto);
		bind_opt(st, 8, w->addr);
		sqlite3_bind_int(st, 9, (int)w->port);
		bind_opt(st, 10, w->pcid);
		bind_opt(st, 11, w->pname);
		bind_opt(st, 12, w->pns);
		bind_opt(st, 13, w->ppod);
		bind_opt(st, 14, w->dns);
		sqlite3_bind_int64(st, 15, (int64_t)w->conns);
		sqlite3_bind_int64(st, 16, (int64_t)w->bytes_in);
		sqlite3_bind_int64(st, 17, (int64_t)w->bytes_out);
		sqlite3_bind_int64(st, 18, (int64_t)w->pkts_in);
		sqlite3_bind_int64(st, 19, (int64_t)w->pkts_out);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
			goto fail;
		}
		n++;
	}
	if (r->outbox && write_outbox(r) < 0) {
		sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
		goto fail;
	}
	if (sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL)) {
		sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
		goto fail;
	}
	r->st.rows_written += (uint64_t)n;
	rows_clear(r);
	return n;
fail:
	snprintf(r->err, sizeof(r->err), "cannot write flow rollups: %s", sqlite3_errmsg(r->db));
	r->st.write_errors++;
	rows_clear(r);
	return -1;
}

static long prune(struct flow_rollup *r, int64_t now_ns)
{
	int64_t now_s = now_ns / NS;
	if (r->pruned_once && now_s - r->last_prune_s < 60)
		return 0;
	r->pruned_once = true;
	r->last_prune_s = now_s;
	sqlite3_reset(r->prune);
	/* the rows of the minutes that ended at least the retention ago */
	sqlite3_bind_int64(r->prune, 1, now_s - r->retention_s - 60);
	if (sqlite3_step(r->prune) != SQLITE_DONE) {
		snprintf(r->err, sizeof(r->err), "cannot prune flow rollups: %s", sqlite3_errmsg(r->db));
		return -1;
	}
	long n = sqlite3_changes(r->db);
	r->st.pruned += (uint64_t)n;
	return n;
}

long flow_rollup_flush(struct flow_rollup *r, int64_t now_ns)
{
	r->flush_ns = now_ns;
	long n = write_rows(r);
	if (n < 0)
		return -1;
	if (prune(r, now_ns) < 0)
		return -1;
	return n;
}

void flow_rollup_close(struct flow_rollup *r)
{
	if (!r)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	r->flush_ns = (int64_t)ts.tv_sec * NS + ts.tv_nsec;
	if (r->rows && write_rows(r) < 0)
		vg_warn("%s", r->err);
	rows_clear(r);
	free(r->buckets);
	struct hmap_node *n, *tmp;
	size_t i;
	hmap_for_each(&r->flows, n, tmp, i)
		free(hmap_entry(n, struct flow_ent, node));
	hmap_free(&r->flows);
	sqlite3_finalize(r->upsert);
	sqlite3_finalize(r->prune);
	sqlite3_finalize(r->ob_ins);
	sqlite3_finalize(r->ob_trim);
	sqlite3_close(r->db);
	free(r);
}

static uint64_t fnv_s(uint64_t h, const char *s)
{
	for (; s && *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return (h ^ 0xff) * 1099511628211ull; /* a separator: ("ab","c") != ("a","bc") */
}

static bool eq(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

static char *dup_opt(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void addr_text(const struct vg_flow_endpoint *e, char out[INET6_ADDRSTRLEN])
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	if (e->family == AF_INET)
		inet_ntop(AF_INET, e->addr, out, INET6_ADDRSTRLEN);
	else if (e->family == AF_INET6 && !memcmp(e->addr, mapped, 12))
		inet_ntop(AF_INET, e->addr + 12, out, INET6_ADDRSTRLEN); /* ::ffff:a.b.c.d as a.b.c.d */
	else if (e->family == AF_INET6)
		inet_ntop(AF_INET6, e->addr, out, INET6_ADDRSTRLEN);
	else
		snprintf(out, INET6_ADDRSTRLEN, "?");
}

/* The pending row of this flow's key at minute, created if new. */
static struct row *row_get(struct flow_rollup *r, const struct vg_flow *f, const struct vg_container_meta *self,
			   const struct vg_container_meta *peer, int64_t minute)
{
	const char *dir = f->dir == VG_FLOW_OUTBOUND ? "out" : f->dir == VG_FLOW_INBOUND ? "in" : "unknown";
	const char *proto = f->proto == VG_FLOW_UDP ? "udp" : "tcp";
	unsigned port = f->dir == VG_FLOW_INBOUND ? f->local.port : f->remote.port;
	char addr[INET6_ADDRSTRLEN];
	const char *pcid = peer && peer->id[0] ? peer->id : f->peer_container_id;
	addr_text(&f->remote, addr);

	uint64_t h = 1469598103934665603ull;
	h = (h ^ (uint64_t)minute) * 1099511628211ull;
	h = fnv_s(h, f->container_id);
	h = fnv_s(h, dir);
	h = fnv_s(h, proto);
	h = fnv_s(h, addr);
	h = (h ^ port) * 1099511628211ull;
	h = fnv_s(h, pcid);
	h ^= h >> 31;
	struct row **b = &r->buckets[h & (r->nbuckets - 1)];
	for (struct row *w = *b; w; w = w->hnext)
		if (w->hash == h && w->minute == minute && w->port == port && w->dir == dir && w->proto == proto &&
		    eq(w->cid, f->container_id) && eq(w->addr, addr) && eq(w->pcid, pcid)) {
			/* the address's name is not part of the key: the latest one known wins */
			addr_text(&f->local, w->laddr);
			if (f->remote_name[0] && strcmp(w->dns, f->remote_name)) {
				free(w->dns);
				w->dns = xstrdup(f->remote_name);
			}
			return w;
		}
	struct row *w = xcalloc(1, sizeof(*w));
	w->hash = h;
	w->minute = minute;
	w->cid = xstrdup(f->container_id);
	if (self && f->container_id[0]) {
		w->cname = dup_opt(self->name);
		w->ns = dup_opt(self->k8s_namespace);
		w->pod = dup_opt(self->k8s_pod_name);
	}
	w->dir = dir;
	w->proto = proto;
	memcpy(w->addr, addr, sizeof(addr));
	addr_text(&f->local, w->laddr);
	w->port = port;
	w->pcid = xstrdup(pcid);
	if (peer && pcid[0]) {
		w->pname = dup_opt(peer->name);
		w->pns = dup_opt(peer->k8s_namespace);
		w->ppod = dup_opt(peer->k8s_pod_name);
	}
	w->dns = xstrdup(f->remote_name);
	w->hnext = *b;
	*b = w;
	w->lnext = r->rows;
	r->rows = w;
	r->st.pending++;
	return w;
}

static uint64_t grew(uint64_t now, uint64_t *last)
{
	uint64_t d = now > *last ? now - *last : 0;
	if (now > *last)
		*last = now;
	return d;
}

static void evict_one(struct flow_rollup *r)
{
	struct flow_ent *e = r->closed.head;
	if (e) {
		list_unlink(&r->closed, e);
	} else {
		e = r->live.head;
		list_unlink(&r->live, e);
		r->st.evicted++;
	}
	hmap_del(&r->flows, e->node.key);
	free(e);
}

int flow_rollup_add(struct flow_rollup *r, const struct vg_flow *f, const struct vg_container_meta *self,
		    const struct vg_container_meta *peer, uint64_t b2r)
{
	struct hmap_node *hn = hmap_get(&r->flows, f->cookie);
	struct flow_ent *e = hn ? hmap_entry(hn, struct flow_ent, node) : NULL;
	uint64_t conns = 0;
	int rc = 0;

	r->st.reports++;
	/* closed flows past their linger go first: they are the oldest closes */
	while (r->closed.head && r->closed.head->last_ts + CLOSED_LINGER_NS < f->ts_ns) {
		struct flow_ent *old = r->closed.head;
		if (old == e)
			break;
		list_unlink(&r->closed, old);
		hmap_del(&r->flows, old->node.key);
		free(old);
	}
	if (!e) {
		while (r->flows.count >= r->max_flows)
			evict_one(r);
		e = xcalloc(1, sizeof(*e));
		e->node.key = f->cookie;
		hmap_put(&r->flows, &e->node);
		conns = 1;
		r->st.flows++;
	} else {
		list_unlink(e->closed ? &r->closed : &r->live, e);
	}
	uint64_t din = grew(f->bytes_in, &e->bytes_in), dout = grew(f->bytes_out, &e->bytes_out);
	uint64_t pin = grew(f->pkts_in, &e->pkts_in), pout = grew(f->pkts_out, &e->pkts_out);
	if (f->ts_ns > e->last_ts)
		e->last_ts = f->ts_ns;
	if (f->phase == VG_FLOW_CLOSE)
		e->closed = true;
	list_append(e->closed ? &r->closed : &r->live, e);

	if (!conns && !din && !dout && !pin && !pout)
		return 0;
	int64_t wall = (int64_t)(f->ts_ns + b2r);
	if (r->st.pending >= r->max_rows) {
		r->st.early_writes++;
		r->flush_ns = wall;
		if (write_rows(r) < 0)
			rc = -1;
	}
	struct row *w = row_get(r, f, self, peer, wall / NS / 60 * 60);
	w->conns += conns;
	w->bytes_in += din;
	w->bytes_out += dout;
	w->pkts_in += pin;
	w->pkts_out += pout;
	return rc;
}

/* selects(filter, container_id, container_name): the `--container` filter (respond/selector.h) */
static void sql_selects(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	const char *filter = (const char *)sqlite3_value_text(argv[0]);
	const char *id = (const char *)sqlite3_value_text(argv[1]);
	const char *name = (const char *)sqlite3_value_text(argv[2]);
	struct vg_container_meta m = { .name = (char *)name };
	if (!filter) {
		sqlite3_result_int(ctx, 0);
		return;
	}
	snprintf(m.id, sizeof(m.id), "%s", id ? id : "");
	sqlite3_result_int(ctx, selector_filter(filter, m.id[0] ? &m : NULL));
}

long flow_rollup_query(const char *path, const struct flow_query *q,
		       void (*fn)(void *ctx, const struct flow_row *row), void *ctx, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long n = 0;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open store %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return -1;
	}
	sqlite3_busy_timeout(db, 5000);
	sqlite3_create_function(db, "selects", 3, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, sql_selects, NULL, NULL);
	/* a store the agent made before it kept flows: no rows, not an error */
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'flow_minutes'", -1,
			       &st, NULL)) {
		snprintf(err, errlen, "%s is not a Vigil store: %s", path, sqlite3_errmsg(db));
		sqlite3_close(db);
		return -1;
	}
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW) {
		sqlite3_close(db);
		if (rc == SQLITE_DONE)
			return 0;
		snprintf(err, errlen, "%s is not a Vigil store", path);
		return -1;
	}
	struct vg_buf sql = { 0 };
	buf_adds(&sql, "SELECT container_id, max(container_name), max(k8s_namespace), max(k8s_pod), direction, proto,"
		       " peer_addr, port, peer_container_id, max(peer_container_name), max(peer_k8s_namespace),"
		       " max(peer_k8s_pod), max(peer_name), sum(connections), sum(bytes_in), sum(bytes_out),"
		       " sum(packets_in), sum(packets_out), min(minute), max(minute)"
		       " FROM flow_minutes WHERE (?1 = 0 OR minute * 1000000000 >= ?1)"
		       " AND (?2 = 0 OR minute * 1000000000 < ?2)"
		       " AND (?3 IS NULL OR selects(?3, container_id, container_name))"
		       " AND (?4 IS NULL OR k8s_namespace = ?4)"
		       " GROUP BY container_id, direction, proto, peer_addr, port, peer_container_id"
		       " ORDER BY sum(bytes_in) + sum(bytes_out) DESC, sum(connections) DESC, container_id, peer_addr, port");
	if (q->limit > 0)
		buf_printf(&sql, " LIMIT %ld", q->limit);
	if (sqlite3_prepare_v2(db, sql.data, -1, &st, NULL)) {
		snprintf(err, errlen, "cannot query flows in %s: %s", path, sqlite3_errmsg(db));
		buf_free(&sql);
		sqlite3_close(db);
		return -1;
	}
	buf_free(&sql);
	/* the minutes that overlap [since, until): the one since falls in is kept */
	int64_t since = q->since_ns > 0 ? q->since_ns / (NS * 60) * 60 * NS : 0;
	sqlite3_bind_int64(st, 1, since);
	sqlite3_bind_int64(st, 2, q->until_ns > 0 ? q->until_ns : 0);
	sqlite3_bind_text(st, 3, q->container, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, q->k8s_namespace, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct flow_row row = {
			.container_id = (const char *)sqlite3_column_text(st, 0),
			.container_name = (const char *)sqlite3_column_text(st, 1),
			.k8s_namespace = (const char *)sqlite3_column_text(st, 2),
			.k8s_pod = (const char *)sqlite3_column_text(st, 3),
			.direction = (const char *)sqlite3_column_text(st, 4),
			.proto = (const char *)sqlite3_column_text(st, 5),
			.peer_addr = (const char *)sqlite3_column_text(st, 6),
			.port = (unsigned)sqlite3_column_int(st, 7),
			.peer_container_id = (const char *)sqlite3_column_text(st, 8),
			.peer_container_name = (const char *)sqlite3_column_text(st, 9),
			.peer_k8s_namespace = (const char *)sqlite3_column_text(st, 10),
			.peer_k8s_pod = (const char *)sqlite3_column_text(st, 11),
			.peer_name = (const char *)sqlite3_column_text(st, 12),
			.connections = (uint64_t)sqlite3_column_int64(st, 13),
			.bytes_in = (uint64_t)sqlite3_column_int64(st, 14),
			.bytes_out = (uint64_t)sqlite3_column_int64(st, 15),
			.packets_in = (uint64_t)sqlite3_column_int64(st, 16),
			.packets_out = (uint64_t)sqlite3_column_int64(st, 17),
			.first_minute = sqlite3_column_int64(st, 18),
			.last_minute = sqlite3_column_int64(st, 19),
		};
		fn(ctx, &row);
		n++;
	}
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "cannot query flows in %s: %s", path, sqlite3_errmsg(db));
		n = -1;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}
