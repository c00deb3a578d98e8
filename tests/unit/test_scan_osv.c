/* SPDX-License-Identifier: Apache-2.0 */
/* OSV records: parsing, range evaluation, CVSS v3 and v4 scores. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "scan/matching/cvss.h"
#include "scan/matching/ignore.h"
#include "scan/matching/osv.h"

static void test_cvss3(void **state)
{
	(void)state;
	struct {
		const char *v;
		double score;
	} c[] = {
		/* scores as NVD's calculator gives them */
		{ "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8 },
		{ "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0 },
		{ "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1 },
		{ "CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N", 5.5 },
		{ "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", 5.9 },
		{ "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8 },
		{ "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4 },
		{ "CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N", 0.0 },
		{ "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H/E:P/RL:O", 7.5 },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(*c); i++) {
		double s = cvss3_base_score(c[i].v);
		if (s < c[i].score - 0.01 || s > c[i].score + 0.01)
			fail_msg("%s: %.1f, want %.1f", c[i].v, s, c[i].score);
	}
	assert_true(cvss3_base_score("CVSS:3.1/AV:N/AC:L") < 0);
	assert_true(cvss3_base_score("CVSS:2.0/AV:N") < 0);
	assert_true(cvss3_base_score("CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H") < 0);
	assert_true(cvss3_base_score("CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H") < 0);
	assert_int_equal(cvss_severity(9.8), SEV_CRITICAL);
	assert_int_equal(cvss_severity(7.0), SEV_HIGH);
	assert_int_equal(cvss_severity(6.9), SEV_MEDIUM);
	assert_int_equal(cvss_severity(3.9), SEV_LOW);
}

/* CVSS v4.0: scores from FIRST's calculator (the specification's reference
 * implementation), base-only and with threat/environmental metrics. */
static void test_cvss4(void **state)
{
	(void)state;
	struct {
		const char *v;
		double score;
	} c[] = {
		{ "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3 },
		{ "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H", 10.0 },
		{ "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N", 0.0 },
		{ "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:H/SI:H/SA:H", 7.9 },
		{ "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N", 6.9 },
		{ "CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:N/VI:L/VA:N/SC:N/SI:N/SA:N", 5.3 },
		{ "CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N/E:X", 5.3 },
		{ "CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N", 1.0 },
		{ "CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:P/VC:N/VI:H/VA:H/SC:N/SI:L/SA:L", 5.2 },
		{ "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:U", 9.1 },
		{ "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/MVI:L/MSA:S", 9.8 },
		{ "CVSS:4.0/AV:N/AC:H/AT:N/PR:H/UI:N/VC:N/VI:N/VA:H/SC:H/SI:H/SA:H/CR:L/IR:L/AR:L", 5.8 },
		{ "CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:P/VC:N/VI:H/VA:H/SC:N/SI:L/SA:L/E:P/CR:H/IR:M/AR:H/"
		  "MAV:A/MAT:P/MPR:N/MVI:H/MVA:N/MSI:H/MSA:N/S:N/V:C/U:Amber",
		  4.7 },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(*c); i++) {
		double s = cvss4_score(c[i].v);
		if (s < c[i].score - 0.01 || s > c[i].score + 0.01)
			fail_msg("%s: %.1f, want %.1f", c[i].v, s, c[i].score);
	}
	const char *bad[] = {
		"CVSS:4.0/AV:F/AC:L/AT:N/PR:N/UI:N/VC:N/VI:L/VA:N/SC:N/SI:N/SA:N", /* value */
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/ui:N/VC:N/VI:L/VA:N/SC:N/SI:N/SA:N", /* key case */
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:L/SC:N/SI:N/SA:N", /* VA missing */
		"CVSS:4.0/AC:L/AV:N/AT:N/PR:N/UI:N/VC:N/VI:L/VA:N/SC:N/SI:N/SA:N", /* order */
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:L/VA:N/SC:N/SI:N/SA:N/", /* empty */
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:L/VA:N/SC:N/SI:N/SA:N/E:A/E:A", /* twice */
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:L/VA:N/SC:N/SI:S/SA:N", /* S is MSI's */
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:L/VA:N/SC:N/SI:N/SA:N/U:Blue",
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:L/VA:N/SC:N/SI:N/SA:N/XX:X",
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
		"CVSS:4.0/",
		"",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (cvss4_score(bad[i]) >= 0)
			fail_msg("accepted %s", bad[i]);
}

/* tests/golden/cvss4/vectors.txt: "VECTOR SCORE" lines scored by another
 * implementation (see the file's header). */
static void test_cvss4_golden(void **state)
{
	(void)state;
	const char *dir = getenv("VIGIL_SRCDIR");
	char path[4096], line[512];
	snprintf(path, sizeof(path), "%s/tests/golden/cvss4/vectors.txt", dir ? dir : ".");
	FILE *f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s", path);
	int n = 0, bad = 0;
	while (fgets(line, sizeof(line), f)) {
		char *sp = strrchr(line, ' ');
		if (line[0] == '#' || !sp)
			continue;
		*sp = '\0';
		double want = strtod(sp + 1, NULL), got = cvss4_score(line);
		n++;
		if (got < want - 0.01 || got > want + 0.01) {
			if (bad++ < 10)
				print_error("%s: %.1f, want %.1f\n", line, got, want);
		}
	}
	fclose(f);
	if (bad)
		fail_msg("%d of %d vectors scored differently", bad, n);
	assert_true(n >= 1000);
}

static bool aff(enum vercmp_scheme s, const char *v, const char *ranges, const char *versions,
		const char *want_fixed)
{
	char *fixed = NULL;
	bool a = osv_affects(s, v, ranges, versions, &fixed);
	if (want_fixed)
		assert_string_equal(fixed ? fixed : "", want_fixed);
	free(fixed);
	return a;
}

static void test_ranges(void **state)
{
	(void)state;
	const char *two = "[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},"
			  "{\"fixed\":\"1.5\"},{\"introduced\":\"2.0\"},{\"fixed\":\"2.5\"}]}]";
	assert_true(aff(VERCMP_PEP440, "1.0", two, "[]", "1.5"));
	assert_false(aff(VERCMP_PEP440, "1.5", two, "[]", NULL));
	assert_false(aff(VERCMP_PEP440, "1.7", two, "[]", NULL));
	assert_true(aff(VERCMP_PEP440, "2.0", two, "[]", "2.5"));
	assert_true(aff(VERCMP_PEP440, "2.5rc1", two, "[]", "2.5"));
	assert_false(aff(VERCMP_PEP440, "2.5", two, "[]", NULL));
	/* events in any order in the record */
	const char *shuffled = "[{\"type\":\"ECOSYSTEM\",\"events\":[{\"fixed\":\"2.5\"},"
			       "{\"introduced\":\"2.0\"},{\"fixed\":\"1.5\"},{\"introduced\":\"0\"}]}]";
	assert_false(aff(VERCMP_PEP440, "1.7", shuffled, "[]", NULL));
	assert_true(aff(VERCMP_PEP440, "2.1", shuffled, "[]", NULL));
	const char *la = "[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"1.0\"},"
			 "{\"last_affected\":\"1.4\"}]}]";
	assert_true(aff(VERCMP_SEMVER, "1.4.0", la, "[]", ""));
	assert_false(aff(VERCMP_SEMVER, "1.4.1", la, "[]", NULL));
	assert_false(aff(VERCMP_SEMVER, "0.9.0", la, "[]", NULL));
	const char *lim = "[{\"type\":\"SEMVER\",\"events\":[{\"introduced\":\"0\"},{\"limit\":\"2.0.0\"}]}]";
	assert_true(aff(VERCMP_GO, "v1.9.9", lim, "[]", NULL));
	assert_false(aff(VERCMP_GO, "v2.0.0", lim, "[]", NULL));
	/* dpkg: '~' before the release; epochs */
	const char *deb = "[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},"
			  "{\"fixed\":\"1:2.0-1\"}]}]";
	assert_true(aff(VERCMP_DPKG, "1:2.0~rc1-1", deb, "[]", "1:2.0-1"));
	assert_true(aff(VERCMP_DPKG, "9.9", deb, "[]", NULL));
	assert_false(aff(VERCMP_DPKG, "1:2.0-1", deb, "[]", NULL));
	/* explicit versions, GIT ranges ignored */
	const char *git = "[{\"type\":\"GIT\",\"repo\":\"x\",\"events\":[{\"introduced\":\"0\"}]}]";
	assert_false(aff(VERCMP_PEP440, "1.0", git, "[]", NULL));
	assert_true(aff(VERCMP_PEP440, "1.0.0", git, "[\"0.9\",\"1.0\"]", NULL));
	assert_false(aff(VERCMP_PEP440, "1.1", git, "[\"0.9\",\"1.0\"]", NULL));
	/* malformed stored JSON affects nothing and does not crash */
	assert_false(aff(VERCMP_PEP440, "1.0", "[{", "{", NULL));
}

static void test_parse(void **state)
{
	struct osv_record r;
	struct vg_buf err = { 0 };
	(void)state;
	const char *rec =
		"{\"id\":\"GHSA-x\",\"aliases\":[\"CVE-2024-1\",\"CVE-2024-2\"],\"summary\":\"s\","
		"\"severity\":[{\"type\":\"CVSS_V3\",\"score\":\"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\"}],"
		"\"affected\":[{\"package\":{\"ecosystem\":\"PyPI\",\"name\":\"Foo.Bar\"},"
		"\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"}]}]},"
		"{\"package\":{\"purl\":\"pkg:x/y\"}}]}";
	assert_int_equal(osv_parse(rec, strlen(rec), "x.json", &r, &err), 0);
	assert_string_equal(r.aliases, "CVE-2024-1,CVE-2024-2");
	assert_int_equal(r.severity, SEV_CRITICAL);
	assert_int_equal(r.naffected, 1);
	assert_string_equal(r.affected[0].name, "foo-bar");
	osv_record_free(&r);
	const char *ds = "{\"id\":\"GHSA-y\",\"database_specific\":{\"severity\":\"MODERATE\"}}";
	assert_int_equal(osv_parse(ds, strlen(ds), "y.json", &r, &err), 0);
	assert_int_equal(r.severity, SEV_MEDIUM);
	osv_record_free(&r);
	/* a v4 vector alone scores; with a v3 vector too, the higher score counts */
	const char *v4 = "{\"id\":\"GHSA-z\",\"severity\":[{\"type\":\"CVSS_V4\",\"score\":"
			 "\"CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N\"}],"
			 "\"database_specific\":{\"severity\":\"HIGH\"}}";
	assert_int_equal(osv_parse(v4, strlen(v4), "z.json", &r, &err), 0);
	assert_int_equal(r.severity, SEV_LOW);
	assert_true(r.score > 0.99 && r.score < 1.01);
	osv_record_free(&r);
	const char *both = "{\"id\":\"GHSA-w\",\"severity\":["
			   "{\"type\":\"CVSS_V3\",\"score\":\"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N\"},"
			   "{\"type\":\"CVSS_V4\",\"score\":"
			   "\"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N\"}]}";
	assert_int_equal(osv_parse(both, strlen(both), "w.json", &r, &err), 0);
	assert_int_equal(r.severity, SEV_CRITICAL);
	assert_true(r.score > 9.29 && r.score < 9.31);
	osv_record_free(&r);
	assert_int_equal(osv_parse("{\"id\":", 6, "bad.json", &r, &err), -1);
	assert_non_null(strstr(err.data, "cannot parse bad.json:1:"));
	buf_reset(&err);
	assert_int_equal(osv_parse("[1]", 3, "arr.json", &r, &err), -1);
	assert_non_null(strstr(err.data, "arr.json: not an OSV record"));
	buf_free(&err);
}

static void test_ignore(void **state)
{
	struct ignore_list l;
	struct vg_buf err = { 0 };
	struct scan_result r = { 0 };
	const char *text = "# comment\nCVE-2024-2  # alias of GHSA-x\n"
			   "GO-1 exp:2020-01-01\npath:etc/*.pem\n\n  no-healthcheck\n";
	(void)state;
	assert_int_equal(ignore_parse(text, strlen(text), ".vigilignore", &l, &err), 0);
	assert_int_equal(l.n, 4);
	scan_add_pkg(&r, "pypi", "a", "1", "x/METADATA");
	r.vulns = calloc(3, sizeof(*r.vulns));
	const char *ids[] = { "GHSA-x", "GO-1", "GHSA-y" };
	for (int i = 0; i < 3; i++) {
		r.vulns[i].id = strdup(ids[i]);
		r.vulns[i].aliases = strdup(i == 0 ? "CVE-2024-1,CVE-2024-2" : "");
		r.vulns[i].summary = strdup("");
		r.vulns[i].severity = SEV_HIGH;
		r.vulns[i].fixed = strdup("");
	}
	r.nvulns = r.cap_vulns = 3;
	r.secrets = calloc(1, sizeof(*r.secrets));
	r.secrets[0] = (struct scan_secret){ .rule = strdup("private-key"), .title = strdup("t"),
					     .severity = SEV_HIGH, .path = strdup("etc/k.pem"),
					     .match = strdup("m") };
	r.nsecrets = r.cap_secrets = 1;
	/* GO-1 expired in 2020: it counts again */
	assert_int_equal(ignore_apply(&l, &r, "2026-11-28"), 2);
	assert_int_equal(r.nvulns, 2);
	assert_string_equal(r.vulns[0].id, "GO-1");
	assert_int_equal(r.nsecrets, 0);
	ignore_free(&l);
	scan_result_free(&r);
	const char *bad = "CVE-1 exp:2024-13-01\n";
	assert_int_equal(ignore_parse(bad, strlen(bad), "f", &l, &err), -1);
	assert_non_null(strstr(err.data, "cannot parse f:1:11: bad date '2024-13-01'"));
	buf_reset(&err);
	assert_int_equal(ignore_parse("A B\n", 4, "f", &l, &err), -1);
	assert_non_null(strstr(err.data, "f:1:3: expected 'ID [exp:YYYY-MM-DD]'"));
	buf_free(&err);
}

/*
 * Ranges whose two top events order one way under one scheme and the other
 * way under the other ("1.0rc1" is below "1.0" for PEP 440, above it for
 * dpkg), below a hundred events both order alike so that each sort takes a
 * while. A wrong order flips the answer.
 */
struct sort_race {
	enum vercmp_scheme scheme;
	const char *v;
	char *ranges;
	int wrong;
	int iterations;
};

static char *race_ranges(const char *first, const char *second)
{
	struct vg_buf b = { 0 };

	buf_adds(&b, "[{\"type\":\"ECOSYSTEM\",\"events\":[");
	for (int i = 1; i <= 100; i++)
		buf_printf(&b, "{\"%s\":\"0.1.%d\"},", i % 2 ? "introduced" : "fixed", i);
	buf_printf(&b, "{\"introduced\":\"%s\"},{\"fixed\":\"%s\"}]}]", first, second);
	return b.data;
}

static void *sort_race_run(void *arg)
{
	struct sort_race *t = arg;

	for (int i = 0; i < t->iterations && !t->wrong; i++)
		if (osv_affects(t->scheme, t->v, t->ranges, "[]", NULL))
			t->wrong = i + 1;
	return NULL;
}

/* Two threads evaluating ranges under different schemes must not see each other's order. */
static void test_ranges_threads(void **state)
{
	(void)state;
	struct sort_race t[2] = {
		/* PEP 440: [1.0rc1, 1.0) does not hold 1.0.1 */
		{ VERCMP_PEP440, "1.0.1", race_ranges("1.0rc1", "1.0"), 0, 2000 },
		/* dpkg: [1.0, 1.0rc1) does not hold 1.0rc2 */
		{ VERCMP_DPKG, "1.0rc2", race_ranges("1.0", "1.0rc1"), 0, 2000 },
	};
	pthread_t th[2];

	for (int k = 0; k < 2; k++) /* alone, each answers right */
		assert_false(osv_affects(t[k].scheme, t[k].v, t[k].ranges, "[]", NULL));
	for (int k = 0; k < 2; k++)
		assert_int_equal(pthread_create(&th[k], NULL, sort_race_run, &t[k]), 0);
	for (int k = 0; k < 2; k++)
		pthread_join(th[k], NULL);
	for (int k = 0; k < 2; k++) {
		free(t[k].ranges);
		if (t[k].wrong)
			fail_msg("thread %d: wrong answer at iteration %d", k, t[k].wrong);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cvss3),
		cmocka_unit_test(test_cvss4),
		cmocka_unit_test(test_cvss4_golden),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_ranges_threads),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_ignore),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
