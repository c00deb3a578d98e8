/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: the file policy parser and its matching (src/respond/file_policy.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "respond/file_policy.h"

static char tmp_path[64];

/* Write text to a temporary file and load it as a policy. */
static struct file_policy *load(const char *text, char *err, size_t errlen)
{
	snprintf(tmp_path, sizeof(tmp_path), "/tmp/vigil-fp-XXXXXX");
	int fd = mkstemp(tmp_path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	err[0] = 0;
	struct file_policy *p = file_policy_load(tmp_path, err, errlen);
	unlink(tmp_path);
	return p;
}

static void test_matching(void **state)
{
	(void)state;
	char err[512];
	struct file_policy *p = load("files:\n"
				     "  - containers: [web, \"db-*\"]\n"
				     "    deny_open: [/etc/shadow, /root/.ssh/, \"/proc/*/environ\"]\n"
				     "    deny_exec: [wget, \"/tmp/*\"]\n"
				     "  - containers: [abc123]\n"
				     "    allow_exec: [/bin, /usr/bin/env]\n"
				     "    deny_exec: [/bin/su]\n",
				     err, sizeof(err));
	assert_non_null(p);
	assert_true(file_policy_fail_open(p));
	struct vg_container_meta web = { .id = "ffff", .name = "web" }, db = { .id = "eeee", .name = "db-2" };
	struct vg_container_meta byid = { .id = "abc123def", .name = "x" }, other = { .id = "dddd", .name = "webx" };
	struct vg_container_meta host = { .id = "", .name = "web" };
	const struct file_rules *r = file_policy_match(p, &web);
	assert_non_null(r);
	assert_ptr_equal(file_policy_match(p, &db), r);
	assert_null(file_policy_match(p, &other));
	assert_null(file_policy_match(p, &host));
	assert_true(file_rules_has_open(r) && file_rules_has_exec(r));
	assert_true(file_rules_deny_open(r, "/etc/shadow"));
	assert_false(file_rules_deny_open(r, "/etc/shadow-"));
	assert_false(file_rules_deny_open(r, "/etc/passwd"));
	assert_true(file_rules_deny_open(r, "/root/.ssh/id_rsa"));
	assert_true(file_rules_deny_open(r, "/root/.ssh/a/b"));
	assert_false(file_rules_deny_open(r, "/root/.sshx"));
	assert_true(file_rules_deny_open(r, "/proc/12/environ"));
	assert_true(file_rules_deny_exec(r, "/usr/bin/wget"));
	assert_true(file_rules_deny_exec(r, "/tmp/a/b"));
	assert_false(file_rules_deny_exec(r, "/usr/bin/wget2"));
	assert_false(file_rules_deny_exec(r, "/bin/busybox"));
	assert_string_equal(file_rules_literal_open(r, 0), "/etc/shadow");
	assert_string_equal(file_rules_literal_open(r, 1), "/root/.ssh");
	assert_null(file_rules_literal_open(r, 2));
	/* an allow list: what it does not name is refused, deny_exec wins */
	r = file_policy_match(p, &byid);
	assert_non_null(r);
	assert_false(file_rules_has_open(r));
	assert_false(file_rules_deny_exec(r, "/bin/busybox"));
	assert_false(file_rules_deny_exec(r, "/usr/bin/env"));
	assert_true(file_rules_deny_exec(r, "/usr/bin/wget"));
	assert_true(file_rules_deny_exec(r, "/bin/su"));
	assert_true(file_rules_deny_exec(r, "/sbin/x"));
	file_policy_free(p);

	p = load("fail: closed\negress: []\nfiles:\n  - containers: [a]\n    allow_exec: []\n", err, sizeof(err));
	assert_non_null(p);
	assert_false(file_policy_fail_open(p));
	struct vg_container_meta a = { .id = "a1", .name = "a" };
	assert_true(file_rules_deny_exec(file_policy_match(p, &a), "/bin/sh"));
	file_policy_free(p);
}

/* Each bad input names the file, line and column and the problem. */
static void test_errors(void **state)
{
	(void)state;
	static const struct {
		const char *text, *where, *what;
	} bad[] = {
		{ "egress: []\n", ":1:1:", "expected 'files:'" },
		{ "files: {}\n", ":1:8:", "expected 'files:'" },
		{ "files: []\nfial: open\n", ":2:1:", "unknown key 'fial'" },
		{ "fail: maybe\nfiles: []\n", ":1:7:", "'fail' must be open or closed" },
		{ "files:\n  - deny_open: [/x]\n", ":2:5:", "'containers' must list" },
		{ "files:\n  - containers: [a]\n", ":2:5:", "needs deny_open, deny_exec or allow_exec" },
		{ "files:\n  - containers: [a]\n    deny_opne: [/x]\n", ":3:5:", "unknown key 'deny_opne'" },
		{ "files:\n  - containers: [a]\n    deny_open: [shadow]\n", ":3:17:", "must be absolute" },
		{ "files:\n  - containers: [a]\n    deny_open: [/etc/../shadow]\n", ":3:17:", "'..'" },
		{ "files:\n  - containers: [a]\n    deny_exec: [\"//x\"]\n", ":3:17:", "empty" },
		{ "files:\n  - containers: [a]\n    deny_exec: wget\n", ":3:16:", "must be a list" },
		{ "files:\n  - containers: [a]\n    deny_exec: [[x]]\n", ":3:17:", "non-empty strings" },
		{ "files:\n  - containers: [a, \"\"]\n    deny_exec: [x]\n", ":2:21:",
		  "items of 'containers' must be non-empty strings" },
		{ "files:\n  - [a]\n", ":2:5:", "a mapping" },
		{ "files: [\n", ":", "" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[512];
		struct file_policy *p = load(bad[i].text, err, sizeof(err));
		if (p || !strstr(err, tmp_path) || !strstr(err, bad[i].where) || !strstr(err, bad[i].what))
			fail_msg("case %zu: %s -> %s", i, bad[i].text, p ? "accepted" : err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matching),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
