/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The console forwarder of a single agent (hub/hub_local.h): its spec, records
 * delivered into a hub store through the hub's checks and ingest (a record the
 * contract refuses is skipped, the rest stored once), the flow rollups' outbox
 * moved into the hub's flows and trimmed, and the heartbeat that makes the node
 * known to the hub's queries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>
#include "hub/hub_local.h"
#include "hub/hub_store.h"
#include "output/alert_store.h"
#include "output/flow_rollup.h"
#include "test_tmp.h"

static char dir[64];
static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/vigil-test-hubl.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}
static int teardown(void **state)
{
	(void)state;
	return tmp_remove_tree(dir);
}

static void test_spec(void **state)
{
	(void)state;
	char err[512], spec[512];
	void *ctx = NULL;
	const char *bad[] = {
		"relative.db;store=/x/a.db;node=n;cluster=c",    /* not absolute */
		"/x/hub.db;node=n;cluster=c",                    /* no store= */
		"/x/hub.db;store=/x/a.db;node=a.b;cluster=c",    /* a node that is no subject token */
		"/x/hub.db;store=/x/a.db;node=n;cluster=c;colour=red", /* unknown option */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		err[0] = 0;
		assert_int_equal(hub_local_ops.open(&ctx, bad[i], err, sizeof(err)), -1);
		assert_null(ctx);
		assert_true(err[0] != 0);
	}
	snprintf(spec, sizeof(spec), "%s/nodir/hub.db;store=%s/a.db;node=n;cluster=c", dir, dir);
	assert_int_equal(hub_local_ops.open(&ctx, spec, err, sizeof(err)), -1); /* the agent's store is not there */
}

static int64_t count(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t n = -1;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/* bounded (10 s) until sql on path counts want */
static bool wait_count(const char *path, const char *sql, int64_t want)
{
	for (int i = 0; i < 200; i++) {
		if (count(path, sql) == want)
			return true;
		struct timespec t = { 0, 50 * 1000000L };
		nanosleep(&t, NULL);
	}
	return false;
}

static void test_deliver_flows(void **state)
{
	(void)state;
	char err[512], spec[512], agent[128], hub[128];
	snprintf(agent, sizeof(agent), "%s/vigil.db", dir);
	snprintf(hub, sizeof(hub), "%s/console.db", dir);
	/* the agent's store, with a flows outbox holding one message */
	struct alert_store *as = alert_store_open(agent, false, err, sizeof(err));
	assert_non_null(as);
	alert_store_close(as);
	sqlite3 *adb;
	assert_int_equal(sqlite3_open(agent, &adb), SQLITE_OK);
	assert_int_equal(sqlite3_exec(adb, FLOW_OUTBOX_SCHEMA, NULL, NULL, NULL), SQLITE_OK);
	const char *flows =
		"INSERT INTO flow_outbox(uuid, time_ns, json) VALUES ('0123456789abcdef0123456789abcdef', 1795878400000000000,"
		" '{\"time\":\"2026-11-28T15:00:00Z\",\"flows\":[{\"minute\":1795878000,\"workload\":{\"container_id\":\"\","
		"\"container_name\":null,\"k8s_namespace\":null,\"k8s_pod\":null},\"local_addr\":\"10.0.0.1\",\"direction\":\"out\","
		"\"proto\":\"tcp\",\"port\":443,\"peer\":{\"address\":\"10.0.0.2\",\"name\":\"\",\"container_id\":\"\","
		"\"container_name\":null,\"k8s_namespace\":null,\"k8s_pod\":null},\"connections\":2,\"bytes_in\":10,"
		"\"bytes_out\":20,\"packets_in\":1,\"packets_out\":1}]}')";
	assert_int_equal(sqlite3_exec(adb, flows, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(adb);

	snprintf(spec, sizeof(spec), "%s;store=%s;node=node-1;cluster=home", hub, agent);
	void *ctx = NULL;
	assert_int_equal(hub_local_ops.open(&ctx, spec, err, sizeof(err)), 0);
	assert_non_null(ctx);

	const char *alert = "{\"uuid\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"time\":\"2026-11-28T15:00:00Z\","
			    "\"rule\":\"Read shadow\",\"priority\":\"Critical\",\"output\":\"x\"}";
	const char *action = "{\"uuid\":\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\",\"time\":\"2026-11-28T15:00:01Z\","
			     "\"rule\":\"Read shadow\",\"action\":\"isolate\",\"outcome\":\"done\",\"target\":\"c1\"}";
	const char *bad = "{\"uuid\":\"cccccccccccccccccccccccccccccccc\",\"time\":\"2026-11-28T15:00:02Z\"}"; /* no rule */
	struct outbox_record recs[] = {
		{ OUTBOX_ALERT, 1, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0, 2, alert, strlen(alert) },
		{ OUTBOX_ACTION, 1, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", 0, 6, action, strlen(action) },
		{ OUTBOX_ALERT, 2, "cccccccccccccccccccccccccccccccc", 0, 2, bad, strlen(bad) },
	};
	/* all three "arrived": the refused one is skipped (it could never be stored) */
	assert_int_equal(hub_local_ops.deliver(ctx, recs, 3, err, sizeof(err)), 3);
	/* delivered again (the outbox's cursor lost in a crash): stored once */
	assert_int_equal(hub_local_ops.deliver(ctx, recs, 2, err, sizeof(err)), 2);
	assert_int_equal(count(hub, "SELECT count(*) FROM alerts WHERE node = 'node-1' AND cluster = 'home'"), 1);
	assert_int_equal(count(hub, "SELECT count(*) FROM actions"), 1);
	/* the flows' outbox moved and trimmed; the heartbeat made the node known */
	assert_true(wait_count(hub, "SELECT count(*) FROM flow_msgs", 1));
	assert_true(wait_count(agent, "SELECT count(*) FROM flow_outbox", 0));
	assert_int_equal(count(hub, "SELECT sum(connections) FROM flows WHERE node = 'node-1' AND port = 443"), 2);
	assert_true(wait_count(hub, "SELECT count(*) FROM nodes WHERE node = 'node-1' AND heartbeat IS NOT NULL", 1));
	hub_local_ops.close(ctx);

	/* a second start: the same message again adds nothing */
	assert_int_equal(sqlite3_open(agent, &adb), SQLITE_OK);
	assert_int_equal(sqlite3_exec(adb, flows, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(adb);
	assert_int_equal(hub_local_ops.open(&ctx, spec, err, sizeof(err)), 0);
	assert_true(wait_count(agent, "SELECT count(*) FROM flow_outbox", 0));
	hub_local_ops.close(ctx);
	assert_int_equal(count(hub, "SELECT sum(connections) FROM flows WHERE node = 'node-1'"), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_spec, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deliver_flows, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
