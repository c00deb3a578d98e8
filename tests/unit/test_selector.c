/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests: the container selector (src/respond/selector.c), and that every
 * policy matcher means the same by it: egress and the file policy through
 * selector_match, the response policy's bindings, the --container filter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "respond/file_policy.h"
#include "respond/response_policy.h"
#include "respond/selector.h"

#define ID "3f2a9c0b1d4e5f60718293a4b5c6d7e8f90112233445566778899000aabbccdd"

static struct vg_container_meta web = { .id = ID, .name = "web-1" };
static struct vg_container_meta noname = { .id = "beef9c0b1d4e5f60718293a4b5c6d7e8f90112233445566778899000aabbccdd" };
static struct vg_container_meta host = { .id = "" };

static void test_one(void **state)
{
	(void)state;
	static const struct {
		const char *pattern;
		bool web, noname;
	} cases[] = {
		{ "web-1", true, false },    /* the name */
		{ "web-*", true, false },    /* the name as a glob */
		{ "web-?", true, false },
		{ "web", false, false },     /* a name is not a prefix */
		{ "3f2a", true, false },     /* an id prefix */
		{ ID, true, false },         /* the whole id */
		{ "3f2a*", true, false },    /* the id as a glob */
		{ "*dd", true, true },       /* the id as a glob, from its end */
		{ "*", true, true },
		{ "beef", false, true },
		{ "2a9c", false, false },    /* inside the id, not at its start */
		{ "WEB-1", false, false },   /* case matters */
		{ "", true, true },          /* the empty prefix: every container */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (selector_match_one(cases[i].pattern, &web) != cases[i].web ||
		    selector_match_one(cases[i].pattern, &noname) != cases[i].noname)
			fail_msg("pattern '%s'", cases[i].pattern);
		/* never a host process, nor an unknown cgroup */
		assert_false(selector_match_one(cases[i].pattern, &host));
		assert_false(selector_match_one(cases[i].pattern, NULL));
	}
}

static void test_list(void **state)
{
	(void)state;
	char *v[] = { "db-*", "beef" };
	struct strv s = { v, 2 }, none = { 0 };
	assert_false(selector_match(&s, &web));
	assert_true(selector_match(&s, &noname));
	assert_false(selector_match(&s, &host));
	assert_false(selector_match(&none, &web));
}

/* The --container filter: a pattern, or "host" for what is outside containers. */
static void test_filter(void **state)
{
	(void)state;
	struct vg_container_meta named_host = { .id = ID, .name = "host" };
	assert_true(selector_filter("host", &host));
	assert_true(selector_filter("host", NULL));
	assert_true(selector_filter("host", &named_host));
	assert_false(selector_filter("host", &web));
	assert_false(selector_filter("web-1", &host));
	assert_false(selector_filter("", NULL));
	assert_true(selector_filter("web-1", &web));
	assert_true(selector_filter("3f2a9c", &web));
	assert_true(selector_filter("web-*", &web));
}

static char tmp_path[64];

static void write_tmp(const char *text)
{
	snprintf(tmp_path, sizeof(tmp_path), "/tmp/vigil-sel-XXXXXX");
	int fd = mkstemp(tmp_path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* The response policy's containers: the same meaning (a binding without them: every process). */
static void test_response_policy(void **state)
{
	(void)state;
	char err[512];
	write_tmp("bindings:\n"
		  "  - rules: [R]\n    containers: [\"web-*\"]\n    actions: [kill]\n"
		  "  - rules: [R]\n    containers: [\"*dd\"]\n    actions: [freeze]\n"
		  "  - rules: [R]\n    containers: [beef]\n    actions: [isolate]\n"
		  "  - rules: [R]\n    actions: [capture]\n");
	struct response_policy *p = response_policy_load(tmp_path, err, sizeof(err));
	unlink(tmp_path);
	assert_non_null(p);
	struct alert a = { .name = "R" };
	struct action_req out[8];
	static const struct {
		const struct vg_container_meta *m;
		const char *want;
	} cases[] = {
		{ &web, "kill,freeze,capture" },
		{ &noname, "freeze,isolate,capture" },
		{ &host, "capture" },
		{ NULL, "capture" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = response_policy_actions(p, &a, cases[i].m, out, 0, 8);
		char got[128] = "";
		for (size_t k = 0; k < n; k++)
			snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", k ? "," : "", out[k].name);
		assert_string_equal(got, cases[i].want);
	}
	response_policy_free(p);
}

/* The file policy's containers: the same meaning, first match wins. */
static void test_file_policy(void **state)
{
	(void)state;
	char err[512];
	write_tmp("files:\n"
		  "  - containers: [\"web-?\"]\n    deny_exec: [wget]\n"
		  "  - containers: [\"*dd\"]\n    deny_exec: [curl]\n");
	struct file_policy *p = file_policy_load(tmp_path, err, sizeof(err));
	unlink(tmp_path);
	assert_non_null(p);
	assert_true(file_rules_deny_exec(file_policy_match(p, &web), "/usr/bin/wget"));
	assert_true(file_rules_deny_exec(file_policy_match(p, &noname), "/usr/bin/curl"));
	assert_null(file_policy_match(p, &host));
	assert_null(file_policy_match(p, NULL));
	file_policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_response_policy),
		cmocka_unit_test(test_file_policy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
