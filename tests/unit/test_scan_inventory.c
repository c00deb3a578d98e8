/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The language catalogers on the fixture tree tests/integration/data/scan/
 * inventory/root (lock files and manifests written from their formats'
 * specifications): each file through catalog_find and its parser, the
 * packages' "path name version ecosystem purl" lines compared with want.tsv
 * (development dependencies off) and want.tsv + want-dev.tsv (on). Also the
 * XML reader behind pom.xml.
 */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "scan/catalogers/cat_xml.h"
#include "scan/catalogers/catalog.h"
#include "scan/reports/purl.h"

#define ROOT "tests/integration/data/scan/inventory/root/"

static struct scan_result *walk_r;

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct vg_buf b = { 0 };
	char chunk[65536];
	size_t n;

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	*len = b.len;
	return b.data ? b.data : xstrdup("");
}

static int visit(const char *fpath, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (type != FTW_F)
		return 0;
	const char *rel = fpath + strlen(ROOT);
	const struct cataloger *c = catalog_find(rel);
	if (!c)
		return 0;
	size_t len;
	char *d = slurp(fpath, &len);
	if (d)
		c->parse(d, len, rel, walk_r);
	free(d);
	return 0;
}

static int line_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted inventory of the fixture tree, one TSV line a package. */
static char *inventory(bool dev)
{
	struct scan_result r = { .include_dev = dev };
	walk_r = &r;
	assert_int_equal(nftw(ROOT, visit, 16, FTW_PHYS), 0);
	char **lines = xcalloc(r.npkgs + 1, sizeof(*lines));
	for (size_t i = 0; i < r.npkgs; i++) {
		struct scan_pkg *p = &r.pkgs[i];
		purl_fill(&r, p);
		struct vg_buf b = { 0 };
		buf_printf(&b, "%s\t%s\t%s\t%s\t%s\n", p->path, p->name, p->version,
			   p->ecosystem ? p->ecosystem : "-", p->purl);
		lines[i] = b.data;
	}
	qsort(lines, r.npkgs, sizeof(*lines), line_cmp);
	struct vg_buf out = { 0 };
	for (size_t i = 0; i < r.npkgs; i++) {
		buf_add(&out, lines[i], strlen(lines[i]));
		free(lines[i]);
	}
	free(lines);
	scan_result_free(&r);
	return out.data ? out.data : xstrdup("");
}

static void sort_lines(char *s)
{
	size_t n = 0, cap = 16;
	char **v = xcalloc(cap, sizeof(*v));
	for (char *save = NULL, *t = strtok_r(s, "\n", &save); t; t = strtok_r(NULL, "\n", &save)) {
		if (n == cap)
			v = xrealloc(v, (cap *= 2) * sizeof(*v));
		v[n++] = xstrdup(t);
	}
	qsort(v, n, sizeof(*v), line_cmp);
	s[0] = 0;
	for (size_t i = 0; i < n; i++) {
		strcat(s, v[i]);
		strcat(s, "\n");
		free(v[i]);
	}
	free(v);
}

static void test_fixtures(void **state)
{
	size_t len, dlen;
	(void)state;
	char *want = slurp("tests/integration/data/scan/inventory/want.tsv", &len);
	char *wdev = slurp("tests/integration/data/scan/inventory/want-dev.tsv", &dlen);
	assert_non_null(want);
	assert_non_null(wdev);
	char *got = inventory(false);
	assert_string_equal(got, want);
	free(got);
	char *all = xmalloc(len + dlen + 2);
	snprintf(all, len + dlen + 2, "%s%s", want, wdev);
	sort_lines(all);
	got = inventory(true);
	assert_string_equal(got, all);
	free(got);
	free(all);
	free(want);
	free(wdev);
}

static void test_xml(void **state)
{
	char err[160];
	(void)state;
	const char *ok = "\xef\xbb\xbf<?xml version='1.0'?><!DOCTYPE p [<!ENTITY x 'y'>]>\n"
			 "<m:p xmlns:m='u' a=\"x>y\"><m:a>1 &amp; 2</m:a><b/><c><![CDATA[<z>]]></c></m:p>";
	struct xml_node *n = xml_parse(ok, strlen(ok), err, sizeof(err));
	assert_non_null(n);
	assert_string_equal(n->name, "p");
	assert_string_equal(xml_child_text(n, "a"), "1 & 2");
	assert_string_equal(xml_child_text(n, "b"), "");
	assert_string_equal(xml_child_text(n, "c"), "<z>");
	assert_null(xml_child(n, "d"));
	xml_free(n);
	static const struct { const char *in, *err; } bad[] = {
		{ "<a><b></a>", "1:7: closing tag does not match the open element" },
		{ "<a>\n&foo;</a>", "2:1: unknown entity or reference" },
		{ "<a>", "1:4: unclosed element at the end" },
		{ "", "1:1: no root element" },
		{ "<a/><b/>", "1:5: a second root element" },
		{ "x<a/>", "1:2: text before the root element" },
		{ "<a><!-- x", "1:4: unterminated comment" },
		{ "<a b='>", "1:8: unterminated start tag" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		assert_null(xml_parse(bad[i].in, strlen(bad[i].in), err, sizeof(err)));
		assert_string_equal(err, bad[i].err);
	}
	/* 300 levels: refused, not a stack overflow */
	struct vg_buf deep = { 0 };
	for (int i = 0; i < 300; i++)
		buf_printf(&deep, "<a>");
	assert_null(xml_parse(deep.data, deep.len, err, sizeof(err)));
	assert_non_null(strstr(err, "too deep"));
	buf_free(&deep);
}

/* Which file goes to which cataloger, and which look-alikes go nowhere. */
static void test_find(void **state)
{
	static const struct { const char *path, *want; } cases[] = {
		{ "srv/yarn.lock", "yarn" },
		{ "srv/node_modules/x/yarn.lock", NULL },
		{ "srv/pnpm-lock.yaml", "pnpm" },
		{ "srv/poetry.lock", "poetry" },
		{ "srv/uv.lock", "uv" },
		{ "srv/Pipfile.lock", "pipfile" },
		{ "srv/requirements.txt", "requirements" },
		{ "srv/requirements-dev.txt", "requirements" },
		{ "usr/lib/python3/site-packages/x/requirements.txt", NULL },
		{ "srv/composer.lock", "composer" },
		{ "srv/vendor/composer/installed.json", "composer" },
		{ "srv/vendor/x/y/composer.lock", NULL },
		{ "app/MyApp.deps.json", "dotnet-deps" },
		{ "src/packages.lock.json", "nuget-lock" },
		{ "src/Gemfile.lock", "gemfile-lock" },
		{ "src/pubspec.lock", "pubspec-lock" },
		{ "src/Package.resolved", "swift-resolved" },
		{ "src/mix.lock", "mix-lock" },
		{ "src/rebar.lock", "rebar-lock" },
		{ "src/conan.lock", "conan-lock" },
		{ "src/gradle.lockfile", "gradle-lock" },
		{ "src/gradle/dependency-locks/compileClasspath.lockfile", "gradle-lock" },
		{ "src/Podfile.lock", "podfile-lock" },
		{ "src/pom.xml", "maven-pom" },
		{ "opt/x/META-INF/maven/g/a/pom.xml", NULL },
		{ "var/jenkins_home/plugins/git.jpi", "java" },
		{ "x/y.HPI", "java" },
		{ "usr/lib/python3/dist-packages/Foo.EGG-INFO/PKG-INFO", "python" },
		{ "usr/local/bin/python3.11", "runtime" },
		{ "usr/local/bin/python3.11-config", NULL },
		{ "usr/local/lib/libpython3.11.so.1.0", "runtime" },
		{ "usr/local/lib/libpython3.11.a", NULL },
		{ "usr/local/bin/node", "runtime" },
		{ "opt/java/openjdk/release", "runtime" },
		{ "etc/release", NULL },
		{ "usr/local/go/VERSION", "runtime" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct cataloger *c = catalog_find(cases[i].path);
		const char *got = c ? c->name : NULL;
		if ((got == NULL) != (cases[i].want == NULL) || (got && strcmp(got, cases[i].want)))
			fail_msg("%s: got %s, expected %s", cases[i].path, got ? got : "none",
				 cases[i].want ? cases[i].want : "none");
	}
}

/* Malformed files: a warning naming the file (and line:column where the format has lines), no packages. */
static void test_bad(void **state)
{
	static const struct { const char *path, *data, *warn; } cases[] = {
		{ "a/yarn.lock", "# yarn lockfile v1\n\nnot a header\n", "cannot parse a/yarn.lock:3: expected a 'spec:' header" },
		{ "a/pnpm-lock.yaml", "packages: [\n", "cannot parse a/pnpm-lock.yaml:" },
		{ "a/pnpm-lock.yaml", "- 1\n", "cannot parse a/pnpm-lock.yaml: not a YAML mapping" },
		{ "a/Pipfile.lock", "{\n\"default\": }", "cannot parse a/Pipfile.lock:2:" },
		{ "a/composer.lock", "[]", "cannot parse a/composer.lock: not a JSON object" },
		{ "a/x.deps.json", "{", "cannot parse a/x.deps.json:1:" },
		{ "a/packages.lock.json", "nul", "cannot parse a/packages.lock.json:1:" },
		{ "a/pubspec.lock", "packages: {a: [}\n", "cannot parse a/pubspec.lock:" },
		{ "a/Package.resolved", "{\"pins\": [", "cannot parse a/Package.resolved:1:" },
		{ "a/conan.lock", "1", "cannot parse a/conan.lock" },
		{ "a/Podfile.lock", "PODS:\n  - [\n", "cannot parse a/Podfile.lock:" },
		{ "a/pom.xml", "<project>\n<dependencies></project>", "cannot parse a/pom.xml:2:15: closing tag does not match" },
		{ "a/pom.xml", "<settings/>", "cannot parse a/pom.xml: the root element is not <project>" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct scan_result r = { 0 };
		const struct cataloger *c = catalog_find(cases[i].path);
		assert_non_null(c);
		c->parse(cases[i].data, strlen(cases[i].data), cases[i].path, &r);
		if (r.npkgs || !r.warnings.data || !strstr(r.warnings.data, cases[i].warn))
			fail_msg("%s: %zu packages, warnings '%s', expected '%s'", cases[i].path, r.npkgs,
				 r.warnings.data ? r.warnings.data : "", cases[i].warn);
		scan_result_free(&r);
	}
	/* formats without a syntax to break give nothing from junk, and never fail */
	static const char *const quiet[] = { "a/requirements.txt", "a/Gemfile.lock", "a/mix.lock",
					     "a/rebar.lock", "a/gradle.lockfile", "a/poetry.lock",
					     "a/uv.lock" };
	for (size_t i = 0; i < sizeof(quiet) / sizeof(quiet[0]); i++) {
		struct scan_result r = { 0 };
		const char junk[] = "\0\xff[[package]]\nname = \"x\n{pkg,<<\"a\">>\n    x (\n==\n";
		catalog_find(quiet[i])->parse(junk, sizeof(junk) - 1, quiet[i], &r);
		assert_int_equal(r.npkgs, 0);
		scan_result_free(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures),
		cmocka_unit_test(test_xml),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
