/* SPDX-License-Identifier: Apache-2.0 */
/* Record decoder, path resolution and JSON writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "common/path.h"
#include "sensor/decode.h"
#include "test_helpers.h"

static void test_openat_decodes(void **state)
{
	struct vg_buf b = { 0 };
	struct vg_event ev;
	char err[160];
	(void)state;

	rec_begin(&b, VG_EVT_OPENAT, 42);
	rec_param_u64(&b, (uint64_t)-100);
	rec_param_path(&b, "x", "/root");
	rec_param_u64(&b, 0);
	rec_param_u64(&b, 0);
	rec_finish(&b, 3);
	assert_int_equal(event_decode(b.data, b.len, &ev, err, sizeof(err)), 0);
	assert_string_equal(ev.info->name, "openat");
	assert_int_equal(ev.nparams, 4);
	assert_int_equal((int32_t)event_param_int(&ev, 0), -100);
	assert_string_equal(event_param_str(&ev, 1), "x");
	assert_string_equal(event_param_base(&ev, 1), "/root");
	assert_int_equal(ev.hdr.retval, 3);
	assert_non_null(event_param(&ev, "flags"));
	assert_null(event_param(&ev, "nope"));
	buf_free(&b);
}

static void expect_reject(const void *data, size_t len, const char *why)
{
	struct vg_event ev;
	char err[160];
	assert_int_equal(event_decode(data, len, &ev, err, sizeof(err)), -1);
	assert_non_null(strstr(err, why));
}

static void test_rejects_bad_records(void **state)
{
	struct vg_buf b = { 0 };
	(void)state;

	rec_begin(&b, VG_EVT_MKDIR, 1);
	rec_param_path(&b, "/tmp/x", "");
	rec_param_u64(&b, 0755);
	rec_finish(&b, 0);
	expect_reject(b.data, 10, "shorter than its header");
	expect_reject(b.data, b.len - 1, "does not match");
	/* a parameter overrunning the record */
	((struct vg_event_hdr *)b.data)->nparams = 3;
	expect_reject(b.data, b.len, "cut off");
	((struct vg_event_hdr *)b.data)->nparams = 2;
	/* unknown type */
	((struct vg_event_hdr *)b.data)->type = 60000;
	expect_reject(b.data, b.len, "unknown event type");
	((struct vg_event_hdr *)b.data)->type = VG_EVT_MKDIR;
	/* a path without its NUL */
	b.data[sizeof(struct vg_event_hdr) + 2 + 7] = 'x';
	expect_reject(b.data, b.len, "malformed");
	buf_free(&b);

	/* an integer parameter of the wrong size */
	rec_begin(&b, VG_EVT_SETUID, 1);
	rec_param(&b, "abc", 3);
	rec_finish(&b, 0);
	expect_reject(b.data, b.len, "'uid' is malformed");
	buf_free(&b);
}

static void test_empty_params_are_absent(void **state)
{
	struct vg_buf b = { 0 };
	struct vg_event ev;
	char err[160];
	(void)state;

	rec_begin(&b, VG_EVT_SETUID, 1);
	rec_param(&b, "", 0);
	rec_finish(&b, -1);
	assert_int_equal(event_decode(b.data, b.len, &ev, err, sizeof(err)), 0);
	assert_null(ev.params[0].data);
	assert_int_equal(event_param_int(&ev, 0), 0);
	assert_string_equal(event_param_str(&ev, 0), "");
	buf_free(&b);
}

static void check_path(const char *base, const char *raw, const char *want)
{
	struct vg_buf b = { 0 };
	path_resolve(base, raw, &b);
	assert_string_equal(b.data ? b.data : "", want);
	buf_free(&b);
}

static void test_path_resolve(void **state)
{
	(void)state;
	check_path("/root", "x", "/root/x");
	check_path("/root", "/etc/passwd", "/etc/passwd");
	check_path("/a/b", "../c", "/a/c");
	check_path("/a/b", "../../../../c", "/c");
	check_path("/", "./x/./y//z/", "/x/y/z");
	check_path("/tmp", "..", "/");
	check_path("/tmp", "", "");
	check_path("", "rel", "/rel");
	check_path("/a", "b/../../..", "/");
}

static void test_json_writer_escapes(void **state)
{
	struct vg_buf b = { 0 };
	struct vg_json j;
	(void)state;

	jw_init(&j, &b);
	jw_obj_begin(&j, NULL);
	jw_str(&j, "s", "a\"b\\c\n\x01");
	jw_strn(&j, "bin", "\xff\xc3\xa9", 3); /* an invalid byte, then a valid é */
	jw_int(&j, "n", -5);
	jw_arr_begin(&j, "a");
	jw_uint(&j, NULL, 1);
	jw_bool(&j, NULL, true);
	jw_null(&j, NULL);
	jw_arr_end(&j);
	jw_obj_end(&j);
	assert_string_equal(b.data, "{\"s\":\"a\\\"b\\\\c\\n\\u0001\",\"bin\":\"\\u00ff\xc3\xa9\",\"n\":-5,\"a\":[1,true,null]}");
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_openat_decodes),
		cmocka_unit_test(test_rejects_bad_records),
		cmocka_unit_test(test_empty_params_are_absent),
		cmocka_unit_test(test_path_resolve),
		cmocka_unit_test(test_json_writer_escapes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
