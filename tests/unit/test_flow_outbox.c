/* SPDX-License-Identifier: Apache-2.0 */
/* The flows' outbox (docs/fleet.md, "Flows"): each rollup flush's deltas as messages in table
 * flow_outbox, in the flush's transaction, with the workload's local address, bounded. */
#include <arpa/inet.h>
#include <jansson.h>
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
#include "hub/hub_msg.h"
#include "output/flow_rollup.h"
#include "test_tmp.h"

#define S 1000000000ull
#define T0 (29000000ull * 60 * S)
#define B2R (T0 - 1000 * S)
#define WEB "5ad505f6c2d4de05faee7fb251e25b27cf04af50103100ef0cc6888c48eeaf99"

static char dir[64], path[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_flow_outbox.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/vigil.db", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tmp_remove_tree(dir);
	return 0;
}

static struct vg_flow flow(uint64_t cookie, const char *local, const char *remote, uint16_t rport)
{
	struct vg_flow f = { .cookie = cookie, .proto = VG_FLOW_TCP, .dir = VG_FLOW_OUTBOUND, .phase = VG_FLOW_OPEN };
	snprintf(f.container_id, sizeof(f.container_id), "%s", WEB);
	f.remote.family = f.local.family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, remote, f.remote.addr), 1);
	assert_int_equal(inet_pton(AF_INET, local, f.local.addr), 1);
	f.remote.port = rport;
	f.local.port = 40000;
	return f;
}

static void report(struct flow_rollup *r, struct vg_flow *f, enum vg_flow_phase ph, uint64_t ts_s, uint64_t in,
		   uint64_t out)
{
	f->phase = ph;
	f->ts_ns = ts_s * S;
	f->bytes_in = in;
	f->bytes_out = out;
	f->pkts_in = 1;
	f->pkts_out = 1;
	assert_int_equal(flow_rollup_add(r, f, NULL, NULL, B2R), 0);
}

/* The outbox's messages, oldest first, each checked as the hub checks it. */
static size_t messages(json_t **out, size_t max, int64_t *ids)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	size_t n = 0;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT id, uuid, json FROM flow_outbox ORDER BY id", -1, &st, NULL),
			 SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW && n < max) {
		const char *uuid = (const char *)sqlite3_column_text(st, 1), *json = (const char *)sqlite3_column_text(st, 2);
		assert_int_equal(strlen(uuid), 32);
		struct hub_headers h = { .msg_id = uuid, .node = "n1", .cluster = "c", .kind = "flows", .seq = "1" };
		struct hub_msg m;
		char err[256];
		assert_int_equal(hub_msg_parse("vigil.c.n1.flows", &h, json, strlen(json), 1 << 20, &m, err, sizeof(err)),
				 HUB_OK);
		hub_msg_free(&m);
		if (ids)
			ids[n] = sqlite3_column_int64(st, 0);
		out[n++] = json_loads(json, 0, NULL);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static void test_deltas(void **state)
{
	(void)state;
	struct flow_rollup_opts o = { .outbox = true };
	char err[256];
	struct flow_rollup *r = flow_rollup_open(path, &o, err, sizeof(err));
	assert_non_null(r);
	struct vg_flow a = flow(1, "10.9.0.1", "10.9.0.2", 8080);
	report(r, &a, VG_FLOW_OPEN, 1000, 0, 0);
	report(r, &a, VG_FLOW_UPDATE, 1010, 100, 1000);
	assert_int_equal(flow_rollup_flush(r, (int64_t)(T0 + 20 * S)), 1);
	/* the second flush: only what grew, and nothing for a flow that did not */
	struct vg_flow b = flow(2, "10.9.0.1", "192.0.2.7", 443);
	report(r, &a, VG_FLOW_CLOSE, 1020, 150, 1500);
	report(r, &b, VG_FLOW_OPEN, 1020, 0, 0);
	assert_int_equal(flow_rollup_flush(r, (int64_t)(T0 + 25 * S)), 2);
	assert_int_equal(flow_rollup_flush(r, (int64_t)(T0 + 30 * S)), 0); /* nothing pending: no message */
	struct flow_rollup_stats st;
	flow_rollup_stats(r, &st);
	assert_int_equal(st.outbox_msgs, 2);
	flow_rollup_close(r);

	json_t *m[8];
	assert_int_equal(messages(m, 8, NULL), 2);
	json_t *rows = json_object_get(m[0], "flows");
	assert_int_equal(json_array_size(rows), 1);
	json_t *x = json_array_get(rows, 0);
	assert_int_equal(json_integer_value(json_object_get(x, "minute")), (int64_t)(T0 / S));
	assert_string_equal(json_string_value(json_object_get(x, "local_addr")), "10.9.0.1");
	assert_string_equal(json_string_value(json_object_get(x, "direction")), "out");
	assert_int_equal(json_integer_value(json_object_get(x, "port")), 8080);
	assert_int_equal(json_integer_value(json_object_get(x, "connections")), 1);
	assert_int_equal(json_integer_value(json_object_get(x, "bytes_out")), 1000);
	assert_string_equal(json_string_value(json_object_get(json_object_get(x, "workload"), "container_id")), WEB);
	rows = json_object_get(m[1], "flows");
	assert_int_equal(json_array_size(rows), 2);
	int64_t conns = 0, out = 0;
	for (size_t i = 0; i < 2; i++) {
		conns += json_integer_value(json_object_get(json_array_get(rows, i), "connections"));
		out += json_integer_value(json_object_get(json_array_get(rows, i), "bytes_out"));
	}
	assert_int_equal(conns, 1); /* only b is new */
	assert_int_equal(out, 500);  /* a grew by 500 */
	json_decref(m[0]);
	json_decref(m[1]);
}

static void test_chunks_and_bound(void **state)
{
	(void)state;
	struct flow_rollup_opts o = { .outbox = true, .outbox_max = 3 };
	char err[256];
	unlink(path);
	struct flow_rollup *r = flow_rollup_open(path, &o, err, sizeof(err));
	assert_non_null(r);
	/* 450 peers in one flush: three messages of at most FLOW_OUTBOX_ROWS rows */
	for (unsigned i = 0; i < 450; i++) {
		char peer[32];
		snprintf(peer, sizeof(peer), "10.1.%u.%u", i / 200, i % 200 + 1);
		struct vg_flow f = flow(100 + i, "10.9.0.1", peer, 80);
		report(r, &f, VG_FLOW_OPEN, 1000, 1, 1);
	}
	assert_int_equal(flow_rollup_flush(r, (int64_t)(T0 + 20 * S)), 450);
	json_t *m[8];
	int64_t ids[8];
	size_t n = messages(m, 8, ids);
	assert_int_equal(n, 3);
	size_t rows = 0;
	for (size_t i = 0; i < n; i++) {
		assert_true(json_array_size(json_object_get(m[i], "flows")) <= FLOW_OUTBOX_ROWS);
		rows += json_array_size(json_object_get(m[i], "flows"));
		json_decref(m[i]);
	}
	assert_int_equal(rows, 450);
	/* one more flush beyond the bound: the oldest message is dropped and counted, ids go on */
	struct vg_flow f = flow(9999, "10.9.0.1", "10.2.0.1", 80);
	report(r, &f, VG_FLOW_OPEN, 1030, 1, 1);
	assert_int_equal(flow_rollup_flush(r, (int64_t)(T0 + 40 * S)), 1);
	struct flow_rollup_stats st;
	flow_rollup_stats(r, &st);
	assert_int_equal(st.outbox_dropped, 1);
	int64_t ids2[8];
	n = messages(m, 8, ids2);
	assert_int_equal(n, 3);
	assert_int_equal(ids2[0], ids[1]);
	assert_true(ids2[2] > ids[2]);
	for (size_t i = 0; i < n; i++)
		json_decref(m[i]);
	flow_rollup_close(r);
	/* without the option, no outbox at all */
	unlink(path);
	r = flow_rollup_open(path, NULL, err, sizeof(err));
	report(r, &f, VG_FLOW_UPDATE, 1040, 2, 2);
	flow_rollup_close(r);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "SELECT 1 FROM flow_outbox", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deltas),
		cmocka_unit_test(test_chunks_and_bound),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
