/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests: the response safety rules (src/respond/respond.c). What is
 * refused and why: the agent itself, pid 1, kernel threads, host processes
 * without allow_host, unknown cgroups, unknown actions (logged only); what is skipped (a
 * target already acted on) and the rate limit; audit mode, which records and
 * does nothing. No root: kills go to a child of the test, freezes to a cgroup
 * that does not exist, kernel threads come from a fake procfs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "common/buf.h"
#include "respond/respond.h"
#include "respond/response_policy.h"
#include "state/state.h"

#define CG_CONTAINER 100 /* a container's cgroup */
#define CG_HOST 200      /* a host cgroup (known, no container) */
#define CG_UNKNOWN 300   /* a cgroup the state never saw */

/* The results one responder_handle call gave, copied (the strings live only during the callback). */
struct seen {
	size_t n;
	struct {
		char action[32], target[96], outcome[16], detail[512], path[16], cgroup[128];
	} r[64];
};

static void collect(void *ctx, const struct alert *a, const struct action_result *res)
{
	struct seen *s = ctx;
	(void)a;
	assert_true(s->n < sizeof(s->r) / sizeof(s->r[0]));
	snprintf(s->r[s->n].action, sizeof(s->r[0].action), "%s", action_name(res->action));
	snprintf(s->r[s->n].target, sizeof(s->r[0].target), "%s", res->target);
	snprintf(s->r[s->n].outcome, sizeof(s->r[0].outcome), "%s", action_outcome_name(res->outcome));
	snprintf(s->r[s->n].detail, sizeof(s->r[0].detail), "%s", res->detail);
	snprintf(s->r[s->n].path, sizeof(s->r[0].path), "%s", res->path);
	snprintf(s->r[s->n].cgroup, sizeof(s->r[0].cgroup), "%s", res->cgroup ? res->cgroup : "(null)");
	s->n++;
}

/* The one place that compares an outcome: the result type's representation may change. */
#define assert_outcome(s, i, want) assert_string_equal((s)->r[i].outcome, (want))

struct fixture {
	struct vg_state *st;
	char procfs[64];
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct vg_state_opts o = { .live = false };
	f->st = state_new(&o);
	struct vg_cgroup *c = container_table_add(&f->st->cgroups, CG_CONTAINER, "/machine/libpod-0123456789ab");
	snprintf(c->meta.id, sizeof(c->meta.id), "%s", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	c->meta.name = xstrdup("web");
	container_table_add(&f->st->cgroups, CG_HOST, "/system.slice/sshd.service");
	/* an empty procfs: no process is a kernel thread unless a test writes its stat */
	snprintf(f->procfs, sizeof(f->procfs), "/tmp/vigil-respond-XXXXXX");
	assert_non_null(mkdtemp(f->procfs));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];
	state_free(f->st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->procfs);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* One alert of pid in cgroup, asking for the named actions (audit: that act only recorded). */
static void handle(struct responder *r, const struct fixture *f, uint32_t pid, uint64_t cgroup, uint32_t flags,
		   const char *const *acts, size_t n, bool audit, struct seen *s)
{
	struct vg_event ev = { 0 };
	ev.hdr.pid = ev.hdr.tid = pid;
	ev.hdr.cgroup_id = cgroup;
	ev.hdr.flags = flags;
	memcpy(ev.hdr.comm, "sh", 3);
	struct alert a = { .name = "test rule", .ev = &ev, .st = f->st };
	struct action_req req[8];
	assert_true(n <= 8);
	for (size_t i = 0; i < n; i++)
		req[i] = (struct action_req){ acts[i], audit };
	memset(s, 0, sizeof(*s));
	responder_handle(r, &a, req, n, collect, s);
}

static void handle1(struct responder *r, const struct fixture *f, uint32_t pid, uint64_t cgroup, const char *act,
		    struct seen *s)
{
	handle(r, f, pid, cgroup, 0, &act, 1, false, s);
}

/* A child that waits to be killed; its pid. */
static pid_t sleeper(void)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	return pid;
}

static void test_never_self(void **state)
{
	struct fixture *f = *state;
	struct responder *r = responder_new(RESPOND_ENFORCE, true, f->procfs, NULL, NULL);
	struct seen s;
	char target[32];
	snprintf(target, sizeof(target), "pid %d", (int)getpid());
	handle1(r, f, (uint32_t)getpid(), CG_CONTAINER, "kill", &s);
	assert_int_equal(s.n, 1);
	assert_outcome(&s, 0, "refused");
	assert_string_equal(s.r[0].detail, "never the agent itself");
	assert_string_equal(s.r[0].target, target);
	responder_free(r);
}

static void test_never_pid1(void **state)
{
	struct fixture *f = *state;
	struct responder *r = responder_new(RESPOND_ENFORCE, true, f->procfs, NULL, NULL);
	struct seen s;
	for (uint32_t pid = 0; pid <= 1; pid++) {
		handle1(r, f, pid, CG_CONTAINER, "kill", &s);
		assert_int_equal(s.n, 1);
		assert_outcome(&s, 0, "refused");
		assert_string_equal(s.r[0].detail, "never pid 1");
	}
	responder_free(r);
}

static void test_never_kernel_thread(void **state)
{
	struct fixture *f = *state;
	char dir[128], path[160];
	snprintf(dir, sizeof(dir), "%s/4242", f->procfs);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/stat", dir);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	/* comm with a ')' and spaces, as kernel threads may have; flags (field 9) with PF_KTHREAD */
	fprintf(fp, "4242 (kworker/0:1 (x)) I 2 0 0 0 -1 %u 0 0 0 0\n", 0x00208040u);
	fclose(fp);
	struct responder *r = responder_new(RESPOND_ENFORCE, true, f->procfs, NULL, NULL);
	struct seen s;
	handle1(r, f, 4242, CG_HOST, "kill", &s);
	assert_int_equal(s.n, 1);
	assert_outcome(&s, 0, "refused");
	assert_string_equal(s.r[0].detail, "never a kernel thread");
	responder_free(r);
}

static void test_host_needs_allow_host(void **state)
{
	struct fixture *f = *state;
	static const char *const acts[] = { "kill", "freeze", "isolate", "capture" };
	struct seen s;
	/* a known host cgroup and an unknown one: neither is a container */
	for (int cg = 0; cg < 2; cg++) {
		struct responder *r = responder_new(RESPOND_ENFORCE, false, f->procfs, NULL, NULL);
		handle(r, f, 4243, cg ? CG_UNKNOWN : CG_HOST, 0, acts, 4, false, &s);
		assert_int_equal(s.n, 4);
		for (size_t i = 0; i < 4; i++) {
			assert_string_equal(s.r[i].action, acts[i]);
			assert_outcome(&s, i, "refused");
			assert_string_equal(s.r[i].detail, "not in a container (the policy does not allow host targets)");
		}
		assert_string_equal(s.r[1].target, "container host");
		responder_free(r);
	}
}

/*
 * allow_host and a cgroup the state never saw: there is no path to freeze or to
 * name, so freeze and isolate are refused (they used to dereference the missing cgroup).
 */
static void test_unknown_cgroup_refused(void **state)
{
	struct fixture *f = *state;
	static const char *const acts[] = { "freeze", "isolate" };
	struct seen s;
	for (int mode = 0; mode < 2; mode++) {
		struct responder *r = responder_new(mode ? RESPOND_ENFORCE : RESPOND_AUDIT, true, f->procfs, NULL, NULL);
		handle(r, f, 4244, CG_UNKNOWN, 0, acts, 2, false, &s);
		assert_int_equal(s.n, 2);
		for (size_t i = 0; i < 2; i++) {
			assert_outcome(&s, i, "refused");
			assert_string_equal(s.r[i].detail, "unknown cgroup 300 (its path was never seen)");
			assert_string_equal(s.r[i].cgroup, "");
		}
		responder_free(r);
	}
}

/* allow_host and a known host cgroup: acted on (here only recorded, in audit mode). */
static void test_allow_host(void **state)
{
	struct fixture *f = *state;
	static const char *const acts[] = { "kill", "freeze", "isolate" };
	struct responder *r = responder_new(RESPOND_AUDIT, true, f->procfs, NULL, NULL);
	struct seen s;
	handle(r, f, 4245, CG_HOST, 0, acts, 3, false, &s);
	assert_int_equal(s.n, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_outcome(&s, i, "audit");
		assert_string_equal(s.r[i].cgroup, "/system.slice/sshd.service");
	}
	assert_string_equal(s.r[0].detail, "audit mode: would kill");
	assert_string_equal(s.r[1].target, "container host");
	responder_free(r);
}

static void test_unknown_action(void **state)
{
	struct fixture *f = *state;
	struct responder *r = responder_new(RESPOND_ENFORCE, false, f->procfs, NULL, NULL);
	struct seen s;
	/* rules and policies naming one are refused when loaded: here it is only logged */
	handle1(r, f, 4246, CG_CONTAINER, "deny_open", &s);
	assert_int_equal(s.n, 0);
	assert_true(respond_action_known("kill") && respond_action_known("freeze") && respond_action_known("isolate") &&
		    respond_action_known("capture"));
	assert_false(respond_action_known("deny_open") || respond_action_known("deny") || respond_action_known("Kill"));
	responder_free(r);
}

/* Off: nothing is decided, nothing reported. Audit (the mode or one act): recorded, not done. */
static void test_modes(void **state)
{
	struct fixture *f = *state;
	pid_t child = sleeper();
	struct seen s;
	struct responder *r = responder_new(RESPOND_OFF, false, f->procfs, NULL, NULL);
	handle1(r, f, (uint32_t)child, CG_CONTAINER, "kill", &s);
	assert_int_equal(s.n, 0);
	responder_free(r);

	r = responder_new(RESPOND_AUDIT, false, f->procfs, NULL, NULL);
	handle1(r, f, (uint32_t)child, CG_CONTAINER, "kill", &s);
	assert_int_equal(s.n, 1);
	assert_outcome(&s, 0, "audit");
	assert_string_equal(s.r[0].detail, "audit mode: would kill");
	responder_free(r);

	/* enforce, but the binding said audit */
	const char *kill_act = "kill";
	r = responder_new(RESPOND_ENFORCE, false, f->procfs, NULL, NULL);
	handle(r, f, (uint32_t)child, CG_CONTAINER, 0, &kill_act, 1, true, &s);
	assert_int_equal(s.n, 1);
	assert_outcome(&s, 0, "audit");
	responder_free(r);

	/* the child is still alive: nothing was sent */
	int status;
	assert_int_equal(waitpid(child, &status, WNOHANG), 0);
	kill(child, SIGKILL);
	assert_int_equal(waitpid(child, &status, 0), child);
}

/* Enforce: the kill is sent; a second alert of the same process is skipped; a gone one is skipped. */
static void test_kill_once(void **state)
{
	struct fixture *f = *state;
	pid_t child = sleeper();
	char target[32];
	snprintf(target, sizeof(target), "pid %d", (int)child);
	struct responder *r = responder_new(RESPOND_ENFORCE, false, f->procfs, NULL, NULL);
	struct seen s;
	handle1(r, f, (uint32_t)child, CG_CONTAINER, "kill", &s);
	assert_int_equal(s.n, 1);
	assert_outcome(&s, 0, "done");
	assert_string_equal(s.r[0].target, target);
	assert_string_equal(s.r[0].path, "userspace");
	int status;
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

	handle1(r, f, (uint32_t)child, CG_CONTAINER, "kill", &s);
	assert_outcome(&s, 0, "skipped");
	assert_string_equal(s.r[0].detail, "already done for this target");
	responder_free(r);

	/* a fresh responder, the process reaped: ESRCH */
	r = responder_new(RESPOND_ENFORCE, false, f->procfs, NULL, NULL);
	handle1(r, f, (uint32_t)child, CG_CONTAINER, "kill", &s);
	assert_outcome(&s, 0, "skipped");
	assert_string_equal(s.r[0].detail, "process already gone");
	responder_free(r);
}

/* The kernel program killed already: reported as done by the kernel, then skipped in userspace. */
static void test_killed_by_kernel(void **state)
{
	struct fixture *f = *state;
	const char *kill_act = "kill";
	struct responder *r = responder_new(RESPOND_ENFORCE, false, f->procfs, NULL, NULL);
	struct seen s;
	handle(r, f, 4247, CG_CONTAINER, VG_HDR_KILLED, &kill_act, 1, false, &s);
	assert_int_equal(s.n, 1);
	assert_outcome(&s, 0, "done");
	assert_string_equal(s.r[0].path, "kernel");
	handle1(r, f, 4247, CG_CONTAINER, "kill", &s);
	assert_outcome(&s, 0, "skipped");
	responder_free(r);
}

/* Container actions are once per cgroup and action; capture is never deduplicated. */
static void test_once_per_target(void **state)
{
	struct fixture *f = *state;
	static const char *const acts[] = { "freeze", "isolate", "capture" };
	struct responder *r = responder_new(RESPOND_AUDIT, false, f->procfs, NULL, NULL);
	struct seen s;
	handle(r, f, 5000, CG_CONTAINER, 0, acts, 3, false, &s);
	for (size_t i = 0; i < 3; i++)
		assert_outcome(&s, i, "audit");
	assert_string_equal(s.r[0].target, "container 0123456789ab");
	/* another process of the same container */
	handle(r, f, 5001, CG_CONTAINER, 0, acts, 3, false, &s);
	assert_outcome(&s, 0, "skipped");
	assert_outcome(&s, 1, "skipped");
	assert_outcome(&s, 2, "audit");
	responder_free(r);
}

/* Enforce freeze and isolate: what is reported when they cannot be carried out. */
static void test_container_action_failures(void **state)
{
	struct fixture *f = *state;
	static const char *const acts[] = { "freeze", "isolate", "capture" };
	struct responder *r = responder_new(RESPOND_ENFORCE, false, f->procfs, NULL, NULL);
	struct seen s;
	handle(r, f, 5002, CG_CONTAINER, 0, acts, 3, false, &s);
	assert_int_equal(s.n, 3);
	assert_outcome(&s, 0, "failed"); /* no such cgroup on this machine */
	assert_string_equal(s.r[0].cgroup, "/machine/libpod-0123456789ab");
	assert_outcome(&s, 1, "failed");
	assert_string_equal(s.r[1].detail, "isolation programs not loaded");
	assert_outcome(&s, 2, "failed");
	assert_string_equal(s.r[2].detail, "no flight recorder");
	responder_free(r);

	char err[256];
	assert_int_equal(respond_cgroup_freeze("/a/../../etc", true, err, sizeof(err)), -1);
	if (cgroup2_mount()[0])
		assert_string_equal(err, "refusing cgroup path '/a/../../etc'");
}

/* At most RESPOND_MAX_PER_SEC actions a second; refusals before the limit do not count. */
static void test_rate_limit(void **state)
{
	struct fixture *f = *state;
	struct responder *r = responder_new(RESPOND_AUDIT, false, f->procfs, NULL, NULL);
	struct seen s;
	for (uint32_t i = 0; i < 10; i++) {
		handle1(r, f, 1, CG_CONTAINER, "kill", &s); /* refused: pid 1 */
		assert_outcome(&s, 0, "refused");
	}
	for (uint32_t i = 0; i < RESPOND_MAX_PER_SEC; i++) {
		handle1(r, f, 6000 + i, CG_CONTAINER, "kill", &s);
		assert_outcome(&s, 0, "audit");
	}
	handle1(r, f, 7000, CG_CONTAINER, "kill", &s);
	assert_outcome(&s, 0, "refused");
	char want[64];
	snprintf(want, sizeof(want), "rate limit (%d actions a second)", RESPOND_MAX_PER_SEC);
	assert_string_equal(s.r[0].detail, want);
	/* the limit's refusal is not remembered: after the window the same target is acted on */
	sleep(1);
	usleep(100000);
	handle1(r, f, 7000, CG_CONTAINER, "kill", &s);
	assert_outcome(&s, 0, "audit");
	responder_free(r);
}

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

/* Rule validation: unknown and planned actions are refused at start with the reason. */
static void test_check_rules(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *action, *err;
	} cases[] = {
		{ "kill", NULL },
		{ "deny_open", "rule 'R': action 'deny_open' is not a rule action: an alert comes after the syscall, "
			       "too late to refuse it; name the paths and programs in --file-policy (refused before "
			       "they are opened or run)" },
		{ "deny_connect", "rule 'R': action 'deny_connect' cannot be carried out by this version (available: "
				  "kill, freeze, isolate, capture; per-container egress lists: --egress-policy)" },
		{ "explode", "rule 'R': unknown action 'explode' (available: kill, freeze, isolate, capture)" },
	};
	char path[160], text[512], err[512];
	snprintf(path, sizeof(path), "%s/rules.yaml", f->procfs);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text),
			 "- rule: R\n  desc: d\n  condition: evt.type = execve\n  output: o\n  priority: WARNING\n"
			 "  actions: [capture, %s]\n", cases[i].action);
		write_file(path, text);
		const char *paths[] = { path };
		struct engine_opts o = { .min_priority = PRIO_DEBUG };
		struct engine *e = engine_load(paths, 1, false, &o, NULL, NULL, err, sizeof(err));
		assert_non_null(e);
		err[0] = 0;
		assert_int_equal(respond_check_rules(e, err, sizeof(err)), cases[i].err ? -1 : 0);
		assert_string_equal(err, cases[i].err ? cases[i].err : "");
		assert_true(respond_rules_use(e, "capture"));
		assert_false(respond_rules_use(e, "freeze"));
		engine_free(e);
		/* a disabled rule (less severe than the minimum) is neither checked nor used */
		o.min_priority = PRIO_ERROR;
		e = engine_load(paths, 1, false, &o, NULL, NULL, err, sizeof(err));
		assert_non_null(e);
		assert_int_equal(respond_check_rules(e, err, sizeof(err)), 0);
		assert_false(respond_rules_use(e, "capture"));
		engine_free(e);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_never_self, setup, teardown),
		cmocka_unit_test_setup_teardown(test_never_pid1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_never_kernel_thread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_needs_allow_host, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_cgroup_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_allow_host, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_action, setup, teardown),
		cmocka_unit_test_setup_teardown(test_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_killed_by_kernel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_once_per_target, setup, teardown),
		cmocka_unit_test_setup_teardown(test_container_action_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_rules, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
