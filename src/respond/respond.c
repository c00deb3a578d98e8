/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "common/buf.h"
#include "common/log.h"
#include "respond/action.h"
#include "respond/bundle.h"
#include "respond/isolate.h"
#include "respond/respond.h"
#include "respond/response_policy.h"
#include "state/container_table.h"

#define DONE_MAX 1024 /* targets remembered for idempotence */

/* Actions of docs/response.md not carried out yet (those that are: respond_action_known). */
static const char *const planned[] = { "deny", "deny_exec", "deny_open", "deny_connect", NULL };

struct done {
	uint64_t key;  /* pid, or cgroup id for container actions */
	uint8_t action;
};

struct responder {
	struct isolate *iso;
	const struct bundle_opts *bundles;
	enum respond_mode mode;
	bool allow_host;
	const char *procfs;
	pid_t self;
	struct done done[DONE_MAX];
	size_t ndone, next_done;
	uint64_t window_start;
	unsigned int in_window;
};

static bool in_list(const char *const *l, const char *s)
{
	for (; *l; l++)
		if (!strcmp(*l, s))
			return true;
	return false;
}

bool respond_action_known(const char *name)
{
	int k = action_parse(name);
	/* thaw and release are a person's undoing (vigil respond), not a rule's action */
	return k == ACTION_KILL || k == ACTION_FREEZE || k == ACTION_ISOLATE || k == ACTION_CAPTURE;
}

int respond_check_rules(const struct engine *e, char *err, size_t errlen)
{
	for (size_t i = 0; i < engine_rule_count(e); i++) {
		struct engine_rule_info ri;
		engine_rule_info(e, i, &ri);
		for (size_t k = 0; ri.enabled && k < ri.nactions; k++) {
			const char *a = ri.actions[k];
			if (respond_action_known(a))
				continue;
			if (!strcmp(a, "deny_open") || !strcmp(a, "deny_exec"))
				snprintf(err, errlen, "rule '%s': action '%s' is not a rule action: an alert comes after the "
						      "syscall, too late to refuse it; name the paths and programs in "
						      "--file-policy (refused before they are opened or run)", ri.name, a);
			else if (in_list(planned, a))
				snprintf(err, errlen, "rule '%s': action '%s' cannot be carried out by this version "
						      "(available: kill, freeze, isolate, capture; per-container egress lists: "
						      "--egress-policy)", ri.name, a);
			else
				snprintf(err, errlen, "rule '%s': unknown action '%s' (available: kill, freeze, isolate, capture)",
					 ri.name, a);
			return -1;
		}
	}
	return 0;
}

bool respond_rules_use(const struct engine *e, const char *action)
{
	for (size_t i = 0; i < engine_rule_count(e); i++) {
		struct engine_rule_info ri;
		engine_rule_info(e, i, &ri);
		for (size_t k = 0; ri.enabled && k < ri.nactions; k++)
			if (!strcmp(ri.actions[k], action))
				return true;
	}
	return false;
}

struct responder *responder_new(enum respond_mode mode, bool allow_host, const char *procfs, struct isolate *iso,
				const struct bundle_opts *bundles)
{
	struct responder *r = xcalloc(1, sizeof(*r));
	r->iso = iso;
	r->bundles = bundles;
	r->mode = mode;
	r->allow_host = allow_host;
	r->procfs = procfs ? procfs : "/proc";
	r->self = getpid();
	return r;
}

void responder_free(struct responder *r)
{
	free(r);
}

static uint64_t boot_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_BOOTTIME, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + t.tv_nsec;
}

static bool already(struct responder *r, uint64_t key, uint8_t action)
{
	for (size_t i = 0; i < r->ndone; i++)
		if (r->done[i].key == key && r->done[i].action == action)
			return true;
	return false;
}

static void remember(struct responder *r, uint64_t key, uint8_t action)
{
	r->done[r->next_done] = (struct done){ key, action };
	r->next_done = (r->next_done + 1) % DONE_MAX;
	if (r->ndone < DONE_MAX)
		r->ndone++;
}

void responder_forget(struct responder *r, uint64_t key, enum action_kind action)
{
	/* the entry stays in the ring (its order is the eviction order) but matches nothing */
	for (size_t i = 0; r && i < r->ndone; i++)
		if (r->done[i].key == key && r->done[i].action == action)
			r->done[i].action = UINT8_MAX;
}

/* A kernel thread: PF_KTHREAD in the flags of /proc/PID/stat (field 9). Unreadable: not one. */
static bool is_kernel_thread(const struct responder *r, uint32_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "%s/%u/stat", r->procfs, pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	const char *p = strrchr(buf, ')');
	unsigned long flags = 0;
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags) != 1)
		return false;
	return flags & 0x00200000; /* PF_KTHREAD */
}

int respond_cgroup_freeze(const char *cgroup_path, bool freeze, char *err, size_t errlen)
{
	char path[4096];
	const char *root = cgroup2_mount();
	if (!root[0]) {
		snprintf(err, errlen, "no cgroup v2 hierarchy is mounted");
		return -1;
	}
	if (strstr(cgroup_path, "..")) {
		snprintf(err, errlen, "refusing cgroup path '%s'", cgroup_path);
		return -1;
	}
	snprintf(path, sizeof(path), "%s%s/cgroup.freeze", root, cgroup_path);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, freeze ? "1" : "0", 1) != 1) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

void responder_handle(struct responder *r, const struct alert *a, const struct action_req *acts, size_t nacts,
		      void (*fn)(void *ctx, const struct alert *a, const struct action_result *res), void *ctx)
{
	const struct vg_event_hdr *h = &a->ev->hdr;
	const struct vg_cgroup *cg = a->st ? state_cgroup(a->st, h->cgroup_id) : NULL;
	bool in_container = cg && cg->meta.id[0];

	for (size_t i = 0; i < nacts && r->mode != RESPOND_OFF; i++) {
		const char *act = acts[i].name;
		if (!respond_action_known(act)) {
			/* respond_check_rules and response_policy_check refuse these before they get here */
			vg_warn("response: action '%s' not available, not carried out", act);
			continue;
		}
		enum action_kind kind = (enum action_kind)action_parse(act);
		bool audit = r->mode == RESPOND_AUDIT || acts[i].audit;
		bool is_kill = kind == ACTION_KILL, is_isolate = kind == ACTION_ISOLATE;
		bool is_capture = kind == ACTION_CAPTURE;
		char target[96], detail[512];
		struct action_result res = { .action = kind, .target = target, .detail = detail,
					     .path = "userspace", .cgroup = cg ? cg->path : "" };
		uint64_t now = boot_ns();

		if (is_kill)
			snprintf(target, sizeof(target), "pid %u", h->pid);
		else
			snprintf(target, sizeof(target), "container %.12s", in_container ? cg->meta.id : "host");
		detail[0] = 0;

		uint64_t key = is_kill ? h->pid : h->cgroup_id;
		if (is_kill && (h->flags & VG_HDR_KILLED)) {
			/* the kernel program decided the rule itself and killed on the syscall's exit */
			res.outcome = OUTCOME_DONE;
			res.path = "kernel";
			snprintf(detail, sizeof(detail), "SIGKILL sent to %u (%.16s) by the kernel before the syscall returned",
				 h->pid, h->comm);
			remember(r, key, kind);
			res.latency_ns = 0;
			fn(ctx, a, &res);
			continue;
		} else if (is_kill && (h->pid == (uint32_t)r->self || h->pid <= 1)) {
			res.outcome = OUTCOME_REFUSED;
			snprintf(detail, sizeof(detail), h->pid <= 1 ? "never pid 1" : "never the agent itself");
		} else if (!in_container && !r->allow_host) {
			res.outcome = OUTCOME_REFUSED;
			snprintf(detail, sizeof(detail), "not in a container (the policy does not allow host targets)");
		} else if ((is_isolate || kind == ACTION_FREEZE) && !cg) {
			/* allow_host and a cgroup the state never saw: no path to freeze or to name */
			res.outcome = OUTCOME_REFUSED;
			snprintf(detail, sizeof(detail), "unknown cgroup %llu (its path was never seen)",
				 (unsigned long long)h->cgroup_id);
		} else if (is_kill && is_kernel_thread(r, h->pid)) {
			res.outcome = OUTCOME_REFUSED;
			snprintf(detail, sizeof(detail), "never a kernel thread");
		} else if (!is_capture && already(r, key, kind)) {
			res.outcome = OUTCOME_SKIPPED;
			snprintf(detail, sizeof(detail), "already done for this target");
		} else {
			if (now > r->window_start + 1000000000ull) {
				r->window_start = now;
				r->in_window = 0;
			}
			if (++r->in_window > RESPOND_MAX_PER_SEC) {
				res.outcome = OUTCOME_REFUSED;
				snprintf(detail, sizeof(detail), "rate limit (%d actions a second)", RESPOND_MAX_PER_SEC);
			} else if (audit) {
				res.outcome = OUTCOME_AUDIT;
				snprintf(detail, sizeof(detail), "audit mode: would %s", act);
				remember(r, key, kind);
			} else if (is_kill) {
				if (kill((pid_t)h->pid, SIGKILL) == 0) {
					res.outcome = OUTCOME_DONE;
					snprintf(detail, sizeof(detail), "SIGKILL sent to %u (%.16s)", h->pid, h->comm);
				} else {
					res.outcome = errno == ESRCH ? OUTCOME_SKIPPED : OUTCOME_FAILED;
					snprintf(detail, sizeof(detail), "%s", errno == ESRCH ? "process already gone"
											       : strerror(errno));
				}
				remember(r, key, kind);
			} else if (is_capture) {
				char err[256], dir[4096];
				if (!r->bundles) {
					res.outcome = OUTCOME_FAILED;
					snprintf(detail, sizeof(detail), "no flight recorder");
				} else if (bundle_write(r->bundles, a, dir, sizeof(dir), err, sizeof(err)) == 0) {
					res.outcome = OUTCOME_DONE;
					snprintf(detail, sizeof(detail), "bundle %.400s", dir);
				} else {
					res.outcome = OUTCOME_FAILED;
					snprintf(detail, sizeof(detail), "%s", err);
				}
			} else if (is_isolate) {
				char err[512];
				if (!r->iso) {
					res.outcome = OUTCOME_FAILED;
					snprintf(detail, sizeof(detail), "isolation programs not loaded");
				} else if (isolate_add(r->iso, h->cgroup_id, err, sizeof(err)) == 0) {
					res.outcome = OUTCOME_DONE;
					snprintf(detail, sizeof(detail), "network cut (loopback kept) for cgroup %s", cg->path);
				} else {
					res.outcome = OUTCOME_FAILED;
					snprintf(detail, sizeof(detail), "%s", err);
				}
				remember(r, key, kind);
			} else {
				char err[512];
				if (respond_cgroup_freeze(cg->path, true, err, sizeof(err)) == 0) {
					res.outcome = OUTCOME_DONE;
					snprintf(detail, sizeof(detail), "froze cgroup %s", cg->path);
				} else {
					res.outcome = OUTCOME_FAILED;
					snprintf(detail, sizeof(detail), "%s", err);
				}
				remember(r, key, kind);
			}
		}
		now = boot_ns();
		res.latency_ns = now > h->ts ? now - h->ts : 0;
		fn(ctx, a, &res);
	}
}
