/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for output/flow_seen.c, the flow features' memory in a real
 * SQLite file: rows written by a flush read back after reopening (a workload's
 * own row with dest NULL), the earliest first sight kept for a row added
 * twice, the oldest rows pruned beyond max_rows, and nothing written without
 * a flush until close.
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

#include "output/flow_seen.h"
#include "test_tmp.h"

struct rows {
	char text[16][128];
	int n;
};

static void collect(void *ctx, const char *w, const char *d, int64_t ts)
{
	struct rows *r = ctx;
	if (r->n < 16)
		snprintf(r->text[r->n++], sizeof(r->text[0]), "%s|%s|%lld", w, d ? d : "-", (long long)ts);
}

static int has(const struct rows *r, const char *s)
{
	for (int i = 0; i < r->n; i++)
		if (!strcmp(r->text[i], s))
			return 1;
	return 0;
}

static void test_roundtrip(void **state)
{
	(void)state;
	char dir[] = "/tmp/vg-flow-seen-XXXXXX", path[256], err[256];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/v.db", dir);

	struct flow_seen *s = flow_seen_open(path, 3, err, sizeof(err));
	assert_non_null(s);
	flow_seen_add(s, "name:web", NULL, 100);
	flow_seen_add(s, "name:web", "api.example.com", 200);
	flow_seen_add(s, "name:web", "api.example.com", 150); /* earlier: kept */
	assert_int_equal(flow_seen_flush(s), 0);
	flow_seen_add(s, "name:db", "203.0.113.9", 300); /* written at close */
	flow_seen_close(s);

	struct rows r = { 0 };
	s = flow_seen_open(path, 3, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(flow_seen_load(s, collect, &r), 0);
	assert_int_equal(r.n, 3);
	assert_true(has(&r, "name:web|-|100"));
	assert_true(has(&r, "name:web|api.example.com|150"));
	assert_true(has(&r, "name:db|203.0.113.9|300"));
	/* beyond max_rows (3) the oldest goes */
	flow_seen_add(s, "name:db", "198.51.100.1", 400);
	assert_int_equal(flow_seen_flush(s), 0);
	memset(&r, 0, sizeof(r));
	assert_int_equal(flow_seen_load(s, collect, &r), 0);
	assert_int_equal(r.n, 3);
	assert_false(has(&r, "name:web|-|100"));
	assert_true(has(&r, "name:db|198.51.100.1|400"));
	flow_seen_close(s);

	/* a store that cannot be opened: an error, no crash */
	snprintf(path, sizeof(path), "%s/missing/dir/v.db", dir);
	assert_null(flow_seen_open(path, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot open the flow memory"));
	tmp_remove_tree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_roundtrip) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
