/* SPDX-License-Identifier: Apache-2.0 */
/*
 * In-kernel dropping (src/engine/kdrop.c): the keep filter built from a rule
 * set must keep every event a rule alerts on. For a table of rules and for
 * Vigil's default rules, every combination of open-like event type, path
 * (normal, not normal, relative, long), flags, result, comm, euid and side is
 * built as a record, run through the state and the engine (every match), and
 * tested with kdrop_tables_keep (the kernel's test, line for line). An alert
 * on a dropped event fails; the filter must also drop something (it works).
 * Then the API: keep-all needs, keep-when conditions, parse errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "engine/engine.h"
#include "engine/kdrop.h"
#include "sensor/decode.h"
#include "sensor/event_table.h"
#include "state/state.h"
#include "test_helpers.h"

#define CG_CONTAINER 100
#define CG_HOST 200

static const char rules_text[] =
	"- list: secrets\n"
	"  items: [/etc/shadow, /etc/sudoers]\n"
	"- macro: w\n"
	"  condition: evt.type in (open, openat, openat2, creat) and evt.is_open_write = true and fd.num >= 0\n"
	"- rule: secret read\n"
	"  desc: d\n"
	"  condition: evt.type in (open, openat) and evt.is_open_read = true and fd.name in (secrets) and not proc.name = sshd\n"
	"  output: o\n"
	"  priority: WARNING\n"
	"- rule: etc write in container\n"
	"  desc: d\n"
	"  condition: w and container.id != host and (fd.name startswith /etc/ or fd.directory = /root)\n"
	"  output: o\n"
	"  priority: WARNING\n"
	"- rule: ssh pmatch\n"
	"  desc: d\n"
	"  condition: evt.type = openat and fd.name pmatch (/home/*/.ssh, /root/.ssh) and user.uid != 0\n"
	"  output: o\n"
	"  priority: WARNING\n"
	"- rule: truncate log\n"
	"  desc: d\n"
	"  condition: evt.type in (open, openat) and evt.arg.flags contains O_TRUNC and fd.name glob \"/var/log/*\"\n"
	"  output: o\n"
	"  priority: WARNING\n"
	"- rule: environ\n"
	"  desc: d\n"
	"  condition: evt.type = openat and fd.name glob \"/proc/*/environ\" and proc.name in (cat, vim)\n"
	"  output: o\n"
	"  priority: WARNING\n"
	"- rule: failed creat\n"
	"  desc: d\n"
	"  condition: evt.type = creat and evt.failed = true\n"
	"  output: o\n"
	"  priority: WARNING\n"
	"- rule: unlink anything\n"
	"  desc: d\n"
	"  condition: evt.type = unlinkat and fd.name contains x\n"
	"  output: o\n"
	"  priority: WARNING\n";

struct counts {
	size_t alerts;
};

static void on_alert(void *ctx, const struct alert *a)
{
	(void)a;
	((struct counts *)ctx)->alerts++;
}

static void feed_cgroup(struct vg_state *st, uint64_t id, const char *path)
{
	struct vg_buf b = { 0 };
	struct vg_event ev;
	char err[128];
	rec_begin(&b, VG_EVT_CGROUP, 1);
	((struct vg_event_hdr *)b.data)->cgroup_id = id;
	rec_param(&b, path, (uint16_t)(strlen(path) + 1));
	rec_finish(&b, 0);
	assert_int_equal(event_decode(b.data, b.len, &ev, err, sizeof(err)), 0);
	state_ingest(st, &ev);
	state_done(st, &ev);
	buf_free(&b);
}

static void build(struct vg_buf *b, unsigned int type, uint32_t pid, const char *path, const char *base,
		  uint64_t flags, int64_t ret, const char *comm, uint32_t euid, uint64_t cg)
{
	const struct vg_event_info *info = event_table_get(type);
	rec_begin(b, (uint16_t)type, pid);
	struct vg_event_hdr *h = (struct vg_event_hdr *)b->data;
	memset(h->comm, 0, sizeof(h->comm));
	memcpy(h->comm, comm, strlen(comm));
	h->euid = h->uid = euid;
	h->cgroup_id = cg;
	for (unsigned int i = 0; i < info->nparams; i++) {
		const char *name = info->params[i].name;
		switch (info->params[i].kind) {
		case VG_CK_ARG:
		case VG_CK_USER_U64:
			rec_param_u64(b, !strcmp(name, "flags") ? flags : !strcmp(name, "dirfd") ? (uint64_t)-100 : 0644);
			break;
		case VG_CK_PATH:
			rec_param_path(b, path, base);
			break;
		default:
			rec_param(b, "", 0);
		}
	}
	rec_finish(b, ret);
}

/* Every event of the universe: an alert on an event the filter drops fails the test. */
static void check_rules(struct engine *e)
{
	char err[256];
	struct kdrop *k = kdrop_new();
	struct kdrop_tables t;
	kdrop_add_engine(k, e);
	kdrop_add_state(k);
	kdrop_build(k, &t);
	kdrop_free(k);
	/* the bloom filter in front of the lookups has the bit of every key it stands for */
	for (size_t i = 0; i < t.ncomms; i++) {
		uint64_t c[2];
		memcpy(c, t.comms[i].comm, sizeof(c));
		uint32_t bit = vg_kdrop_comm_bit(t.comms[i].type, c[0], c[1]);
		assert_true((t.bloom[bit / 64] >> (bit % 64)) & 1);
	}
	for (size_t i = 0; t.nplens && i < t.npaths; i++) {
		if (t.paths[i].len != t.plens[0])
			continue;
		uint64_t w = 0;
		memcpy(&w, t.paths[i].s, 8);
		if (t.plens[0] < 8)
			w &= (1ull << (8 * t.plens[0])) - 1;
		uint32_t bit = vg_kdrop_bloom_bit(t.paths[i].type, w);
		assert_true((t.bloom[bit / 64] >> (bit % 64)) & 1);
	}

	struct vg_state_opts so = { .live = false };
	struct vg_state *st = state_new(&so);
	feed_cgroup(st, CG_CONTAINER,
		    "/machine.slice/libpod-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope");
	feed_cgroup(st, CG_HOST, "/user.slice/user-0.slice/session-1.scope");

	static const unsigned int types[] = { VG_EVT_OPEN, VG_EVT_OPENAT, VG_EVT_OPENAT2, VG_EVT_CREAT, VG_EVT_UNLINKAT };
	static const char *const paths[][2] = {
		{ "/etc/shadow", "" }, { "/etc/sudoers", "" }, { "/etc//shadow", "" }, { "/etc/./shadow", "" },
		{ "../../etc/shadow", "/srv/www" }, { "shadow", "/etc" }, { "/etc/passwd", "" }, { "/tmp/x", "" },
		{ "/proc/1/environ", "" }, { "/proc/self/mem", "" }, { "/home/u/.ssh/id_rsa", "" }, { "/root/.ssh", "" },
		{ "/root/x", "" }, { "/var/log/syslog", "" }, { "/etc/cron.d/x", "" }, { "/dev/mem", "" },
		{ "/etc/ld.so.preload", "" }, { "/usr/bin/ls", "" }, { "/etc/", "" }, { "", "/" },
		{ "/etc/kubernetes/pki/a-very-long-name-of-a-certificate-file-beyond-sixty-four-bytes.crt", "" },
	};
	static const uint64_t flagsv[] = { 0, 01 | 0100 | 01000, 02, 01 | 02000, 0100 };
	static const int64_t rets[] = { -2, -13, 3 };
	static const char *const comms[] = { "cat", "sshd", "vim", "dpkg", "containerd-shim" };
	static const uint32_t uids[] = { 0, 1000 };
	static const uint64_t cgs[] = { CG_CONTAINER, CG_HOST };
#define N(a) (sizeof(a) / sizeof(a[0]))
	struct vg_buf b = { 0 };
	uint32_t pid = 1000;
	size_t events = 0, dropped = 0, alerted = 0;
	for (size_t ti = 0; ti < N(types); ti++)
	for (size_t pi = 0; pi < N(paths); pi++)
	for (size_t fi = 0; fi < N(flagsv); fi++)
	for (size_t ri = 0; ri < N(rets); ri++)
	for (size_t ci = 0; ci < N(comms); ci++)
	for (size_t ui = 0; ui < N(uids); ui++)
	for (size_t gi = 0; gi < N(cgs); gi++) {
		struct vg_event ev;
		build(&b, types[ti], pid++, paths[pi][0], paths[pi][1], flagsv[fi], rets[ri], comms[ci], uids[ui], cgs[gi]);
		assert_int_equal(event_decode(b.data, b.len, &ev, err, sizeof(err)), 0);
		int side = cgs[gi] == CG_CONTAINER ? VG_KDROP_CONTAINER : VG_KDROP_HOST;
		bool keep = kdrop_tables_keep(&t, &ev, side);
		assert_int_equal(keep, kdrop_tables_keep_terms(&t, &ev, side)); /* the masks decide as the terms */
		/* the kernel may not know the side yet: it keeps more, never less */
		assert_true(!keep || kdrop_tables_keep(&t, &ev, 0));
		state_ingest(st, &ev);
		struct counts c = { 0 };
		engine_process(e, &ev, st, on_alert, &c);
		state_done(st, &ev);
		events++;
		dropped += !keep;
		alerted += c.alerts > 0;
		if (c.alerts && !keep)
			fail_msg("an alert on a dropped event: %s path=%s base=%s flags=%#llo ret=%lld comm=%s euid=%u %s",
				 event_table_get(types[ti])->name, paths[pi][0], paths[pi][1],
				 (unsigned long long)flagsv[fi], (long long)rets[ri], comms[ci], uids[ui],
				 side == VG_KDROP_CONTAINER ? "container" : "host");
	}
	print_message("%zu events, %zu with alerts, %zu dropped\n", events, alerted, dropped);
	assert_true(alerted > 0);
	assert_true(dropped > 0); /* the filter does its work */
	buf_free(&b);
	state_free(st);
	kdrop_tables_free(&t);
}

static void test_rules_table(void **unused)
{
	(void)unused;
	struct ruleset rs;
	char err[512];
	ruleset_init(&rs);
	assert_int_equal(ruleset_load_buf(&rs, "kd.yaml", rules_text, strlen(rules_text), err, sizeof(err)), 0);
	struct engine_opts eo = { .match_all = true, .min_priority = PRIO_DEBUG };
	struct engine *e = engine_compile(&rs, &eo, err, sizeof(err));
	if (!e)
		fail_msg("%s", err);
	check_rules(e);
	engine_free(e);
	ruleset_free(&rs);
}

static void test_default_rules(void **unused)
{
	(void)unused;
	char err[512];
	struct engine_opts eo = { .match_all = true, .min_priority = PRIO_DEBUG };
	struct engine *e = engine_load(NULL, 0, true, &eo, NULL, NULL, err, sizeof(err));
	if (!e)
		fail_msg("%s", err);
	check_rules(e);
	/* the open storm's event is dropped: /tmp/storm-file read on the host */
	struct kdrop *k = kdrop_new();
	struct kdrop_tables t;
	kdrop_add_engine(k, e);
	kdrop_add_state(k);
	kdrop_build(k, &t);
	assert_int_equal(t.mode[VG_EVT_OPENAT], VG_KDROP_FILTER);
	assert_int_equal(t.mode[VG_EVT_EXECVE], VG_KDROP_KEEP_ALL);
	assert_int_equal(t.mode[VG_EVT_CLONE], VG_KDROP_KEEP_ALL);
	struct vg_buf b = { 0 };
	struct vg_event ev;
	build(&b, VG_EVT_OPENAT, 7, "/tmp/storm-file", "", 0, 3, "storm", 0, CG_HOST);
	assert_int_equal(event_decode(b.data, b.len, &ev, err, sizeof(err)), 0);
	assert_false(kdrop_tables_keep(&t, &ev, VG_KDROP_HOST));
	buf_free(&b);
	kdrop_tables_free(&t);
	kdrop_free(k);
	engine_free(e);
}

static void test_needs(void **unused)
{
	(void)unused;
	char err[256];
	struct kdrop *k = kdrop_new();
	struct kdrop_tables t;

	/* a parse error is reported with its column, and adds nothing */
	assert_int_equal(kdrop_keep_when(k, "evt.type = openat and (", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "keep condition, column"));
	assert_int_equal(kdrop_keep_when(k, "evt.type in (openat, open) and evt.is_open_write = true", err,
					 sizeof(err)), 0);
	kdrop_keep_all(k, VG_EVT_CONNECT);
	kdrop_build(k, &t);
	assert_int_equal(t.mode[VG_EVT_OPENAT], VG_KDROP_FILTER);
	assert_int_equal(t.mode[VG_EVT_CONNECT], VG_KDROP_KEEP_ALL);
	assert_non_null(t.why[VG_EVT_CONNECT]);
	assert_int_equal(t.mode[VG_EVT_UNLINK], VG_KDROP_KEEP_ALL); /* nobody named it */
	assert_int_equal(kdrop_filtered_types(&t), 2);
	struct vg_buf b = { 0 };
	struct vg_event ev;
	build(&b, VG_EVT_OPENAT, 7, "/tmp/a", "", 01, 3, "x", 0, CG_HOST);
	assert_int_equal(event_decode(b.data, b.len, &ev, err, sizeof(err)), 0);
	assert_true(kdrop_tables_keep(&t, &ev, 0));
	build(&b, VG_EVT_OPENAT, 7, "/tmp/a", "", 0, 3, "x", 0, CG_HOST);
	assert_int_equal(event_decode(b.data, b.len, &ev, err, sizeof(err)), 0);
	assert_false(kdrop_tables_keep(&t, &ev, 0));
	buf_free(&b);
	kdrop_tables_free(&t);

	/* a need with no test the kernel can make keeps its types whole */
	assert_int_equal(kdrop_keep_when(k, "evt.type = openat and proc.cmdline contains x", err, sizeof(err)), 0);
	kdrop_build(k, &t);
	assert_int_equal(t.mode[VG_EVT_OPENAT], VG_KDROP_KEEP_ALL);
	kdrop_tables_free(&t);
	kdrop_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules_table),
		cmocka_unit_test(test_default_rules),
		cmocka_unit_test(test_needs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
