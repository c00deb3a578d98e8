/* SPDX-License-Identifier: Apache-2.0 */
/* vigil run | trace | capture | replay: one loop over an event source, with or without rules. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli/cli.h"
#include "common/buf.h"
#include "common/log.h"
#include "engine/engine.h"
#include "output/alert_json.h"
#include "output/event_json.h"
#include "output/alert_store.h"
#include "respond/bundle.h"
#include "respond/drift.h"
#include "respond/recorder.h"
#include "respond/egress.h"
#include "respond/file_policy.h"
#include "respond/isolate.h"
#include "respond/kernel_kill.h"
#include "respond/respond.h"
#include "respond/response_policy.h"
#include "sensor/capture.h"
#include "sensor/decode.h"
#include "sensor/event_table.h"
#include "sensor/source.h"
#include "state/state.h"

static volatile sig_atomic_t stop_requested, reload_requested;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reload_requested = 1;
	else
		stop_requested = 1;
}

struct trace_ctx {
	bool print;
	bool json;
	const char *container; /* filter: id prefix, name, or "host" */
	struct vg_source *src;
	struct vg_state *state;
	struct vg_capture_writer *writer;
	struct vg_buf line;
	uint64_t shown, bad;
	int output_error;
	/* detection (run, replay --rules) */
	struct engine *engine;
	struct engine_opts eo;
	const char **rule_paths;
	size_t nrule_paths;
	struct alert_store *store;
	struct vg_buf pending; /* alert lines of this batch, printed after the store commit */
	struct vg_buf alert_json;
	uint64_t alerts;
	bool store_failed;
	bool with_defaults;    /* --default-rules with --rules: defaults first */
	/* response (vigil run only) */
	struct responder *responder;
	struct egress *egress;
	struct isolate *isolate;
	struct drift *drift;      /* deny exec/open: drift and the file policy */
	struct file_policy *files;
	struct recorder *recorder; /* the last records of each container, for capture */
	struct response_policy *rpolicy;
	bool allow_host;
	struct kernel_kill kkill;  /* the kills the kernel decides by itself */
	struct bundle_opts bundles;
	struct action_result results[8];
	char result_text[8][3][512]; /* copies of target, detail, cgroup */
	size_t nresults;
	/* live: kernel timestamp -> alert written, per alert (bounded sample) */
	uint64_t *pending_ts;
	size_t npending_ts, cap_pending_ts;
	uint32_t *latency_us;
	size_t nlatency;
};

#define LATENCY_SAMPLES 1000000

static const char rules_help[] =
	"  --rules FILE         a rules file (Falco's format); repeat for several, loaded in order\n"
	"  --match-all          alert for every matching rule (default: the first, as Falco)\n"
	"  --rate-limit R[:B]   per rule at most R alerts/s after a burst of B (default 100:1000;\n"
	"                       0 disables); suppressed counts are reported\n"
	"  --min-priority P     load only rules at least as severe as P (default debug)\n"
	"  --store PATH         keep alerts in this SQLite file\n";

#define ATTACH_HELP                                                                                  \
	"  --attach MODE        how the kernel program is attached: auto (default: per syscall\n"  \
	"                       where 32-bit syscalls cannot run, else sys-exit), sys-exit (one\n"  \
	"                       program on every syscall, sees 32-bit ones), syscalls (only the\n"  \
	"                       wanted syscalls' tracepoints; 32-bit syscalls are not seen);\n" \
	"                       VIGIL_ATTACH in the environment sets the default\n"

static void usage(FILE *f, enum vg_mode mode)
{
	if (mode == VG_MODE_REPLAY) {
		fprintf(f, "usage: vigil replay FILE [--json] [--container ID|NAME|host] [--rules FILE]...\n"
		      "Print the events of a capture file, enriched exactly as the live agent saw them;\n"
		      "with --rules (or --default-rules), the alerts the rules raise on them instead.\n"
		      "  --json               JSON lines (default: text)\n"
		      "  --container X        only events of the container whose id starts with X or whose\n"
		      "                       name is X; 'host' for processes outside containers\n"
		      "  --default-rules      detect with Vigil's default rules (before any --rules files)\n%s", rules_help);
		return;
	}
	if (mode == VG_MODE_RUN) {
		fprintf(f, "usage: vigil run [--rules FILE]... [--store PATH | --no-store] [--json] [options]\n"
		      "The runtime agent: capture live events, detect with the rules (Vigil's defaults\n"
		      "when no --rules is given), print alerts and keep them in the store.\n"
		      "Alerts go to stdout as text on a terminal, JSON lines otherwise or with --json.\n"
		      "SIGHUP reloads the rules (a bad new set keeps the old one); SIGINT/SIGTERM stop.\n"
		      "%s"
		      "                       (default " ALERT_STORE_DEFAULT_PATH ")\n"
		      "  --no-store           do not keep alerts\n"
		      "  --response MODE      carry out rules' actions (kill, freeze, isolate, capture):\n"
		      "                       enforce (default),\n"
		      "                       audit (record what would be done, do nothing) or off\n"
		      "  --allow-host-actions let actions target processes outside containers\n"
		      "  --response-policy FILE  bind actions to rules, tags or priorities per container\n"
		      "                       or namespace, each binding enforce or audit (docs/response.md)\n"
		      "  --deny-drift[=fail-open|fail-closed]\n"
		      "                       refuse (EPERM) to execute files written in a container after\n"
		      "                       it started (fanotify); undecidable events: allow (default) or deny\n"
		      "  --file-policy FILE   per-container paths that must not be opened and programs that\n"
		      "                       must not run: refused (EPERM) by fanotify (docs/response.md)\n"
		      "  --evidence-dir DIR   where the capture action writes forensic bundles\n"
		      "                       (default " BUNDLE_DEFAULT_DIR ")\n"
		      "  --egress-policy FILE per-container egress allow/deny lists, enforced in the kernel:\n"
		      "                       a denied connect() fails with EPERM (docs/response.md)\n"
		      "  --json               JSON lines even on a terminal\n"
		      "  --duration S         stop after S seconds\n"
		      "  --ring-mb N          kernel ring buffer size in MiB, a power of two (default 16)\n"
		      ATTACH_HELP
		      "  -w, --write FILE     also write a capture file (replay it with --rules later)\n"
		      "Needs root and a kernel with BTF.\n", rules_help);
		return;
	}
	fprintf(f,
		"usage: vigil %s [options]\n"
		"%s"
		"  --syscalls LIST      comma-separated event types to capture (see 'vigil events');\n"
		"                       'all' adds the opt-in ones (sendto, recvfrom, ioctl); default:\n"
		"                       every default event type\n"
		"  --duration S         stop after S seconds (default: until SIGINT/SIGTERM)\n"
		"  --ring-mb N          kernel ring buffer size in MiB, a power of two (default 16)\n"
		ATTACH_HELP
		"%s",
		mode == VG_MODE_CAPTURE ? "capture -w FILE" : "trace",
		mode == VG_MODE_CAPTURE
			? "Write live events, with the process and container state they need, to a capture file.\n"
			  "  -w, --write FILE     the capture file to create\n"
			: "Print live, container-aware events.\n"
			  "  --json               JSON lines (the default is one line of text per event)\n"
			  "  --container X        only events of the container whose id starts with X or\n"
			  "                       whose name is X; 'host' for processes outside containers\n"
			  "  -w, --write FILE     also write a capture file\n",
		"Needs root and a kernel with BTF. Loss counters are printed on exit.\n");
}

/* --attach (or VIGIL_ATTACH, its default): 0, or -1 for an unknown mode. */
static int parse_attach(const char *s, enum vg_attach *out)
{
	if (strcmp(s, "auto") == 0)
		*out = VG_ATTACH_AUTO;
	else if (strcmp(s, "sys-exit") == 0)
		*out = VG_ATTACH_SYS_EXIT;
	else if (strcmp(s, "syscalls") == 0)
		*out = VG_ATTACH_SYSCALLS;
	else
		return -1;
	return 0;
}

/* Parse "openat,execve" into want[]; returns 0 or -1 after naming the bad entry. */
static int parse_syscalls(const char *list, uint8_t *want)
{
	char *copy = xstrdup(list), *save = NULL, *tok;
	int ret = 0;

	memset(want, 0, VG_EVT_MAX);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "all")) {
			for (int t = 1; t < VG_EVT_MAX; t++)
				want[t] = !(event_table_get(t)->flags & VG_EF_USERSPACE);
			continue;
		}
		int t = event_table_find(tok);
		if (t < 0 || event_table_get(t)->category == VG_CAT_INTERNAL) {
			fprintf(stderr, "vigil: unknown event type '%s' in --syscalls (see 'vigil events')\n", tok);
			ret = -1;
			break;
		}
		want[t] = 1;
	}
	free(copy);
	return ret;
}

static bool container_matches(const struct trace_ctx *c, const struct vg_event *ev)
{
	const struct vg_cgroup *cg;
	size_t n;

	if (!c->container)
		return true;
	cg = state_cgroup(c->state, ev->hdr.cgroup_id);
	if (!cg || !cg->meta.id[0])
		return !strcmp(c->container, "host");
	n = strlen(c->container);
	return !strncmp(cg->meta.id, c->container, n) || (cg->meta.name && !strcmp(cg->meta.name, c->container));
}

/* A short human-readable line: time, type, process, container, result. */
static void text_line(struct vg_buf *out, const struct vg_event *ev, const struct vg_state *st, uint64_t b2r)
{
	const struct vg_proc *p = state_proc(st, ev->hdr.pid);
	const struct vg_cgroup *cg = state_cgroup(st, ev->hdr.cgroup_id);
	uint64_t wall = ev->hdr.ts + b2r;
	time_t sec = wall / 1000000000ULL;
	struct tm tm;
	char ts[32];

	localtime_r(&sec, &tm);
	strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
	buf_printf(out, "%s.%06llu %-12s %-16.16s pid=%u exe=%s container=%s res=%lld", ts,
		   (unsigned long long)(wall % 1000000000ULL / 1000), ev->info->name, ev->hdr.comm, ev->hdr.pid,
		   p ? p->exe : "?", cg && cg->meta.id[0] ? (cg->meta.name ? cg->meta.name : cg->meta.id) : "host",
		   (long long)ev->hdr.retval);
	buf_addc(out, ' ');
	event_json_args(out, ev);
}

/* An alert: into the store's open transaction and the batch to print after the commit. */
/* One action carried out: into the store and the alert's "responses". */
static void on_action(void *ctx, const struct alert *a, const struct action_result *res)
{
	struct trace_ctx *c = ctx;
	const struct vg_cgroup *cg = state_cgroup(c->state, a->ev->hdr.cgroup_id);
	const struct vg_container_meta *m = cg && cg->meta.id[0] ? &cg->meta : NULL;

	struct alert_store_action row = {
		.time_ns = (int64_t)(a->ev->hdr.ts + c->src->boot_to_realtime),
		.rule = a->name,
		.action = action_name(res->action),
		.target = res->target,
		.container_id = m ? m->id : "",
		.container_name = m ? m->name : NULL,
		.cgroup = res->cgroup,
		.outcome = action_outcome_name(res->outcome),
		.detail = res->detail,
		.path = res->path,
		.latency_ns = (int64_t)res->latency_ns,
	};
	if (c->store && alert_store_add_action(c->store, &row) && !c->store_failed) {
		vg_err("cannot store an action: %s", alert_store_error(c->store));
		c->store_failed = true;
	}
	if (c->nresults < 8) {
		char (*t)[512] = c->result_text[c->nresults];
		snprintf(t[0], 512, "%s", res->target);
		snprintf(t[1], 512, "%s", res->detail);
		snprintf(t[2], 512, "%s", res->cgroup ? res->cgroup : "");
		c->results[c->nresults] = *res;
		c->results[c->nresults].target = t[0];
		c->results[c->nresults].detail = t[1];
		c->results[c->nresults].cgroup = t[2];
		c->nresults++;
	}
	vg_info("response: %s %s for rule '%s': %s (%s)", action_name(res->action), res->target, a->name,
		action_outcome_name(res->outcome), res->detail);
}

static void on_alert(void *ctx, const struct alert *a)
{
	struct trace_ctx *c = ctx;
	uint64_t b2r = c->src->boot_to_realtime;

	/* act first: a kill should not wait for the alert to be formatted and stored */
	c->nresults = 0;
	if (c->responder) {
		struct action_req acts[16];
		size_t n = 0;
		for (size_t i = 0; i < a->nactions && n < 16; i++)
			acts[n++] = (struct action_req){ a->actions[i], false };
		if (c->rpolicy) {
			const struct vg_cgroup *cg = state_cgroup(c->state, a->ev->hdr.cgroup_id);
			n = response_policy_actions(c->rpolicy, a, cg && cg->meta.id[0] ? &cg->meta : NULL, acts, n, 16);
		}
		/* the kernel killed on this event for some kill rule: record it with this alert
		 * even when this rule (the first to match) does not kill */
		bool has_kill = false;
		for (size_t i = 0; i < n; i++)
			has_kill |= !strcmp(acts[i].name, "kill");
		if ((a->ev->hdr.flags & VG_HDR_KILLED) && !has_kill && n < 16)
			acts[n++] = (struct action_req){ "kill", false };
		if (n)
			responder_handle(c->responder, a, acts, n, on_action, c);
	}
	buf_reset(&c->alert_json);
	alert_json_responses(&c->alert_json, a, c->src->hostname, b2r, c->results, c->nresults);
	if (c->store && alert_store_add_alert(c->store, a, c->alert_json.data, b2r) && !c->store_failed) {
		vg_err("cannot store an alert: %s (alerts are still printed)", alert_store_error(c->store));
		c->store_failed = true;
	}
	if (c->json) {
		buf_add(&c->pending, c->alert_json.data, c->alert_json.len);
	} else {
		alert_text(&c->pending, a, b2r);
		if (a->suppressed)
			buf_printf(&c->pending, " (rate limit: %llu earlier alerts of this rule suppressed)",
				   (unsigned long long)a->suppressed);
	}
	buf_addc(&c->pending, '\n');
	c->alerts++;
	if (c->latency_us) {
		if (c->npending_ts == c->cap_pending_ts) {
			c->cap_pending_ts = c->cap_pending_ts ? 2 * c->cap_pending_ts : 64;
			c->pending_ts = xrealloc(c->pending_ts, c->cap_pending_ts * sizeof(*c->pending_ts));
		}
		c->pending_ts[c->npending_ts++] = a->ev->hdr.ts;
	}
}

static uint64_t now_boot_ns(void);

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static void print_latency(struct trace_ctx *c)
{
	if (!c->nlatency)
		return;
	qsort(c->latency_us, c->nlatency, sizeof(*c->latency_us), cmp_u32);
	vg_info("alert latency (kernel event to alert written): p50=%uus p99=%uus max=%uus over %zu alerts",
		c->latency_us[c->nlatency / 2], c->latency_us[c->nlatency * 99 / 100],
		c->latency_us[c->nlatency - 1], c->nlatency);
}

/* Commit the batch's alerts, then show them: what is shown is stored. */
static void flush_alerts(struct trace_ctx *c)
{
	if (c->store && alert_store_commit(c->store) && !c->store_failed) {
		vg_err("cannot store alerts: %s (alerts are still printed)", alert_store_error(c->store));
		c->store_failed = true;
	}
	if (c->pending.len && fwrite(c->pending.data, c->pending.len, 1, stdout) != 1)
		c->output_error = errno ? errno : EIO;
	buf_reset(&c->pending);
	fflush(stdout);
	if (c->npending_ts) {
		uint64_t now = now_boot_ns();
		for (size_t i = 0; i < c->npending_ts && c->nlatency < LATENCY_SAMPLES; i++)
			c->latency_us[c->nlatency++] = now > c->pending_ts[i] ? (uint32_t)((now - c->pending_ts[i]) / 1000) : 0;
		c->npending_ts = 0;
	}
}

/* The kernel's kill terms that name a side need each cgroup's: container or host. */
static void tell_side(struct trace_ctx *c, struct vg_cgroup *cg)
{
	if (!cg || cg->side_told)
		return;
	source_bpf_set_cgroup_side(c->src, cg->node.key, cg->meta.id[0] ? VG_KILL_CONTAINER : VG_KILL_HOST);
	cg->side_told = true;
}

/* Give the kernel its part of the kills of engine e (nothing when e is NULL). */
static int arm_kernel_kill(struct trace_ctx *c, const struct engine *e)
{
	kernel_kill_free(&c->kkill);
	if (e)
		kernel_kill_plan(&c->kkill, e, c->rpolicy, c->allow_host);
	int rc = source_bpf_set_kill(c->src, c->kkill.terms, c->kkill.nterms, c->kkill.names, c->kkill.nnames);
	if (rc) {
		vg_err("cannot load the kill rules into the kernel: %s", strerror(-rc));
		return -1;
	}
	if (c->kkill.nterms) {
		struct hmap_node *n, *tmp;
		size_t i;
		hmap_for_each(&c->state->cgroups.map, n, tmp, i)
			tell_side(c, hmap_entry(n, struct vg_cgroup, node));
	}
	return 0;
}

/* One valid record, decoded: state, capture, rules or printing. */
static int on_event(void *ctx, const struct vg_event *ev)
{
	struct trace_ctx *c = ctx;

	bool show = state_ingest(c->state, ev);
	if (c->kkill.nterms)
		tell_side(c, state_cgroup(c->state, ev->hdr.cgroup_id));
	if (c->writer)
		capture_writer_add(c->writer, ev->raw, ev->raw_len);
	if (show && c->recorder) {
		const struct vg_cgroup *cg = state_cgroup(c->state, ev->hdr.cgroup_id);
		if (cg && cg->meta.id[0])
			recorder_add(c->recorder, ev->hdr.cgroup_id, ev->raw, ev->raw_len, ev->hdr.ts);
	}
	if (show && c->engine) {
		if (container_matches(c, ev))
			engine_process(c->engine, ev, c->state, on_alert, c);
	} else if (show && c->print && container_matches(c, ev)) {
		buf_reset(&c->line);
		if (c->json)
			event_json(&c->line, ev, c->state, c->src->boot_to_realtime);
		else
			text_line(&c->line, ev, c->state, c->src->boot_to_realtime);
		buf_addc(&c->line, '\n');
		if (fwrite(c->line.data, c->line.len, 1, stdout) != 1) {
			c->output_error = errno ? errno : EIO;
			return 1;
		}
		c->shown++;
	}
	state_done(c->state, ev);
	return 0;
}

/* A raw record from a source that does not decode (the kernel's): check it, then on_event. */
static int on_record(void *ctx, const void *rec, size_t len)
{
	struct trace_ctx *c = ctx;
	struct vg_event ev;
	char err[160];

	if (event_decode(rec, len, &ev, err, sizeof(err)) != 0) {
		if (c->bad++ < 10)
			vg_warn("dropping a malformed record: %s", err);
		return 0;
	}
	return on_event(c, &ev);
}

/* Deliver the source's records to on_event, decoded once whichever the source. */
static int poll_source(struct trace_ctx *c, int timeout_ms)
{
	if (c->src->ops->poll_events)
		return c->src->ops->poll_events(c->src, timeout_ms, on_event, c);
	return source_poll(c->src, timeout_ms, on_record, c);
}

static void emit_state(void *ctx, const void *rec, size_t len)
{
	struct trace_ctx *c = ctx;
	if (c->writer)
		capture_writer_add(c->writer, rec, len);
	/* a container's metadata became known: its egress policy, if it has one */
	struct vg_event ev;
	char err[160];
	if ((c->egress || c->drift) && event_decode(rec, len, &ev, err, sizeof(err)) == 0 &&
	    ev.hdr.type == VG_EVT_STATE_CONTAINER && ev.params[0].data) {
		struct vg_container_meta meta;
		const struct vg_cgroup *cg = state_cgroup(c->state, ev.hdr.cgroup_id);
		if (cg && container_meta_from_json(&meta, ev.params[0].data,
						   strnlen(ev.params[0].data, ev.params[0].len)) == 0) {
			memcpy(meta.id, cg->meta.id, sizeof(meta.id));
			egress_container(c->egress, ev.hdr.cgroup_id, &meta);
			char derr[512];
			if (c->drift && drift_add(c->drift, &meta, derr, sizeof(derr)))
				vg_warn("deny exec/open: %s", derr);
		}
		container_meta_free(&meta);
	}
}

/*
 * The watcher read a container's metadata, usually before its process starts
 * (the runtime writes the bundle first): guard its files now rather than at
 * its first event, which the agent reads a few milliseconds later. Runs on
 * the watcher's thread (drift_add is thread-safe). Containers that are not
 * running (their root filesystem is not mounted) are simply not guarded.
 */
static void on_watched_meta(void *ctx, const struct vg_container_meta *m)
{
	struct drift *d = ctx;
	char err[512];
	if (m->rootfs && drift_add(d, m, err, sizeof(err)))
		vg_debug("deny exec/open, ahead of the container's start: %s", err);
}

static void forget_cgroup(void *ctx, uint64_t id)
{
	struct trace_ctx *c = ctx;
	source_bpf_forget_cgroup(c->src, id);
	recorder_forget(c->recorder, id);
	egress_forget(c->egress, id);
}

static uint64_t now_boot_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_BOOTTIME, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + t.tv_nsec;
}

static void print_stats(struct trace_ctx *c)
{
	struct vg_source_stats st;

	source_stats(c->src, &st);
	fprintf(stderr, "vigil: %s: received=%llu lost=%llu truncated=%llu missed=%llu malformed=%llu",
		c->src->ops->name, (unsigned long long)st.received, (unsigned long long)st.lost,
		(unsigned long long)st.truncated, (unsigned long long)st.missed, (unsigned long long)c->bad);
	if (c->writer)
		fprintf(stderr, " written=%llu", (unsigned long long)capture_writer_records(c->writer));
	if (st.lost) {
		fputs(" lost_per_cpu=", stderr);
		for (unsigned int i = 0; i < st.ncpus && i < 64; i++)
			fprintf(stderr, "%s%llu", i ? "," : "", (unsigned long long)st.lost_per_cpu[i]);
	}
	fprintf(stderr, " processes=%zu cgroups=%zu\n", c->state->procs.map.count, c->state->cgroups.map.count);
	if (st.lost)
		vg_warn("%llu records were lost: the ring buffer was full (try --ring-mb)",
			(unsigned long long)st.lost);
}

/* The event types the state needs whatever the rules say: processes, cwd. */
static void want_for_rules(uint8_t *want, const struct engine *e)
{
	static const int state_events[] = { VG_EVT_CLONE, VG_EVT_CLONE3, VG_EVT_FORK, VG_EVT_VFORK,
					    VG_EVT_EXECVE, VG_EVT_EXECVEAT, VG_EVT_PROCEXIT, VG_EVT_CHDIR,
					    VG_EVT_FCHDIR };
	struct evtset need = engine_event_types(e);
	for (int t = 1; t < VG_EVT_MAX; t++)
		want[t] = evtset_has(&need, t);
	for (size_t i = 0; i < sizeof(state_events) / sizeof(state_events[0]); i++)
		want[state_events[i]] = 1;
}

static struct engine *load_rules(struct trace_ctx *c)
{
	struct engine_counts counts;
	struct vg_buf warnings = { 0 };
	char err[1024];
	struct engine *e = engine_load(c->rule_paths, c->nrule_paths, c->with_defaults, &c->eo, &counts, &warnings,
				       err, sizeof(err));
	if (warnings.len)
		vg_debug("rule warnings:\n%s", warnings.data);
	buf_free(&warnings);
	if (!e) {
		vg_err("%s", err);
		return NULL;
	}
	vg_info("%zu rules loaded (%zu enabled), %zu macros, %zu lists%s", counts.rules, counts.enabled,
		counts.macros, counts.lists,
		!c->nrule_paths ? " (Vigil's default rules)" : c->with_defaults ? " (with Vigil's default rules)" : "");
	return e;
}

static int parse_rate(const char *s, struct engine_opts *eo)
{
	char *end;
	eo->rate = strtod(s, &end);
	eo->burst = eo->rate * 10;
	if (*end == ':')
		eo->burst = strtod(end + 1, &end);
	if (*end || eo->rate < 0 || eo->burst < 0 || (eo->rate > 0 && eo->burst < 1)) {
		fprintf(stderr, "vigil: --rate-limit takes RATE or RATE:BURST (alerts per second), not '%s'\n", s);
		return -1;
	}
	return 0;
}

int cmd_trace(int argc, char **argv, enum vg_mode mode)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },	   { "container", required_argument, NULL, 'c' },
		{ "syscalls", required_argument, NULL, 's' }, { "duration", required_argument, NULL, 'd' },
		{ "ring-mb", required_argument, NULL, 'r' },  { "write", required_argument, NULL, 'w' },
		{ "rules", required_argument, NULL, 'R' },    { "default-rules", no_argument, NULL, 'D' },
		{ "store", required_argument, NULL, 'S' },    { "no-store", no_argument, NULL, 'N' },
		{ "match-all", no_argument, NULL, 'M' },      { "rate-limit", required_argument, NULL, 'L' },
		{ "min-priority", required_argument, NULL, 'P' },
		{ "response", required_argument, NULL, 'A' },  { "allow-host-actions", no_argument, NULL, 'H' },
		{ "egress-policy", required_argument, NULL, 'E' }, { "deny-drift", optional_argument, NULL, 'X' },
		{ "evidence-dir", required_argument, NULL, 'V' }, { "response-policy", required_argument, NULL, 'Q' },
		{ "file-policy", required_argument, NULL, 'F' }, { "attach", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },	   { NULL, 0, NULL, 0 },
	};
	struct trace_ctx c = { .print = mode != VG_MODE_CAPTURE };
	struct vg_container_watch *watch = NULL;
	uint8_t want[VG_EVT_MAX];
	const char *write_path = NULL, *store_path = mode == VG_MODE_RUN ? ALERT_STORE_DEFAULT_PATH : NULL;
	double duration = 0;
	unsigned long ring_mb = 0;
	enum vg_attach attach = VG_ATTACH_AUTO;
	const char *attach_env = getenv("VIGIL_ATTACH");
	bool detect = mode == VG_MODE_RUN, syscalls_given = false, json_given = false, allow_host = false;
	enum respond_mode response = RESPOND_ENFORCE;
	const char *egress_path = NULL;
	int deny_drift = 0; /* 1 fail-open, 2 fail-closed */
	const char *evidence_dir = BUNDLE_DEFAULT_DIR, *rpolicy_path = NULL, *files_path = NULL;
	int opt, ret = VG_EXIT_OK;

	c.eo.min_priority = PRIO_DEBUG;
	c.eo.rate = 100;
	c.eo.burst = 1000;
	for (int t = 1; t < VG_EVT_MAX; t++)
		want[t] = (event_table_get(t)->flags & VG_EF_DEFAULT) != 0;
	if (mode != VG_MODE_REPLAY && attach_env && *attach_env && parse_attach(attach_env, &attach)) {
		fprintf(stderr, "vigil: VIGIL_ATTACH takes auto, sys-exit or syscalls, not '%s'\n", attach_env);
		return VG_EXIT_USAGE;
	}
	while ((opt = getopt_long(argc, argv, "w:h", opts, NULL)) != -1) {
		char *end;
		switch (opt) {
		case 'j':
			c.json = json_given = true;
			break;
		case 'c':
			c.container = optarg;
			break;
		case 's':
			if (parse_syscalls(optarg, want))
				goto usage_error;
			syscalls_given = true;
			break;
		case 'd':
			duration = strtod(optarg, &end);
			if (*end || duration <= 0) {
				fprintf(stderr, "vigil: --duration takes a positive number of seconds, not '%s'\n", optarg);
				goto usage_error;
			}
			break;
		case 'r':
			ring_mb = strtoul(optarg, &end, 10);
			if (*end || ring_mb == 0 || ring_mb > 4096 || (ring_mb & (ring_mb - 1))) {
				fprintf(stderr, "vigil: --ring-mb takes a power of two from 1 to 4096, not '%s'\n", optarg);
				goto usage_error;
			}
			break;
		case 'T':
			if (parse_attach(optarg, &attach)) {
				fprintf(stderr, "vigil: --attach takes auto, sys-exit or syscalls, not '%s'\n", optarg);
				goto usage_error;
			}
			break;
		case 'w':
			write_path = optarg;
			break;
		case 'R':
			c.rule_paths = xrealloc(c.rule_paths, (c.nrule_paths + 1) * sizeof(*c.rule_paths));
			c.rule_paths[c.nrule_paths++] = optarg;
			detect = true;
			break;
		case 'D':
			detect = c.with_defaults = true;
			break;
		case 'S':
			store_path = optarg;
			break;
		case 'N':
			store_path = NULL;
			break;
		case 'M':
			c.eo.match_all = true;
			break;
		case 'L':
			if (parse_rate(optarg, &c.eo))
				goto usage_error;
			break;
		case 'P': {
			int p = priority_parse(optarg);
			if (p < 0) {
				fprintf(stderr, "vigil: --min-priority takes emergency, alert, critical, error, warning, "
						"notice, informational or debug, not '%s'\n", optarg);
				goto usage_error;
			}
			c.eo.min_priority = p;
			break;
		}
		case 'A':
			if (!strcmp(optarg, "enforce"))
				response = RESPOND_ENFORCE;
			else if (!strcmp(optarg, "audit"))
				response = RESPOND_AUDIT;
			else if (!strcmp(optarg, "off"))
				response = RESPOND_OFF;
			else {
				fprintf(stderr, "vigil: --response takes enforce, audit or off, not '%s'\n", optarg);
				goto usage_error;
			}
			break;
		case 'H':
			allow_host = true;
			break;
		case 'E':
			egress_path = optarg;
			break;
		case 'V':
			evidence_dir = optarg;
			break;
		case 'Q':
			rpolicy_path = optarg;
			break;
		case 'F':
			files_path = optarg;
			break;
		case 'X':
			if (!optarg || !strcmp(optarg, "fail-open"))
				deny_drift = 1;
			else if (!strcmp(optarg, "fail-closed"))
				deny_drift = 2;
			else {
				fprintf(stderr, "vigil: --deny-drift takes fail-open or fail-closed, not '%s'\n", optarg);
				goto usage_error;
			}
			break;
		case 'h':
			usage(stdout, mode);
			free(c.rule_paths);
			return VG_EXIT_OK;
		default:
			goto usage_error;
		}
	}
	bool rules_opts = c.nrule_paths || store_path || c.eo.match_all;
	if (mode == VG_MODE_REPLAY) {
		if (optind != argc - 1 || write_path)
			goto usage_error;
	} else if (optind != argc || (mode == VG_MODE_CAPTURE && !write_path) ||
		   (mode != VG_MODE_RUN && (rules_opts || egress_path || deny_drift || rpolicy_path || files_path)) ||
		   (mode == VG_MODE_RUN && syscalls_given)) {
		goto usage_error;
	}
	if (mode == VG_MODE_RUN && !json_given)
		c.json = !isatty(STDOUT_FILENO); /* a pipe or file gets JSON lines, a person gets text */

	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (files_path) {
		/* read once, at start (SIGHUP reloads rules only); a bad file stops the agent before it loads anything */
		char err[1024];
		c.files = file_policy_load(files_path, err, sizeof(err));
		if (!c.files) {
			vg_err("%s", err);
			ret = VG_EXIT_ERROR;
			goto out;
		}
	}
	if (detect) {
		c.engine = load_rules(&c);
		if (!c.engine) {
			ret = VG_EXIT_ERROR;
			goto out;
		}
		want_for_rules(want, c.engine);
		if (mode == VG_MODE_RUN && response != RESPOND_OFF) {
			char err[512];
			if (rpolicy_path && (!(c.rpolicy = response_policy_load(rpolicy_path, err, sizeof(err))) ||
					     response_policy_check(c.rpolicy, respond_action_known, err, sizeof(err)))) {
				vg_err("%s", err);
				ret = VG_EXIT_ERROR;
				goto out;
			}
			/* a rule whose action cannot be carried out is an error now, not a silent no-op */
			if (respond_check_rules(c.engine, err, sizeof(err))) {
				vg_err("%s", err);
				ret = VG_EXIT_ERROR;
				goto out;
			}
			if (response == RESPOND_ENFORCE && (respond_rules_use(c.engine, "isolate") ||
							    response_policy_uses(c.rpolicy, "isolate"))) {
				size_t nallow;
				const struct netlist_net *allow = response_policy_isolate_allow(c.rpolicy, &nallow);
				c.isolate = isolate_start(allow, nallow, err, sizeof(err));
				if (!c.isolate) {
					vg_err("%s", err);
					ret = VG_EXIT_ERROR;
					goto out;
				}
			}
			if (response == RESPOND_ENFORCE && (respond_rules_use(c.engine, "capture") ||
							    response_policy_uses(c.rpolicy, "capture"))) {
				/* 4 MiB or 60 s of records per container, 64 containers */
				c.recorder = recorder_new(4u << 20, 60ull * 1000000000ull, 64);
				c.bundles.dir = evidence_dir;
				c.bundles.recorder = c.recorder;
				c.bundles.format_alert = alert_json;
			}
			c.responder = responder_new(response, allow_host, NULL, c.isolate, c.recorder ? &c.bundles : NULL);
		}
	}
	if (mode == VG_MODE_REPLAY) {
		c.src = source_capture_open(argv[optind]);
	} else {
		struct vg_bpf_opts bo = { .want = want, .ring_mb = ring_mb, .attach = attach };
		c.src = source_bpf_open(&bo);
	}
	if (!c.src) {
		ret = VG_EXIT_ERROR;
		goto out;
	}
	if (detect) {
		/* evt.hostname and the alert's hostname are the recording machine's, also in replay */
		c.eo.hostname = c.src->hostname;
		c.eo.boot_to_realtime = c.src->boot_to_realtime;
		engine_set_source(c.engine, c.src->hostname, c.src->boot_to_realtime);
		c.bundles.boot_to_realtime = c.src->boot_to_realtime;
		c.bundles.hostname = c.src->hostname;
	}
	if (detect && mode != VG_MODE_REPLAY)
		c.latency_us = xmalloc(LATENCY_SAMPLES * sizeof(*c.latency_us));
	if (detect && store_path) {
		char err[512];
		c.store = alert_store_open(store_path, false, err, sizeof(err));
		if (!c.store) {
			vg_err("%s", err);
			ret = VG_EXIT_ERROR;
			goto out;
		}
	}
	if (write_path) {
		c.writer = capture_writer_open(write_path, c.src->boot_to_realtime, c.src->hostname);
		if (!c.writer) {
			ret = VG_EXIT_ERROR;
			goto out;
		}
	}
	if (egress_path) {
		char err[512];
		/* enforced from the start or not at all: a policy this kernel cannot enforce is an error */
		c.egress = egress_start(egress_path, err, sizeof(err));
		if (!c.egress) {
			vg_err("%s", err);
			ret = VG_EXIT_ERROR;
			goto out;
		}
	}
	if (deny_drift || files_path) {
		char err[512];
		/* one fanotify group answers both: one thread, one decision per event */
		struct drift_opts dopts = { .drift = deny_drift != 0, .drift_fail_open = deny_drift != 2, .files = c.files };
		c.drift = drift_start(&dopts, err, sizeof(err));
		if (!c.drift) {
			vg_err("%s", err);
			ret = VG_EXIT_ERROR;
			goto out;
		}
	}
	watch = mode != VG_MODE_REPLAY ? container_watch_start("/", c.drift ? on_watched_meta : NULL, c.drift) : NULL;
	struct vg_state_opts so = {
		.watch = watch,
		.live = mode != VG_MODE_REPLAY,
		.emit = emit_state,
		.forget_cgroup = mode != VG_MODE_REPLAY ? forget_cgroup : NULL,
		.ctx = &c,
	};
	c.state = state_new(&so);
	if (so.live)
		state_seed(c.state);
	c.allow_host = allow_host;
	/* after the seed, so that the cgroups of running containers are classified at once */
	if (mode == VG_MODE_RUN && c.responder && response == RESPOND_ENFORCE && arm_kernel_kill(&c, c.engine)) {
		ret = VG_EXIT_ERROR;
		goto out;
	}

	/* The kernel wakes the reader only per 64 KiB of records (cheap under load);
	 * a detecting agent also looks every millisecond, so that an alert on a quiet
	 * machine is not held back (about 1000 cheap wakeups a second) */
	int poll_ms = detect && mode != VG_MODE_REPLAY ? 1 : 100;
	uint64_t deadline = duration > 0 ? now_boot_ns() + (uint64_t)(duration * 1e9) : 0;
	while (!stop_requested) {
		int n = poll_source(&c, poll_ms);
		if (c.engine)
			flush_alerts(&c);
		fflush(stdout);
		if (n == VG_SOURCE_EOF)
			break;
		if (n < 0) {
			ret = VG_EXIT_ERROR;
			break;
		}
		if (c.output_error) {
			if (c.output_error != EPIPE) {
				vg_err("cannot write output: %s", strerror(c.output_error));
				ret = VG_EXIT_ERROR;
			}
			break;
		}
		if (reload_requested && c.engine) {
			reload_requested = 0;
			struct engine *e = load_rules(&c);
			char aerr[512];
			if (e && c.responder && respond_check_rules(e, aerr, sizeof(aerr))) {
				vg_err("%s", aerr);
				engine_free(e);
				e = NULL;
			}
			if (e && c.responder && !c.recorder && response == RESPOND_ENFORCE &&
			    respond_rules_use(e, "capture")) {
				c.recorder = recorder_new(4u << 20, 60ull * 1000000000ull, 64);
				c.bundles.dir = evidence_dir;
				c.bundles.recorder = c.recorder;
				c.bundles.format_alert = alert_json;
				responder_free(c.responder);
				c.responder = responder_new(response, allow_host, NULL, c.isolate, &c.bundles);
			}
			if (e && c.responder && !c.isolate && response == RESPOND_ENFORCE &&
			    respond_rules_use(e, "isolate")) {
				size_t nallow;
				const struct netlist_net *allow = response_policy_isolate_allow(c.rpolicy, &nallow);
				c.isolate = isolate_start(allow, nallow, aerr, sizeof(aerr));
				if (!c.isolate) {
					vg_err("%s", aerr);
					engine_free(e);
					e = NULL;
				} else {
					responder_free(c.responder);
					c.responder = responder_new(response, allow_host, NULL, c.isolate,
								    c.recorder ? &c.bundles : NULL);
				}
			}
			if (e) {
				engine_free(c.engine);
				c.engine = e;
				want_for_rules(want, e);
				if (mode != VG_MODE_REPLAY)
					source_bpf_set_wanted(c.src, want);
				if (mode == VG_MODE_RUN && c.responder && response == RESPOND_ENFORCE)
					arm_kernel_kill(&c, e); /* on failure the kills happen from userspace */
				vg_info("rules reloaded");
			} else {
				vg_err("rules not reloaded: keeping the rules already running");
			}
		}
		uint64_t now = now_boot_ns();
		state_sweep(c.state, now);
		if (deadline && now >= deadline)
			break;
	}
	if (mode != VG_MODE_REPLAY) {
		/* what is still queued in the kernel belongs to the capture too;
		 * bounded, since under a storm the queue never empties */
		uint64_t drain_end = now_boot_ns() + 2000000000ULL;
		while (poll_source(&c, 0) > 0 && !c.output_error && now_boot_ns() < drain_end)
			if (c.engine)
				flush_alerts(&c);
		if (c.engine)
			flush_alerts(&c);
		fflush(stdout);
		print_stats(&c);
	}
	if (c.engine) {
		struct engine_stats es;
		engine_stats(c.engine, &es);
		vg_info("detection: events=%llu evaluations=%llu alerts=%llu suppressed=%llu",
			(unsigned long long)es.events, (unsigned long long)es.evaluated,
			(unsigned long long)es.alerts, (unsigned long long)es.suppressed);
		print_latency(&c);
	}
	if (c.state->bad_state_records)
		vg_warn("%llu state records did not parse: the processes or containers they describe lack details",
			(unsigned long long)c.state->bad_state_records);
	if (c.egress)
		vg_info("egress: %llu connections refused", (unsigned long long)egress_denied(c.egress));
	if (c.drift) {
		struct drift_stats ds;
		drift_stats(c.drift, &ds);
		const char *files_mode = c.files && file_policy_fail_open(c.files) ? "fail-open" : "fail-closed";
		vg_info("deny-exec: %llu executions allowed, %llu denied, %llu undecided (%s%s%s%s)",
			(unsigned long long)ds.allowed, (unsigned long long)ds.denied, (unsigned long long)ds.undecided,
			deny_drift ? "drift: " : "", deny_drift == 1 ? "fail-open" : deny_drift == 2 ? "fail-closed" : "",
			deny_drift && c.files ? ", file policy: " : c.files ? "file policy: " : "", c.files ? files_mode : "");
		if (c.files)
			vg_info("deny-open: %llu opens allowed, %llu denied, %llu undecided (file policy: %s)",
				(unsigned long long)ds.open_allowed, (unsigned long long)ds.open_denied,
				(unsigned long long)ds.open_undecided, files_mode);
	}
	if (c.isolate)
		vg_info("isolate: %llu packets dropped", (unsigned long long)isolate_dropped(c.isolate));
	if (c.kkill.kernel_rules) {
		struct vg_source_stats st;
		source_stats(c.src, &st);
		vg_info("kill: %llu processes killed in the kernel, %llu kills left to userspace by the rate limit",
			(unsigned long long)st.killed, (unsigned long long)st.kill_limited);
	}
out:
	/* one cleanup for every exit: each of these accepts what was never started */
	if (c.writer && capture_writer_close(c.writer) != 0)
		ret = VG_EXIT_ERROR;
	egress_stop(c.egress);
	drift_stop(c.drift);
	file_policy_free(c.files);
	isolate_stop(c.isolate);
	alert_store_close(c.store);
	engine_free(c.engine);
	responder_free(c.responder);
	response_policy_free(c.rpolicy);
	kernel_kill_free(&c.kkill);
	recorder_free(c.recorder);
	state_free(c.state);
	container_watch_stop(watch);
	source_close(c.src);
	buf_free(&c.line);
	buf_free(&c.pending);
	buf_free(&c.alert_json);
	free(c.rule_paths);
	free(c.pending_ts);
	free(c.latency_us);
	return ret;

usage_error:
	usage(stderr, mode);
	free(c.rule_paths);
	return VG_EXIT_USAGE;
}

int cmd_events(int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		fputs("usage: vigil events\n", stderr);
		return VG_EXIT_USAGE;
	}
	for (int t = 1; t < VG_EVT_MAX; t++) {
		const struct vg_event_info *e = event_table_get(t);
		if (e->category == VG_CAT_INTERNAL)
			continue;
		printf("%-14s %-10s %s", e->name, event_table_category_name(e->category),
		       e->flags & VG_EF_DEFAULT ? "default" : "opt-in ");
		for (int i = 0; i < e->nparams; i++)
			printf("%s%s", i ? "," : " ", e->params[i].name);
		putchar('\n');
	}
	return VG_EXIT_OK;
}
