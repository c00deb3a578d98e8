/* SPDX-License-Identifier: Apache-2.0 */
/* path_mkdirs / path_mkdir_parent: modes, existing directories, clear errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "common/path.h"

static char base[64];

static int setup(void **state)
{
	(void)state;
	snprintf(base, sizeof(base), "/tmp/vigil-mkdirs-XXXXXX");
	return mkdtemp(base) ? 0 : -1;
}

static int teardown(void **state)
{
	char p[160];
	(void)state;
	/* the deepest first; what a test did not make fails harmlessly */
	const char *sub[] = { "/a/b/c", "/a/b", "/a", "/f/g", "/f", "/file" };
	for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", base, sub[i]);
		if (rmdir(p))
			unlink(p);
	}
	return rmdir(base);
}

static unsigned int mode_of(const char *p)
{
	struct stat st;
	return stat(p, &st) ? 0 : st.st_mode & 07777;
}

static void test_makes_all_with_modes(void **state)
{
	char p[160], err[256];
	(void)state;
	umask(022);
	snprintf(p, sizeof(p), "%s/a/b/c", base);
	assert_int_equal(path_mkdirs(p, 0700, err, sizeof(err)), 0);
	assert_int_equal(mode_of(p), 0700);
	snprintf(p, sizeof(p), "%s/a/b", base);
	assert_int_equal(mode_of(p), 0755);
	/* again: it exists, nothing changes */
	snprintf(p, sizeof(p), "%s/a/b/c", base);
	assert_int_equal(path_mkdirs(p, 0700, err, sizeof(err)), 0);
}

static void test_parent_of_a_file(void **state)
{
	char p[160], d[160], err[256];
	(void)state;
	snprintf(p, sizeof(p), "%s/f/g/store.db", base);
	assert_int_equal(path_mkdir_parent(p, 0700, err, sizeof(err)), 0);
	snprintf(d, sizeof(d), "%s/f/g", base);
	assert_int_equal(mode_of(d), 0700);
	snprintf(d, sizeof(d), "%s/f/g/store.db", base);
	assert_int_equal(mode_of(d), 0); /* the file itself is not made */
	/* a bare name or one under "/" has nothing to make */
	assert_int_equal(path_mkdir_parent("store.db", 0700, err, sizeof(err)), 0);
	assert_int_equal(path_mkdir_parent("/store.db", 0700, err, sizeof(err)), 0);
}

static void test_error_names_the_directory(void **state)
{
	char p[160], f[160], err[256] = "";
	(void)state;
	snprintf(f, sizeof(f), "%s/file", base);
	FILE *fp = fopen(f, "w");
	assert_non_null(fp);
	fclose(fp);
	snprintf(p, sizeof(p), "%s/file/x/y", base);
	assert_int_equal(path_mkdirs(p, 0700, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot create"));
	assert_non_null(strstr(err, "/file/x"));

	char *longp = malloc(5000);
	memset(longp, 'a', 4999);
	longp[0] = '/';
	longp[4999] = 0;
	assert_int_equal(path_mkdirs(longp, 0700, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too long"));
	free(longp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_makes_all_with_modes),
		cmocka_unit_test(test_parent_of_a_file),
		cmocka_unit_test(test_error_names_the_directory),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
