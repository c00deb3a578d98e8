/* SPDX-License-Identifier: Apache-2.0 */
/*
 * VEX: OpenVEX (v0.2 and v0.0.1) and CycloneDX documents written here after
 * their specifications, applied to a scan result built in memory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "scan/matching/ignore.h"
#include "scan/matching/vex.h"

static void vuln(struct scan_result *r, const char *id, const char *aliases, size_t pkg)
{
	r->vulns = xgrow(r->vulns, r->nvulns, sizeof(*r->vulns));
	r->vulns[r->nvulns++] = (struct scan_vuln){ .id = xstrdup(id), .aliases = xstrdup(aliases),
						    .summary = xstrdup(""), .score = -1,
						    .fixed = xstrdup(""), .pkg = pkg };
}

/* pkgs: 0 lodash 4.17.20, 1 @babel/core 7.0.0, 2 openssl (deb); five findings */
static void demo(struct scan_result *r)
{
	memset(r, 0, sizeof(*r));
	r->target = xstrdup("app.tar");
	r->kind = xstrdup("docker-archive");
	struct scan_pkg *p = scan_add_pkg(r, "npm", "lodash", "4.17.20", "app/package-lock.json");
	p->purl = xstrdup("pkg:npm/lodash@4.17.20");
	p = scan_add_pkg(r, "npm", "@babel/core", "7.0.0", "app/package-lock.json");
	p->purl = xstrdup("pkg:npm/%40babel/core@7.0.0");
	p = scan_add_pkg(r, "deb", "openssl", "3.0.11-1~deb12u1", "var/lib/dpkg/status");
	p->purl = xstrdup("pkg:deb/debian/openssl@3.0.11-1~deb12u1?arch=amd64&distro=debian-12");
	vuln(r, "GHSA-35jh-r3h4-6jhm", "CVE-2021-23337", 0);
	vuln(r, "GHSA-p6mc-m468-83gw", "CVE-2020-8203", 0);
	vuln(r, "GHSA-xxxx-babel", "CVE-2023-45133", 1);
	vuln(r, "DSA-5532-1", "CVE-2023-5363", 2);
	vuln(r, "DSA-5585-1", "CVE-2023-6129", 2);
}

static bool has(const struct scan_result *r, const char *id)
{
	for (size_t i = 0; i < r->nvulns; i++)
		if (!strcmp(r->vulns[i].id, id))
			return true;
	return false;
}

static const struct scan_suppressed *supp(const struct scan_result *r, const char *id)
{
	for (size_t i = 0; i < r->nsuppressed; i++)
		if (!strcmp(r->suppressed[i].id, id))
			return &r->suppressed[i];
	return NULL;
}

static void parse(const char *text, struct vex_doc *d)
{
	struct vg_buf err = { 0 };
	int rc = vex_parse(text, strlen(text), "doc.json", d, &err);
	if (rc)
		fail_msg("%s", err.data);
	buf_free(&err);
}

static void test_openvex(void **state)
{
	(void)state;
	/* v0.2: vulnerability objects, product objects, an image with subcomponents */
	static const char doc[] =
		"{\"@context\": \"https://openvex.dev/ns/v0.2.0\", \"@id\": \"https://example.com/vex-1\","
		" \"author\": \"Security Team\", \"timestamp\": \"2026-01-02T03:04:05Z\", \"version\": 1,"
		" \"statements\": ["
		"  {\"vulnerability\": {\"name\": \"CVE-2021-23337\"},"
		"   \"products\": [{\"@id\": \"pkg:npm/lodash@4.17.20\"}],"
		"   \"status\": \"not_affected\", \"justification\": \"vulnerable_code_not_in_execute_path\","
		"   \"impact_statement\": \"template() is never called\"},"
		"  {\"vulnerability\": {\"name\": \"GHSA-xxxx-babel\"},"
		"   \"products\": [{\"@id\": \"pkg:oci/app@sha256:abc\","
		"     \"subcomponents\": [{\"@id\": \"pkg:npm/%40babel/core\"}]}],"
		"   \"status\": \"fixed\"},"
		"  {\"vulnerability\": {\"name\": \"CVE-2023-5363\"},"
		"   \"products\": [{\"@id\": \"pkg:deb/debian/openssl@9.9.9\"}],"
		"   \"status\": \"not_affected\", \"justification\": \"component_not_present\"},"
		"  {\"vulnerability\": {\"name\": \"CVE-2023-6129\"}, \"status\": \"affected\","
		"   \"action_statement\": \"upgrade to 3.0.13\"},"
		"  {\"vulnerability\": {\"name\": \"CVE-2020-8203\"},"
		"   \"products\": [{\"@id\": \"pkg:npm/lodash\"}], \"status\": \"not_affected\","
		"   \"justification\": \"inline_mitigations_already_exist\"},"
		"  {\"vulnerability\": {\"name\": \"CVE-2020-8203\"},"
		"   \"products\": [{\"@id\": \"pkg:npm/lodash\"}], \"status\": \"under_investigation\"}"
		" ]}";
	struct scan_result r;
	struct vex_doc d;
	demo(&r);
	parse(doc, &d);
	assert_int_equal(d.n, 6);
	assert_int_equal(vex_apply(&d, 1, &r), 2);
	/* suppressed by alias, with status and justification as the reason */
	assert_false(has(&r, "GHSA-35jh-r3h4-6jhm"));
	const struct scan_suppressed *x = supp(&r, "GHSA-35jh-r3h4-6jhm");
	assert_non_null(x);
	assert_string_equal(x->what, "lodash@4.17.20");
	assert_string_equal(x->source, "vex doc.json");
	assert_string_equal(x->reason, "not_affected: vulnerable_code_not_in_execute_path; "
				       "template() is never called");
	/* a subcomponent of the image, purl without a version, percent-encoded scope */
	assert_false(has(&r, "GHSA-xxxx-babel"));
	/* another version of the package: the statement does not apply */
	assert_true(has(&r, "DSA-5532-1"));
	/* affected, no products (the target): kept, annotated */
	assert_true(has(&r, "DSA-5585-1"));
	for (size_t i = 0; i < r.nvulns; i++)
		if (!strcmp(r.vulns[i].id, "DSA-5585-1"))
			assert_string_equal(r.vulns[i].note, "affected: upgrade to 3.0.13");
	/* the later statement wins: under investigation again, kept */
	assert_true(has(&r, "GHSA-p6mc-m468-83gw"));
	vex_free(&d);
	scan_result_free(&r);
}

static void test_openvex_001(void **state)
{
	(void)state;
	/* v0.0.1: strings for the vulnerability and the products, statement subcomponents */
	static const char doc[] =
		"{\"@context\": \"https://openvex.dev/ns\", \"@id\": \"x\", \"author\": \"a\","
		" \"timestamp\": \"2023-01-01T00:00:00Z\", \"version\": \"1\", \"statements\": ["
		"  {\"vulnerability\": \"CVE-2023-5363\", \"products\": [\"pkg:oci/app\"],"
		"   \"subcomponents\": [\"pkg:deb/debian/openssl@3.0.11-1~deb12u1?arch=amd64\"],"
		"   \"status\": \"not_affected\", \"justification\": \"vulnerable_code_cannot_be_controlled_by_adversary\"}]}";
	struct scan_result r;
	struct vex_doc d;
	demo(&r);
	parse(doc, &d);
	assert_int_equal(vex_apply(&d, 1, &r), 1);
	assert_false(has(&r, "DSA-5532-1"));
	assert_true(has(&r, "DSA-5585-1"));
	vex_free(&d);
	scan_result_free(&r);
}

static void test_cyclonedx(void **state)
{
	(void)state;
	static const char doc[] =
		"{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"1.5\", \"version\": 1,"
		" \"components\": [{\"bom-ref\": \"lodash-ref\", \"type\": \"library\", \"name\": \"lodash\","
		"   \"purl\": \"pkg:npm/lodash@4.17.20\"}],"
		" \"vulnerabilities\": ["
		"  {\"id\": \"CVE-2021-23337\", \"analysis\": {\"state\": \"false_positive\","
		"    \"detail\": \"not our lodash\"}, \"affects\": [{\"ref\": \"urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/1#lodash-ref\"}]},"
		"  {\"id\": \"CVE-2023-45133\", \"analysis\": {\"state\": \"resolved\"},"
		"    \"affects\": [{\"ref\": \"pkg:npm/%40babel/core@7.0.0\"}]},"
		"  {\"id\": \"CVE-2023-6129\", \"analysis\": {\"state\": \"exploitable\","
		"    \"justification\": \"requires_environment\", \"detail\": \"PowerPC only\"}},"
		"  {\"id\": \"CVE-2020-8203\"}"
		" ]}";
	struct scan_result r;
	struct vex_doc d;
	demo(&r);
	parse(doc, &d);
	assert_int_equal(d.n, 3); /* a vulnerability without an analysis says nothing */
	assert_int_equal(vex_apply(&d, 1, &r), 2);
	assert_false(has(&r, "GHSA-35jh-r3h4-6jhm"));
	assert_string_equal(supp(&r, "GHSA-35jh-r3h4-6jhm")->reason, "false_positive: not our lodash");
	assert_false(has(&r, "GHSA-xxxx-babel"));
	for (size_t i = 0; i < r.nvulns; i++)
		if (!strcmp(r.vulns[i].id, "DSA-5585-1"))
			assert_string_equal(r.vulns[i].note, "exploitable: requires_environment; PowerPC only");
	vex_free(&d);
	scan_result_free(&r);
}

static void test_bad(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"",
		"[]",
		"{\"statements\": [{\"status\": \"not_affected\"}]}",
		"{\"statements\": [{\"vulnerability\": {\"name\": \"X\"}, \"status\": \"maybe\"}]}",
		"{\"statements\": [{\"vulnerability\": \"X\", \"status\": \"fixed\", \"products\": 3}]}",
		"{\"statements\": [{\"vulnerability\": \"X\", \"status\": \"fixed\", \"products\": [{}]}]}",
		"{\"bomFormat\": \"CycloneDX\", \"vulnerabilities\": [{\"id\": \"X\", \"analysis\": {\"state\": \"no\"}}]}",
		"{\"bomFormat\": \"CycloneDX\", \"vulnerabilities\": [{\"analysis\": {\"state\": \"resolved\"}}]}",
		"{\"bomFormat\": \"SPDX\", \"vulnerabilities\": []}",
		"{\"statements\": [], \"statements\": []}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct vex_doc d;
		struct vg_buf err = { 0 };
		assert_int_equal(vex_parse(bad[i], strlen(bad[i]), "bad.json", &d, &err), -1);
		assert_non_null(strstr(err.data, "bad.json"));
		buf_free(&err);
	}
}

static void test_ignore_reasons(void **state)
{
	(void)state;
	static const char text[] = "CVE-2021-23337 exp:2999-01-01 # template() is never called\n"
				   "DSA-5532-1   # fixed by a backport\n"
				   "DSA-5585-1 exp:2000-01-01 # expired\n";
	struct ignore_list l;
	struct vg_buf err = { 0 };
	struct scan_result r;
	demo(&r);
	assert_int_equal(ignore_parse(text, strlen(text), ".vigilignore", &l, &err), 0);
	assert_int_equal(ignore_apply(&l, &r, "2026-12-06"), 2);
	const struct scan_suppressed *x = supp(&r, "GHSA-35jh-r3h4-6jhm");
	assert_non_null(x);
	assert_string_equal(x->source, "ignore .vigilignore:1");
	assert_string_equal(x->reason, "template() is never called");
	assert_string_equal(supp(&r, "DSA-5532-1")->reason, "fixed by a backport");
	assert_true(has(&r, "DSA-5585-1"));
	ignore_free(&l);
	scan_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_openvex),	   cmocka_unit_test(test_openvex_001),
		cmocka_unit_test(test_cyclonedx),   cmocka_unit_test(test_bad),
		cmocka_unit_test(test_ignore_reasons),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
