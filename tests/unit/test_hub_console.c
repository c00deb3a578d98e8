/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The web console's side of the hub: its query parameters (MITRE tactic and
 * technique), the store's bucketed counts and acknowledgements, and the static
 * files compiled into the binary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "hub/console_assets.h"
#include "hub/hub_api.h"
#include "hub/hub_msg.h"
#include "hub/hub_store.h"
#include "test_tmp.h"

static int q1(const char *k, const char *v, struct hub_query *q)
{
	const char *keys[1] = { k }, *vals[1] = { v };
	char err[256];
	return hub_api_parse_query(HUB_T_ALERTS, keys, vals, 1, q, err, sizeof(err));
}

static void test_mitre_params(void **state)
{
	(void)state;
	struct hub_query q;
	assert_int_equal(q1("tactic", "execution", &q), 0);
	assert_string_equal(q.tactic, "mitre_execution");
	assert_int_equal(q1("tactic", "mitre_privilege_escalation", &q), 0);
	assert_string_equal(q.tactic, "mitre_privilege_escalation");
	assert_int_equal(q1("technique", "T1059", &q), 0);
	assert_string_equal(q.technique, "T1059");
	assert_int_equal(q1("technique", "T1059.004", &q), 0);
	static const char *const bad_t[] = { "", "Execution", "exec ution", "mitre_", "x'y", "exécution" };
	for (size_t i = 0; i < sizeof(bad_t) / sizeof(*bad_t); i++)
		assert_int_equal(q1("tactic", bad_t[i], &q), -1);
	static const char *const bad_k[] = { "T105", "T10599", "t1059", "T1059.", "T1059.04", "T1059.0044", "T1O59", "T1059%" };
	for (size_t i = 0; i < sizeof(bad_k) / sizeof(*bad_k); i++)
		assert_int_equal(q1("technique", bad_k[i], &q), -1);
	/* actions and losses do not take them */
	const char *keys[1] = { "tactic" }, *vals[1] = { "execution" };
	char err[256];
	assert_int_equal(hub_api_parse_query(HUB_T_ACTIONS, keys, vals, 1, &q, err, sizeof(err)), -1);
}

static char dir[64];
static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/vigil-test-hubc.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}
static int teardown(void **state)
{
	(void)state;
	return tmp_remove_tree(dir);
}

/* An alert at 2026-11-28T15:<min>:00Z. */
static void add(struct hub_store *s, long seq, int min, const char *rule, const char *prio, const char *tags)
{
	char body[512], seqs[24], uuid[40];
	snprintf(seqs, sizeof(seqs), "%ld", seq);
	snprintf(uuid, sizeof(uuid), "console-%08ld", seq);
	snprintf(body, sizeof(body), "{\"uuid\":\"%s\",\"time\":\"2026-11-28T15:%02d:00Z\",\"rule\":\"%s\",\"priority\":\"%s\","
				     "\"tags\":%s,\"vigil\":{\"event\":{\"container\":{\"id\":\"abc\"}}}}",
		 uuid, min, rule, prio, tags);
	struct hub_headers h = { .msg_id = uuid, .node = "n1", .cluster = "prod", .kind = "alert", .seq = seqs };
	struct hub_msg m;
	char err[256];
	assert_int_equal(hub_msg_parse("vigil.prod.n1.alert", &h, body, strlen(body), 4096, &m, err, sizeof(err)), HUB_OK);
	assert_int_equal(hub_store_add(s, &m, 1795878400000000000LL), 1);
	hub_msg_free(&m);
}

static long count_sum(json_t *o, const char *key)
{
	long n = 0;
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(o, "counts"), i, c)
	if (!key || !strcmp(json_string_value(json_object_get(c, "key")), key))
		n += (long)json_integer_value(json_object_get(c, "count"));
	return n;
}

static void test_counts_acks(void **state)
{
	(void)state;
	char path[128], err[256];
	snprintf(path, sizeof(path), "%s/hub.db", dir);
	struct hub_store *s = hub_store_open(path, false, false, err, sizeof(err));
	assert_non_null(s);
	add(s, 1, 0, "Shell", "Critical", "[\"mitre_execution\",\"T1059.004\"]");
	add(s, 2, 0, "Shell", "Warning", "[\"mitre_execution\"]");
	add(s, 3, 1, "Cron", "Notice", "[\"mitre_persistence\",\"T1053\"]");
	add(s, 4, 5, "Shell", "Critical", "[]");
	add(s, 5, 9, "Cron", "Notice", "\"not an array\"");
	assert_int_equal(hub_store_commit(s), 0);
	int64_t max = 0;
	assert_int_equal(hub_store_max_alert_id(s, &max), 0);
	assert_int_equal(max, 5);

	/* counts: 15:00 to 15:10 by 2 minutes */
	struct hub_query q = { .table = HUB_T_ALERTS, .prio_most = -1, .prio_least = -1, .limit = 100 };
	q.since_ns = hub_parse_time("2026-11-28T15:00:00Z");
	q.until_ns = hub_parse_time("2026-11-28T15:10:00Z");
	struct vg_buf b = { 0 };
	assert_true(hub_store_alert_counts(s, &q, 120000000000LL, true, &b) > 0);
	json_t *o = json_loads(b.data, 0, NULL);
	assert_non_null(o);
	assert_int_equal(count_sum(o, NULL), 5);
	assert_int_equal(count_sum(o, "Shell"), 3);
	assert_int_equal(json_integer_value(json_object_get(o, "bucket_s")), 120);
	assert_true(json_is_false(json_object_get(o, "partial")));
	/* the first bucket holds 15:00 and 15:01: Shell 2, Cron 1 */
	json_t *c0 = json_array_get(json_object_get(o, "counts"), 0);
	assert_string_equal(json_string_value(json_object_get(c0, "t")), "2026-11-28T15:00:00.000000000Z");
	assert_string_equal(json_string_value(json_object_get(c0, "key")), "Cron");
	json_decref(o);
	buf_reset(&b);
	assert_true(hub_store_alert_counts(s, &q, 600000000000LL, false, &b) > 0);
	o = json_loads(b.data, 0, NULL);
	assert_int_equal(count_sum(o, "Critical"), 2);
	assert_int_equal(count_sum(o, "Notice"), 2);
	assert_int_equal(json_array_size(json_object_get(o, "counts")), 3);
	json_decref(o);
	/* with a filter: tactic */
	q.tactic = "mitre_execution";
	buf_reset(&b);
	assert_true(hub_store_alert_counts(s, &q, 600000000000LL, true, &b) > 0);
	o = json_loads(b.data, 0, NULL);
	assert_int_equal(count_sum(o, NULL), 2);
	json_decref(o);

	/* the list's MITRE filters: a technique matches its sub-techniques; a non-array tags is no match */
	struct hub_query l = { .table = HUB_T_ALERTS, .prio_most = -1, .prio_least = -1, .limit = 100 };
	l.technique = "T1059";
	buf_reset(&b);
	assert_int_equal(hub_store_query(s, &l, &b), 1);
	l.technique = "T1053";
	buf_reset(&b);
	assert_int_equal(hub_store_query(s, &l, &b), 1);
	l.technique = NULL;
	l.tactic = "mitre_persistence";
	buf_reset(&b);
	assert_int_equal(hub_store_query(s, &l, &b), 1);
	l.tactic = "mitre_ex%";
	buf_reset(&b);
	assert_int_equal(hub_store_query(s, &l, &b), 0);

	/* a bounded statement: over its budget it fails, and says so; unbounded again after */
	hub_store_set_budget(s, 1);
	l.tactic = "mitre_persistence";
	buf_reset(&b);
	assert_int_equal(hub_store_query(s, &l, &b), -1);
	assert_true(hub_store_over_budget(s));
	hub_store_set_budget(s, 0);
	assert_false(hub_store_over_budget(s));
	buf_reset(&b);
	assert_int_equal(hub_store_query(s, &l, &b), 1);

	/* acknowledgements */
	assert_int_equal(hub_store_ack(s, "console-99999999", "bob", 1), -2);
	assert_int_equal(hub_store_ack(s, "console-00000002", "bob", 1795878400000000000LL), 1);
	assert_int_equal(hub_store_ack(s, "console-00000002", "eve", 1795878500000000000LL), 0);
	hub_store_close(s);
	struct hub_store *r = hub_store_open(path, true, false, err, sizeof(err));
	assert_non_null(r);
	struct hub_query u = { .table = HUB_T_ALERTS, .prio_most = -1, .prio_least = -1, .limit = 1, .uuid = "console-00000002" };
	buf_reset(&b);
	assert_int_equal(hub_store_query(r, &u, &b), 1);
	o = json_loads(b.data, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "ack"), "by")), "bob");
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "ack"), "time")), "2026-11-28T15:06:40.000000000Z");
	json_decref(o);
	u.uuid = "console-00000001";
	buf_reset(&b);
	assert_int_equal(hub_store_query(r, &u, &b), 1);
	o = json_loads(b.data, 0, NULL);
	assert_true(json_is_null(json_object_get(o, "ack")));
	json_decref(o);
	buf_free(&b);
	hub_store_close(r);
}

static void test_assets(void **state)
{
	(void)state;
	static const char *const names[] = { "index.html", "app.js", "style.css" };
	for (size_t i = 0; i < 3; i++) {
		const struct console_asset *a = console_asset_find(names[i]);
		assert_non_null(a);
		assert_true(a->size > 100);
		assert_int_equal(a->data[a->size], 0); /* the generator ends each with a NUL */
		/* the same bytes as the file in the tree */
		char path[256];
		snprintf(path, sizeof(path), "%s/web/console/%s", getenv("VIGIL_SRCDIR") ? getenv("VIGIL_SRCDIR") : ".", names[i]);
		FILE *f = fopen(path, "rb");
		if (!f)
			continue; /* run from elsewhere: the tree is not at hand */
		char *buf = malloc(a->size + 1);
		size_t n = fread(buf, 1, a->size + 1, f);
		fclose(f);
		assert_int_equal(n, a->size);
		assert_memory_equal(buf, a->data, a->size);
		free(buf);
	}
	assert_null(console_asset_find("../hub.db"));
	assert_null(console_asset_find(""));
	/* the page loads its script from a file: no inline script, no inline handler */
	const struct console_asset *idx = console_asset_find("index.html");
	assert_non_null(strstr((const char *)idx->data, "<script src=\"/console/app.js\""));
	assert_null(strstr((const char *)idx->data, "<script>"));
	assert_null(strstr((const char *)idx->data, " onclick="));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mitre_params),
		cmocka_unit_test_setup_teardown(test_counts_acks, setup, teardown),
		cmocka_unit_test(test_assets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
