/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for state/flow_stats.c, the per-workload flow features: CIDR
 * lists (parse, errors, matching at prefix edges, the default list), workload
 * keys, the exfil window (outbound external bytes counted once per flow
 * through its reports, the window sliding, inbound and internal flows not
 * counted), new destinations (learning period, once per destination, what an
 * earlier run remembered, the listener), beaconing (regular series once, a
 * long gap starting a new series, irregular ones never), DNS features
 * (registrable domains, longest label, entropy, unique names in the window,
 * capped) and every table's LRU bound with evictions counted.
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

#include "state/container_meta.h"
#include "state/flow_stats.h"
#include "test_dns_msg.h"

#define S 1000000000ull

static struct vg_flow mkflow(const char *rip, uint16_t rport, enum vg_flow_dir dir, enum vg_flow_phase ph,
			     uint64_t cookie, uint64_t ts, uint64_t out)
{
	struct vg_flow f = { 0 };
	f.proto = VG_FLOW_TCP;
	f.dir = dir;
	f.phase = ph;
	f.cookie = cookie;
	f.local.family = AF_INET;
	inet_pton(AF_INET, "10.88.0.5", f.local.addr);
	f.remote.family = AF_INET;
	inet_pton(AF_INET, rip, f.remote.addr);
	f.remote.port = rport;
	f.ts_ns = ts;
	f.start_ns = ts;
	f.bytes_out = out;
	return f;
}

static void test_cidrs(void **state)
{
	(void)state;
	struct flow_cidr c[8];
	char err[128];
	uint8_t a[16];

	assert_int_equal(flow_cidrs_parse("10.0.0.0/8, 192.168.1.7,fd00::/8", c, 8, err, sizeof(err)), 3);
	assert_int_equal(c[1].prefix, 32);
	inet_pton(AF_INET, "10.255.1.1", a);
	assert_true(flow_cidrs_match(c, 3, AF_INET, a));
	inet_pton(AF_INET, "11.0.0.1", a);
	assert_false(flow_cidrs_match(c, 3, AF_INET, a));
	inet_pton(AF_INET, "192.168.1.7", a);
	assert_true(flow_cidrs_match(c, 3, AF_INET, a));
	inet_pton(AF_INET, "192.168.1.8", a);
	assert_false(flow_cidrs_match(c, 3, AF_INET, a));
	inet_pton(AF_INET6, "fd12::1", a);
	assert_true(flow_cidrs_match(c, 3, AF_INET6, a));
	inet_pton(AF_INET6, "fe00::1", a);
	assert_false(flow_cidrs_match(c, 3, AF_INET6, a));
	/* a prefix inside a byte: 172.16.0.0/12 holds 172.31.x, not 172.32.x */
	assert_int_equal(flow_cidrs_parse("172.16.0.0/12", c, 8, err, sizeof(err)), 1);
	inet_pton(AF_INET, "172.31.255.255", a);
	assert_true(flow_cidrs_match(c, 1, AF_INET, a));
	inet_pton(AF_INET, "172.32.0.0", a);
	assert_false(flow_cidrs_match(c, 1, AF_INET, a));
	/* /0 is everything of its family */
	assert_int_equal(flow_cidrs_parse("0.0.0.0/0", c, 8, err, sizeof(err)), 1);
	assert_true(flow_cidrs_match(c, 1, AF_INET, a));

	assert_int_equal(flow_cidrs_parse("10.0.0.0/33", c, 8, err, sizeof(err)), -1);
	assert_string_equal(err, "bad CIDR '10.0.0.0/33': prefix too long");
	assert_int_equal(flow_cidrs_parse("10.0.0/8", c, 8, err, sizeof(err)), -1);
	assert_string_equal(err, "bad CIDR '10.0.0/8'");
	assert_int_equal(flow_cidrs_parse("10.0.0.0/x", c, 8, err, sizeof(err)), -1);
	assert_int_equal(flow_cidrs_parse("10.0.0.0/8,", c, 8, err, sizeof(err)), -1);
	assert_int_equal(flow_cidrs_parse("a,,b", c, 8, err, sizeof(err)), -1);
	assert_int_equal(flow_cidrs_parse("1.1.1.1,2.2.2.2,3.3.3.3", c, 2, err, sizeof(err)), -1);
	assert_string_equal(err, "more than 2 CIDRs");

	struct flow_stats_opts o = { .cluster_cidrs = "nope" };
	assert_null(flow_stats_new(&o, err, sizeof(err)));
	struct flow_stats *fs = flow_stats_new(NULL, err, sizeof(err));
	assert_non_null(fs);
	inet_pton(AF_INET, "172.20.0.1", a);
	assert_true(flow_stats_internal(fs, AF_INET, a));
	inet_pton(AF_INET, "127.0.0.1", a);
	assert_true(flow_stats_internal(fs, AF_INET, a));
	inet_pton(AF_INET, "203.0.113.1", a);
	assert_false(flow_stats_internal(fs, AF_INET, a));
	inet_pton(AF_INET6, "fe80::1", a);
	assert_true(flow_stats_internal(fs, AF_INET6, a));
	inet_pton(AF_INET6, "2001:db8::1", a);
	assert_false(flow_stats_internal(fs, AF_INET6, a));
	flow_stats_free(fs);
}

static void test_workload_key(void **state)
{
	(void)state;
	char k[FLOW_STATS_KEY_LEN];
	struct vg_container_meta m = { 0 };
	flow_stats_workload(NULL, "", k);
	assert_string_equal(k, "host");
	flow_stats_workload(NULL, "abc", k);
	assert_string_equal(k, "id:abc");
	m.name = "web";
	flow_stats_workload(&m, "abc", k);
	assert_string_equal(k, "name:web");
	m.k8s_namespace = "prod";
	m.k8s_pod_name = "api-1";
	m.k8s_container_name = "app";
	flow_stats_workload(&m, "abc", k);
	assert_string_equal(k, "k8s:prod/api-1/app");
}

static void test_exfil_window(void **state)
{
	(void)state;
	char err[128];
	struct flow_stats_opts o = { .window_ns = 30 * S };
	struct flow_stats *fs = flow_stats_new(&o, err, sizeof(err));
	struct flow_feat ft;
	struct vg_flow f;

	/* one flow through its reports: counted once */
	f = mkflow("203.0.113.9", 443, VG_FLOW_OUTBOUND, VG_FLOW_OPEN, 1, 1 * S, 0);
	flow_stats_flow(fs, "w", &f, &ft);
	assert_true(ft.external);
	assert_int_equal(ft.exfil_bytes, 0);
	f = mkflow("203.0.113.9", 443, VG_FLOW_OUTBOUND, VG_FLOW_UPDATE, 1, 2 * S, 1000);
	flow_stats_flow(fs, "w", &f, &ft);
	assert_int_equal(ft.exfil_bytes_before, 0);
	assert_int_equal(ft.exfil_bytes, 1000);
	f = mkflow("203.0.113.9", 443, VG_FLOW_OUTBOUND, VG_FLOW_CLOSE, 1, 3 * S, 1500);
	flow_stats_flow(fs, "w", &f, &ft);
	assert_int_equal(ft.exfil_bytes_before, 1000);
	assert_int_equal(ft.exfil_bytes, 1500);
	/* inbound, internal, another workload: not counted for w */
	f = mkflow("203.0.113.9", 443, VG_FLOW_INBOUND, VG_FLOW_CLOSE, 2, 4 * S, 9000);
	flow_stats_flow(fs, "w", &f, &ft);
	assert_int_equal(ft.exfil_bytes, 1500);
	f = mkflow("10.1.2.3", 443, VG_FLOW_OUTBOUND, VG_FLOW_CLOSE, 3, 4 * S, 9000);
	flow_stats_flow(fs, "w", &f, &ft);
	assert_false(ft.external);
	assert_int_equal(ft.exfil_bytes, 1500);
	f = mkflow("203.0.113.9", 443, VG_FLOW_OUTBOUND, VG_FLOW_CLOSE, 4, 4 * S, 9000);
	flow_stats_flow(fs, "other", &f, &ft);
	assert_int_equal(ft.exfil_bytes, 9000);
	/* a peer container of this node is not external, whatever its address */
	f = mkflow("203.0.113.10", 443, VG_FLOW_OUTBOUND, VG_FLOW_CLOSE, 5, 4 * S, 9000);
	strcpy(f.peer_container_id, "abc");
	flow_stats_flow(fs, "w", &f, &ft);
	assert_false(ft.external);
	/* 40 s later the window has let them go */
	f = mkflow("203.0.113.9", 443, VG_FLOW_OUTBOUND, VG_FLOW_CLOSE, 6, 44 * S, 100);
	flow_stats_flow(fs, "w", &f, &ft);
	assert_int_equal(ft.exfil_bytes_before, 0);
	assert_int_equal(ft.exfil_bytes, 100);
	/* a close whose open was not seen counts its whole total */
	f = mkflow("203.0.113.9", 443, VG_FLOW_OUTBOUND, VG_FLOW_CLOSE, 7, 45 * S, 50);
	flow_stats_flow(fs, "w", &f, &ft);
	assert_int_equal(ft.exfil_bytes, 150);
	struct flow_stats_stats st;
	flow_stats_stats(fs, &st);
	assert_int_equal(st.cookies, 0); /* closes forget their flows */
	flow_stats_free(fs);
}

struct learnt {
	char w[64], d[64];
	uint64_t ts;
	int n;
};

static void on_learn(void *ctx, const char *w, const char *d, uint64_t ts)
{
	struct learnt *l = ctx;
	snprintf(l->w, sizeof(l->w), "%s", w);
	snprintf(l->d, sizeof(l->d), "%s", d ? d : "(workload)");
	l->ts = ts;
	l->n++;
}

static void test_new_dest(void **state)
{
	(void)state;
	char err[128];
	struct flow_stats_opts o = { .learn_ns = 10 * S };
	struct flow_stats *fs = flow_stats_new(&o, err, sizeof(err));
	struct flow_feat ft;
	struct vg_flow f;
	struct learnt l = { 0 };
	flow_stats_set_listener(fs, on_learn, &l);

	/* learning: learnt, not new */
	f = mkflow("203.0.113.9", 443, VG_FLOW_OUTBOUND, VG_FLOW_OPEN, 1, 100 * S, 0);
	flow_stats_flow(fs, "w", &f, &ft);
	assert_true(ft.learning);
	assert_false(ft.dest_new);
	assert_int_equal(l.n, 2); /* the workload, then the destination */
	assert_string_equal(l.d, "203.0.113.9");
	/* after: a new one once, by name when known; the learnt one not */
	f = mkflow("198.51.100.7", 443, VG_FLOW_OUTBOUND, VG_FLOW_OPEN, 2, 111 * S, 0);
	strcpy(f.remote_name, "api.evil.test");
	flow_stats_flow(fs, "w", &f, &ft);
	assert_false(ft.learning);
	assert_true(ft.dest_new);
	assert_string_equal(ft.dest, "api.evil.test");
	assert_string_equal(l.d, "api.evil.test");
	f.cookie = 3;
	flow_stats_flow(fs, "w", &f, &ft);
	assert_false(ft.dest_new);
	f = mkflow("203.0.113.9", 80, VG_FLOW_OUTBOUND, VG_FLOW_OPEN, 4, 112 * S, 0);
	flow_stats_flow(fs, "w", &f, &ft);
	assert_false(ft.dest_new);
	/* not an open, not outbound, internal: never new */
	f = mkflow("203.0.113.20", 443, VG_FLOW_OUTBOUND, VG_FLOW_UPDATE, 5, 113 * S, 0);
	flow_stats_flow(fs, "w", &f, &ft);
	assert_false(ft.dest_new);
	f = mkflow("203.0.113.21", 443, VG_FLOW_INBOUND, VG_FLOW_OPEN, 6, 113 * S, 0);
	flow_stats_flow(fs, "w", &f, &ft);
	assert_false(ft.dest_new);
	f = mkflow("10.0.0.1", 443, VG_FLOW_OUTBOUND, VG_FLOW_OPEN, 7, 113 * S, 0);
	flow_stats_flow(fs, "w", &f, &ft);
	assert_false(ft.dest_new);
	/* an unconnected UDP socket (remote 0.0.0.0) is no destination */
	f = mkflow("0.0.0.0", 0, VG_FLOW_OUTBOUND, VG_FLOW_OPEN, 8, 113 * S, 0);
	flow_stats_flow(fs, "w", &f, &ft);
	assert_false(ft.external);
	flow_stats_free(fs);

	/* an earlier run's memory: the workload is past learning, its destination known */
	fs = flow_stats_new(&o, err, sizeof(err));
	flow_stats_remember(fs, "w", NULL, 50 * S);
	flow_stats_remember(fs, "w", "203.0.113.9", 55 * S);
	f = mkflow("203.0.113.9", 443, VG_FLOW_OUTBOUND, VG_FLOW_OPEN, 1, 100 * S, 0);
	flow_stats_flow(fs, "w", &f, &ft);
	assert_false(ft.learning);
	assert_false(ft.dest_new);
	f = mkflow("203.0.113.10", 443, VG_FLOW_OUTBOUND, VG_FLOW_OPEN, 2, 100 * S, 0);
	flow_stats_flow(fs, "w", &f, &ft);
	assert_true(ft.dest_new);
	flow_stats_free(fs);
}

static struct flow_feat beacon_at(struct flow_stats *fs, const char *ip, uint64_t ts, uint64_t cookie)
{
	struct flow_feat ft;
	struct vg_flow f = mkflow(ip, 8443, VG_FLOW_OUTBOUND, VG_FLOW_OPEN, cookie, ts, 0);
	flow_stats_flow(fs, "w", &f, &ft);
	return ft;
}

static void test_beacon(void **state)
{
	(void)state;
	char err[128];
	struct flow_stats_opts o = { .beacon_min = 5, .beacon_jitter_pct = 10 };
	struct flow_stats *fs = flow_stats_new(&o, err, sizeof(err));
	struct flow_feat ft;
	static const uint64_t reg[] = { 0, 60000, 120500, 179800, 240100, 300000, 360000 }; /* ms */
	int fired = 0;

	for (int i = 0; i < 7; i++) {
		ft = beacon_at(fs, "203.0.113.50", 1000 * S + reg[i] * 1000000, (uint64_t)i + 1);
		assert_int_equal(ft.beacon_count, i + 1);
		if (ft.beacon_new) {
			fired++;
			assert_int_equal(i, 4); /* the fifth */
			assert_int_equal(ft.beacon_period_ms, 60025);
			assert_true(ft.beacon_jitter_pct <= 1);
		}
	}
	assert_int_equal(fired, 1);
	assert_int_equal(ft.beacon_period_ms, 60000);
	/* a long silence starts a new series, which fires again when regular */
	for (int i = 0; i < 5; i++) {
		ft = beacon_at(fs, "203.0.113.50", 5000 * S + (uint64_t)i * 60 * S, (uint64_t)i + 10);
		assert_int_equal(ft.beacon_count, i + 1);
		assert_int_equal(ft.beacon_new, i == 4);
	}
	/* irregular: never; a period and a jitter all the same */
	static const uint64_t irr[] = { 0, 10, 40, 45, 80, 100, 130, 135 }; /* s */
	for (int i = 0; i < 8; i++) {
		ft = beacon_at(fs, "203.0.113.51", 100 * S + irr[i] * S, (uint64_t)i + 20);
		assert_false(ft.beacon_new);
	}
	assert_true(ft.beacon_jitter_pct > 50);
	/* below three connections: no jitter; below two, no period */
	ft = beacon_at(fs, "203.0.113.52", 1 * S, 40);
	assert_int_equal(ft.beacon_period_ms, -1);
	assert_int_equal(ft.beacon_jitter_pct, -1);
	ft = beacon_at(fs, "203.0.113.52", 2 * S, 41);
	assert_int_equal(ft.beacon_period_ms, 1000);
	assert_int_equal(ft.beacon_jitter_pct, -1);
	flow_stats_free(fs);
}

static void test_dns_helpers(void **state)
{
	(void)state;
	assert_string_equal(flow_dns_domain("a.b.example.com"), "example.com");
	assert_string_equal(flow_dns_domain("example.com"), "example.com");
	assert_string_equal(flow_dns_domain("localhost"), "localhost");
	assert_string_equal(flow_dns_domain("x.y.bbc.co.uk"), "bbc.co.uk");
	assert_string_equal(flow_dns_domain("co.uk"), "co.uk");
	assert_string_equal(flow_dns_domain("bbc.co.uk"), "bbc.co.uk");
	assert_string_equal(flow_dns_domain("a.svc.cluster.local"), "cluster.local");
	assert_int_equal(flow_dns_label_max("abc.de.fghij"), 5);
	assert_int_equal(flow_dns_label_max(""), 0);
	assert_int_equal(flow_dns_entropy("example.com"), 0);    /* nothing left of the domain */
	assert_int_equal(flow_dns_entropy("aaaa.example.com"), 0); /* one symbol */
	assert_int_equal(flow_dns_entropy("ab.example.com"), 100); /* two equally likely: 1 bit */
	assert_int_equal(flow_dns_entropy("abcd.x.example.com"), 232); /* 5 symbols, "x" among them */
	assert_int_equal(flow_dns_entropy("0123456789abcdef.evil.test"), 400);
}

static size_t dns_answer(struct dmsg *m, const char *name)
{
	memset(m, 0, sizeof(*m));
	dm_header(m, DM_RESPONSE, 1, 1, 0, 0);
	size_t q = dm_name(m, name);
	dm_question(m, 1);
	dm_name_ptr(m, "", q);
	dm_a(m, 60, 192, 0, 2, 1);
	return m->n;
}

static void test_dns_unique(void **state)
{
	(void)state;
	char err[128], name[64];
	struct flow_stats_opts o = { .window_ns = 10 * S };
	struct flow_stats *fs = flow_stats_new(&o, err, sizeof(err));
	struct flow_feat ft;
	struct dmsg m;

	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "n%d.t.evil.test", i);
		dns_answer(&m, name);
		assert_int_equal(flow_stats_dns(fs, "w", m.b, m.n, 1 * S + (uint64_t)i, &ft), 0);
		assert_true(ft.is_dns);
		assert_true(ft.name_new);
		assert_string_equal(ft.domain, "evil.test");
		assert_int_equal(ft.unique, i + 1);
	}
	/* the same name again: not new; another workload, another domain: their own counts */
	dns_answer(&m, "n0.t.evil.test");
	flow_stats_dns(fs, "w", m.b, m.n, 2 * S, &ft);
	assert_false(ft.name_new);
	assert_int_equal(ft.unique, 5);
	flow_stats_dns(fs, "v", m.b, m.n, 2 * S, &ft);
	assert_true(ft.name_new);
	assert_int_equal(ft.unique, 1);
	dns_answer(&m, "www.example.com");
	flow_stats_dns(fs, "w", m.b, m.n, 2 * S, &ft);
	assert_int_equal(ft.unique, 1);
	/* 11.5 s on: only n0 (seen again at 2 s) is still in the window, and new names */
	dns_answer(&m, "n9.t.evil.test");
	flow_stats_dns(fs, "w", m.b, m.n, 11 * S + S / 2, &ft);
	assert_int_equal(ft.unique, 2);
	/* a name that left the window is new again */
	dns_answer(&m, "n1.t.evil.test");
	flow_stats_dns(fs, "w", m.b, m.n, 12 * S, &ft);
	assert_true(ft.name_new);
	/* capped at FLOW_STATS_DNS_NAMES names per domain */
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "c%d.cap.test", i);
		dns_answer(&m, name);
		flow_stats_dns(fs, "w", m.b, m.n, 20 * S + (uint64_t)i, &ft);
	}
	assert_int_equal(ft.unique, FLOW_STATS_DNS_NAMES);
	/* malformed: -1, counted, no features */
	assert_int_equal(flow_stats_dns(fs, "w", m.b, 5, 21 * S, &ft), -1);
	assert_false(ft.is_dns);
	struct flow_stats_stats st;
	flow_stats_stats(fs, &st);
	assert_int_equal(st.dns_malformed, 1);
	flow_stats_free(fs);
}

static void test_bounds(void **state)
{
	(void)state;
	char err[128], w[32], name[64];
	struct flow_stats_opts o = { .max_workloads = 4, .max_dests = 8, .max_series = 8, .max_domains = 2,
				     .max_cookies = 4, .learn_set = true };
	struct flow_stats *fs = flow_stats_new(&o, err, sizeof(err));
	struct flow_feat ft;
	struct vg_flow f;
	struct dmsg m;

	for (int i = 0; i < 100; i++) {
		char ip[32];
		snprintf(w, sizeof(w), "w%d", i % 10);
		snprintf(ip, sizeof(ip), "203.0.113.%d", i);
		f = mkflow(ip, 443, VG_FLOW_OUTBOUND, VG_FLOW_OPEN, (uint64_t)i + 1, S + (uint64_t)i, 0);
		flow_stats_flow(fs, w, &f, &ft);
		snprintf(name, sizeof(name), "x.d%d.test", i);
		dns_answer(&m, name);
		flow_stats_dns(fs, w, m.b, m.n, S + (uint64_t)i, &ft);
	}
	struct flow_stats_stats st;
	flow_stats_stats(fs, &st);
	assert_int_equal(st.workloads, 4);
	assert_int_equal(st.dests, 8);
	assert_int_equal(st.series, 8);
	assert_int_equal(st.domains, 2);
	assert_int_equal(st.cookies, 4);
	assert_int_equal(st.dests_evicted, 92);
	assert_int_equal(st.series_evicted, 92);
	assert_int_equal(st.domains_evicted, 98);
	assert_int_equal(st.cookies_evicted, 96);
	assert_true(st.workloads_evicted > 0);
	assert_int_equal(st.dests_new, 100); /* learning 0: every destination new */
	flow_stats_free(fs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cidrs),	    cmocka_unit_test(test_workload_key),
		cmocka_unit_test(test_exfil_window), cmocka_unit_test(test_new_dest),
		cmocka_unit_test(test_beacon),	    cmocka_unit_test(test_dns_helpers),
		cmocka_unit_test(test_dns_unique),   cmocka_unit_test(test_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
