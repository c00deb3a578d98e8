/* SPDX-License-Identifier: Apache-2.0 */
/* The byte buffer and the JSON writer: escaping, numbers, growth. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "common/buf.h"

static void test_escape(void **state)
{
	struct vg_buf b = { 0 };
	struct vg_json j;
	(void)state;

	jw_init(&j, &b);
	jw_obj_begin(&j, NULL);
	/* runs of plain text between every kind of escape, valid and invalid UTF-8 */
	static const char s[] = "plain \"q\" back\\slash\nnl\ttab\x01" "ctl\x7f" "del caf\xc3\xa9 bad\xff" "end";
	jw_strn(&j, "k\"ey", s, sizeof(s) - 1);
	jw_str(&j, "empty", "");
	jw_obj_end(&j);
	assert_string_equal(b.data, "{\"k\\\"ey\":\"plain \\\"q\\\" back\\\\slash\\nnl\\ttab\\u0001ctl\\u007fdel "
				    "caf\xc3\xa9 bad\\u00ffend\",\"empty\":\"\"}");
	assert_int_equal(b.len, strlen(b.data));
	buf_free(&b);
}

static void test_numbers(void **state)
{
	struct vg_buf b = { 0 };
	struct vg_json j;
	(void)state;

	jw_init(&j, &b);
	jw_arr_begin(&j, NULL);
	jw_int(&j, NULL, INT64_MIN);
	jw_int(&j, NULL, -1);
	jw_int(&j, NULL, 0);
	jw_int(&j, NULL, INT64_MAX);
	jw_uint(&j, NULL, 0);
	jw_uint(&j, NULL, 10);
	jw_uint(&j, NULL, UINT64_MAX);
	jw_arr_end(&j);
	assert_string_equal(b.data, "[-9223372036854775808,-1,0,9223372036854775807,0,10,18446744073709551615]");
	buf_free(&b);
}

static void test_printf_growth(void **state)
{
	struct vg_buf b = { 0 };
	char big[1000];
	(void)state;

	buf_printf(&b, "%d-%s", 7, "x"); /* into nothing yet */
	assert_string_equal(b.data, "7-x");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	buf_printf(&b, "[%s]", big); /* larger than the room there is */
	assert_int_equal(b.len, 3 + 2 + 999);
	assert_int_equal(b.data[b.len], 0);
	assert_true(b.data[3] == '[' && b.data[4] == 'a' && b.data[b.len - 1] == ']');
	buf_reset(&b);
	buf_printf(&b, "%s", "");
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	buf_free(&b);
}

/* argv as the kernel keeps it, NUL-separated and NUL-ended, as one line; long ones too. */
static void test_args_line(void **state)
{
	struct vg_buf b = { 0 };
	struct vg_json j;
	static char big[3000];
	(void)state;

	memset(big, 'a', sizeof(big));
	big[1500] = 0;
	big[sizeof(big) - 1] = 0;
	jw_init(&j, &b);
	jw_obj_begin(&j, NULL);
	jw_args_line(&j, "c", "ls\0-l\0/tmp\0", 11);
	jw_args_line(&j, "none", NULL, 0);
	jw_args_line(&j, "big", big, sizeof(big));
	jw_obj_end(&j);
	assert_non_null(strstr(b.data, "{\"c\":\"ls -l /tmp \",\"none\":\"\",\"big\":\"aaa"));
	const char *v = strstr(b.data, "\"big\":\"") + 7;
	assert_int_equal(v[1500], ' ');
	assert_int_equal(v[sizeof(big) - 1], ' ');
	assert_int_equal(v[sizeof(big)], '"');
	buf_free(&b);
}

/* Appending with xgrow keeps every element (ASan checks each write is inside the allocation). */
static void test_xgrow(void **state)
{
	(void)state;
	uint32_t *v = NULL;
	size_t n = 0;
	for (uint32_t i = 0; i < 1000; i++) {
		v = xgrow(v, n, sizeof(*v));
		v[n++] = i * 7;
	}
	for (uint32_t i = 0; i < 1000; i++)
		assert_int_equal(v[i], i * 7);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_printf_growth),
		cmocka_unit_test(test_args_line),
		cmocka_unit_test(test_xgrow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
