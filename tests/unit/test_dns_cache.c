/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for state/dns_cache.c: names learnt per container from hand-built
 * answers (another container, the host, and another address learn nothing),
 * CNAME chains named with the question (the smallest TTL along the chain),
 * records off the chain ignored, TTL expiry with the clock passed in (the
 * floor and the cap), a later answer replacing an address's name, queries,
 * errors and malformed messages learning nothing, LRU eviction counted (a
 * looked-up entry survives), dns_cache_expire, and naming a flow as of its
 * open, and the addresses of a name (dns_cache_addrs_of).
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "state/dns_cache.h"
#include "test_dns_msg.h"

#define S 1000000000ull
#define WEB "5ad505f6c2d4de05faee7fb251e25b27cf04af50103100ef0cc6888c48eeaf99"
#define DB "0b1c0b1c0b1c0b1c0b1c0b1c0b1c0b1c0b1c0b1c0b1c0b1c0b1c0b1c0b1c0b1c"

static const uint8_t ip1[4] = { 93, 184, 216, 34 };
static const uint8_t ip2[4] = { 93, 184, 216, 35 };
static const uint8_t ip3[4] = { 93, 184, 216, 36 };

/* "name" A ip with ttl */
static void answer_a(struct dmsg *m, const char *name, uint32_t ttl, const uint8_t ip[4])
{
	dm_header(m, DM_RESPONSE, 1, 1, 0, 0);
	size_t q = dm_name(m, name);
	dm_question(m, 1);
	dm_name_ptr(m, "", q);
	dm_a(m, ttl, ip[0], ip[1], ip[2], ip[3]);
}

static struct dns_cache *cache_min0(size_t max)
{
	struct dns_cache_opts o = { .max_entries = max, .min_ttl_s = 0, .min_ttl_set = true };
	return dns_cache_new(&o);
}

static void test_learn_per_container(void **state)
{
	(void)state;
	struct dns_cache *c = cache_min0(0);
	struct dmsg m;
	char name[DNS_NAME_MAX];

	answer_a(&m, "API.Example.com", 300, ip1);
	assert_int_equal(dns_cache_learn(c, WEB, m.b, m.n, 10 * S), 1);
	assert_true(dns_cache_lookup(c, WEB, AF_INET, ip1, 11 * S, name));
	assert_string_equal(name, "api.example.com");
	/* another container, the host, another address: nothing */
	assert_false(dns_cache_lookup(c, DB, AF_INET, ip1, 11 * S, name));
	assert_string_equal(name, "");
	assert_false(dns_cache_lookup(c, "", AF_INET, ip1, 11 * S, name));
	assert_false(dns_cache_lookup(c, WEB, AF_INET, ip2, 11 * S, name));
	/* the same 4 bytes as the start of an IPv6 address are another address */
	uint8_t v6[16] = { 93, 184, 216, 34 };
	assert_false(dns_cache_lookup(c, WEB, AF_INET6, v6, 11 * S, name));
	/* the host learns for itself */
	assert_int_equal(dns_cache_learn(c, "", m.b, m.n, 10 * S), 1);
	assert_true(dns_cache_lookup(c, NULL, AF_INET, ip1, 11 * S, name));
	struct dns_cache_stats st;
	dns_cache_stats(c, &st);
	assert_int_equal(st.entries, 2);
	assert_int_equal(st.learnt, 2);
	assert_int_equal(st.messages, 2);
	dns_cache_free(c);
}

static void test_ttl_expiry(void **state)
{
	(void)state;
	struct dns_cache *c = cache_min0(0);
	struct dmsg m;
	char name[DNS_NAME_MAX];

	answer_a(&m, "short.test", 30, ip1);
	assert_int_equal(dns_cache_learn(c, WEB, m.b, m.n, 100 * S), 1);
	assert_true(dns_cache_lookup(c, WEB, AF_INET, ip1, 129 * S, name));
	assert_false(dns_cache_lookup(c, WEB, AF_INET, ip1, 130 * S, name));
	assert_false(dns_cache_lookup(c, WEB, AF_INET, ip1, 500 * S, name));
	/* a lookup as of an earlier time still finds it (a flow opened while it was fresh) */
	assert_true(dns_cache_lookup(c, WEB, AF_INET, ip1, 120 * S, name));
	/* expire keeps it for a while for such lookups, then drops it */
	assert_int_equal(dns_cache_expire(c, 131 * S), 0);
	assert_int_equal(dns_cache_expire(c, 200 * S), 1);
	assert_false(dns_cache_lookup(c, WEB, AF_INET, ip1, 120 * S, name));
	struct dns_cache_stats st;
	dns_cache_stats(c, &st);
	assert_int_equal(st.expired, 1);
	assert_int_equal(st.entries, 0);
	/* a refresh extends it */
	assert_int_equal(dns_cache_learn(c, WEB, m.b, m.n, 300 * S), 1);
	assert_int_equal(dns_cache_learn(c, WEB, m.b, m.n, 320 * S), 1);
	assert_true(dns_cache_lookup(c, WEB, AF_INET, ip1, 349 * S, name));
	dns_cache_free(c);

	/* the default floor: a TTL 0 answer is good for the next 5 s; the cap */
	struct dns_cache_opts o = { .max_ttl_s = 3600 };
	c = dns_cache_new(&o);
	answer_a(&m, "zero.test", 0, ip1);
	assert_int_equal(dns_cache_learn(c, WEB, m.b, m.n, 100 * S), 1);
	assert_true(dns_cache_lookup(c, WEB, AF_INET, ip1, 104 * S, name));
	assert_false(dns_cache_lookup(c, WEB, AF_INET, ip1, 105 * S, name));
	answer_a(&m, "long.test", 604800, ip2);
	assert_int_equal(dns_cache_learn(c, WEB, m.b, m.n, 100 * S), 1);
	assert_true(dns_cache_lookup(c, WEB, AF_INET, ip2, 3699 * S, name));
	assert_false(dns_cache_lookup(c, WEB, AF_INET, ip2, 3700 * S, name));
	dns_cache_free(c);
}

static void test_cname_chain(void **state)
{
	(void)state;
	struct dns_cache *c = cache_min0(0);
	struct dmsg m;
	char name[DNS_NAME_MAX];
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 7 };

	/* www.shop.test CNAME shop.cdn.test (ttl 60) CNAME edge.cdn.test (ttl 20);
	 * edge.cdn.test A ip1 (ttl 300), AAAA v6 (ttl 10); unrelated.test A ip2 */
	dm_header(&m, DM_RESPONSE, 1, 5, 0, 0);
	size_t q = dm_name(&m, "www.shop.test");
	dm_question(&m, 1);
	dm_name_ptr(&m, "", q);
	dm_cname(&m, 60, "shop.cdn.test");
	dm_name(&m, "shop.cdn.test");
	dm_cname(&m, 20, "edge.cdn.test");
	size_t edge = dm_name(&m, "edge.cdn.test");
	dm_a(&m, 300, ip1[0], ip1[1], ip1[2], ip1[3]);
	dm_name_ptr(&m, "", edge);
	dm_aaaa(&m, 10, v6);
	dm_name(&m, "unrelated.test");
	dm_a(&m, 300, ip2[0], ip2[1], ip2[2], ip2[3]);

	assert_int_equal(dns_cache_learn(c, WEB, m.b, m.n, 0), 2);
	assert_true(dns_cache_lookup(c, WEB, AF_INET, ip1, 1 * S, name));
	assert_string_equal(name, "www.shop.test");
	assert_true(dns_cache_lookup(c, WEB, AF_INET6, v6, 1 * S, name));
	assert_string_equal(name, "www.shop.test");
	/* off the chain: never learnt */
	assert_false(dns_cache_lookup(c, WEB, AF_INET, ip2, 1 * S, name));
	/* the A record's TTL is cut to the chain's smallest (20 s), the AAAA's is its own 10 s */
	assert_true(dns_cache_lookup(c, WEB, AF_INET, ip1, 19 * S, name));
	assert_false(dns_cache_lookup(c, WEB, AF_INET, ip1, 20 * S, name));
	assert_false(dns_cache_lookup(c, WEB, AF_INET6, v6, 10 * S, name));
	dns_cache_free(c);

	/* a CNAME loop (a -> b -> a) with an address for b: learnt once, terminates */
	c = cache_min0(0);
	dm_header(&m, DM_RESPONSE, 1, 3, 0, 0);
	q = dm_name(&m, "a.loop.test");
	dm_question(&m, 1);
	dm_name_ptr(&m, "", q);
	dm_cname(&m, 60, "b.loop.test");
	size_t b = dm_name(&m, "b.loop.test");
	dm_cname(&m, 60, "a.loop.test");
	dm_name_ptr(&m, "", b);
	dm_a(&m, 60, 1, 1, 1, 1);
	assert_int_equal(dns_cache_learn(c, WEB, m.b, m.n, 0), 1);
	static const uint8_t one[4] = { 1, 1, 1, 1 };
	assert_true(dns_cache_lookup(c, WEB, AF_INET, one, 1 * S, name));
	assert_string_equal(name, "a.loop.test");
	dns_cache_free(c);
}

static void test_replace_and_ignore(void **state)
{
	(void)state;
	struct dns_cache *c = cache_min0(0);
	struct dmsg m;
	char name[DNS_NAME_MAX];
	struct dns_cache_stats st;

	answer_a(&m, "one.test", 300, ip1);
	assert_int_equal(dns_cache_learn(c, WEB, m.b, m.n, 0), 1);
	answer_a(&m, "two.test", 300, ip1); /* the same address, a later answer */
	assert_int_equal(dns_cache_learn(c, WEB, m.b, m.n, 1 * S), 1);
	assert_true(dns_cache_lookup(c, WEB, AF_INET, ip1, 2 * S, name));
	assert_string_equal(name, "two.test");
	dns_cache_stats(c, &st);
	assert_int_equal(st.entries, 1);

	/* a query (QR clear), NXDOMAIN, a non-IN question, two questions: nothing */
	answer_a(&m, "q.test", 300, ip2);
	m.b[2] &= 0x7f;
	assert_int_equal(dns_cache_learn(c, WEB, m.b, m.n, 0), 0);
	answer_a(&m, "q.test", 300, ip2);
	m.b[3] = 0x83;
	assert_int_equal(dns_cache_learn(c, WEB, m.b, m.n, 0), 0);
	answer_a(&m, "q.test", 300, ip2);
	m.b[12 + 8 + 3] = 3; /* qclass CH: after "\1q\4test\0" (8 bytes) and the qtype */
	assert_int_equal(dns_cache_learn(c, WEB, m.b, m.n, 0), 0);
	answer_a(&m, "q.test", 300, ip2);
	m.b[5] = 2;
	assert_int_equal(dns_cache_learn(c, WEB, m.b, m.n, 0), 0); /* the answer is read as a second question */
	assert_false(dns_cache_lookup(c, WEB, AF_INET, ip2, 1 * S, name));
	/* malformed: counted, nothing learnt */
	answer_a(&m, "q.test", 300, ip2);
	m.b[12] = 0x40;
	assert_int_equal(dns_cache_learn(c, WEB, m.b, m.n, 0), -1);
	assert_int_equal(dns_cache_learn(c, WEB, m.b, 5, 0), -1);
	/* a container id that is too long */
	answer_a(&m, "q.test", 300, ip2);
	assert_int_equal(dns_cache_learn(c, WEB "00", m.b, m.n, 0), -1);
	dns_cache_stats(c, &st);
	assert_int_equal(st.malformed, 3);
	assert_int_equal(st.ignored, 4);
	assert_int_equal(st.entries, 1);
	dns_cache_free(c);
}

static void test_lru_eviction(void **state)
{
	(void)state;
	struct dns_cache_opts o = { .max_entries = 4, .max_per_container = 4, .min_ttl_set = true };
	struct dns_cache *c = dns_cache_new(&o);
	struct dmsg m;
	char name[DNS_NAME_MAX], qn[32];
	struct dns_cache_stats st;

	for (int i = 0; i < 4; i++) {
		uint8_t ip[4] = { 10, 0, 0, (uint8_t)i };
		snprintf(qn, sizeof(qn), "h%d.test", i);
		answer_a(&m, qn, 300, ip);
		assert_int_equal(dns_cache_learn(c, WEB, m.b, m.n, (uint64_t)i * S), 1);
	}
	/* using 10.0.0.0 makes 10.0.0.1 the least recently used */
	uint8_t ip0[4] = { 10, 0, 0, 0 }, ip1_[4] = { 10, 0, 0, 1 }, ip4[4] = { 10, 0, 0, 4 };
	assert_true(dns_cache_lookup(c, WEB, AF_INET, ip0, 5 * S, name));
	answer_a(&m, "h4.test", 300, ip4);
	assert_int_equal(dns_cache_learn(c, WEB, m.b, m.n, 6 * S), 1);
	assert_true(dns_cache_lookup(c, WEB, AF_INET, ip0, 7 * S, name));
	assert_string_equal(name, "h0.test");
	assert_false(dns_cache_lookup(c, WEB, AF_INET, ip1_, 7 * S, name));
	assert_true(dns_cache_lookup(c, WEB, AF_INET, ip4, 7 * S, name));
	dns_cache_stats(c, &st);
	assert_int_equal(st.entries, 4);
	assert_int_equal(st.evicted, 1);
	/* many more: the count stays bounded, every eviction counted */
	for (int i = 0; i < 1000; i++) {
		uint8_t ip[4] = { 10, 1, (uint8_t)(i >> 8), (uint8_t)i };
		answer_a(&m, "flood.test", 300, ip);
		assert_int_equal(dns_cache_learn(c, DB, m.b, m.n, 8 * S), 1);
	}
	dns_cache_stats(c, &st);
	assert_int_equal(st.entries, 4);
	assert_int_equal(st.evicted, 1001);
	assert_int_equal(st.quota_evicted, 997); /* h1 (web at its quota of 4) and the flood's own */
	dns_cache_free(c);
}

/* One container flooding answers cannot push out the names the others learnt */
static void test_per_container_quota(void **state)
{
	(void)state;
	struct dns_cache *c = cache_min0(8); /* a quarter each: 2 */
	struct dmsg m;
	char name[DNS_NAME_MAX];
	struct dns_cache_stats st;

	answer_a(&m, "one.test", 300, ip1);
	assert_int_equal(dns_cache_learn(c, WEB, m.b, m.n, 0), 1);
	answer_a(&m, "two.test", 300, ip2);
	assert_int_equal(dns_cache_learn(c, WEB, m.b, m.n, 0), 1);
	for (int i = 0; i < 500; i++) {
		uint8_t ip[4] = { 10, 6, (uint8_t)(i >> 8), (uint8_t)i };
		answer_a(&m, "flood.test", 300, ip);
		assert_int_equal(dns_cache_learn(c, DB, m.b, m.n, 1 * S), 1);
	}
	assert_true(dns_cache_lookup(c, WEB, AF_INET, ip1, 2 * S, name));
	assert_string_equal(name, "one.test");
	assert_true(dns_cache_lookup(c, WEB, AF_INET, ip2, 2 * S, name));
	/* the flood keeps only its latest two */
	uint8_t last[4] = { 10, 6, 1, 243 }, prev[4] = { 10, 6, 1, 242 }, old[4] = { 10, 6, 1, 241 };
	assert_true(dns_cache_lookup(c, DB, AF_INET, last, 2 * S, name));
	assert_true(dns_cache_lookup(c, DB, AF_INET, prev, 2 * S, name));
	assert_false(dns_cache_lookup(c, DB, AF_INET, old, 2 * S, name));
	dns_cache_stats(c, &st);
	assert_int_equal(st.entries, 4);
	assert_int_equal(st.evicted, 498);
	assert_int_equal(st.quota_evicted, 498);
	/* a third container still has room */
	answer_a(&m, "three.test", 300, ip1);
	assert_int_equal(dns_cache_learn(c, "", m.b, m.n, 3 * S), 1);
	assert_true(dns_cache_lookup(c, "", AF_INET, ip1, 4 * S, name));
	dns_cache_free(c);
}

static void test_name_flow(void **state)
{
	(void)state;
	struct dns_cache *c = cache_min0(0);
	struct dmsg m;
	answer_a(&m, "db.internal.test", 60, ip1);
	assert_int_equal(dns_cache_learn(c, WEB, m.b, m.n, 100 * S), 1);

	struct vg_flow f = { .proto = VG_FLOW_TCP, .phase = VG_FLOW_CLOSE };
	snprintf(f.container_id, sizeof(f.container_id), "%s", WEB);
	f.remote.family = AF_INET;
	f.remote.port = 5432;
	memcpy(f.remote.addr, ip1, 4);
	f.start_ns = 101 * S;
	f.ts_ns = 1000 * S; /* closed long after the TTL: named as of its open */
	assert_true(dns_cache_name_flow(c, &f));
	assert_string_equal(f.remote_name, "db.internal.test");
	f.start_ns = 170 * S; /* opened after the TTL ended */
	assert_false(dns_cache_name_flow(c, &f));
	assert_string_equal(f.remote_name, "");
	dns_cache_free(c);
}

/* DNS over TCP: length-prefixed messages, the last one cut short */
static void test_tcp_stream(void **state)
{
	(void)state;
	struct dns_cache *c = cache_min0(0);
	struct dmsg m1, m2;
	uint8_t stream[2048];
	size_t n = 0;
	char name[DNS_NAME_MAX];

	answer_a(&m1, "first.test", 300, ip1);
	answer_a(&m2, "second.test", 300, ip2);
	stream[n++] = (uint8_t)(m1.n >> 8);
	stream[n++] = (uint8_t)m1.n;
	memcpy(stream + n, m1.b, m1.n);
	n += m1.n;
	stream[n++] = (uint8_t)(m2.n >> 8);
	stream[n++] = (uint8_t)m2.n;
	memcpy(stream + n, m2.b, m2.n);
	n += m2.n;
	assert_int_equal(dns_cache_learn_tcp(c, WEB, stream, n, 0), 2);
	assert_true(dns_cache_lookup(c, WEB, AF_INET, ip1, 1, name));
	assert_string_equal(name, "first.test");
	assert_true(dns_cache_lookup(c, WEB, AF_INET, ip2, 1, name));
	assert_string_equal(name, "second.test");
	dns_cache_free(c);

	/* the second message cut in its answer: the first is learnt, the second teaches nothing */
	c = cache_min0(0);
	assert_int_equal(dns_cache_learn_tcp(c, WEB, stream, n - 3, 0), 1);
	assert_false(dns_cache_lookup(c, WEB, AF_INET, ip2, 1, name));
	/* a length prefix cut in half, and nothing at all */
	assert_int_equal(dns_cache_learn_tcp(c, WEB, stream, 1, 0), 0);
	assert_int_equal(dns_cache_learn_tcp(c, WEB, stream, 0, 0), 0);
	/* a malformed message after a good one */
	stream[2 + m1.n + 2 + 12] = 0x40;
	assert_int_equal(dns_cache_learn_tcp(c, DB, stream, n, 0), -1);
	assert_true(dns_cache_lookup(c, DB, AF_INET, ip1, 1, name));
	dns_cache_free(c);
}

/* dns_cache_addrs_of: every container's addresses for a name (case-insensitive), while held */
static void test_addrs_of(void **state)
{
	(void)state;
	struct dns_cache *c = cache_min0(0);
	struct dmsg m;
	struct dns_cache_addr out[4];

	answer_a(&m, "api.test", 30, ip1);
	assert_int_equal(dns_cache_learn(c, WEB, m.b, m.n, 100 * S), 1);
	answer_a(&m, "api.test", 30, ip2);
	assert_int_equal(dns_cache_learn(c, DB, m.b, m.n, 100 * S), 1);
	answer_a(&m, "other.test", 30, ip1);
	assert_int_equal(dns_cache_learn(c, "", m.b, m.n, 100 * S), 1);
	assert_int_equal(dns_cache_addrs_of(c, "API.test", NULL, 0, 110 * S, out, 4), 2);
	assert_int_equal(out[0].family, AF_INET);
	assert_true(!memcmp(out[0].addr, ip1, 4) || !memcmp(out[0].addr, ip2, 4));
	assert_int_equal(dns_cache_addrs_of(c, "api.test", NULL, 0, 110 * S, out, 1), 1); /* bounded */
	assert_int_equal(dns_cache_addrs_of(c, "none.test", NULL, 0, 110 * S, out, 4), 0);
	/* past its TTL and the minute it lingers: none */
	assert_int_equal(dns_cache_addrs_of(c, "api.test", NULL, 0, 131 * S, out, 4), 2);
	assert_int_equal(dns_cache_addrs_of(c, "api.test", NULL, 0, 200 * S, out, 4), 0);
	dns_cache_free(c);
}

/* dns_cache_addrs_of with servers: only the names those servers gave (a spoofed answer from elsewhere opens nothing) */
static void test_addrs_of_servers(void **state)
{
	(void)state;
	struct dns_cache *c = cache_min0(0);
	struct dmsg m;
	struct dns_cache_addr out[4];
	struct dns_cache_addr resolver = { .family = AF_INET, .addr = { 10, 0, 0, 53 } };
	struct dns_cache_addr attacker = { .family = AF_INET, .addr = { 203, 0, 113, 9 } };
	struct dns_cache_addr resolver6 = { .family = AF_INET6, .addr = { 0xfd, 0, [15] = 0x53 } };

	/* the resolver names ip1; an answer from the attacker's server names ip2 the same */
	answer_a(&m, "api.test", 30, ip1);
	assert_int_equal(dns_cache_learn_from(c, WEB, &resolver, m.b, m.n, 100 * S), 1);
	answer_a(&m, "api.test", 30, ip2);
	assert_int_equal(dns_cache_learn_from(c, WEB, &attacker, m.b, m.n, 100 * S), 1);
	/* from nowhere known (a capture's record without its server): never chosen */
	answer_a(&m, "api.test", 30, ip3);
	assert_int_equal(dns_cache_learn(c, DB, m.b, m.n, 100 * S), 1);

	assert_int_equal(dns_cache_addrs_of(c, "api.test", NULL, 0, 110 * S, out, 4), 3);
	assert_int_equal(dns_cache_addrs_of(c, "api.test", &resolver, 1, 110 * S, out, 4), 1);
	assert_memory_equal(out[0].addr, ip1, 4);
	assert_int_equal(dns_cache_addrs_of(c, "api.test", &resolver6, 1, 110 * S, out, 4), 0);
	assert_int_equal(dns_cache_addrs_of(c, "api.test", &resolver6, 0, 110 * S, out, 4), 0); /* none given: none */

	/* the attacker names the resolver's address again: it is the attacker's now, and is dropped */
	answer_a(&m, "api.test", 30, ip1);
	assert_int_equal(dns_cache_learn_from(c, WEB, &attacker, m.b, m.n, 101 * S), 1);
	assert_int_equal(dns_cache_addrs_of(c, "api.test", &resolver, 1, 110 * S, out, 4), 0);
	dns_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_learn_per_container),
		cmocka_unit_test(test_ttl_expiry),
		cmocka_unit_test(test_cname_chain),
		cmocka_unit_test(test_replace_and_ignore),
		cmocka_unit_test(test_lru_eviction),
		cmocka_unit_test(test_per_container_quota),
		cmocka_unit_test(test_name_flow),
		cmocka_unit_test(test_tcp_stream),
		cmocka_unit_test(test_addrs_of),
		cmocka_unit_test(test_addrs_of_servers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
