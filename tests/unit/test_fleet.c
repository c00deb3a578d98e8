/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the fleet module without a server: node and cluster names,
 * subjects, the connection's option errors, and the heartbeat's JSON (the
 * agent's figures, the rules digest, central policy's state) on a
 * connection that has no server yet.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "fleet/heartbeat.h"
#include "fleet/nats_conn.h"

static void test_names(void **state)
{
	(void)state;
	char buf[80];
	assert_true(fleet_name_valid("node-1_a"));
	assert_false(fleet_name_valid(""));
	assert_false(fleet_name_valid("a.b"));
	assert_false(fleet_name_valid("a*"));
	assert_false(fleet_name_valid("a>"));
	assert_false(fleet_name_valid("a b"));
	memset(buf, 'x', 65);
	buf[65] = 0;
	assert_false(fleet_name_valid(buf));
	buf[64] = 0;
	assert_true(fleet_name_valid(buf));
	assert_true(fleet_name_valid(fleet_default_node(buf, sizeof(buf))));
	assert_int_equal(fleet_subject(buf, sizeof(buf), "prod", "n1", "alert"), 0);
	assert_string_equal(buf, "vigil.prod.n1.alert");
	assert_int_equal(fleet_subject(buf, 8, "prod", "n1", "alert"), -1);
}

static void expect_refused(const struct fleet_conn_opts *o, const char *why)
{
	char err[512] = "";
	struct fleet_conn *c = fleet_connect(o, err, sizeof(err));
	assert_null(c);
	if (!strstr(err, why))
		fail_msg("'%s' does not say '%s'", err, why);
}

static void test_bad_options(void **state)
{
	(void)state;
	expect_refused(&(struct fleet_conn_opts){ .servers = "nats://127.0.0.1:1", .node = "a.b" }, "node name");
	expect_refused(&(struct fleet_conn_opts){ .servers = "nats://127.0.0.1:1", .cluster = "x y" }, "cluster name");
	expect_refused(&(struct fleet_conn_opts){ .node = "n" }, "no NATS server");
	expect_refused(&(struct fleet_conn_opts){ .servers = ",,", .node = "n" }, "no NATS server");
	expect_refused(&(struct fleet_conn_opts){ .servers = "nats://127.0.0.1:1", .creds = "/nonexistent.creds" },
		       "credentials file");
	expect_refused(&(struct fleet_conn_opts){ .servers = "nats://127.0.0.1:1", .tls_cert = "/dev/null" },
		       "needs its key");
	expect_refused(&(struct fleet_conn_opts){ .servers = "nats://127.0.0.1:1", .creds = "/dev/null",
						  .nkey_seed = "/dev/null" },
		       "not both");
	expect_refused(&(struct fleet_conn_opts){ .servers = "nats://127.0.0.1:1", .nkey_seed = "/dev/null" },
		       "no valid user seed");
}

static void health(void *ctx, struct fleet_health *h)
{
	if (ctx) /* the node watches central policy: its per-kind state */
		buf_adds(h->policy, (const char *)ctx);
	h->events = 1234;
	h->lost_records = 5;
	h->outbox_depth = 42;
	h->outbox_oldest_s = 1.5;
	h->outbox_lost = 7;
}

static void test_heartbeat_json(void **state)
{
	(void)state;
	char err[512];
	struct fleet_conn_opts o = { .servers = "nats://127.0.0.1:1", .node = "n1", .cluster = "c1" };
	struct fleet_conn *c = fleet_connect(&o, err, sizeof(err));
	assert_non_null(c);
	assert_false(fleet_conn_up(c));
	struct fleet_heartbeat *hb = fleet_heartbeat_start(c, 60000, health, NULL, err, sizeof(err));
	assert_non_null(hb);
	struct vg_buf b = { 0 };
	fleet_heartbeat_json(hb, &b);
	assert_non_null(strstr(b.data, "\"node\":\"n1\",\"cluster\":\"c1\",\"version\":"));
	assert_non_null(strstr(b.data, "\"rules_digest\":null"));
	assert_non_null(strstr(b.data, "\"dropped_by_container\":[],\"events\":1234,"));
	assert_non_null(strstr(b.data, "\"events\":1234,\"events_per_s\":0.0,\"lost_records\":5,"
				       "\"outbox\":{\"depth\":42,\"oldest_s\":1.500,\"lost\":7},"
				       "\"policy\":{\"digest\":null,\"status\":\"none\"}}"));
	fleet_heartbeat_set_rules(hb, "sha256:abc");
	buf_reset(&b);
	fleet_heartbeat_json(hb, &b);
	assert_non_null(strstr(b.data, "\"rules_digest\":\"sha256:abc\""));
	fleet_heartbeat_stop(hb);
	/* a node that watches central policy sends its per-kind state as it is */
	static const char pol[] = "{\"rules\":{\"source\":\"fleet\",\"digest\":\"sha256:def\"},"
				  "\"files\":{\"source\":\"local\",\"digest\":\"\",\"refused\":\"sha256:9\","
				  "\"error\":\"f.yaml:3:5: x\"}}";
	hb = fleet_heartbeat_start(c, 60000, health, (void *)pol, err, sizeof(err));
	assert_non_null(hb);
	buf_reset(&b);
	fleet_heartbeat_json(hb, &b);
	assert_non_null(strstr(b.data, "\"policy\":{\"rules\":{\"source\":\"fleet\""));
	assert_non_null(strstr(b.data, "\"error\":\"f.yaml:3:5: x\"}}}"));
	buf_free(&b);
	fleet_heartbeat_stop(hb);
	fleet_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_heartbeat_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
