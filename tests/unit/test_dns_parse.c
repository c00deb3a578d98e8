/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for state/dns_parse.c on messages built byte by byte per RFC 1035:
 * a plain A answer, compressed names (a pointer to the question, a chain of
 * pointers), a CNAME chain with AAAA, the header fields, messages cut short at
 * every byte (records before the cut kept, never a read past the end: ASan
 * build), compression loops and forward pointers refused, label and name
 * length limits, reserved label types, escaping of odd bytes, lowercasing,
 * records of other types skipped, and the answer limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "state/dns_parse.h"
#include "test_dns_msg.h"

static struct dns_msg msg;
static char err[128];

static void test_simple_a(void **state)
{
	(void)state;
	struct dmsg m;
	dm_header(&m, DM_RESPONSE, 1, 1, 0, 0);
	size_t q = dm_name(&m, "api.example.com");
	dm_question(&m, 1);
	dm_name_ptr(&m, "", q);
	dm_a(&m, 300, 93, 184, 216, 34);

	assert_int_equal(dns_parse(m.b, m.n, &msg, err, sizeof(err)), 0);
	assert_int_equal(msg.id, 0x1234);
	assert_true(msg.qr);
	assert_int_equal(msg.opcode, 0);
	assert_int_equal(msg.rcode, 0);
	assert_false(msg.tc);
	assert_true(msg.has_question);
	assert_string_equal(msg.qname, "api.example.com");
	assert_int_equal(msg.qtype, 1);
	assert_int_equal(msg.qclass, 1);
	assert_int_equal(msg.nanswers, 1);
	assert_false(msg.truncated);
	assert_string_equal(msg.answers[0].name, "api.example.com");
	assert_int_equal(msg.answers[0].type, DNS_TYPE_A);
	assert_int_equal(msg.answers[0].ttl, 300);
	const uint8_t want[4] = { 93, 184, 216, 34 };
	assert_memory_equal(msg.answers[0].u.addr, want, 4);
}

static void test_header_fields(void **state)
{
	(void)state;
	struct dmsg m;
	/* a query (QR clear), opcode 2 (STATUS), TC; then a response with NXDOMAIN */
	dm_header(&m, 0x1000 | 0x0200, 0, 0, 3, 4);
	assert_int_equal(dns_parse(m.b, m.n, &msg, err, sizeof(err)), 0);
	assert_false(msg.qr);
	assert_int_equal(msg.opcode, 2);
	assert_true(msg.tc);
	assert_int_equal(msg.nscount, 3);
	assert_int_equal(msg.arcount, 4);
	assert_false(msg.has_question);
	dm_header(&m, 0x8183, 0, 0, 0, 0);
	assert_int_equal(dns_parse(m.b, m.n, &msg, err, sizeof(err)), 0);
	assert_int_equal(msg.rcode, 3);
	/* shorter than a header */
	assert_int_equal(dns_parse(m.b, 11, &msg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "shorter than a DNS header"));
}

static void test_cname_chain_aaaa(void **state)
{
	(void)state;
	struct dmsg m;
	dm_header(&m, DM_RESPONSE, 1, 3, 0, 0);
	size_t q = dm_name(&m, "www.shop.test");
	dm_question(&m, 28);
	dm_name_ptr(&m, "", q);
	dm_cname(&m, 60, "shop.cdn.test");
	/* the second CNAME's owner: "shop.cdn.test" written out; its target compressed
	 * by hand: "edge" + pointer to "cdn.test" inside the first target */
	size_t owner2 = m.n;
	dm_name(&m, "shop.cdn.test");
	dm_u16(&m, 5);
	dm_u16(&m, 1);
	dm_u32(&m, 30);
	dm_u16(&m, 7); /* 1+4 "edge" + 2 pointer */
	size_t edge = m.n;
	dm_name_ptr(&m, "edge", owner2 + 5);
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	dm_name_ptr(&m, "", edge);
	dm_aaaa(&m, 120, v6);

	assert_int_equal(dns_parse(m.b, m.n, &msg, err, sizeof(err)), 0);
	assert_int_equal(msg.nanswers, 3);
	assert_string_equal(msg.answers[0].u.cname, "shop.cdn.test");
	assert_string_equal(msg.answers[1].name, "shop.cdn.test");
	assert_string_equal(msg.answers[1].u.cname, "edge.cdn.test");
	assert_string_equal(msg.answers[2].name, "edge.cdn.test");
	assert_int_equal(msg.answers[2].type, DNS_TYPE_AAAA);
	assert_memory_equal(msg.answers[2].u.addr, v6, 16);
	assert_int_equal(msg.answers[1].ttl, 30);
}

/* Every prefix of a valid message parses without error and without reading past
 * its end (the buffer is copied to an exact-size allocation for ASan) */
static void test_truncated_everywhere(void **state)
{
	(void)state;
	struct dmsg m;
	dm_header(&m, DM_RESPONSE, 1, 2, 0, 0);
	size_t q = dm_name(&m, "a.example.org");
	dm_question(&m, 1);
	dm_name_ptr(&m, "", q);
	dm_a(&m, 10, 10, 0, 0, 1);
	size_t first_end = m.n;
	dm_name_ptr(&m, "", q);
	dm_a(&m, 10, 10, 0, 0, 2);
	for (size_t n = 12; n <= m.n; n++) {
		uint8_t *copy = malloc(n);
		memcpy(copy, m.b, n);
		assert_int_equal(dns_parse(copy, n, &msg, err, sizeof(err)), 0);
		free(copy);
		if (n == m.n) {
			assert_false(msg.truncated);
			assert_int_equal(msg.nanswers, 2);
		} else {
			assert_true(msg.truncated);
			assert_int_equal(msg.nanswers, n >= first_end ? 1 : 0);
		}
	}
}

static void test_pointer_loops(void **state)
{
	(void)state;
	struct dmsg m;
	/* a name that points at itself */
	dm_header(&m, DM_RESPONSE, 1, 0, 0, 0);
	dm_u16(&m, 0xc000 | 12);
	dm_question(&m, 1);
	assert_int_equal(dns_parse(m.b, m.n, &msg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "compression pointer"));

	/* a label then a pointer back to that label: a loop through it */
	dm_header(&m, DM_RESPONSE, 1, 0, 0, 0);
	dm_name_ptr(&m, "x", 12);
	dm_question(&m, 1);
	assert_int_equal(dns_parse(m.b, m.n, &msg, err, sizeof(err)), -1);

	/* two names pointing at each other: the second refers forwards to the first, which refers to it */
	dm_header(&m, DM_RESPONSE, 2, 0, 0, 0);
	dm_name_ptr(&m, "a", 20); /* 12: 1 'a' ptr(20) -> forwards */
	dm_question(&m, 1);       /* 16..19 */
	dm_name_ptr(&m, "b", 12); /* 20: 1 'b' ptr(12) */
	dm_question(&m, 1);
	assert_int_equal(dns_parse(m.b, m.n, &msg, err, sizeof(err)), -1);

	/* a pointer into the header */
	dm_header(&m, DM_RESPONSE, 1, 0, 0, 0);
	dm_u16(&m, 0xc000 | 4);
	dm_question(&m, 1);
	assert_int_equal(dns_parse(m.b, m.n, &msg, err, sizeof(err)), -1);

	/* a long legal chain of backward pointers: each name one label + pointer to the previous */
	dm_header(&m, DM_RESPONSE, 40, 0, 0, 0);
	size_t prev = dm_name(&m, "root");
	dm_question(&m, 1);
	for (int i = 1; i < 40; i++) {
		size_t at = dm_name_ptr(&m, "l", prev);
		dm_question(&m, 1);
		prev = at;
	}
	/* 39 pointers deep for the last: more than DNS_MAX_POINTERS */
	assert_int_equal(dns_parse(m.b, m.n, &msg, err, sizeof(err)), -1);
	/* the first 30 questions are fine (at most 29 pointers each) */
	struct dmsg m2 = m;
	m2.b[5] = 30;
	size_t off = 12;
	char name[DNS_NAME_MAX];
	for (int i = 0; i < 30; i++) {
		assert_int_equal(dns_read_name(m2.b, m2.n, &off, name, err, sizeof(err)), 0);
		off += 4;
	}
	assert_string_equal(name, "l.l.l.l.l.l.l.l.l.l.l.l.l.l.l.l.l.l.l.l.l.l.l.l.l.l.l.l.l.root");
}

static void test_limits_and_escapes(void **state)
{
	(void)state;
	struct dmsg m;
	char name[DNS_NAME_MAX];
	size_t off;

	/* a 63-octet label is fine, 64 is a reserved label type (0x40) */
	char l63[64];
	memset(l63, 'a', 63);
	l63[63] = 0;
	dm_header(&m, DM_RESPONSE, 1, 0, 0, 0);
	dm_name(&m, l63);
	off = 12;
	assert_int_equal(dns_read_name(m.b, m.n, &off, name, err, sizeof(err)), 0);
	assert_int_equal(strlen(name), 63);
	m.b[12] = 64;
	off = 12;
	assert_int_equal(dns_read_name(m.b, m.n, &off, name, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "reserved label type"));
	m.b[12] = 0x80;
	off = 12;
	assert_int_equal(dns_read_name(m.b, m.n, &off, name, err, sizeof(err)), -1);

	/* 255 octets on the wire is the most: four 63-octet labels are 4*64+1 = 257 */
	dm_header(&m, DM_RESPONSE, 1, 0, 0, 0);
	char big[300];
	snprintf(big, sizeof(big), "%s.%s.%s.%.61s", l63, l63, l63, l63); /* 3*64 + 62 + 1 = 255 */
	dm_name(&m, big);
	off = 12;
	assert_int_equal(dns_read_name(m.b, m.n, &off, name, err, sizeof(err)), 0);
	assert_int_equal(strlen(name), 253);
	snprintf(big, sizeof(big), "%s.%s.%s.%.62s", l63, l63, l63, l63); /* 256 */
	dm_header(&m, DM_RESPONSE, 1, 0, 0, 0);
	dm_name(&m, big);
	off = 12;
	assert_int_equal(dns_read_name(m.b, m.n, &off, name, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "longer than 255"));

	/* odd bytes: a dot, a backslash, a NUL, a space, a newline, a quote, an escape; uppercase folded */
	dm_header(&m, DM_RESPONSE, 1, 0, 0, 0);
	static const uint8_t odd[] = { 9, 'A', '.', '\\', 0, ' ', '\n', '"', 0x1b, 0xff, 3, 'C', 'o', 'M', 0 };
	memcpy(m.b + m.n, odd, sizeof(odd));
	m.n += sizeof(odd);
	off = 12;
	assert_int_equal(dns_read_name(m.b, m.n, &off, name, err, sizeof(err)), 0);
	assert_string_equal(name, "a\\.\\\\\\000\\032\\010\"\\027\\255.com");
	assert_int_equal(off, 12 + sizeof(odd));

	/* the root */
	dm_header(&m, DM_RESPONSE, 1, 0, 0, 0);
	dm_u8(&m, 0);
	off = 12;
	assert_int_equal(dns_read_name(m.b, m.n, &off, name, err, sizeof(err)), 0);
	assert_string_equal(name, ".");

	/* a name of 63-byte labels of unprintable bytes: fits the wire, not the presentation form */
	dm_header(&m, DM_RESPONSE, 1, 0, 0, 0);
	for (int l = 0; l < 2; l++) {
		dm_u8(&m, 63);
		for (int i = 0; i < 63; i++)
			dm_u8(&m, 1);
	}
	dm_u8(&m, 0);
	off = 12;
	assert_int_equal(dns_read_name(m.b, m.n, &off, name, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too long once escaped"));
}

static void test_skips_and_bad_records(void **state)
{
	(void)state;
	struct dmsg m;
	dm_header(&m, DM_RESPONSE, 1, 3, 0, 0);
	size_t q = dm_name(&m, "mail.test");
	dm_question(&m, 15);
	/* an MX record (type 15): skipped */
	dm_name_ptr(&m, "", q);
	dm_u16(&m, 15);
	dm_u16(&m, 1);
	dm_u32(&m, 100);
	dm_u16(&m, 4);
	dm_u16(&m, 10);
	dm_name_ptr(&m, "", q);
	/* a TXT record */
	dm_name_ptr(&m, "", q);
	dm_u16(&m, 16);
	dm_u16(&m, 1);
	dm_u32(&m, 0xffffffffu);
	dm_u16(&m, 3);
	dm_u8(&m, 2);
	dm_u8(&m, 'h');
	dm_u8(&m, 'i');
	/* an A record with the top TTL bit set: TTL 0 */
	dm_name_ptr(&m, "", q);
	dm_a(&m, 0x80000010u, 1, 2, 3, 4);
	assert_int_equal(dns_parse(m.b, m.n, &msg, err, sizeof(err)), 0);
	assert_int_equal(msg.nanswers, 1);
	assert_int_equal(msg.answers[0].ttl, 0);

	/* an A record whose RDATA is 5 bytes */
	dm_header(&m, DM_RESPONSE, 1, 1, 0, 0);
	q = dm_name(&m, "x.test");
	dm_question(&m, 1);
	dm_name_ptr(&m, "", q);
	dm_u16(&m, 1);
	dm_u16(&m, 1);
	dm_u32(&m, 1);
	dm_u16(&m, 5);
	for (int i = 0; i < 5; i++)
		dm_u8(&m, 1);
	assert_int_equal(dns_parse(m.b, m.n, &msg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "wrong length"));

	/* a CNAME whose target runs past its RDATA length */
	dm_header(&m, DM_RESPONSE, 1, 1, 0, 0);
	q = dm_name(&m, "y.test");
	dm_question(&m, 1);
	dm_name_ptr(&m, "", q);
	dm_u16(&m, 5);
	dm_u16(&m, 1);
	dm_u32(&m, 1);
	dm_u16(&m, 3); /* "z.test" needs 8 */
	dm_name(&m, "z.test");
	assert_int_equal(dns_parse(m.b, m.n, &msg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "CNAME"));
}

static void test_answer_limit(void **state)
{
	(void)state;
	static struct dmsg m;
	dm_header(&m, DM_RESPONSE, 1, DNS_MAX_ANSWERS + 10, 0, 0);
	size_t q = dm_name(&m, "many.test");
	dm_question(&m, 1);
	for (int i = 0; i < DNS_MAX_ANSWERS + 10; i++) {
		dm_name_ptr(&m, "", q);
		dm_a(&m, 5, 10, 1, (uint8_t)(i >> 8), (uint8_t)i);
	}
	assert_int_equal(dns_parse(m.b, m.n, &msg, err, sizeof(err)), 0);
	assert_int_equal(msg.nanswers, DNS_MAX_ANSWERS);
	assert_int_equal(msg.answers_dropped, 10);
	assert_false(msg.truncated);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_a),
		cmocka_unit_test(test_header_fields),
		cmocka_unit_test(test_cname_chain_aaaa),
		cmocka_unit_test(test_truncated_everywhere),
		cmocka_unit_test(test_pointer_loops),
		cmocka_unit_test(test_limits_and_escapes),
		cmocka_unit_test(test_skips_and_bad_records),
		cmocka_unit_test(test_answer_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
