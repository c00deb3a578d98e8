/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kernel filters (src/engine/kfilter.c) against the engine itself: for each
 * rule of a table, every combination of event type, result, comm, euid,
 * container or host, dup'ed socket family and executable flags is built as a
 * record, run through the state and the engine, and tested against the
 * rule's kernel terms with the kernel program's logic (term_matches below
 * mirrors kill_term_matches in src/bpf/vigil.bpf.c). The kernel must never
 * match what the engine does not (it would kill a process the rule does not
 * name); for rules marked exact it must match all the engine does.
 * Rules the kernel cannot decide must say why.
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
#include "engine/kfilter.h"
#include "sensor/decode.h"
#include "sensor/event_table.h"
#include "state/state.h"
#include "test_helpers.h"

#define CG_CONTAINER 100
#define CG_HOST 200

static const char rules_text[] =
	"- list: shells\n"
	"  items: [sh, bash]\n"
	"- list: more_shells\n"
	"  items: [shells, dash, \"zsh\"]\n"
	"- macro: in_container\n"
	"  condition: container.id != host\n"
	"- macro: spawned\n"
	"  condition: evt.type in (execve, execveat) and evt.rawres = 0\n"
	"- rule: revshell\n"
	"  desc: d\n"
	"  condition: evt.type in (dup, dup2, dup3) and in_container and evt.rawres in (0, 1, 2) and fd.type in (ipv4, ipv6)\n"
	"  output: o\n"
	"  priority: CRITICAL\n"
	"- rule: drift\n"
	"  desc: d\n"
	"  condition: spawned and in_container and proc.is_exe_upper_layer = true\n"
	"  output: o\n"
	"  priority: CRITICAL\n"
	"- rule: notmemfd\n"
	"  desc: d\n"
	"  condition: spawned and not proc.is_exe_from_memfd = true and proc.name in (more_shells)\n"
	"  output: o\n"
	"  priority: CRITICAL\n"
	"- rule: module\n"
	"  desc: d\n"
	"  condition: evt.type in (init_module, finit_module) and not (container.id = host or evt.failed = true)\n"
	"  output: o\n"
	"  priority: CRITICAL\n"
	"- rule: demorgan\n"
	"  desc: d\n"
	"  condition: not (evt.type != setuid and evt.type != openat) and (user.uid = 0 or proc.name != nc) and evt.rawres >= 0\n"
	"  output: o\n"
	"  priority: CRITICAL\n"
	"- rule: failed\n"
	"  desc: d\n"
	"  condition: evt.type in (openat, connect, procexit) and evt.failed = false and not user.uid in (0, 5000000000)\n"
	"  output: o\n"
	"  priority: CRITICAL\n"
	"- rule: ranges\n"
	"  desc: d\n"
	"  condition: evt.type = openat and (evt.rawres < 0 or evt.rawres > 3) and not evt.rawres <= -4096 and proc.name = \"nc\"\n"
	"  output: o\n"
	"  priority: CRITICAL\n"
	"- rule: mixed\n"
	"  desc: d\n"
	"  condition: evt.type in (dup2, connect) and fd.type = ipv4\n"
	"  output: o\n"
	"  priority: CRITICAL\n"
	"- rule: names\n"
	"  desc: d\n"
	"  condition: evt.type = openat and proc.name in (sh, nc) and proc.name in (nc, dash, sh) and proc.name != sh\n"
	"  output: o\n"
	"  priority: CRITICAL\n"
	"- rule: never\n"
	"  desc: d\n"
	"  condition: evt.type = openat and proc.name = sh and proc.name = nc\n"
	"  output: o\n"
	"  priority: CRITICAL\n"
	"- rule: userspace\n"
	"  desc: d\n"
	"  condition: evt.type = openat and proc.cmdline contains nc\n"
	"  output: o\n"
	"  priority: CRITICAL\n"
	"- rule: excepted\n"
	"  desc: d\n"
	"  condition: evt.type = openat\n"
	"  output: o\n"
	"  priority: CRITICAL\n"
	"  exceptions:\n"
	"    - name: e\n"
	"      fields: [proc.name]\n"
	"      values: [[sh]]\n"
	"- rule: negfd\n"
	"  desc: d\n"
	"  condition: evt.type = dup2 and not fd.type = ipv4\n"
	"  output: o\n"
	"  priority: CRITICAL\n";

/* rule name, whether the kernel decides it, whether its terms equal the engine on every event */
static const struct {
	const char *name;
	bool kernel;
	bool exact;
} expect[] = {
	{ "revshell", true, true }, { "drift", true, true },	 { "notmemfd", true, true },
	{ "module", true, true },   { "demorgan", true, true },	 { "failed", true, true },
	{ "ranges", true, true },   { "mixed", true, false },	 { "names", true, true },
	{ "never", true, true },	 { "userspace", false, false },
	{ "excepted", false, false }, { "negfd", false, false },
};

/* The kernel program's test of one term (src/bpf/vigil.bpf.c: kill_term_matches). */
struct kev {
	unsigned int type;
	int64_t ret;
	char comm[16];
	uint32_t euid;
	int side;
	uint8_t fam_bit; /* VG_KILL_FAM_* of the dup'ed fd, 0 if none */
	uint8_t exe;     /* VG_EXE_* of the current executable */
};

static bool in_set(const char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

static bool term_matches(const struct vg_kill_term *t, const char *const *in, size_t nin, const char *const *out,
			 size_t nout, const struct kev *e)
{
	if (!((t->types[e->type >> 6] >> (e->type & 63)) & 1))
		return false;
	if (t->where && e->side != t->where)
		return false;
	if (e->ret < t->res_lo || e->ret > t->res_hi)
		return false;
	bool found = false;
	for (int i = 0; i < t->n_res_in; i++)
		found |= t->res_in[i] == e->ret;
	if (t->n_res_in && !found)
		return false;
	for (int i = 0; i < t->n_res_out; i++)
		if (t->res_out[i] == e->ret)
			return false;
	found = false;
	for (int i = 0; i < t->n_uid_in; i++)
		found |= t->uid_in[i] == e->euid;
	if (t->n_uid_in && !found)
		return false;
	for (int i = 0; i < t->n_uid_out; i++)
		if (t->uid_out[i] == e->euid)
			return false;
	if ((t->names & VG_KILL_NAMES_IN) && !in_set(in, nin, e->comm))
		return false;
	if ((t->names & VG_KILL_NAMES_OUT) && in_set(out, nout, e->comm))
		return false;
	if (t->families && !(t->families & e->fam_bit))
		return false;
	if ((e->exe & t->exe_set) != t->exe_set || (e->exe & t->exe_clear))
		return false;
	return true;
}

/* A record of e's type with every parameter filled from e. */
static void build(struct vg_buf *b, const struct kev *e, uint32_t pid)
{
	const struct vg_event_info *info = event_table_get(e->type);
	rec_begin(b, (uint16_t)e->type, pid);
	struct vg_event_hdr *h = (struct vg_event_hdr *)b->data;
	memcpy(h->comm, e->comm, sizeof(h->comm));
	h->euid = h->uid = e->euid;
	h->cgroup_id = e->side == VG_KILL_CONTAINER ? CG_CONTAINER : CG_HOST;
	for (unsigned int i = 0; i < info->nparams; i++) {
		switch (info->params[i].kind) {
		case VG_CK_ARG:
			rec_param_u64(b, 3);
			break;
		case VG_CK_TUPLE: {
			struct vg_tuple t = { 0 };
			t.family = e->fam_bit == VG_KILL_FAM_INET ? 2 : e->fam_bit == VG_KILL_FAM_INET6 ? 10 :
				   e->fam_bit == VG_KILL_FAM_UNIX ? 1 : 0;
			t.dport = t.family == 2 || t.family == 10 ? 4444 : 0;
			rec_param(b, &t, sizeof(t));
			break;
		}
		case VG_CK_EXE:
			rec_param_path(b, "/bin/x", "/");
			break;
		case VG_CK_EXE_INFO: {
			struct vg_exe_info x = { .ino = 7, .dev = 1, .flags = e->exe };
			if (e->ret == 0)
				rec_param(b, &x, sizeof(x));
			else
				rec_param(b, "", 0);
			break;
		}
		case VG_CK_ARGV:
		case VG_CK_STR:
		case VG_CK_CWD:
		case VG_CK_FD_PATH:
			rec_param(b, "x", 2);
			break;
		default:
			rec_param(b, "", 0);
		}
	}
	rec_finish(b, e->ret);
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

struct hits {
	bool rule[64];
};

static void on_alert(void *ctx, const struct alert *a)
{
	struct hits *h = ctx;
	for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++)
		if (!strcmp(a->name, expect[i].name))
			h->rule[i] = true;
}

static void test_equivalence(void **unused)
{
	(void)unused;
	struct ruleset rs;
	char err[512];
	ruleset_init(&rs);
	assert_int_equal(ruleset_load_buf(&rs, "kf.yaml", rules_text, strlen(rules_text), err, sizeof(err)), 0);
	struct engine_opts eo = { .match_all = true, .min_priority = PRIO_DEBUG };
	struct engine *e = engine_compile(&rs, &eo, err, sizeof(err));
	if (!e)
		fail_msg("%s", err);
	size_t nexp = sizeof(expect) / sizeof(expect[0]);
	const struct kfilter *kf[16];
	for (size_t i = 0; i < nexp; i++) {
		kf[i] = NULL;
		for (size_t r = 0; r < engine_rule_count(e); r++) {
			struct engine_rule_info ri;
			engine_rule_info(e, r, &ri);
			if (!strcmp(ri.name, expect[i].name))
				kf[i] = ri.kernel;
		}
		if (!kf[i])
			fail_msg("rule %s: no kernel form", expect[i].name);
		if (expect[i].kernel != !kfilter_reason(kf[i]))
			fail_msg("rule %s: kernel %s (%s)", expect[i].name, expect[i].kernel ? "expected" : "unexpected",
				 kfilter_reason(kf[i]) ? kfilter_reason(kf[i]) : "decidable");
	}

	struct vg_state_opts so = { .live = false };
	struct vg_state *st = state_new(&so);
	feed_cgroup(st, CG_CONTAINER,
		    "/machine.slice/libpod-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope");
	feed_cgroup(st, CG_HOST, "/user.slice/user-0.slice/session-1.scope");

	static const unsigned int types[] = { VG_EVT_EXECVE, VG_EVT_EXECVEAT, VG_EVT_DUP,	 VG_EVT_DUP2,
					      VG_EVT_DUP3,   VG_EVT_OPENAT,	VG_EVT_CONNECT,	 VG_EVT_SETUID,
					      VG_EVT_INIT_MODULE, VG_EVT_FINIT_MODULE, VG_EVT_PROCEXIT };
	static const int64_t rets[] = { -5000, -4096, -4095, -13, -1, 0, 1, 2, 3, 4, 4096 };
	static const char *const comms[] = { "sh", "nc", "dash", "zsh", "insmod", "very-long-name1" };
	static const uint32_t uids[] = { 0, 1000 };
	static const int sides[] = { VG_KILL_CONTAINER, VG_KILL_HOST };
	static const uint8_t fams[] = { 0, VG_KILL_FAM_INET, VG_KILL_FAM_INET6, VG_KILL_FAM_UNIX };
	static const uint8_t exes[] = { 0, VG_EXE_UPPER_LAYER, VG_EXE_MEMFD, VG_EXE_UPPER_LAYER | VG_EXE_MEMFD };
#define N(a) (sizeof(a) / sizeof(a[0]))
	struct vg_buf b = { 0 };
	uint32_t pid = 1000;
	size_t checked = 0, kernel_hits = 0;
	for (size_t ti = 0; ti < N(types); ti++)
	for (size_t ri = 0; ri < N(rets); ri++)
	for (size_t ci = 0; ci < N(comms); ci++)
	for (size_t ui = 0; ui < N(uids); ui++)
	for (size_t si = 0; si < N(sides); si++)
	for (size_t fi = 0; fi < N(fams); fi++)
	for (size_t xi = 0; xi < N(exes); xi++) {
		struct kev k = { .type = types[ti], .ret = rets[ri], .euid = uids[ui], .side = sides[si],
				 .fam_bit = fams[fi], .exe = exes[xi] };
		strncpy(k.comm, comms[ci], sizeof(k.comm) - 1);
		/* the sensor fills the tuple only for dup's socket; exe flags only exist for an exec */
		bool dup = k.type == VG_EVT_DUP || k.type == VG_EVT_DUP2 || k.type == VG_EVT_DUP3;
		bool exec_ok = (k.type == VG_EVT_EXECVE || k.type == VG_EVT_EXECVEAT) && k.ret == 0;
		if ((!dup && k.type != VG_EVT_CONNECT && fi) || (!exec_ok && xi))
			continue;
		struct vg_event ev;
		build(&b, &k, pid++);
		assert_int_equal(event_decode(b.data, b.len, &ev, err, sizeof(err)), 0);
		state_ingest(st, &ev);
		struct hits h = { { false } };
		engine_process(e, &ev, st, on_alert, &h);
		state_done(st, &ev);
		for (size_t i = 0; i < nexp; i++) {
			if (kfilter_reason(kf[i]))
				continue;
			bool km = false;
			for (size_t t = 0; t < kfilter_nterms(kf[i]) && !km; t++) {
				struct vg_kill_term term;
				const char *const *in, *const *out;
				size_t nin, nout;
				kfilter_term(kf[i], t, &term, &in, &nin, &out, &nout);
				km = term_matches(&term, in, nin, out, nout, &k);
			}
			kernel_hits += km;
			if (km && !h.rule[i])
				fail_msg("rule %s: the kernel matches %s ret=%lld comm=%s uid=%u side=%d fam=%u exe=%u, "
					 "the engine does not", expect[i].name, event_table_get(k.type)->name,
					 (long long)k.ret, k.comm, k.euid, k.side, k.fam_bit, k.exe);
			if (expect[i].exact && !km && h.rule[i])
				fail_msg("rule %s: the engine matches %s ret=%lld comm=%s uid=%u side=%d fam=%u exe=%u, "
					 "the kernel does not", expect[i].name, event_table_get(k.type)->name,
					 (long long)k.ret, k.comm, k.euid, k.side, k.fam_bit, k.exe);
		}
		checked++;
	}
	assert_true(checked > 1000);
	assert_true(kernel_hits > 50);
	buf_free(&b);
	state_free(st);
	engine_free(e);
	ruleset_free(&rs);
}

/* What a rule the kernel cannot decide says. */
static void test_reasons(void **unused)
{
	(void)unused;
	static const struct {
		const char *cond, *reason;
	} cases[] = {
		{ "evt.type = openat and proc.cmdline contains nc", "proc.cmdline is not known to the kernel" },
		{ "evt.type = openat and proc.name startswith n", "proc.name startswith n is evaluated in userspace" },
		{ "evt.type = openat and tolower(proc.name) = nc", "proc.name with a transformer or val() is evaluated in userspace" },
		{ "evt.type = openat and evt.rawres in (1, 2, 3, 4, 5)", "more than 4 values in one test" },
		{ "evt.type = dup2 and not fd.type = ipv4", "not fd.type = ipv4 is evaluated in userspace" },
		{ "(proc.name = a or proc.name = b) and (user.uid = 1 or user.uid = 2) and (evt.rawres = 1 or "
		  "evt.rawres = 2 or evt.rawres = 3)", "more than 8 alternatives" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[1024], err[512];
		snprintf(text, sizeof(text), "- rule: r\n  desc: d\n  condition: %s\n  output: o\n  priority: ERROR\n",
			 cases[i].cond);
		struct ruleset rs;
		ruleset_init(&rs);
		assert_int_equal(ruleset_load_buf(&rs, "r.yaml", text, strlen(text), err, sizeof(err)), 0);
		struct kfilter *k = kfilter_compile(&rs, &rs.rules[0], NULL);
		assert_non_null(kfilter_reason(k));
		assert_string_equal(kfilter_reason(k), cases[i].reason);
		kfilter_free(k);
		ruleset_free(&rs);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_equivalence),
		cmocka_unit_test(test_reasons),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
