/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Profiles across a fleet: the documents (src/fleet/profile_msg.c), the node's
 * merge of a bucket value into its store (src/fleet/profile_sync.c) and the
 * hub's union of nodes' messages (src/hub/hub_profiles.c), on real SQLite.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>
#include "fleet/profile_msg.h"
#include "fleet/profile_sync.h"
#include "hub/hub_profiles.h"
#include "profile/profile_store.h"

#define X "/bin/busybox as wget <- /bin/busybox as sh"
#define A "/bin/busybox as sh <- <outside>"

static int decode(enum profile_doc d, const char *s, struct profile_share *ps)
{
	char err[256];
	int r = profile_share_decode(d, s, strlen(s), ps, err, sizeof(err));
	if (r)
		assert_true(err[0] != 0);
	return r;
}

static void test_round_trip(void **state)
{
	(void)state;
	struct profile_share a, b;
	profile_share_init(&a);
	profile_share_set(&a.key, "k8s:shop/Deployment/web/web@sha256:00ff");
	profile_share_set(&a.image, "localhost/web:1");
	strcpy(a.uuid, "0123456789abcdef");
	a.mode = PROF_MONITORING;
	a.learn_started = 1796558400;
	assert_int_equal(profile_share_add(&a, PROF_EXEC, X), 0);
	assert_int_equal(profile_share_add(&a, PROF_LISTEN, "8080"), 0);
	assert_int_equal(profile_share_add(&a, PROF_CONNECT, "tcp/db.shop:5432"), 0);
	for (int d = PROFILE_DOC_MSG; d <= PROFILE_DOC_KV; d++) {
		size_t len;
		char *s = profile_share_encode((enum profile_doc)d, &a, &len);
		assert_int_equal(strlen(s), len);
		assert_int_equal(decode((enum profile_doc)d, s, &b), 0);
		assert_string_equal(b.key, a.key);
		assert_string_equal(b.image, "localhost/web:1");
		assert_int_equal(b.mode, PROF_MONITORING);
		assert_int_equal(b.total, 3);
		assert_true(profile_share_has(&b, PROF_EXEC, X));
		assert_true(profile_share_has(&b, PROF_LISTEN, "8080"));
		assert_false(profile_share_has(&b, PROF_LISTEN, "8081"));
		if (d == PROFILE_DOC_MSG) {
			assert_string_equal(b.uuid, "0123456789abcdef");
			assert_int_equal(b.learn_started, 1796558400);
		}
		profile_share_free(&b);
		free(s);
	}
	/* a bucket value without a central mode */
	assert_int_equal(decode(PROFILE_DOC_KV, "{\"version\":1,\"key\":\"sha256:ab\",\"mode\":null}", &b), 0);
	assert_int_equal(b.mode, -1);
	profile_share_free(&b);
	profile_share_free(&a);
}

static void test_refused(void **state)
{
	(void)state;
	static const char *const bad_msgs[] = {
		"",
		"[]",
		"{\"uuid\":\"0123456789\",\"key\":\"k\",\"mode\":\"learning\"",
		"{\"uuid\":\"0123456789\",\"key\":\"k\",\"key\":\"k\",\"mode\":\"learning\"}",
		"{\"key\":\"k\",\"mode\":\"learning\"}",
		"{\"uuid\":\"short\",\"key\":\"k\",\"mode\":\"learning\"}",
		"{\"uuid\":\"0123456789\",\"key\":\"\",\"mode\":\"learning\"}",
		"{\"uuid\":\"0123456789\",\"mode\":\"learning\"}",
		"{\"uuid\":\"0123456789\",\"key\":\"k\"}",
		"{\"uuid\":\"0123456789\",\"key\":\"k\",\"mode\":\"sleeping\"}",
		"{\"uuid\":\"0123456789\",\"key\":\"k\",\"mode\":\"learning\",\"items\":[]}",
		"{\"uuid\":\"0123456789\",\"key\":\"k\",\"mode\":\"learning\",\"items\":{\"dance\":[]}}",
		"{\"uuid\":\"0123456789\",\"key\":\"k\",\"mode\":\"learning\",\"items\":{\"listen\":[\"99999\"]}}",
		"{\"uuid\":\"0123456789\",\"key\":\"k\",\"mode\":\"learning\",\"items\":{\"exec\":[\"not a program\"]}}",
		"{\"uuid\":\"0123456789\",\"key\":\"k\",\"mode\":\"learning\",\"items\":{\"write\":[7]}}",
		"{\"uuid\":\"0123456789\",\"key\":\"k\\u0001\",\"mode\":\"learning\"}",
		"{\"uuid\":\"0123456789\",\"key\":\"k\",\"mode\":\"learning\",\"learn_started\":-1}",
	};
	struct profile_share ps;
	for (size_t i = 0; i < sizeof(bad_msgs) / sizeof(*bad_msgs); i++) {
		if (!decode(PROFILE_DOC_MSG, bad_msgs[i], &ps)) {
			fprintf(stderr, "accepted: %s\n", bad_msgs[i]);
			fail();
		}
		assert_int_equal(ps.total, 0);
	}
	assert_int_not_equal(decode(PROFILE_DOC_KV, "{\"key\":\"k\"}", &ps), 0);     /* no version */
	assert_int_not_equal(decode(PROFILE_DOC_KV, "{\"version\":2,\"key\":\"k\"}", &ps), 0);
	char nul[] = "{\"uuid\":\"0123456789\",\"key\":\"k\",\"mode\":\"learning\"}";
	char err[128];
	assert_int_not_equal(profile_share_decode(PROFILE_DOC_MSG, nul, sizeof(nul), &ps, err, sizeof(err)), 0);
	/* more than PROFILE_DOC_MAX_ITEMS */
	struct profile_share big;
	profile_share_init(&big);
	profile_share_set(&big.key, "k");
	strcpy(big.uuid, "0123456789");
	big.mode = 0;
	char v[32];
	for (int i = 0; i < PROFILE_DOC_MAX_ITEMS; i++) {
		snprintf(v, sizeof(v), "/w/%d", i);
		assert_int_equal(profile_share_add(&big, PROF_WRITE, v), 0);
	}
	assert_int_equal(profile_share_add(&big, PROF_WRITE, "/w/x"), -1);
	size_t len;
	char *s = profile_share_encode(PROFILE_DOC_MSG, &big, &len);
	assert_int_equal(profile_share_decode(PROFILE_DOC_MSG, s, len, &ps, err, sizeof(err)), 0);
	profile_share_free(&ps);
	/* one more item in the text: refused */
	char *more = malloc(len + 16);
	char *at = strstr(s, "\"/w/0\"");
	assert_non_null(at);
	memcpy(more, s, (size_t)(at - s));
	strcpy(more + (at - s), "\"/w/y\",");
	strcat(more, at);
	assert_int_not_equal(profile_share_decode(PROFILE_DOC_MSG, more, strlen(more), &ps, err, sizeof(err)), 0);
	free(more);
	free(s);
	profile_share_free(&big);
}

static void test_kv_key(void **state)
{
	(void)state;
	char a[65], b[65], c[65];
	profile_kv_key("sha256:abc", a);
	profile_kv_key("sha256:abc", b);
	profile_kv_key("sha256:abd", c);
	assert_int_equal(strlen(a), 64);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_int_equal(strspn(a, "0123456789abcdef"), 64);
}

/* The node's side: a bucket value merged into a real store; X is then known, not a deviation. */
static void test_merge_into_store(void **state)
{
	(void)state;
	char path[] = "/tmp/test_profile_share_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	char err[256];
	struct profile_store *ps = profile_store_open(path, true, err, sizeof(err));
	assert_non_null(ps);
	struct profile_set s;
	profile_set_init(&s, NULL);
	struct profile *p = profile_make(&s, "sha256:aa", "web:1", "sha256:aa", NULL, NULL, 1000);
	assert_int_equal(profile_add(&s, p, PROF_EXEC, A, 1000), 0);
	p->mode = PROF_MONITORING;
	assert_int_equal(profile_store_put(ps, p), 0);
	profile_set_free(&s);
	int64_t gen = profile_store_generation(ps);

	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(profile_sync_schema(db), 0);
	struct profile_share v;
	profile_share_init(&v);
	profile_share_set(&v.key, "sha256:aa");
	profile_share_add(&v, PROF_EXEC, A);
	profile_share_add(&v, PROF_EXEC, X);
	struct profile_sync_stats st = { 0 };
	assert_int_equal(profile_sync_merge(db, &v, 4096, 2000, &st), 1);
	assert_int_equal(st.merged_items, 1);
	assert_true(profile_store_generation(ps) > gen);
	assert_int_equal(profile_sync_merge(db, &v, 4096, 2001, &st), 0); /* again: nothing new */
	/* the agent's view: X known while monitoring, anything else a deviation */
	profile_set_init(&s, NULL);
	assert_int_equal(profile_store_load(ps, &s), 0);
	p = profile_get(&s, "sha256:aa");
	assert_non_null(p);
	assert_int_equal(p->mode, PROF_MONITORING);
	assert_int_equal(profile_observe(&s, p, PROF_EXEC, X, 3000), PROF_KNOWN);
	assert_int_equal(profile_observe(&s, p, PROF_EXEC, "/tmp/dropper <- /bin/busybox as sh", 3000), PROF_DEVIATION);
	profile_set_free(&s);

	/* a central mode: applied once; a later local choice stands */
	v.mode = PROF_LEARNING;
	v.mode_at_ns = 5;
	assert_int_equal(profile_sync_merge(db, &v, 4096, 4000, &st), 1);
	assert_int_equal(st.modes, 1);
	assert_int_equal(profile_store_set_mode(ps, "sha256:aa", PROF_PROTECTING, 4001), 1);
	assert_int_equal(profile_sync_merge(db, &v, 4096, 4002, &st), 0);
	v.mode_at_ns = 6; /* set again centrally: applied */
	assert_int_equal(profile_sync_merge(db, &v, 4096, 4003, &st), 1);
	profile_set_init(&s, NULL);
	assert_int_equal(profile_store_load(ps, &s), 0);
	assert_int_equal(profile_get(&s, "sha256:aa")->mode, PROF_LEARNING);
	profile_set_free(&s);

	/* the bound, and a profile this node does not have */
	profile_share_add(&v, PROF_LISTEN, "80");
	profile_share_add(&v, PROF_LISTEN, "81");
	memset(&st, 0, sizeof(st));
	assert_int_equal(profile_sync_merge(db, &v, 3, 5000, &st), 1);
	assert_int_equal(st.merged_items, 1);
	assert_int_equal(st.refused, 1);
	profile_share_set(&v.key, "sha256:bb");
	assert_int_equal(profile_sync_merge(db, &v, 4096, 5000, &st), 0);
	profile_share_free(&v);
	sqlite3_close(db);
	profile_store_close(ps);
	unlink(path);
}

/* The hub's side: the union of two nodes, which node saw what. */
static void test_hub_union(void **state)
{
	(void)state;
	sqlite3 *db;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(hub_profiles_schema(db), 0);
	struct profile_share m;
	profile_share_init(&m);
	profile_share_set(&m.key, "sha256:aa");
	profile_share_set(&m.image, "web:1");
	m.mode = PROF_LEARNING;
	profile_share_add(&m, PROF_EXEC, A);
	profile_share_add(&m, PROF_EXEC, X);
	assert_int_equal(hub_profiles_add(db, "c", "n1", &m, 1), 1);
	assert_int_equal(hub_profiles_add(db, "c", "n1", &m, 2), 0); /* again: nothing new */
	profile_share_free(&m);
	profile_share_init(&m);
	profile_share_set(&m.key, "sha256:aa");
	m.mode = PROF_MONITORING;
	profile_share_add(&m, PROF_EXEC, A);
	assert_int_equal(hub_profiles_add(db, "c", "n2", &m, 3), 0);
	profile_share_free(&m);
	sqlite3_stmt *q;
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT (SELECT count(*) FROM hub_profile_items),"
					    " (SELECT group_concat(node) FROM hub_profile_seen WHERE value = '" X "'),"
					    " (SELECT count(*) FROM hub_profile_seen WHERE value = '" A "'),"
					    " (SELECT group_concat(node || ':' || mode) FROM hub_profile_nodes),"
					    " (SELECT image FROM hub_profiles)",
					    -1, &q, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), 2);
	assert_string_equal((const char *)sqlite3_column_text(q, 1), "n1");
	assert_int_equal(sqlite3_column_int(q, 2), 2);
	assert_string_equal((const char *)sqlite3_column_text(q, 3), "n1:learning,n2:monitoring");
	assert_string_equal((const char *)sqlite3_column_text(q, 4), "web:1"); /* n2's empty image kept it */
	sqlite3_finalize(q);
	sqlite3_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_kv_key),
		cmocka_unit_test(test_merge_into_store),
		cmocka_unit_test(test_hub_union),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
