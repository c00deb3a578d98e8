/* SPDX-License-Identifier: Apache-2.0 */
/* Central policy envelopes (src/fleet/policy.c): digest, encoding, what a node refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "fleet/nats_conn.h"
#include "fleet/policy.h"

static void fill(struct policy_push *p, const char *name, const char *content)
{
	p->files[p->nfiles].name = strdup(name);
	p->files[p->nfiles].content = strdup(content);
	p->files[p->nfiles].len = strlen(content);
	p->nfiles++;
}

static void test_digest_is_stable_and_covers_everything(void **state)
{
	struct policy_push a = { 0 }, b = { 0 };
	char da[POLICY_DIGEST_LEN], db[POLICY_DIGEST_LEN];
	(void)state;

	fill(&a, "a.yaml", "x");
	fill(&a, "b.yaml", "y");
	fill(&b, "a.yaml", "x");
	fill(&b, "b.yaml", "y");
	policy_digest(a.files, a.nfiles, false, da);
	policy_digest(b.files, b.nfiles, false, db);
	assert_string_equal(da, db);
	assert_int_equal(strlen(da), 71);
	assert_memory_equal(da, "sha256:", 7);
	/* the default rules, a file's name, its bytes and the order all count */
	policy_digest(a.files, a.nfiles, true, db);
	assert_string_not_equal(da, db);
	free(b.files[1].name);
	b.files[1].name = strdup("c.yaml");
	policy_digest(b.files, b.nfiles, false, db);
	assert_string_not_equal(da, db);
	/* "ab" + "" is not "a" + "b": lengths are in the digest */
	struct policy_push c = { 0 }, d = { 0 };
	fill(&c, "f", "ab");
	fill(&c, "g", "");
	fill(&d, "f", "a");
	fill(&d, "g", "b");
	policy_digest(c.files, c.nfiles, false, da);
	policy_digest(d.files, d.nfiles, false, db);
	assert_string_not_equal(da, db);
	policy_push_free(&a);
	policy_push_free(&b);
	policy_push_free(&c);
	policy_push_free(&d);
}

static void test_encode_decode_round_trip(void **state)
{
	struct policy_push p = { .kind = POLICY_RESPONSE, .defaults = false, .pushed_at = 1700000000 }, q;
	char err[512];
	size_t len = 0;
	char *json;
	(void)state;

	p.nodes = strdup("web-*");
	p.pushed_by = strdup("alice@ops");
	fill(&p, "policy.yaml", "bindings: []\n\"quoted\" \\ and \x01 control\n");
	policy_digest(p.files, p.nfiles, p.defaults, p.digest);
	json = policy_encode(&p, &len);
	assert_non_null(json);
	assert_int_equal(policy_decode(json, len, &q, err, sizeof(err)), 0);
	assert_int_equal(q.kind, POLICY_RESPONSE);
	assert_string_equal(q.nodes, "web-*");
	assert_string_equal(q.pushed_by, "alice@ops");
	assert_int_equal(q.pushed_at, 1700000000);
	assert_int_equal(q.nfiles, 1);
	assert_string_equal(q.files[0].name, "policy.yaml");
	assert_int_equal(q.files[0].len, p.files[0].len);
	assert_memory_equal(q.files[0].content, p.files[0].content, p.files[0].len);
	assert_string_equal(q.digest, p.digest);
	free(json);
	policy_push_free(&p);
	policy_push_free(&q);
}

/* Decoding text: 0 when it decodes, else -1 with the reason checked. */
static int decode(const char *text, const char *why)
{
	struct policy_push p;
	char err[512] = "";
	int rc = policy_decode(text, strlen(text), &p, err, sizeof(err));
	if (rc == 0)
		policy_push_free(&p);
	else if (why && !strstr(err, why))
		fail_msg("error '%s' does not say '%s'", err, why);
	return rc;
}

static void test_decode_refuses_bad_envelopes(void **state)
{
	struct policy_push p = { .kind = POLICY_RULES };
	char *good, *bad;
	size_t len;
	(void)state;

	assert_int_equal(decode("", "not a JSON object"), -1);
	assert_int_equal(decode("[1]", "not a JSON object"), -1);
	assert_int_equal(decode("{\"kind\":\"rules\"}", "lacks"), -1);
	assert_int_equal(decode("{\"kind\":\"nope\",\"nodes\":\"*\",\"defaults\":false,\"digest\":\"x\",\"files\":[{}]}",
				"lacks"), -1);
	/* a digest that does not match the files */
	p.nodes = strdup("*");
	fill(&p, "r.yaml", "x");
	policy_digest(p.files, p.nfiles, false, p.digest);
	good = policy_encode(&p, &len);
	assert_int_equal(decode(good, NULL), 0);
	p.digest[10] = p.digest[10] == 'a' ? 'b' : 'a';
	bad = policy_encode(&p, &len);
	assert_int_equal(decode(bad, "does not match"), -1);
	free(bad);
	/* names that would leave the policy directory */
	static const char *const names[] = { "../x", "a/b", "..", ".", "", "a\nb" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		free(p.files[0].name);
		p.files[0].name = strdup(names[i]);
		policy_digest(p.files, p.nfiles, false, p.digest);
		bad = policy_encode(&p, &len);
		assert_int_equal(decode(bad, "plain name"), -1);
		free(bad);
	}
	/* two files of one name */
	free(p.files[0].name);
	p.files[0].name = strdup("r.yaml");
	fill(&p, "r.yaml", "y");
	policy_digest(p.files, p.nfiles, false, p.digest);
	bad = policy_encode(&p, &len);
	assert_int_equal(decode(bad, "two files"), -1);
	free(bad);
	/* duplicate keys are not a way to say two things */
	assert_int_equal(decode("{\"kind\":\"rules\",\"kind\":\"egress\"}", NULL), -1);
	free(good);
	policy_push_free(&p);
}

static void test_keys_and_names(void **state)
{
	char a[128], b[128];
	(void)state;

	policy_key(POLICY_RULES, "*", a, sizeof(a));
	assert_string_equal(a, "rules.all");
	policy_key(POLICY_EGRESS, NULL, a, sizeof(a));
	assert_string_equal(a, "egress.all");
	policy_key(POLICY_RULES, "web-*", a, sizeof(a));
	policy_key(POLICY_RULES, "db-*", b, sizeof(b));
	assert_string_not_equal(a, b);
	assert_int_equal(strlen(a), strlen("rules.") + 16);
	assert_int_equal(policy_kind_parse("files"), POLICY_FILES);
	assert_int_equal(policy_kind_parse("rule"), -1);
	assert_true(fleet_name_valid("node-1_a"));
	assert_false(fleet_name_valid("node.1"));
	assert_false(fleet_name_valid("node*"));
	assert_false(fleet_name_valid(">"));
	assert_false(fleet_name_valid(""));
	char longname[80];
	memset(longname, 'a', 65);
	longname[65] = '\0';
	assert_false(fleet_name_valid(longname));
	char node[FLEET_NAME_MAX + 1];
	assert_true(fleet_name_valid(fleet_default_node(node, sizeof(node))));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digest_is_stable_and_covers_everything),
		cmocka_unit_test(test_encode_decode_round_trip),
		cmocka_unit_test(test_decode_refuses_bad_envelopes),
		cmocka_unit_test(test_keys_and_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
