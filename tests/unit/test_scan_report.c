/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Scan reports and SBOMs on a small result built in memory: the table, and
 * the JSON, CycloneDX, SPDX and SARIF documents parse as JSON, hold the
 * packages, purls, vulnerabilities and secrets, and carry the fields their
 * schemas require.
 */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "common/version.h"
#include "scan/reports/purl.h"
#include "scan/reports/report.h"

/*
 * An Alpine image of one layer: musl (an OS package) and requests (PyPI);
 * a critical vulnerability with a fix in requests, one without a severity
 * nor a fix in musl; an AWS key in etc/creds; the image runs as root.
 */
static void demo(struct scan_result *r)
{
	memset(r, 0, sizeof(*r));
	r->target = xstrdup("demo.tar");
	r->kind = xstrdup("docker-archive");
	r->tag = xstrdup("demo:1");
	r->image_id = xstrdup("sha256:1111111111111111111111111111111111111111111111111111111111111111");
	r->os_id = xstrdup("alpine");
	r->os_version = xstrdup("3.18.4");
	r->os_ecosystem = xstrdup("Alpine:v3.18");
	r->nlayers = 1;
	r->layers = xcalloc(1, sizeof(*r->layers));
	r->layers[0].digest =
		xstrdup("sha256:2222222222222222222222222222222222222222222222222222222222222222");
	r->layers[0].path = xstrdup("blobs/sha256/2222");
	r->layers[0].size = 1234;
	r->layers[0].files = 3;
	r->layers[0].verified = true;
	struct scan_pkg *p = scan_add_pkg(r, "apk", "musl", "1.2.4-r2", "lib/apk/db/installed");
	p->src_name = xstrdup("musl");
	p->src_version = xstrdup("1.2.4-r2");
	scan_add_pkg(r, "pypi", "requests", "2.19.0",
		     "usr/lib/python3.11/site-packages/requests-2.19.0.dist-info/METADATA");
	for (size_t i = 0; i < r->npkgs; i++)
		purl_fill(r, &r->pkgs[i]);
	r->nvulns = r->cap_vulns = 2;
	r->vulns = xcalloc(2, sizeof(*r->vulns));
	r->vulns[0] = (struct scan_vuln){ .id = xstrdup("GHSA-x84v-xcm2-53pg"),
					  .aliases = xstrdup("CVE-2018-18074"),
					  .summary = xstrdup("requests sends credentials on redirect"),
					  .severity = SEV_CRITICAL, .score = 9.8,
					  .fixed = xstrdup("2.20.0"), .pkg = 1 };
	r->vulns[1] = (struct scan_vuln){ .id = xstrdup("CVE-2025-0001"), .aliases = xstrdup(""),
					  .summary = xstrdup(""), .severity = SEV_UNKNOWN,
					  .score = -1, .fixed = xstrdup(""), .pkg = 0 };
	r->nsecrets = r->cap_secrets = 1;
	r->secrets = xcalloc(1, sizeof(*r->secrets));
	r->secrets[0] = (struct scan_secret){ .rule = xstrdup("aws-access-key-id"),
					      .title = xstrdup("AWS access key ID"),
					      .severity = SEV_CRITICAL, .path = xstrdup("etc/creds"),
					      .match = xstrdup("AKIA****************"), .line = 3 };
	r->nconfig = r->cap_config = 1;
	r->config = xcalloc(1, sizeof(*r->config));
	r->config[0] = (struct scan_config_finding){ .id = xstrdup("root-user"),
						     .severity = SEV_HIGH,
						     .message = xstrdup("the image runs as root") };
}

static const char *const purls[] = {
	"pkg:apk/alpine/musl@1.2.4-r2?distro=3.18.4",
	"pkg:pypi/requests@2.19.0",
};

/* The report as a JSON document; fails the test when it does not parse or has trailing bytes. */
static json_t *document(const struct scan_result *r, enum report_format f)
{
	struct vg_buf out = { 0 };
	json_error_t e;

	report_write(r, f, false, &out);
	assert_non_null(out.data);
	assert_int_equal(out.data[out.len - 1], '\n');
	json_t *doc = json_loadb(out.data, out.len, 0, &e);
	if (!doc)
		fail_msg("format %d: %d:%d: %s", f, e.line, e.column, e.text);
	buf_free(&out);
	return doc;
}

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	if (!s)
		fail_msg("no string '%s' in %s", key, json_dumps(o, JSON_COMPACT));
	return s;
}

static void test_formats(void **state)
{
	(void)state;
	assert_int_equal(report_format_parse("table"), REPORT_TABLE);
	assert_int_equal(report_format_parse("json"), REPORT_JSON);
	assert_int_equal(report_format_parse("cyclonedx"), REPORT_CYCLONEDX);
	assert_int_equal(report_format_parse("spdx"), REPORT_SPDX);
	assert_int_equal(report_format_parse("sarif"), REPORT_SARIF);
	assert_int_equal(report_format_parse("xml"), -1);
}

static void test_purls(void **state)
{
	struct scan_result r;
	(void)state;
	demo(&r);
	assert_string_equal(r.pkgs[0].ecosystem, "Alpine:v3.18");
	assert_string_equal(r.pkgs[1].ecosystem, "PyPI");
	for (size_t i = 0; i < 2; i++)
		assert_string_equal(r.pkgs[i].purl, purls[i]);
	scan_result_free(&r);
}

static void test_table(void **state)
{
	struct scan_result r;
	struct vg_buf out = { 0 };
	(void)state;
	demo(&r);
	report_write(&r, REPORT_TABLE, false, &out);
	const char *t = out.data;
	assert_non_null(strstr(t, "demo.tar (docker-archive) demo:1\n"));
	assert_non_null(strstr(t, "os: alpine 3.18.4 (Alpine:v3.18)\n"));
	assert_non_null(strstr(t, "layers: 1, packages: 2, vulnerabilities: 2, secrets: 1\n"));
	/* most severe first, whatever the order found */
	const char *crit = strstr(t, "\nCRITICAL  GHSA-x84v-xcm2-53pg    requests");
	const char *unk = strstr(t, "\nUNKNOWN   CVE-2025-0001          musl");
	assert_non_null(crit);
	assert_non_null(unk);
	assert_true(crit < unk);
	assert_non_null(strstr(crit, " 2.20.0 "));
	assert_non_null(strstr(unk, " - ")); /* no fixed version */
	assert_non_null(strstr(t, "\nCRITICAL  aws-access-key-id      1      /etc/creds:3 AKIA"));
	assert_non_null(strstr(t, "\nHIGH      root-user              the image runs as root\n"));
	assert_null(strstr(t, "\033[")); /* no colour asked */
	buf_reset(&out);
	report_write(&r, REPORT_TABLE, true, &out);
	assert_non_null(strstr(out.data, "\033[1;31mCRITICAL "));
	buf_free(&out);
	scan_result_free(&r);
}

static void test_json(void **state)
{
	struct scan_result r;
	(void)state;
	demo(&r);
	json_t *d = document(&r, REPORT_JSON);
	assert_string_equal(str(d, "target"), "demo.tar");
	assert_string_equal(str(d, "kind"), "docker-archive");
	assert_string_equal(str(json_object_get(d, "os"), "ecosystem"), "Alpine:v3.18");
	json_t *pkgs = json_object_get(d, "packages");
	assert_int_equal(json_array_size(pkgs), 2);
	for (size_t i = 0; i < 2; i++) {
		assert_string_equal(str(json_array_get(pkgs, i), "name"), r.pkgs[i].name);
		assert_string_equal(str(json_array_get(pkgs, i), "purl"), purls[i]);
	}
	json_t *vulns = json_object_get(d, "vulnerabilities");
	assert_int_equal(json_array_size(vulns), 2);
	json_t *v = json_array_get(vulns, 0);
	assert_string_equal(str(v, "id"), "GHSA-x84v-xcm2-53pg");
	assert_string_equal(str(v, "severity"), "CRITICAL");
	assert_string_equal(str(v, "package"), "requests");
	assert_string_equal(str(v, "fixed"), "2.20.0");
	assert_string_equal(str(v, "purl"), purls[1]);
	assert_string_equal(json_string_value(json_array_get(json_object_get(v, "aliases"), 0)),
			    "CVE-2018-18074");
	assert_string_equal(str(json_array_get(vulns, 1), "severity"), "UNKNOWN");
	json_t *s = json_array_get(json_object_get(d, "secrets"), 0);
	assert_string_equal(str(s, "severity"), "CRITICAL");
	assert_string_equal(str(s, "path"), "etc/creds");
	json_t *c = json_array_get(json_object_get(d, "config"), 0);
	assert_string_equal(str(c, "id"), "root-user");
	assert_string_equal(str(c, "severity"), "HIGH");
	json_decref(d);
	scan_result_free(&r);
}

/* CycloneDX 1.5: bomFormat, specVersion (required), components with purls, vulnerabilities. */
static void test_cyclonedx(void **state)
{
	struct scan_result r;
	(void)state;
	demo(&r);
	json_t *d = document(&r, REPORT_CYCLONEDX);
	assert_string_equal(str(d, "bomFormat"), "CycloneDX");
	assert_string_equal(str(d, "specVersion"), "1.5");
	assert_int_equal(json_integer_value(json_object_get(d, "version")), 1);
	char *serial = xstrdup(str(d, "serialNumber"));
	assert_int_equal(strncmp(serial, "urn:uuid:", 9), 0);
	assert_int_equal(strlen(serial), 9 + 36);
	json_t *comps = json_object_get(d, "components");
	size_t i, found = 0;
	json_t *c;
	json_array_foreach(comps, i, c) {
		str(c, "type");
		str(c, "name");
		const char *purl = json_string_value(json_object_get(c, "purl"));
		for (size_t k = 0; purl && k < 2; k++)
			found += !strcmp(purl, purls[k]);
	}
	assert_int_equal(found, 2);
	json_t *vulns = json_object_get(d, "vulnerabilities");
	assert_int_equal(json_array_size(vulns), 2);
	json_t *v = json_array_get(vulns, 0);
	assert_string_equal(str(v, "id"), "GHSA-x84v-xcm2-53pg");
	json_t *rating = json_array_get(json_object_get(v, "ratings"), 0);
	assert_string_equal(str(rating, "severity"), "critical");
	assert_true(json_real_value(json_object_get(rating, "score")) == 9.8);
	assert_string_equal(str(json_array_get(json_object_get(json_array_get(vulns, 1), "ratings"), 0),
				"severity"),
			    "unknown");
	/* every affects ref names a component of the BOM: requests for the first */
	const char *ref = str(json_array_get(json_object_get(v, "affects"), 0), "ref");
	bool resolved = false;
	json_array_foreach(comps, i, c) {
		const char *bref = json_string_value(json_object_get(c, "bom-ref"));
		if (bref && !strcmp(bref, ref)) {
			assert_string_equal(str(c, "name"), "requests");
			resolved = true;
		}
	}
	assert_true(resolved);
	json_decref(d);
	/* the serial number is derived from the content: the same result, the same BOM */
	json_t *again = document(&r, REPORT_CYCLONEDX);
	assert_string_equal(str(again, "serialNumber"), serial);
	json_decref(again);
	free(serial);
	scan_result_free(&r);
}

/* SPDX 2.3: the document fields the specification requires, packages with purls. */
static void test_spdx(void **state)
{
	struct scan_result r;
	(void)state;
	demo(&r);
	json_t *d = document(&r, REPORT_SPDX);
	assert_string_equal(str(d, "spdxVersion"), "SPDX-2.3");
	assert_string_equal(str(d, "dataLicense"), "CC0-1.0");
	assert_string_equal(str(d, "SPDXID"), "SPDXRef-DOCUMENT");
	str(d, "name");
	str(d, "documentNamespace");
	json_t *ci = json_object_get(d, "creationInfo");
	str(ci, "created");
	assert_string_equal(json_string_value(json_array_get(json_object_get(ci, "creators"), 0)),
			    "Tool: vigil-" VIGIL_VERSION);
	json_t *pkgs = json_object_get(d, "packages");
	size_t i, found = 0;
	json_t *p;
	json_array_foreach(pkgs, i, p) {
		str(p, "name");
		assert_int_equal(strncmp(str(p, "SPDXID"), "SPDXRef-", 8), 0);
		str(p, "downloadLocation");
		json_t *ref = json_array_get(json_object_get(p, "externalRefs"), 0);
		if (!ref)
			continue;
		assert_string_equal(str(ref, "referenceCategory"), "PACKAGE-MANAGER");
		assert_string_equal(str(ref, "referenceType"), "purl");
		for (size_t k = 0; k < 2; k++)
			found += !strcmp(str(ref, "referenceLocator"), purls[k]);
	}
	assert_int_equal(found, 2);
	json_t *rel = json_array_get(json_object_get(d, "relationships"), 0);
	assert_string_equal(str(rel, "spdxElementId"), "SPDXRef-DOCUMENT");
	assert_string_equal(str(rel, "relationshipType"), "DESCRIBES");
	json_decref(d);
	scan_result_free(&r);
}

/* SARIF 2.1.0: one run, a rule per vulnerability and secret rule, results pointing at them. */
static void test_sarif(void **state)
{
	struct scan_result r;
	(void)state;
	demo(&r);
	json_t *d = document(&r, REPORT_SARIF);
	assert_string_equal(str(d, "version"), "2.1.0");
	str(d, "$schema");
	json_t *run = json_array_get(json_object_get(d, "runs"), 0);
	json_t *driver = json_object_get(json_object_get(run, "tool"), "driver");
	assert_string_equal(str(driver, "name"), "vigil");
	json_t *rules = json_object_get(driver, "rules");
	assert_int_equal(json_array_size(rules), 4);
	json_t *results = json_object_get(run, "results");
	assert_int_equal(json_array_size(results), 4);
	/* every finding the table and JSON show: vulnerabilities, secrets, image configuration */
	static const char *const want[][2] = {
		{ "GHSA-x84v-xcm2-53pg", "error" },
		{ "CVE-2025-0001", "note" },
		{ "aws-access-key-id", "error" },
		{ "root-user", "error" },
	};
	for (size_t i = 0; i < 4; i++) {
		json_t *res = json_array_get(results, i);
		assert_string_equal(str(res, "ruleId"), want[i][0]);
		assert_string_equal(str(res, "level"), want[i][1]);
		str(json_object_get(res, "message"), "text");
		bool has_rule = false;
		for (size_t k = 0; k < json_array_size(rules); k++)
			has_rule |= !strcmp(str(json_array_get(rules, k), "id"), want[i][0]);
		assert_true(has_rule);
	}
	json_t *rule0 = json_array_get(rules, 0);
	assert_string_equal(str(json_object_get(rule0, "properties"), "security-severity"), "9.8");
	json_t *loc = json_object_get(
		json_array_get(json_object_get(json_array_get(results, 2), "locations"), 0),
		"physicalLocation");
	assert_string_equal(str(json_object_get(loc, "artifactLocation"), "uri"), "etc/creds");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(loc, "region"),
							     "startLine")),
			 3);
	json_t *cfg = json_array_get(results, 3);
	assert_string_equal(str(json_object_get(cfg, "message"), "text"), "the image runs as root");
	loc = json_object_get(json_array_get(json_object_get(cfg, "locations"), 0), "physicalLocation");
	assert_string_equal(str(json_object_get(loc, "artifactLocation"), "uri"), r.target);
	json_decref(d);
	scan_result_free(&r);
}

/* An empty result is still a valid document of every format. */
static void test_empty(void **state)
{
	struct scan_result r = { 0 };
	(void)state;
	r.target = xstrdup("empty");
	r.kind = xstrdup("rootfs");
	for (int f = REPORT_JSON; f <= REPORT_SARIF; f++)
		json_decref(document(&r, f));
	scan_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_formats),   cmocka_unit_test(test_purls),
		cmocka_unit_test(test_table),     cmocka_unit_test(test_json),
		cmocka_unit_test(test_cyclonedx), cmocka_unit_test(test_spdx),
		cmocka_unit_test(test_sarif),     cmocka_unit_test(test_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
