/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Package database parsers on the trivy and osv-scalibr fixtures in
 * ../shared/data/images/pkgdb (skipped when absent) and on inputs made here;
 * OS detection names; purls.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "scan/catalogers/cat_go.h"
#include "scan/catalogers/catalog.h"
#include "scan/catalogers/osrel.h"
#include "scan/reports/purl.h"

static char *slurp_shared(const char *rel, size_t *len)
{
	char path[4096];
	/* the team's shared data beside the project (tests run from its root), or where VIGIL_SHARED_DATA says */
	const char *data = getenv("VIGIL_SHARED_DATA");

	snprintf(path, sizeof(path), "%s/images/pkgdb/%s", data && *data ? data : "../shared/data", rel);
	FILE *f = fopen(path, "rb");
	if (f) {
		struct vg_buf b = { 0 };
		char chunk[65536];
		size_t n;
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			buf_add(&b, chunk, n);
		fclose(f);
		*len = b.len;
		return b.data ? b.data : xstrdup("");
	}
	return NULL;
}

/* "name version" of every package, one per line. */
static char *names(const struct scan_result *r)
{
	struct vg_buf b = { 0 };
	for (size_t i = 0; i < r->npkgs; i++)
		buf_printf(&b, "%s %s\n", r->pkgs[i].name, r->pkgs[i].version);
	return b.data ? b.data : xstrdup("");
}

#define SHARED(var, rel, len)                                                          \
	char *var = slurp_shared(rel, &len);                                           \
	if (!var) {                                                                    \
		print_message("shared/data/images/pkgdb/%s absent: skipped\n", rel); \
		skip();                                                                \
	}

static void test_dpkg_statusfield(void **state)
{
	size_t len;
	struct scan_result r = { 0 };
	(void)state;
	SHARED(d, "osv-scalibr/dpkg/dpkg/statusfield", len);
	cat_dpkg.parse(d, len, "var/lib/dpkg/status", &r);
	char *got = names(&r);
	assert_string_equal(got, "wantinstall_installed 1.0\nwantdeinstall_installed 1.0\n"
				 "wantpurge_installed 1.0\nwantnostatus 1.0\n");
	free(got);
	free(d);
	scan_result_free(&r);
}

static void test_dpkg_bad(void **state)
{
	size_t len;
	struct scan_result r = { 0 };
	(void)state;
	SHARED(d, "osv-scalibr/dpkg/dpkg/noversion", len);
	cat_dpkg.parse(d, len, "var/lib/dpkg/status", &r);
	assert_int_equal(r.npkgs, 2); /* foo and bar; acl has no Version */
	assert_non_null(strstr(r.warnings.data, "cannot parse var/lib/dpkg/status:"));
	assert_non_null(strstr(r.warnings.data, "package without Version"));
	free(d);
	scan_result_free(&r);
	SHARED(inv, "osv-scalibr/dpkg/dpkg/invalid", len);
	cat_dpkg.parse(inv, len, "var/lib/dpkg/status", &r);
	assert_int_equal(r.npkgs, 0);
	assert_non_null(strstr(r.warnings.data, "var/lib/dpkg/status:1: line without a field name"));
	free(inv);
	scan_result_free(&r);
}

static void test_dpkg_statusd(void **state)
{
	size_t len;
	struct scan_result r = { 0 };
	(void)state;
	SHARED(d, "osv-scalibr/dpkg/dpkg/status.d/foo", len);
	cat_dpkg.parse(d, len, "var/lib/dpkg/status.d/foo", &r);
	char *got = names(&r);
	assert_string_equal(got, "foo 1.2.3\n"); /* bar is config-files only */
	assert_string_equal(r.pkgs[0].arch, "amd64");
	free(got);
	free(d);
	scan_result_free(&r);
	assert_ptr_equal(catalog_find("var/lib/dpkg/status.d/foo"), &cat_dpkg);
	assert_ptr_equal(catalog_find("var/lib/dpkg/status.d/foo.md5sums"), NULL);
	assert_ptr_equal(catalog_find("var/lib/dpkg/status-old"), NULL);
}

/* trivy's large real status file: every installed paragraph, source packages. */
static void test_dpkg_trivy_valid(void **state)
{
	size_t len;
	struct scan_result r = { 0 };
	(void)state;
	SHARED(d, "trivy/dpkg/valid.txtar", len);
	const char *start = strstr(d, "-- var/lib/dpkg/status --\n");
	assert_non_null(start);
	start += strlen("-- var/lib/dpkg/status --\n");
	const char *end = strstr(start, "\n-- ");
	size_t n = end ? (size_t)(end - start) : len - (size_t)(start - d);
	cat_dpkg.parse(start, n, "var/lib/dpkg/status", &r);
	/* count "Status: install ok installed" paragraphs independently */
	size_t want = 0;
	for (const char *p = start; (p = strstr(p, "Status: install ok installed")) && p < start + n; p++)
		want++;
	assert_true(want > 50);
	assert_int_equal(r.npkgs, want);
	bool found = false;
	for (size_t i = 0; i < r.npkgs; i++)
		if (!strcmp(r.pkgs[i].name, "libpam-runtime")) {
			assert_string_equal(r.pkgs[i].src_name, "pam");
			found = true;
		}
	assert_true(found);
	free(d);
	scan_result_free(&r);
}

static void test_apk(void **state)
{
	size_t len;
	struct scan_result r = { 0 };
	(void)state;
	SHARED(d, "osv-scalibr/apk/installed", len);
	cat_apk.parse(d, len, "lib/apk/db/installed", &r);
	assert_int_equal(r.npkgs, 15);
	free(d);
	scan_result_free(&r);
	SHARED(n, "osv-scalibr/apk/no-origin", len);
	cat_apk.parse(n, len, "lib/apk/db/installed", &r);
	assert_int_equal(r.npkgs, 1);
	assert_string_equal(r.pkgs[0].src_name, "pkgname"); /* no origin: its own source */
	assert_string_equal(r.pkgs[0].license, "GPL-2.0-only");
	free(n);
	scan_result_free(&r);
	SHARED(inv, "osv-scalibr/apk/invalid", len);
	cat_apk.parse(inv, len, "lib/apk/db/installed", &r);
	assert_int_equal(r.npkgs, 0);
	assert_non_null(strstr(r.warnings.data, "lib/apk/db/installed:1: expected 'X:value'"));
	free(inv);
	scan_result_free(&r);
}

static void test_python_npm(void **state)
{
	struct scan_result r = { 0 };
	const char *meta = "Metadata-Version: 2.1\r\nName: Foo_Bar\r\nVersion: 1.0.post1\r\n\r\nName: x\n";
	(void)state;
	cat_python.parse(meta, strlen(meta), "a/Foo_Bar-1.0.dist-info/METADATA", &r);
	assert_int_equal(r.npkgs, 1);
	assert_string_equal(r.pkgs[0].version, "1.0.post1");
	purl_fill(&r, &r.pkgs[0]);
	assert_string_equal(r.pkgs[0].purl, "pkg:pypi/foo-bar@1.0.post1");
	assert_string_equal(r.pkgs[0].ecosystem, "PyPI");
	/* no Version: kept unversioned, and said so */
	cat_python.parse("Name: x\n", 8, "x.egg-info", &r);
	assert_int_equal(r.npkgs, 2);
	assert_string_equal(r.pkgs[1].version, "");
	assert_non_null(strstr(r.warnings.data, "x.egg-info: Python package x has no Version"));
	cat_python.parse("Version: 1\n", 11, "y.egg-info", &r);
	assert_int_equal(r.npkgs, 2);
	assert_non_null(strstr(r.warnings.data, "y.egg-info: Python metadata without Name"));
	const char *bad = "{\"name\": \"a\",\n \"version\": }";
	cat_npm_package.parse(bad, strlen(bad), "node_modules/a/package.json", &r);
	assert_non_null(strstr(r.warnings.data, "cannot parse node_modules/a/package.json:2:"));
	const char *v1 = "{\"lockfileVersion\":1,\"dependencies\":{\"a\":{\"version\":\"1.0.0\","
			 "\"dependencies\":{\"b\":{\"version\":\"2.0.0\"}}}}}";
	cat_npm_lock.parse(v1, strlen(v1), "package-lock.json", &r);
	assert_int_equal(r.npkgs, 4);
	assert_string_equal(r.pkgs[3].name, "b");
	assert_ptr_equal(catalog_find("app/node_modules/a/package.json"), &cat_npm_package);
	assert_ptr_equal(catalog_find("app/node_modules/@s/a/package.json"), &cat_npm_package);
	assert_ptr_equal(catalog_find("app/node_modules/a/lib/package.json"), NULL);
	assert_ptr_equal(catalog_find("app/node_modules/a/node_modules/b/package.json"),
			 &cat_npm_package);
	scan_result_free(&r);
}

/* Go build info as the 1.18+ linker writes it, built here byte by byte. */
static void test_go_buildinfo(void **state)
{
	struct vg_buf b = { 0 }, mod = { 0 };
	struct scan_result r = { 0 };
	const char *vers = "go1.21.5";
	(void)state;
	buf_add(&b, "\x7f" "ELF junk before the section", 27);
	buf_add(&b, "\xff Go buildinf:", 14);
	buf_addc(&b, 8);
	buf_addc(&b, 2);
	for (int i = 0; i < 16; i++)
		buf_addc(&b, 0);
	buf_add(&mod, "0123456789abcdef", 16);
	buf_adds(&mod, "path\texample.com/app\nmod\texample.com/app\t(devel)\t\n"
		       "dep\tgolang.org/x/net\tv0.17.0\th1:x=\n"
		       "dep\tgithub.com/old/mod\tv1.0.0\th1:y=\n=>\tgithub.com/new/mod\tv1.2.0\th1:z=\n");
	buf_add(&mod, "\nfedcba987654321", 16);
	buf_addc(&b, (char)strlen(vers));
	buf_adds(&b, vers);
	/* uvarint length */
	size_t ml = mod.len;
	while (ml >= 0x80) {
		buf_addc(&b, (char)(ml | 0x80));
		ml >>= 7;
	}
	buf_addc(&b, (char)ml);
	buf_add(&b, mod.data, mod.len);
	/* streamed in awkward pieces: the magic straddles two chunks */
	struct gobi_scan g;
	gobi_init(&g);
	for (size_t off = 0; off < b.len; off += 7)
		gobi_feed(&g, b.data + off, b.len - off < 7 ? b.len - off : 7);
	gobi_finish(&g, &r, "usr/bin/app", 0, 1);
	gobi_free(&g);
	char *got = names(&r);
	assert_string_equal(got, "stdlib 1.21.5\nexample.com/app (devel)\ngolang.org/x/net v0.17.0\n"
				 "github.com/new/mod v1.2.0\n");
	free(got);
	purl_fill(&r, &r.pkgs[2]);
	assert_string_equal(r.pkgs[2].purl, "pkg:golang/golang.org/x/net@v0.17.0");
	scan_result_free(&r);
	buf_free(&b);
	buf_free(&mod);
}

static void test_osrel(void **state)
{
	(void)state;
	struct {
		const char *id, *vid, *ver, *want;
	} c[] = {
		{ "alpine", "3.18.4", NULL, "Alpine:v3.18" },
		{ "debian", "12", "12 (bookworm)", "Debian:12" },
		{ "ubuntu", "22.04", "22.04.3 LTS (Jammy Jellyfish)", "Ubuntu:22.04:LTS" },
		{ "ubuntu", "23.10", "23.10 (Mantic Minotaur)", "Ubuntu:23.10" },
		{ "rocky", "9.3", NULL, "Rocky Linux:9" },
		{ "opensuse-leap", "15.5", NULL, "openSUSE:Leap 15.5" },
		{ "sles", "15.5", NULL, "SUSE:Linux Enterprise Server 15 SP5" },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(*c); i++) {
		char *e = osrel_ecosystem(c[i].id, c[i].vid, c[i].ver);
		assert_non_null(e);
		assert_string_equal(e, c[i].want);
		free(e);
	}
	assert_null(osrel_ecosystem("plan9", "4", NULL));
}

/* Every path rule of the table, and the table's order: the first cataloger that matches. */
static void test_catalog_find(void **state)
{
	(void)state;
	static const struct {
		const char *path;
		const struct cataloger *want;
	} cases[] = {
		{ "var/lib/dpkg/status", &cat_dpkg },
		{ "lib/apk/db/installed", &cat_apk },
		{ "usr/lib/python3/dist-packages/a-1.dist-info/METADATA", &cat_python },
		{ "usr/lib/python3/a-1.egg-info/PKG-INFO", &cat_python },
		{ "usr/lib/python3/a-1.egg-info", &cat_python },
		{ "usr/lib/python3/a-1.dist-info/RECORD", NULL },
		{ "app/package-lock.json", &cat_npm_lock },
		{ "app/node_modules/a/package-lock.json", NULL },
		{ "var/lib/rpm/rpmdb.sqlite", &cat_rpm_sqlite },
		{ "usr/lib/sysimage/rpm/rpmdb.sqlite", &cat_rpm_sqlite },
		{ "var/lib/rpm/Packages", &cat_rpm_bdb },
		{ "usr/lib/sysimage/rpm/Packages.db", &cat_rpm_ndb },
		{ "var/lib/rpm/Packages.old", NULL },
		{ "srv/rpm/Packages", NULL },
		{ "opt/app.jar", &cat_java },
		{ "opt/app.war", &cat_java },
		{ "opt/app.ear", &cat_java },
		{ "opt/x/META-INF/maven/g/a/pom.properties", &cat_java },
		{ "opt/x/pom.properties", NULL },
		{ "src/Cargo.lock", &cat_cargo },
		{ "usr/lib/ruby/gems/3.1.0/specifications/rake-13.0.6.gemspec", &cat_gem },
		{ "rake.gemspec", NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (catalog_find(cases[i].path) != cases[i].want)
			fail_msg("%s: expected %s", cases[i].path,
				 cases[i].want ? cases[i].want->name : "no cataloger");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dpkg_statusfield), cmocka_unit_test(test_dpkg_bad),
		cmocka_unit_test(test_dpkg_statusd),     cmocka_unit_test(test_dpkg_trivy_valid),
		cmocka_unit_test(test_apk),              cmocka_unit_test(test_python_npm),
		cmocka_unit_test(test_go_buildinfo),     cmocka_unit_test(test_osrel),
		cmocka_unit_test(test_catalog_find),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
