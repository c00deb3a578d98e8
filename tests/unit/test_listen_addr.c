/* SPDX-License-Identifier: Apache-2.0 */
/* listen_addr_parse: the --listen forms the hub and the admission server take. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include "common/listen_addr.h"

static void test_forms(void **state)
{
	struct sockaddr_storage ss;
	int v6 = -1;
	(void)state;

	assert_int_equal(listen_addr_parse("127.0.0.1:8443", &ss, &v6), 0);
	assert_int_equal(v6, 0);
	const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
	assert_int_equal(ntohs(in->sin_port), 8443);
	assert_int_equal(ntohl(in->sin_addr.s_addr), 0x7f000001);

	assert_int_equal(listen_addr_parse("[::1]:9443", &ss, &v6), 0);
	assert_int_equal(v6, 1);
	assert_int_equal(ntohs(((const struct sockaddr_in6 *)&ss)->sin6_port), 9443);

	/* every address */
	assert_int_equal(listen_addr_parse(":7000", &ss, &v6), 0);
	/* the kernel picks the port (the tests use it) */
	assert_int_equal(listen_addr_parse("127.0.0.1:0", &ss, &v6), 0);
}

static void test_refused(void **state)
{
	struct sockaddr_storage ss;
	int v6;
	(void)state;
	const char *bad[] = { "", "8443", "localhost:8443", "127.0.0.1", "[::1]8443", "[::1", "1.2.3.4:port",
			      "1.2.3.4:99999", "[zz]:1", "1.2.3.4:", ":+80", ": 80" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(listen_addr_parse(bad[i], &ss, &v6), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
