/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Version comparison against tests/golden/vercmp/<scheme>.txt: lines
 * "A OP B" (OP one of < = >), each checked in both directions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "scan/matching/vercmp.h"

static void golden(const char *name, enum vercmp_scheme s)
{
	char path[4096], line[512];
	const char *dir = getenv("VIGIL_SRCDIR");
	int n = 0, bad = 0;

	snprintf(path, sizeof(path), "%s/tests/golden/vercmp/%s.txt", dir ? dir : ".", name);
	FILE *f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s", path);
	while (fgets(line, sizeof(line), f)) {
		char a[200], op[4], b[200];
		if (line[0] == '#' || line[0] == '\n')
			continue;
		assert_int_equal(sscanf(line, "%199s %3s %199s", a, op, b), 3);
		int want = op[0] == '<' ? -1 : op[0] == '>' ? 1 : 0;
		int got = vercmp(s, a, b), back = vercmp(s, b, a);
		got = (got > 0) - (got < 0);
		back = (back > 0) - (back < 0);
		if (got != want || back != -want) {
			print_error("%s: %s %s %s: got %d, reversed %d\n", name, a, op, b, got, back);
			bad++;
		}
		n++;
	}
	fclose(f);
	assert_true(n > 5);
	assert_int_equal(bad, 0);
}

static void test_dpkg(void **state) { (void)state; golden("dpkg", VERCMP_DPKG); }
static void test_apk(void **state) { (void)state; golden("apk", VERCMP_APK); }
static void test_rpm(void **state) { (void)state; golden("rpm", VERCMP_RPM); }
static void test_semver(void **state) { (void)state; golden("semver", VERCMP_SEMVER); }
static void test_go(void **state) { (void)state; golden("go", VERCMP_GO); }
static void test_pep440(void **state) { (void)state; golden("pep440", VERCMP_PEP440); }
static void test_maven(void **state) { (void)state; golden("maven", VERCMP_MAVEN); }

static void test_gem(void **state) { (void)state; golden("gem", VERCMP_GEM); }
static void test_nuget(void **state) { (void)state; golden("nuget", VERCMP_NUGET); }
static void test_composer(void **state) { (void)state; golden("composer", VERCMP_COMPOSER); }
static void test_pub(void **state) { (void)state; golden("pub", VERCMP_PUB); }

static void test_schemes(void **state)
{
	(void)state;
	assert_int_equal(vercmp_scheme("Debian:12"), VERCMP_DPKG);
	assert_int_equal(vercmp_scheme("Ubuntu:22.04:LTS"), VERCMP_DPKG);
	assert_int_equal(vercmp_scheme("Alpine:v3.18"), VERCMP_APK);
	assert_int_equal(vercmp_scheme("Rocky Linux:9"), VERCMP_RPM);
	assert_int_equal(vercmp_scheme("PyPI"), VERCMP_PEP440);
	assert_int_equal(vercmp_scheme("Go"), VERCMP_GO);
	assert_int_equal(vercmp_scheme("crates.io"), VERCMP_SEMVER);
	assert_int_equal(vercmp_scheme("Maven"), VERCMP_MAVEN);
	assert_int_equal(vercmp_scheme("NuGet"), VERCMP_NUGET);
	assert_int_equal(vercmp_scheme("Packagist"), VERCMP_COMPOSER);
	assert_int_equal(vercmp_scheme("Pub"), VERCMP_PUB);
	assert_int_equal(vercmp_scheme("Hex"), VERCMP_SEMVER);
	assert_int_equal(vercmp_scheme("Red Hat:enterprise_linux:9::appstream"), VERCMP_RPM);
	assert_true(vercmp_apk_valid("1.9.5p1-r1"));
	assert_true(vercmp_apk_valid("1.2.3_rc1_p2~abc-r0"));
	assert_false(vercmp_apk_valid("1.0-foo"));
	assert_false(vercmp_apk_valid("1.0.a"));
	assert_int_equal(vercmp_scheme("Debianish"), VERCMP_NONE);
	assert_int_equal(vercmp_scheme("nope"), VERCMP_NONE);
	assert_false(vercmp_pep440_valid("1.0-foo-bar"));
	assert_true(vercmp_pep440_valid(" v1.0.post1.dev2+local.7 "));
	/* invalid PEP 440 versions sort before valid ones, consistently */
	assert_true(vercmp_pep440("junk", "0.0.1") < 0);
	assert_true(vercmp_pep440("0.0.1", "junk") > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dpkg),   cmocka_unit_test(test_apk),
		cmocka_unit_test(test_rpm),    cmocka_unit_test(test_semver),
		cmocka_unit_test(test_go),     cmocka_unit_test(test_pep440),
		cmocka_unit_test(test_maven),  cmocka_unit_test(test_gem),
		cmocka_unit_test(test_nuget),  cmocka_unit_test(test_composer),
		cmocka_unit_test(test_pub),    cmocka_unit_test(test_schemes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
