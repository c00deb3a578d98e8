/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: policy helpers (versions, image references, Dockerfile lines, manifest objects). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "policy/dockerfile.h"
#include "policy/k8s_practice.h"
#include "policy/manifest.h"
#include "policy/pss.h"

static void test_versions(void **state)
{
	(void)state;
	assert_int_equal(pss_version_parse("latest"), PSS_VERSION_LATEST);
	assert_int_equal(pss_version_parse("v1.25"), 25);
	assert_int_equal(pss_version_parse("1.0"), 0);
	assert_int_equal(pss_version_parse("v2.1"), -1);
	assert_int_equal(pss_version_parse("v1."), -1);
	assert_int_equal(pss_version_parse("v1.-3"), -1);
	assert_int_equal(pss_version_parse("v1.25x"), -1);
	assert_int_equal(pss_level_parse("restricted"), PSS_RESTRICTED);
	assert_int_equal(pss_level_parse("Restricted"), -1);
}

static void image(const char *ref, const char *reg, const char *tag, const char *dig)
{
	char r[256], t[256], d[256];
	k8s_practice_parse_image(ref, r, t, d);
	assert_string_equal(r, reg);
	assert_string_equal(t, tag);
	assert_string_equal(d, dig);
}

static void test_image_refs(void **state)
{
	(void)state;
	image("nginx", "docker.io", "", "");
	image("nginx:1.25", "docker.io", "1.25", "");
	image("library/nginx:latest", "docker.io", "latest", "");
	image("localhost:5000/app", "localhost:5000", "", "");
	image("localhost/app:v1", "localhost", "v1", "");
	image("ghcr.io/o/app@sha256:ab", "ghcr.io", "", "sha256:ab");
	image("r.example.com:443/a/b:1@sha256:cd", "r.example.com:443", "1", "sha256:cd");
}

static void test_dockerfile_lines(void **state)
{
	(void)state;
	const char *src = "# escape=\\\n\nFROM a:1\nRUN echo a \\\n  # comment\n  && echo b\nUSER 1\n";
	struct dockerfile d;
	char err[128];
	assert_int_equal(dockerfile_parse(src, strlen(src), &d, err, sizeof(err)), 0);
	assert_int_equal(d.n, 3);
	assert_string_equal(d.v[1].cmd, "RUN");
	assert_int_equal(d.v[1].line, 4);
	assert_string_equal(d.v[1].args, "echo a    && echo b");
	assert_int_equal(d.v[2].line, 7);
	dockerfile_free(&d);

	assert_int_equal(dockerfile_parse("RUN x\n", 6, &d, err, sizeof(err)), -1);
	assert_string_equal(err, "1:1: RUN before the first FROM");
	dockerfile_free(&d);
	assert_int_equal(dockerfile_parse("FROM a\nRUN <<E\nx\n", 17, &d, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not terminated"));
	dockerfile_free(&d);
}

static void test_manifest_objects(void **state)
{
	(void)state;
	const char *src = "kind: List\nitems:\n- kind: CronJob\n  metadata: {name: c, namespace: n}\n"
			  "  spec: {jobTemplate: {spec: {template: {spec: {containers: []}}}}}\n"
			  "---\nplain: yaml\n---\nkind: ConfigMap\nmetadata: {generateName: cm-}\n";
	struct manifest m;
	char err[128];
	assert_int_equal(manifest_parse(src, strlen(src), &m, err, sizeof(err)), 0);
	assert_int_equal(m.n, 2);
	assert_string_equal(m.objs[0].kind, "CronJob");
	assert_string_equal(m.objs[0].name, "c");
	assert_string_equal(m.objs[0].ns, "n");
	assert_non_null(m.objs[0].pod_spec);
	assert_int_equal(m.objs[0].line, 3);
	assert_string_equal(m.objs[1].name, "cm-");
	assert_null(m.objs[1].pod_spec);
	assert_null(m.objs[1].ns);
	manifest_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_image_refs),
		cmocka_unit_test(test_dockerfile_lines),
		cmocka_unit_test(test_manifest_objects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
