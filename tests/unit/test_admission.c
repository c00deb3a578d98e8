/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: the admission policy file and decisions that need no server. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "admission/admission_policy.h"
#include "admission/admission_review.h"

static struct admission_policy *parse(const char *yaml, char *err, size_t errlen)
{
	return admission_policy_parse(yaml, strlen(yaml), err, errlen);
}

static void test_policy_modes(void **state)
{
	(void)state;
	char err[256];
	struct admission_policy *p = parse("defaults: {enforce: baseline, warn-version: v1.20}\n"
					   "namespaces:\n"
					   "  prod: {pod-security.kubernetes.io/enforce: restricted}\n"
					   "  old: {enforce-version: v1.10}\n",
					   err, sizeof(err));
	assert_non_null(p);
	struct pss_mode m = admission_policy_mode(p, "prod", MODE_ENFORCE);
	assert_int_equal(m.level, PSS_RESTRICTED);
	assert_int_equal(m.version, PSS_VERSION_LATEST);
	m = admission_policy_mode(p, "old", MODE_ENFORCE);
	assert_int_equal(m.level, PSS_BASELINE);
	assert_int_equal(m.version, 10);
	m = admission_policy_mode(p, "other", MODE_WARN);
	assert_int_equal(m.level, PSS_PRIVILEGED);
	assert_int_equal(m.version, 20);
	assert_int_equal(p->fail_open, 0);
	assert_int_equal(p->enforce_templates, 1);
	admission_policy_free(p);
}

static void bad(const char *yaml, const char *want)
{
	char err[256];
	struct admission_policy *p = parse(yaml, err, sizeof(err));
	assert_null(p);
	assert_string_equal(err, want);
}

static void test_policy_errors(void **state)
{
	(void)state;
	bad("defaults: {enforce: strict}\n", "1:21: unknown level 'strict' (privileged, baseline, restricted)");
	bad("defaults:\n  enforce-version: 1.x\n", "2:20: bad version '1.x' (latest or v1.N)");
	bad("images: {requireDigest: maybe}\n", "1:25: images.requireDigest must be true or false");
	bad("vulnerabilities: {maxSeverity: high}\n",
	    "1:18: vulnerabilities.maxSeverity needs vulnerabilities.database");
	bad("exemptions: {users: [a]}\n",
	    "1:14: unknown key 'users' in exemptions (namespaces, usernames, runtimeClasses)");
	bad("failurePolicy: maybe\n", "1:16: failurePolicy must be fail-open or fail-closed");
	bad("a: 1\n---\nb: 2\n", "3:1: a policy file holds one document");
}

static void judge(const struct admission_policy *p, const char *body, struct admission_decision *d)
{
	admission_review_handle(p, body, strlen(body), d);
}

#define REVIEW(op, obj, old)                                                                     \
	"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":"      \
	"{\"uid\":\"u1\",\"kind\":{\"kind\":\"Pod\"},\"namespace\":\"ns\",\"operation\":\"" op   \
	"\",\"object\":" obj ",\"oldObject\":" old "}}"
#define POD(img, extra)                                                                          \
	"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},\"spec\":{" extra "\"containers\":"     \
	"[{\"name\":\"c\",\"image\":\"" img "\",\"securityContext\":{\"privileged\":true}}]}}"

static void test_decisions(void **state)
{
	(void)state;
	char err[256];
	struct admission_policy *p =
		parse("defaults: {enforce: baseline}\n"
		      "images: {allowedRegistries: [registry.example.com, docker.io/library]}\n",
		      err, sizeof(err));
	assert_non_null(p);
	struct admission_decision d;

	judge(p, REVIEW("CREATE", POD("registry.example.com/a:1", ""), "null"), &d);
	assert_int_equal(d.http_status, 200);
	assert_false(d.allowed);
	assert_string_equal(d.reason, "pss");
	admission_decision_free(&d);

	/* PSA: an update that only changes the image is not judged again */
	judge(p, REVIEW("UPDATE", POD("registry.example.com/a:2", ""), POD("registry.example.com/a:1", "")), &d);
	assert_true(d.allowed);
	assert_string_equal(d.reason, "insignificant pod update");
	admission_decision_free(&d);
	/* ... but one that changes the spec otherwise is */
	judge(p, REVIEW("UPDATE", POD("registry.example.com/a:1", "\"hostIPC\":false,"),
			POD("registry.example.com/a:1", "")), &d);
	assert_false(d.allowed);
	admission_decision_free(&d);

	/* registries are matched as path prefixes after normalisation */
	static const char *const ok[] = { "nginx", "library/nginx:1", "docker.io/nginx@sha256:ab",
					  "registry.example.com/x/y:1" };
	static const char *const no[] = { "evil/nginx", "registry.example.com.evil.io/x",
					  "docker.io/libraryx/a", "registry.example.com:5000/x" };
	for (size_t i = 0; i < 4; i++) {
		char body[1024];
		snprintf(body, sizeof(body),
			 REVIEW("CREATE", "{\"kind\":\"Pod\",\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"%s\"}]}}", "null"),
			 ok[i]);
		judge(p, body, &d);
		assert_true(d.allowed);
		admission_decision_free(&d);
		snprintf(body, sizeof(body),
			 REVIEW("CREATE", "{\"kind\":\"Pod\",\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"%s\"}]}}", "null"),
			 no[i]);
		judge(p, body, &d);
		assert_false(d.allowed);
		assert_string_equal(d.reason, "images");
		admission_decision_free(&d);
	}
	admission_policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_modes),
		cmocka_unit_test(test_policy_errors),
		cmocka_unit_test(test_decisions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
