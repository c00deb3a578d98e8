/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: string lists (src/common/strv.c) and their YAML reader (yaml_strings in src/common/yaml.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "common/buf.h"
#include "common/strv.h"
#include "common/yaml.h"

static void test_strv(void **state)
{
	(void)state;
	struct strv s = { 0 }, c;
	char name[] = "a";
	strv_add(&s, name);
	name[0] = 'x'; /* strv_add copied it; strv_take owns what it is given */
	strv_take(&s, xstrdup("b"));
	assert_int_equal(s.n, 2);
	assert_true(strv_has(&s, "a") && strv_has(&s, "b"));
	assert_false(strv_has(&s, "x") || strv_has(&s, "") || strv_has(&s, "ab"));
	strv_copy(&c, &s);
	strv_free(&s);
	assert_int_equal(s.n, 0);
	assert_null(s.v);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.v[0], "a");
	assert_string_equal(c.v[1], "b");
	strv_free(&c);
	strv_free(&c); /* freeing an empty list is harmless */
}

/* Parse text, read its `k:` with yaml_strings; the return code, the error or the items joined by ','. */
static int read_list(const char *path, const char *text, size_t max, char *out, size_t outlen)
{
	struct yaml_stream ys;
	char err[256];
	assert_int_equal(yaml_parse(text, strlen(text), &ys, err, sizeof(err)), 0);
	struct strv s = { 0 };
	strv_add(&s, "before"); /* items are appended */
	int rc = yaml_strings(path, yaml_get(ys.docs[0], "k"), "k", max, &s, err, sizeof(err));
	out[0] = 0;
	if (rc)
		snprintf(out, outlen, "%s", err);
	for (size_t i = 0; !rc && i < s.n; i++)
		snprintf(out + strlen(out), outlen - strlen(out), "%s%s", i ? "," : "", s.v[i]);
	strv_free(&s);
	yaml_stream_free(&ys);
	return rc;
}

static void test_yaml_strings(void **state)
{
	(void)state;
	static const struct {
		const char *path, *text;
		size_t max;
		int rc;
		const char *want;
	} cases[] = {
		{ "p.yaml", "k: [a, \"b c\", '*']\n", 0, 0, "before,a,b c,*" },
		{ "p.yaml", "k: []\n", 0, 0, "before" },
		{ "p.yaml", "other: 1\n", 0, 0, "before" }, /* absent: nothing */
		{ "p.yaml", "k: [a, b]\n", 2, 0, "before,a,b" },
		{ "p.yaml", "k: [a, b, c]\n", 2, -1, "p.yaml:1:4: 'k' has more than 2 items" },
		{ "p.yaml", "k: a\n", 0, -1, "p.yaml:1:4: 'k' must be a list" },
		{ "p.yaml", "k: {a: b}\n", 0, -1, "p.yaml:1:4: 'k' must be a list" },
		{ "p.yaml", "k:\n  - a\n  - [b]\n", 0, -1, "p.yaml:3:5: items of 'k' must be non-empty strings" },
		{ "p.yaml", "k: [a, \"\"]\n", 0, -1, "p.yaml:1:8: items of 'k' must be non-empty strings" },
		{ "p.yaml", "k: [\"a\\0b\"]\n", 0, -1, "p.yaml:1:5: items of 'k' must be non-empty strings" },
		{ NULL, "k: a\n", 0, -1, "1:4: 'k' must be a list" }, /* a document from no file */
	};
	char out[256];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(read_list(cases[i].path, cases[i].text, cases[i].max, out, sizeof(out)), cases[i].rc);
		assert_string_equal(out, cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strv),
		cmocka_unit_test(test_yaml_strings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
