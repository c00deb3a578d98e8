/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for profile/profile_protect.c: the program path of exec items
 * (with and without " as NAME", patterns, relative and oversized ones
 * refused), connect items' host and port (tcp/udp prefixes, IPv6 in
 * brackets, names, bad ports refused), and resolv.conf nameservers (comments,
 * scopes, tabs, CRLF, non-addresses and the bound).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "profile/profile_protect.h"

static void test_exec_program(void **state)
{
	(void)state;
	char p[64], n[32];
	assert_true(profile_exec_program("/bin/busybox as wget <- /bin/busybox as sh", p, sizeof(p), n, sizeof(n)));
	assert_string_equal(p, "/bin/busybox");
	assert_string_equal(n, "wget");
	assert_true(profile_exec_program("/usr/sbin/nginx <- <outside>", p, sizeof(p), n, sizeof(n)));
	assert_string_equal(p, "/usr/sbin/nginx");
	assert_string_equal(n, "");
	assert_true(profile_exec_program("/app/*/run <- /bin/sh", p, sizeof(p), n, sizeof(n)));
	assert_string_equal(p, "/app/*/run");
	/* " as " after the arrow is the parent's */
	assert_true(profile_exec_program("/bin/x <- /bin/busybox as sh", p, sizeof(p), n, sizeof(n)));
	assert_string_equal(p, "/bin/x");
	assert_string_equal(n, "");
	assert_false(profile_exec_program("bin/x <- /bin/sh", p, sizeof(p), n, sizeof(n)));
	assert_false(profile_exec_program("", p, sizeof(p), n, sizeof(n)));
	assert_false(profile_exec_program(" as x <- /bin/sh", p, sizeof(p), n, sizeof(n)));
	char big[100];
	memset(big, 'a', sizeof(big));
	big[0] = '/';
	big[99] = 0;
	assert_false(profile_exec_program(big, p, sizeof(p), n, sizeof(n)));
	assert_false(profile_exec_program("/bin/python3 as aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa <- /bin/sh", p, sizeof(p), n,
					  sizeof(n)));
}

static void test_dest_split(void **state)
{
	(void)state;
	char h[64];
	uint16_t port = 0;
	assert_true(profile_dest_split("tcp/10.0.0.5:8080", h, sizeof(h), &port));
	assert_string_equal(h, "10.0.0.5");
	assert_int_equal(port, 8080);
	assert_true(profile_dest_split("udp/[fd00::1]:53", h, sizeof(h), &port));
	assert_string_equal(h, "fd00::1");
	assert_int_equal(port, 53);
	assert_true(profile_dest_split("tcp/api.example.com:443", h, sizeof(h), &port));
	assert_string_equal(h, "api.example.com");
	assert_true(profile_dest_split("192.168.1.1:5432", h, sizeof(h), &port));
	assert_string_equal(h, "192.168.1.1");
	assert_int_equal(port, 5432);
	assert_false(profile_dest_split("tcp/10.0.0.5:0", h, sizeof(h), &port));
	assert_false(profile_dest_split("tcp/10.0.0.5:65536", h, sizeof(h), &port));
	assert_false(profile_dest_split("tcp/10.0.0.5:80x", h, sizeof(h), &port));
	assert_false(profile_dest_split("tcp/10.0.0.5:", h, sizeof(h), &port));
	assert_false(profile_dest_split("tcp/10.0.0.5:-1", h, sizeof(h), &port));
	assert_false(profile_dest_split("tcp/:80", h, sizeof(h), &port));
	assert_false(profile_dest_split("nothing", h, sizeof(h), &port));
	assert_false(profile_dest_split("tcp/averyveryveryveryveryveryveryveryveryverylongname.example.com:80", h, 16, &port));
}

static void test_nameservers(void **state)
{
	(void)state;
	char ns[3][PROFILE_NS_LEN];
	const char *conf = "# generated\nsearch dns.podman\nnameserver 10.89.0.1\r\n"
			   "\tnameserver\tfe80::1%eth0 # link-local\nnameserver not-an-address\n"
			   "nameservers 1.1.1.1\nnameserver 8.8.8.8;x\nnameserver 9.9.9.9";
	assert_int_equal(profile_nameservers(conf, strlen(conf), ns, 3), 3);
	assert_string_equal(ns[0], "10.89.0.1");
	assert_string_equal(ns[1], "fe80::1");
	assert_string_equal(ns[2], "8.8.8.8");
	char ns4[4][PROFILE_NS_LEN];
	assert_int_equal(profile_nameservers(conf, strlen(conf), ns4, 4), 4);
	assert_string_equal(ns4[3], "9.9.9.9");
	/* the length given is the end: a line cut there is read as far as it goes ("9.9.9": no address) */
	assert_int_equal(profile_nameservers(conf, strlen(conf) - 2, ns4, 4), 3);
	assert_int_equal(profile_nameservers(conf, strlen(conf) - 1, ns4, 4), 3);
	assert_int_equal(profile_nameservers("nameserver 1.2.3.4", 18, ns4, 4), 1);
	assert_int_equal(profile_nameservers("", 0, ns, 3), 0);
	assert_int_equal(profile_nameservers("nameserver", 10, ns, 3), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec_program),
		cmocka_unit_test(test_dest_split),
		cmocka_unit_test(test_nameservers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
