/* SPDX-License-Identifier: Apache-2.0 */
/* Registry references and WWW-Authenticate challenges (the pull itself is
 * tested against a real registry in tests/integration/test_scan_registry.sh). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "scan/sources/registry.h"

#define D64 "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_refs(void **state)
{
	(void)state;
	struct {
		const char *in, *host, *repo, *tag, *digest;
	} ok[] = {
		{ "docker://registry.example:5000/team/app:1.2", "registry.example:5000", "team/app",
		  "1.2", NULL },
		{ "docker://localhost/app", "localhost", "app", "latest", NULL },
		{ "docker://127.0.0.1:5000/a/b/c@" D64, "127.0.0.1:5000", "a/b/c", NULL, D64 },
		{ "docker://ghcr.io/o/r:v1@" D64, "ghcr.io", "o/r", "v1", D64 },
		{ "docker://alpine", "registry-1.docker.io", "library/alpine", "latest", NULL },
		{ "docker://bitnami/redis:7.2", "registry-1.docker.io", "bitnami/redis", "7.2", NULL },
		{ "docker://[::1]:5000/x_y.z-w:_t", "[::1]:5000", "x_y.z-w", "_t", NULL },
		{ "quay.io/a__b/c--d:T.1", "quay.io", "a__b/c--d", "T.1", NULL },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
		struct registry_ref r;
		struct vg_buf err = { 0 };
		if (registry_ref_parse(ok[i].in, &r, &err))
			fail_msg("%s: %s", ok[i].in, err.data);
		assert_string_equal(r.host, ok[i].host);
		assert_string_equal(r.repo, ok[i].repo);
		if (ok[i].tag)
			assert_string_equal(r.tag, ok[i].tag);
		else
			assert_null(r.tag);
		if (ok[i].digest)
			assert_string_equal(r.digest, ok[i].digest);
		else
			assert_null(r.digest);
		registry_ref_free(&r);
	}
	const char *bad[] = {
		"docker://", "docker://host.x/", "docker://host.x/App", "docker://host.x/a:",
		"docker://host.x/a:-x", "docker://host.x/a@sha256:12", "docker://host.x/a@md5:00",
		"docker://host.x/a//b", "docker://host.x/a/", "docker://host.x/.a", "docker://h.x:/a",
		"docker://h.x:1234567/a", "docker://[zz]/a", "docker://host.x/a b", "docker://h_x.y/a",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct registry_ref r;
		struct vg_buf err = { 0 };
		if (!registry_ref_parse(bad[i], &r, &err)) {
			registry_ref_free(&r);
			fail_msg("accepted %s", bad[i]);
		}
		assert_non_null(strstr(err.data, "image reference"));
		buf_free(&err);
	}
}

static void test_challenge(void **state)
{
	char *scheme, *realm, *service, *scope;
	(void)state;
	assert_int_equal(registry_challenge_parse(
				 "Bearer realm=\"https://auth.example/token\",service=\"registry.example\","
				 "scope=\"repository:a/b:pull,push\"",
				 &scheme, &realm, &service, &scope),
			 0);
	assert_string_equal(scheme, "Bearer");
	assert_string_equal(realm, "https://auth.example/token");
	assert_string_equal(service, "registry.example");
	assert_string_equal(scope, "repository:a/b:pull,push");
	free(scheme), free(realm), free(service), free(scope);
	assert_int_equal(registry_challenge_parse("Basic realm=basic-realm, charset=\"UTF-8\"", &scheme,
						  &realm, &service, &scope),
			 0);
	assert_string_equal(scheme, "Basic");
	assert_string_equal(realm, "basic-realm");
	assert_null(service);
	assert_null(scope);
	free(scheme), free(realm);
	/* escaped quotes; a repeated parameter keeps its first value */
	assert_int_equal(registry_challenge_parse("bearer Realm=\"a\\\"b\", realm=\"c\"", &scheme, &realm,
						  &service, &scope),
			 0);
	assert_string_equal(realm, "a\"b");
	free(scheme), free(realm);
	assert_int_equal(registry_challenge_parse("", &scheme, &realm, &service, &scope), -1);
	assert_int_equal(registry_challenge_parse("  =x", &scheme, &realm, &service, &scope), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refs),
		cmocka_unit_test(test_challenge),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
