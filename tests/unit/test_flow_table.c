/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the flow table (src/state/flow_table.c): flow records as the
 * kernel writes them (include/vigil/flow.h) become struct vg_flow with the
 * owner's container from the state, a passive flow whose owner the kernel
 * learnt after the open keeps it, the peer container comes from the address
 * book, a CLOSE forgets the flow, the tables stay bounded (evictions counted),
 * a report whose OPEN was not seen is counted, and damaged records are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "sensor/decode.h"
#include "state/flow_table.h"
#include "state/state.h"
#include "test_helpers.h"
#include "vigil/flow.h"

#define CLIENT_ID "5ad505f6c2d4de05faee7fb251e25b27cf04af50103100ef0cc6888c48eeaf99"
#define SERVER_ID "3d3c25cd3a6405cca457d0099c0dc05349fe6af054391327499c7cc3cb5d2af8"

struct rec {
	uint16_t type;
	uint32_t pid;
	uint64_t cgroup_id;
	uint32_t netns;
	uint64_t ts, age;
	uint8_t dir, phase;
	uint8_t lip[4], rip[4];
	uint16_t lport, rport;
	uint64_t cookie, bytes_out, bytes_in, pkts_out, pkts_in, srtt;
};

static struct vg_buf rbuf;
static struct vg_event ev;

static const struct vg_event *make(const struct rec *r)
{
	char err[160];
	struct vg_tuple t = { .family = AF_INET, .sport = r->lport, .dport = r->rport, .pad = r->dir };
	memcpy(t.saddr, r->lip, 4);
	memcpy(t.daddr, r->rip, 4);
	rec_begin(&rbuf, r->type, r->pid);
	struct vg_event_hdr *h = (struct vg_event_hdr *)rbuf.data;
	h->cgroup_id = r->cgroup_id;
	h->netns = r->netns;
	h->ts = r->ts;
	rec_param(&rbuf, &t, sizeof(t));
	rec_param_u64(&rbuf, r->phase);
	rec_param_u64(&rbuf, r->cookie);
	rec_param_u64(&rbuf, r->bytes_out);
	rec_param_u64(&rbuf, r->bytes_in);
	rec_param_u64(&rbuf, r->pkts_out);
	rec_param_u64(&rbuf, r->pkts_in);
	rec_param_u64(&rbuf, r->srtt);
	rec_finish(&rbuf, (int64_t)r->age);
	assert_int_equal(event_decode(rbuf.data, rbuf.len, &ev, err, sizeof(err)), 0);
	return &ev;
}

static void cgroup(struct vg_state *st, uint64_t id, const char *path)
{
	char err[160];
	rec_begin(&rbuf, VG_EVT_CGROUP, 1);
	((struct vg_event_hdr *)rbuf.data)->cgroup_id = id;
	rec_param(&rbuf, path, (uint16_t)(strlen(path) + 1));
	rec_finish(&rbuf, 0);
	assert_int_equal(event_decode(rbuf.data, rbuf.len, &ev, err, sizeof(err)), 0);
	if (state_ingest(st, &ev))
		state_done(st, &ev);
}

static struct vg_state *replay_state(void)
{
	struct vg_state_opts so = { .live = false };
	struct vg_state *st = state_new(&so);
	cgroup(st, 100, "/libpod_parent/libpod-" CLIENT_ID);
	cgroup(st, 200, "/libpod_parent/libpod-" SERVER_ID);
	return st;
}

static const struct rec client_open = {
	.type = VG_EVT_FLOW_TCP, .pid = 41, .cgroup_id = 100, .netns = 1001, .ts = 5000000, .age = 0,
	.dir = VG_FLOW_REC_OUT, .phase = VG_FLOW_REC_OPEN, .lip = { 10, 88, 0, 5 }, .rip = { 10, 88, 0, 7 },
	.lport = 40112, .rport = 8080, .cookie = 0x3a1,
};

static void test_tcp_open_close_exact(void **state)
{
	(void)state;
	struct vg_state *st = replay_state();
	struct flow_table *ft = flow_table_new(0, 0);
	struct vg_flow f;

	assert_true(flow_from_event(ft, st, make(&client_open), &f));
	assert_int_equal(f.proto, VG_FLOW_TCP);
	assert_int_equal(f.dir, VG_FLOW_OUTBOUND);
	assert_int_equal(f.phase, VG_FLOW_OPEN);
	assert_int_equal(f.pid, 41);
	assert_string_equal(f.comm, "test");
	assert_string_equal(f.container_id, CLIENT_ID);
	assert_int_equal(f.local.port, 40112);
	assert_int_equal(f.remote.port, 8080);
	assert_int_equal(f.netns, 1001);
	assert_string_equal(f.peer_container_id, ""); /* the server's address is not known yet */

	struct rec close = client_open;
	close.phase = VG_FLOW_REC_CLOSE;
	close.ts = 9000000;
	close.age = 4000000;
	close.bytes_out = 1000;
	close.bytes_in = 2345;
	close.pkts_out = 5;
	close.pkts_in = 6;
	close.srtt = 48;
	assert_true(flow_from_event(ft, st, make(&close), &f));
	assert_int_equal(f.phase, VG_FLOW_CLOSE);
	assert_int_equal(f.bytes_out, 1000);
	assert_int_equal(f.bytes_in, 2345);
	assert_int_equal(f.pkts_out, 5);
	assert_int_equal(f.pkts_in, 6);
	assert_int_equal(f.srtt_us, 48);
	assert_int_equal(f.start_ns, 5000000);
	assert_int_equal(f.ts_ns, 9000000);

	struct flow_table_stats s;
	flow_table_stats(ft, &s);
	assert_int_equal(s.opened, 1);
	assert_int_equal(s.closed, 1);
	assert_int_equal(s.live, 0);
	assert_int_equal(s.unmatched, 0);
	flow_table_free(ft);
	state_free(st);
}

/* The kernel knows a passive flow's process only at its first read/write: later reports carry it. */
static void test_passive_owner_and_peer(void **state)
{
	(void)state;
	struct vg_state *st = replay_state();
	struct flow_table *ft = flow_table_new(0, 0);
	struct vg_flow f;

	struct rec srv = {
		.type = VG_EVT_FLOW_TCP, .pid = 0, .cgroup_id = 200, .netns = 2002, .ts = 6000000,
		.dir = VG_FLOW_REC_IN, .phase = VG_FLOW_REC_UPDATE, .lip = { 10, 88, 0, 7 }, .rip = { 10, 88, 0, 5 },
		.lport = 8080, .rport = 40112, .cookie = 0x3a2, .bytes_in = 10,
	};
	assert_true(flow_from_event(ft, st, make(&srv), &f));
	assert_int_equal(f.pid, 0);
	assert_string_equal(f.container_id, SERVER_ID);
	assert_int_equal(f.dir, VG_FLOW_INBOUND);
	struct rec owned = srv;
	owned.pid = 77;
	owned.ts = 7000000;
	assert_true(flow_from_event(ft, st, make(&owned), &f));
	assert_int_equal(f.pid, 77);
	/* a later report without a process keeps the one learnt */
	struct rec anon = srv;
	anon.phase = VG_FLOW_REC_CLOSE;
	anon.bytes_out = 2345;
	assert_true(flow_from_event(ft, st, make(&anon), &f));
	assert_int_equal(f.pid, 77);
	assert_int_equal(f.bytes_out, 2345);

	/* the server's address is known now: the client's flow names its container as the peer */
	assert_true(flow_from_event(ft, st, make(&client_open), &f));
	assert_string_equal(f.peer_container_id, SERVER_ID);
	/* and the server's next flow names the client's */
	srv.cookie = 0x3a3;
	assert_true(flow_from_event(ft, st, make(&srv), &f));
	assert_string_equal(f.peer_container_id, CLIENT_ID);

	struct flow_table_stats s;
	flow_table_stats(ft, &s);
	/* the server flows' first reports had no process: an accepted connection not read yet
	 * reports before its OPEN by design, which is not a missed OPEN */
	assert_int_equal(s.unmatched, 0);
	flow_table_free(ft);
	state_free(st);
}

static void test_bounded_and_lru(void **state)
{
	(void)state;
	struct flow_table *ft = flow_table_new(4, 2);
	struct vg_flow f;
	struct rec r = client_open;
	for (uint64_t c = 1; c <= 10; c++) {
		r.cookie = c;
		r.lip[3] = (uint8_t)c;
		assert_true(flow_from_event(ft, NULL, make(&r), &f));
		assert_string_equal(f.container_id, ""); /* no state: no containers */
	}
	struct flow_table_stats s;
	flow_table_stats(ft, &s);
	assert_int_equal(s.live, 4);
	assert_int_equal(s.evicted, 6);
	assert_int_equal(s.addrs, 0); /* host flows teach no addresses */
	/* the most recent flows are the ones kept: closing one of them is matched */
	r.cookie = 10;
	r.phase = VG_FLOW_REC_CLOSE;
	assert_true(flow_from_event(ft, NULL, make(&r), &f));
	r.cookie = 1;
	assert_true(flow_from_event(ft, NULL, make(&r), &f));
	flow_table_stats(ft, &s);
	assert_int_equal(s.unmatched, 1);
	assert_int_equal(s.live, 3);
	flow_table_free(ft);
}

static void test_not_flows_and_damaged(void **state)
{
	(void)state;
	struct flow_table *ft = flow_table_new(0, 0);
	struct vg_flow f = { .pid = 12345 };
	char err[160];

	rec_begin(&rbuf, VG_EVT_OPENAT, 5);
	rec_finish(&rbuf, 3);
	assert_int_equal(event_decode(rbuf.data, rbuf.len, &ev, err, sizeof(err)), 0);
	assert_false(flow_from_event(ft, NULL, &ev, &f));
	assert_int_equal(f.pid, 12345); /* left alone */

	/* a flow record with its parameters cut (an older or damaged capture) */
	rec_begin(&rbuf, VG_EVT_FLOW_TCP, 5);
	rec_param_u64(&rbuf, 1);
	rec_finish(&rbuf, 0);
	if (event_decode(rbuf.data, rbuf.len, &ev, err, sizeof(err)) == 0)
		assert_false(flow_from_event(ft, NULL, &ev, &f));
	/* a phase the ABI does not have */
	struct rec r = client_open;
	r.phase = 9;
	assert_false(flow_from_event(ft, NULL, make(&r), &f));
	struct flow_table_stats s;
	flow_table_stats(ft, &s);
	assert_true(s.malformed >= 1);
	assert_int_equal(s.records, 0);
	assert_string_equal(flow_proto_name(VG_FLOW_UDP), "udp");
	assert_string_equal(flow_dir_name(VG_FLOW_INBOUND), "in");
	assert_string_equal(flow_phase_name(VG_FLOW_UPDATE), "update");
	flow_table_free(ft);
}

static int count_calls;
static void on_flow(void *ctx, struct vg_flow *f)
{
	(void)ctx;
	assert_int_equal(f->cookie, 0x3a1);
	snprintf(f->remote_name, sizeof(f->remote_name), "api.example.com"); /* as a DNS cache would */
	count_calls++;
}

static void test_listener(void **state)
{
	(void)state;
	struct flow_table *ft = flow_table_new(0, 0);
	flow_table_set_listener(ft, on_flow, NULL);
	assert_true(flow_table_ingest(ft, NULL, make(&client_open)));
	const struct vg_flow *last = flow_table_last(ft, &ev);
	assert_non_null(last);
	assert_string_equal(last->remote_name, "api.example.com"); /* what the rules will read */
	rec_begin(&rbuf, VG_EVT_PROCEXIT, 5);
	rec_finish(&rbuf, 0);
	char err[160];
	assert_int_equal(event_decode(rbuf.data, rbuf.len, &ev, err, sizeof(err)), 0);
	assert_false(flow_table_ingest(ft, NULL, &ev));
	assert_int_equal(count_calls, 1);
	flow_table_free(ft);
	buf_free(&rbuf);
}

/* A DNS answer record: the receiving container and the message's bytes, as the kernel cut them. */
static void test_dns_record(void **state)
{
	(void)state;
	struct vg_state *st = replay_state();
	struct vg_flow_dns d;
	char err[160];
	static const uint8_t msg[] = { 0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0 };
	struct vg_tuple t = { .family = AF_INET, .sport = 40000, .dport = 53,
			      .saddr = { 10, 88, 0, 5 }, .daddr = { 10, 88, 0, 1 } };

	rec_begin(&rbuf, VG_EVT_FLOW_DNS, 41);
	((struct vg_event_hdr *)rbuf.data)->cgroup_id = 100;
	rec_param(&rbuf, &t, sizeof(t));
	rec_param_u64(&rbuf, 0x77);
	rec_param(&rbuf, msg, sizeof(msg));
	rec_param_u64(&rbuf, 700);
	rec_finish(&rbuf, 0);
	assert_int_equal(event_decode(rbuf.data, rbuf.len, &ev, err, sizeof(err)), 0);
	assert_true(flow_dns_from_event(st, &ev, &d));
	assert_string_equal(d.container_id, CLIENT_ID);
	assert_int_equal(d.len, sizeof(msg));
	assert_memory_equal(d.payload, msg, sizeof(msg));
	assert_int_equal(d.whole_len, 700);
	assert_int_equal(d.remote.port, 53);
	assert_int_equal(d.local.port, 40000);
	assert_int_equal(d.cookie, 0x77);
	assert_int_equal(d.pid, 41);
	/* a flow record is not a DNS answer, nor the other way round */
	struct vg_flow f;
	struct flow_table *ft = flow_table_new(0, 0);
	assert_false(flow_from_event(ft, st, &ev, &f));
	assert_false(flow_dns_from_event(st, make(&client_open), &d));
	flow_table_free(ft);
	state_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_open_close_exact),
		cmocka_unit_test(test_passive_owner_and_peer),
		cmocka_unit_test(test_bounded_and_lru),
		cmocka_unit_test(test_not_flows_and_damaged),
		cmocka_unit_test(test_listener),
		cmocka_unit_test(test_dns_record),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
