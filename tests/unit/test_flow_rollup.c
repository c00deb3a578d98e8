/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for output/flow_rollup.c on a real SQLite file: each flow's
 * growth counted once across OPEN, UPDATE and CLOSE (a late report after the
 * close adds nothing, a flow first seen at its close counts whole), deltas
 * split at minute boundaries, partial minutes flushed twice adding up, the
 * port and direction of inbound flows, IPv6 and mapped addresses, workload and
 * peer metadata, the query (sums, container selector, "host", namespace,
 * range, limit), retention pruning, eviction of flows' totals counted (closed
 * ones first), early writes when too many rows are pending, and the table
 * living in the same store file as the alerts.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "output/alert_store.h"
#include "output/flow_rollup.h"

#define S 1000000000ull
#define WEB "5ad505f6c2d4de05faee7fb251e25b27cf04af50103100ef0cc6888c48eeaf99"
#define DBC "0b1c0b1c0b1c0b1c0b1c0b1c0b1c0b1c0b1c0b1c0b1c0b1c0b1c0b1c0b1c0b1c"
/* boot clock + B2R = wall clock; wall minute 29000000 * 60 s is 2025-02-20 */
#define T0 (29000000ull * 60 * S)
#define B2R (T0 - 1000 * S) /* boot 1000 s is the start of that minute */

struct fixture {
	char dir[64], path[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/vigil-test-rollup-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/sub/vigil.db", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static struct vg_flow flow(uint64_t cookie, const char *cid, enum vg_flow_dir dir, const char *remote, uint16_t rport)
{
	struct vg_flow f = { .cookie = cookie, .proto = VG_FLOW_TCP, .dir = dir, .phase = VG_FLOW_OPEN };
	snprintf(f.container_id, sizeof(f.container_id), "%s", cid);
	if (strchr(remote, ':')) {
		f.remote.family = f.local.family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, remote, f.remote.addr), 1);
	} else {
		f.remote.family = f.local.family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, remote, f.remote.addr), 1);
	}
	f.remote.port = rport;
	f.local.port = 40000;
	return f;
}

static void report(struct flow_rollup *r, struct vg_flow *f, enum vg_flow_phase ph, uint64_t ts_s, uint64_t in,
		   uint64_t out)
{
	f->phase = ph;
	if (!f->start_ns)
		f->start_ns = ts_s * S;
	f->ts_ns = ts_s * S;
	f->bytes_in = in;
	f->bytes_out = out;
	f->pkts_in = in ? in / 100 + 1 : 0;
	f->pkts_out = out ? out / 100 + 1 : 0;
	assert_int_equal(flow_rollup_add(r, f, NULL, NULL, B2R), 0);
}

struct got {
	int n;
	struct {
		char cid[80], name[64], ns[32], dir[8], proto[4], addr[64], pcid[80], pname[64], dns[64];
		unsigned port;
		uint64_t conns, in, out, pin, pout;
		int64_t first, last;
	} r[16];
};

static void collect(void *ctx, const struct flow_row *w)
{
	struct got *g = ctx;
	assert_true(g->n < 16);
	typeof(g->r[0]) *o = &g->r[g->n++];
	snprintf(o->cid, sizeof(o->cid), "%s", w->container_id);
	snprintf(o->name, sizeof(o->name), "%s", w->container_name ? w->container_name : "(null)");
	snprintf(o->ns, sizeof(o->ns), "%s", w->k8s_namespace ? w->k8s_namespace : "(null)");
	snprintf(o->dir, sizeof(o->dir), "%s", w->direction);
	snprintf(o->proto, sizeof(o->proto), "%s", w->proto);
	snprintf(o->addr, sizeof(o->addr), "%s", w->peer_addr);
	snprintf(o->pcid, sizeof(o->pcid), "%s", w->peer_container_id);
	snprintf(o->pname, sizeof(o->pname), "%s", w->peer_container_name ? w->peer_container_name : "(null)");
	snprintf(o->dns, sizeof(o->dns), "%s", w->peer_name);
	o->port = w->port;
	o->conns = w->connections;
	o->in = w->bytes_in;
	o->out = w->bytes_out;
	o->pin = w->packets_in;
	o->pout = w->packets_out;
	o->first = w->first_minute;
	o->last = w->last_minute;
}

static long query(const char *path, const struct flow_query *q, struct got *g)
{
	char err[256];
	memset(g, 0, sizeof(*g));
	long n = flow_rollup_query(path, q, collect, g, err, sizeof(err));
	if (n < 0)
		fail_msg("query: %s", err);
	return n;
}

/* sum of a column over the rows of one minute (wall seconds) */
static int64_t col_sum(const char *path, const char *col, int64_t minute)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	char sql[160];
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	snprintf(sql, sizeof(sql), "SELECT coalesce(sum(%s), 0) FROM flow_minutes WHERE minute = ?", col);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_int64(st, 1, minute);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static int64_t nrows(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM flow_minutes", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

#define M0 ((int64_t)(T0 / S)) /* the first minute, wall seconds */

static void test_delta_across_update_close(void **state)
{
	struct fixture *fx = *state;
	char err[256];
	struct flow_rollup *r = flow_rollup_open(fx->path, NULL, err, sizeof(err));
	assert_non_null(r);

	struct vg_flow f = flow(1, WEB, VG_FLOW_OUTBOUND, "93.184.216.34", 443);
	snprintf(f.remote_name, sizeof(f.remote_name), "api.example.com");
	report(r, &f, VG_FLOW_OPEN, 1000, 0, 0);
	report(r, &f, VG_FLOW_UPDATE, 1010, 1000, 200);
	report(r, &f, VG_FLOW_UPDATE, 1020, 1000, 200); /* nothing new */
	report(r, &f, VG_FLOW_CLOSE, 1030, 5000, 300);
	report(r, &f, VG_FLOW_UPDATE, 1031, 4000, 300); /* late, out of order: adds nothing */
	assert_true(flow_rollup_flush(r, (int64_t)(T0 + 40 * S)) >= 1);
	assert_int_equal(col_sum(fx->path, "bytes_in", M0), 5000);
	assert_int_equal(col_sum(fx->path, "bytes_out", M0), 300);
	assert_int_equal(col_sum(fx->path, "packets_in", M0), 51);
	assert_int_equal(col_sum(fx->path, "connections", M0), 1);

	/* a flow first seen at its close (its open report lost): counted whole, once */
	struct vg_flow g = flow(2, WEB, VG_FLOW_OUTBOUND, "93.184.216.34", 443);
	snprintf(g.remote_name, sizeof(g.remote_name), "api.example.com");
	report(r, &g, VG_FLOW_CLOSE, 1040, 70, 30);
	assert_int_equal(flow_rollup_flush(r, (int64_t)(T0 + 41 * S)), 1);
	assert_int_equal(col_sum(fx->path, "bytes_in", M0), 5070);
	assert_int_equal(col_sum(fx->path, "connections", M0), 2);
	assert_int_equal(nrows(fx->path), 1);

	/* the same peer unnamed (a flow opened before the answer), then named again: one row, named */
	struct vg_flow u = flow(9, WEB, VG_FLOW_OUTBOUND, "93.184.216.34", 443);
	report(r, &u, VG_FLOW_CLOSE, 1041, 1, 1);
	assert_int_equal(flow_rollup_flush(r, (int64_t)(T0 + 42 * S)), 1);
	assert_int_equal(nrows(fx->path), 1);
	struct got gt;
	struct flow_query q = { 0 };
	assert_int_equal(query(fx->path, &q, &gt), 1);
	assert_string_equal(gt.r[0].dns, "api.example.com");
	assert_int_equal(gt.r[0].conns, 3);

	struct flow_rollup_stats st;
	flow_rollup_stats(r, &st);
	assert_int_equal(st.reports, 7);
	assert_int_equal(st.flows, 3);
	assert_int_equal(st.tracked, 3); /* the closed flows linger for late reports */
	assert_int_equal(st.pending, 0);
	/* a minute after their close, they are dropped */
	struct vg_flow h = flow(3, WEB, VG_FLOW_OUTBOUND, "10.0.0.9", 80);
	report(r, &h, VG_FLOW_OPEN, 1200, 0, 0);
	flow_rollup_stats(r, &st);
	assert_int_equal(st.tracked, 1);
	assert_int_equal(st.evicted, 0);
	flow_rollup_close(r);
}

static void test_minute_boundaries(void **state)
{
	struct fixture *fx = *state;
	char err[256];
	struct flow_rollup *r = flow_rollup_open(fx->path, NULL, err, sizeof(err));
	assert_non_null(r);
	struct vg_flow f = flow(7, WEB, VG_FLOW_OUTBOUND, "10.1.1.1", 5432);
	report(r, &f, VG_FLOW_OPEN, 1059, 0, 0);         /* minute 0, its last second */
	report(r, &f, VG_FLOW_UPDATE, 1059, 10, 10);     /* minute 0 */
	report(r, &f, VG_FLOW_UPDATE, 1060, 110, 20);    /* minute 1, its first second */
	/* a partial minute written, then more of the same minute: added up */
	assert_int_equal(flow_rollup_flush(r, (int64_t)(T0 + 61 * S)), 2);
	report(r, &f, VG_FLOW_UPDATE, 1100, 1110, 25);   /* minute 1 */
	report(r, &f, VG_FLOW_CLOSE, 1200, 1111, 25);    /* minute 3 (200 s) */
	assert_int_equal(flow_rollup_flush(r, (int64_t)(T0 + 201 * S)), 2);
	assert_int_equal(col_sum(fx->path, "bytes_in", M0), 10);
	assert_int_equal(col_sum(fx->path, "connections", M0), 1);
	assert_int_equal(col_sum(fx->path, "bytes_in", M0 + 60), 1100);
	assert_int_equal(col_sum(fx->path, "bytes_out", M0 + 60), 15);
	assert_int_equal(col_sum(fx->path, "connections", M0 + 60), 0);
	assert_int_equal(col_sum(fx->path, "bytes_in", M0 + 120), 0);
	assert_int_equal(col_sum(fx->path, "bytes_in", M0 + 180), 1);
	assert_int_equal(nrows(fx->path), 3);

	/* the query sums the minutes, and its range selects the minutes that overlap it */
	struct got g;
	struct flow_query q = { 0 };
	assert_int_equal(query(fx->path, &q, &g), 1);
	assert_int_equal(g.r[0].in, 1111);
	assert_int_equal(g.r[0].out, 25);
	assert_int_equal(g.r[0].conns, 1);
	assert_int_equal(g.r[0].first, M0);
	assert_int_equal(g.r[0].last, M0 + 180);
	q.since_ns = (int64_t)(T0 + 90 * S); /* inside minute 1 */
	assert_int_equal(query(fx->path, &q, &g), 1);
	assert_int_equal(g.r[0].in, 1101);
	q.until_ns = (int64_t)(T0 + 180 * S); /* minute 3 starts at until: left out */
	assert_int_equal(query(fx->path, &q, &g), 1);
	assert_int_equal(g.r[0].in, 1100);
	q.since_ns = (int64_t)(T0 + 240 * S);
	q.until_ns = 0;
	assert_int_equal(query(fx->path, &q, &g), 0);
	flow_rollup_close(r);
}

static void test_keys_metadata_and_filters(void **state)
{
	struct fixture *fx = *state;
	char err[256];
	struct flow_rollup *r = flow_rollup_open(fx->path, NULL, err, sizeof(err));
	assert_non_null(r);
	struct vg_container_meta web = { .id = WEB, .name = "web", .k8s_namespace = "shop", .k8s_pod_name = "web-1" };
	struct vg_container_meta db = { .id = DBC, .name = "db", .k8s_namespace = "data", .k8s_pod_name = "db-0" };

	/* web -> db:5432 seen from both sides (both on this node), and the host -> 2001:db8::1:53 over UDP */
	struct vg_flow out = flow(10, WEB, VG_FLOW_OUTBOUND, "10.88.0.3", 5432);
	snprintf(out.peer_container_id, sizeof(out.peer_container_id), "%s", DBC);
	out.ts_ns = out.start_ns = 1001 * S;
	out.bytes_out = 100;
	assert_int_equal(flow_rollup_add(r, &out, &web, &db, B2R), 0);
	struct vg_flow in = flow(11, DBC, VG_FLOW_INBOUND, "10.88.0.2", 40001);
	in.local.port = 5432;
	snprintf(in.peer_container_id, sizeof(in.peer_container_id), "%s", WEB);
	in.ts_ns = in.start_ns = 1001 * S;
	in.bytes_in = 100;
	assert_int_equal(flow_rollup_add(r, &in, &db, &web, B2R), 0);
	struct vg_flow dns = flow(12, "", VG_FLOW_OUTBOUND, "2001:db8::1", 53);
	dns.proto = VG_FLOW_UDP;
	dns.ts_ns = dns.start_ns = 1002 * S;
	dns.bytes_out = 40;
	dns.bytes_in = 120;
	assert_int_equal(flow_rollup_add(r, &dns, &web /* ignored: a host flow */, NULL, B2R), 0);
	/* an IPv4-mapped IPv6 peer reads as IPv4 */
	struct vg_flow m = flow(13, WEB, VG_FLOW_OUTBOUND, "::ffff:192.0.2.7", 8080);
	m.ts_ns = m.start_ns = 1003 * S;
	m.bytes_out = 1;
	assert_int_equal(flow_rollup_add(r, &m, &web, NULL, B2R), 0);
	assert_int_equal(flow_rollup_flush(r, (int64_t)(T0 + 5 * S)), 4);

	struct got g;
	struct flow_query q = { 0 };
	assert_int_equal(query(fx->path, &q, &g), 4);
	/* most bytes first: the host's DNS (160), then the two views of web -> db (100 each), then 1 */
	assert_string_equal(g.r[0].cid, "");
	assert_string_equal(g.r[0].name, "(null)");
	assert_string_equal(g.r[0].proto, "udp");
	assert_string_equal(g.r[0].addr, "2001:db8::1");
	assert_int_equal(g.r[0].port, 53);
	int i_out = !strcmp(g.r[1].dir, "out") ? 1 : 2, i_in = 3 - i_out;
	assert_string_equal(g.r[i_out].cid, WEB);
	assert_string_equal(g.r[i_out].name, "web");
	assert_string_equal(g.r[i_out].ns, "shop");
	assert_string_equal(g.r[i_out].pcid, DBC);
	assert_string_equal(g.r[i_out].pname, "db");
	assert_int_equal(g.r[i_out].port, 5432);
	assert_string_equal(g.r[i_in].dir, "in");
	assert_string_equal(g.r[i_in].name, "db");
	assert_int_equal(g.r[i_in].port, 5432); /* inbound: the local (service) port */
	assert_string_equal(g.r[i_in].addr, "10.88.0.2");
	assert_string_equal(g.r[3].addr, "192.0.2.7");

	/* the container selector as `vigil alerts --container`: name glob, id prefix, host */
	q.container = "we*";
	assert_int_equal(query(fx->path, &q, &g), 2);
	q.container = "0b1c";
	assert_int_equal(query(fx->path, &q, &g), 1);
	assert_string_equal(g.r[0].name, "db");
	q.container = "host";
	assert_int_equal(query(fx->path, &q, &g), 1);
	assert_string_equal(g.r[0].proto, "udp");
	q.container = NULL;
	q.k8s_namespace = "shop";
	assert_int_equal(query(fx->path, &q, &g), 2);
	q.k8s_namespace = "nope";
	assert_int_equal(query(fx->path, &q, &g), 0);
	q.k8s_namespace = NULL;
	q.limit = 1;
	assert_int_equal(query(fx->path, &q, &g), 1);
	flow_rollup_close(r);
}

static void test_retention(void **state)
{
	struct fixture *fx = *state;
	char err[256];
	struct flow_rollup_opts o = { .retention_days = 1 };
	struct flow_rollup *r = flow_rollup_open(fx->path, &o, err, sizeof(err));
	assert_non_null(r);
	for (int d = 0; d < 3; d++) { /* one flow a day, at boot 1000 s + d days */
		struct vg_flow f = flow(20 + (uint64_t)d, WEB, VG_FLOW_OUTBOUND, "10.2.2.2", 443);
		report(r, &f, VG_FLOW_CLOSE, 1000 + (uint64_t)d * 86400, 10, 10);
	}
	/* flushed at day 2 + 30 s: day 0's minute ended more than a day before, day 1's not yet */
	assert_int_equal(flow_rollup_flush(r, (int64_t)(T0 + (2 * 86400 + 30) * S)), 3);
	assert_int_equal(nrows(fx->path), 2);
	struct flow_rollup_stats st;
	flow_rollup_stats(r, &st);
	assert_int_equal(st.pruned, 1);
	/* pruning runs at most once a minute: day 1's minute ended a day ago 30 s later, but
	 * it goes only at the next prune, a minute after the last */
	assert_int_equal(flow_rollup_flush(r, (int64_t)(T0 + (2 * 86400 + 60) * S)), 0);
	assert_int_equal(nrows(fx->path), 2);
	assert_int_equal(flow_rollup_flush(r, (int64_t)(T0 + (2 * 86400 + 90) * S)), 0);
	assert_int_equal(nrows(fx->path), 1);
	flow_rollup_close(r);

	/* the default: 7 days */
	r = flow_rollup_open(fx->path, NULL, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(flow_rollup_flush(r, (int64_t)(T0 + (9 * 86400) * S)), 0);
	assert_int_equal(nrows(fx->path), 1);
	flow_rollup_close(r);
	r = flow_rollup_open(fx->path, NULL, err, sizeof(err));
	assert_int_equal(flow_rollup_flush(r, (int64_t)(T0 + (9 * 86400 + 60) * S)), 0);
	assert_int_equal(nrows(fx->path), 0);
	flow_rollup_close(r);
}

static void test_bounded_memory(void **state)
{
	struct fixture *fx = *state;
	char err[256];
	struct flow_rollup_opts o = { .max_flows = 2, .max_rows = 2 };
	struct flow_rollup *r = flow_rollup_open(fx->path, &o, err, sizeof(err));
	assert_non_null(r);
	struct flow_rollup_stats st;

	struct vg_flow a = flow(30, WEB, VG_FLOW_OUTBOUND, "10.3.0.1", 80);
	struct vg_flow b = flow(31, WEB, VG_FLOW_OUTBOUND, "10.3.0.2", 80);
	struct vg_flow c = flow(32, WEB, VG_FLOW_OUTBOUND, "10.3.0.3", 80);
	report(r, &a, VG_FLOW_OPEN, 1000, 0, 0);
	report(r, &b, VG_FLOW_CLOSE, 1001, 5, 5);
	/* a third flow: the closed one goes first, not counted as an eviction */
	report(r, &c, VG_FLOW_OPEN, 1002, 0, 0);
	flow_rollup_stats(r, &st);
	assert_int_equal(st.tracked, 2);
	assert_int_equal(st.evicted, 0);
	/* rows: a, b, c are three rows of minute 0 with max_rows 2: one early write happened */
	assert_int_equal(st.early_writes, 1);
	assert_true(st.pending <= 2);
	/* a is reported again (now most recent); a fourth flow evicts c, the least recently reported */
	report(r, &a, VG_FLOW_UPDATE, 1003, 7, 7);
	struct vg_flow d = flow(33, WEB, VG_FLOW_OUTBOUND, "10.3.0.4", 80);
	report(r, &d, VG_FLOW_OPEN, 1004, 0, 0);
	flow_rollup_stats(r, &st);
	assert_int_equal(st.tracked, 2);
	assert_int_equal(st.evicted, 1);
	/* a kept its totals: its next report adds only its growth */
	report(r, &a, VG_FLOW_CLOSE, 1005, 8, 8);
	flow_rollup_flush(r, (int64_t)(T0 + 10 * S));
	assert_int_equal(col_sum(fx->path, "bytes_in", M0), 13); /* a 8 + b 5 */
	assert_int_equal(col_sum(fx->path, "connections", M0), 4);
	flow_rollup_stats(r, &st);
	assert_int_equal(st.write_errors, 0);
	flow_rollup_close(r);
}

/* the rollups live beside the alerts in one store file, each side opening it */
static void test_shared_store(void **state)
{
	struct fixture *fx = *state;
	char err[256];
	struct alert_store *s = alert_store_open(fx->path, false, err, sizeof(err));
	assert_non_null(s);
	struct flow_rollup *r = flow_rollup_open(fx->path, NULL, err, sizeof(err));
	assert_non_null(r);
	struct vg_flow f = flow(40, WEB, VG_FLOW_OUTBOUND, "10.4.0.1", 443);
	report(r, &f, VG_FLOW_CLOSE, 1000, 1, 2);
	assert_int_equal(flow_rollup_flush(r, (int64_t)T0), 1);
	struct alert_store_action act = { .time_ns = 1, .rule = "r", .action = "kill", .target = "1",
					  .outcome = "done", .detail = "", .path = "userspace" };
	assert_int_equal(alert_store_add_action(s, &act), 0);
	assert_int_equal(alert_store_commit(s), 0);
	flow_rollup_close(r);
	alert_store_close(s);
	/* the read-only alert store opens it, and the rollups read back */
	s = alert_store_open(fx->path, true, err, sizeof(err));
	assert_non_null(s);
	alert_store_close(s);
	struct got g;
	struct flow_query q = { 0 };
	assert_int_equal(query(fx->path, &q, &g), 1);
	/* a store without the table (an agent before flows) has no rows; a missing file is an error */
	char other[160];
	snprintf(other, sizeof(other), "%s/alerts-only.db", fx->dir);
	s = alert_store_open(other, false, err, sizeof(err));
	alert_store_close(s);
	assert_int_equal(query(other, &q, &g), 0);
	snprintf(other, sizeof(other), "%s/missing.db", fx->dir);
	assert_int_equal(flow_rollup_query(other, &q, collect, &g, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot open store"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_delta_across_update_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_minute_boundaries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keys_metadata_and_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounded_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_store, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
