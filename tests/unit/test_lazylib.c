/* SPDX-License-Identifier: Apache-2.0 */
/* Libraries opened on first use: a real one loads and its functions work; a
 * missing library or function is an error that names it, every time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <zlib.h>
#include "common/lazylib.h"
#include "scan/sources/libarchive.h"

#define ZLIB_FUNCS(X) X(zlibVersion) X(crc32)
LAZYLIB_TABLE(zlib_lazy, ZLIB_FUNCS)
LAZYLIB_DEFINE(zlib_lazy, ZLIB_FUNCS, "libz.so.1", "zlib1g")

static void test_loads(void **state)
{
	(void)state;
	assert_null(zlib_lazy_load());
	assert_string_equal(zlib_lazy.zlibVersion(), zlibVersion());
	assert_int_equal(zlib_lazy.crc32(0, (const Bytef *)"abc", 3), 0x352441c2);
	assert_null(zlib_lazy_load()); /* once loaded, stays loaded */
}

static void test_missing_library(void **state)
{
	static const char *const names[] = { "nothing" };
	void *table[1];
	struct lazylib lib = { .soname = "libvigil-absent.so.9", .package = "none", .names = names, .n = 1,
			       .table = table };
	(void)state;
	const char *why = lazylib_load(&lib);
	assert_non_null(why);
	assert_non_null(strstr(why, "cannot load libvigil-absent.so.9"));
	assert_non_null(strstr(why, "install the none package"));
	assert_ptr_equal(lazylib_load(&lib), why); /* remembered, not retried */
}

static void test_missing_function(void **state)
{
	static const char *const names[] = { "zlibVersion", "vigil_no_such_function" };
	void *table[2];
	struct lazylib lib = { .soname = "libz.so.1", .package = "zlib1g", .names = names, .n = 2, .table = table };
	(void)state;
	const char *why = lazylib_load(&lib);
	assert_non_null(why);
	assert_non_null(strstr(why, "it has no vigil_no_such_function"));
}

/* The real table Vigil uses for image layers resolves every function it names. */
static void test_libarchive_table(void **state)
{
	(void)state;
	assert_null(libarchive_load());
	struct archive *a = archive_read_new();
	assert_non_null(a);
	assert_int_equal(archive_read_support_format_tar(a), ARCHIVE_OK);
	assert_int_equal(archive_read_free(a), ARCHIVE_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loads),
		cmocka_unit_test(test_missing_library),
		cmocka_unit_test(test_missing_function),
		cmocka_unit_test(test_libarchive_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
