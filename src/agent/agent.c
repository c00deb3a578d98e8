/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's wiring and loop. One record goes: source -> state (enrichment)
 * -> the sinks that take raw records (capture file) -> the flight recorder ->
 * the engine, whose alerts are answered (agent_respond.c), formatted once and
 * handed to the sinks; or, without rules, the event itself to the sinks.
 * After each poll the sinks are flushed in order (the store commits, then
 * stdout prints). Rules are wired by one path, use_rules, at the start and
 * on every reload.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agent/agent_int.h"
#include "common/log.h"
#include "output/alert_json.h"
#include "output/outbox.h"
#include "respond/file_guard.h"
#include "respond/egress.h"
#include "respond/file_policy.h"
#include "respond/isolate.h"
#include "respond/recorder.h"
#include "respond/response_policy.h"
#include "respond/selector.h"
#include "sensor/capture.h"
#include "sensor/decode.h"
#include "sensor/event_table.h"
#include "state/container_table.h"
#include "state/flow_table.h"

static bool live(const struct agent *a)
{
	return a->cfg.mode != AGENT_REPLAY;
}

/* Whether the event is of the --container wanted (set: the caller checked). */
static bool container_matches(const struct agent *a, const struct vg_event *ev)
{
	const struct vg_cgroup *cg = state_cgroup(a->state, ev->hdr.cgroup_id);
	return selector_filter(a->cfg.container, cg ? &cg->meta : NULL);
}

static void to_sinks_record(struct agent *a, const void *rec, size_t len)
{
	for (size_t i = 0; i < a->nrecord_sinks; i++)
		a->record_sinks[i]->ops->record(a->record_sinks[i], rec, len);
}

static void note_output_error(struct agent *a, int err)
{
	if (err && !a->output_error)
		a->output_error = err;
}

/* An alert: answered first (a kill should not wait for formatting and storing),
 * then formatted once and handed to the sinks' batch. */
static void on_alert(void *ctx, const struct alert *al)
{
	struct agent *a = ctx;
	uint64_t b2r = a->src->boot_to_realtime;

	agent_respond(a, al);
	buf_reset(&a->alert_json);
	alert_json_responses(&a->alert_json, al, a->src->hostname, b2r, a->responses.res, a->responses.n);
	struct vg_sink_alert sa = { al, a->alert_json.data, a->alert_json.len, b2r };
	for (size_t i = 0; i < a->nsinks; i++)
		if (a->sinks[i]->ops->alert)
			note_output_error(a, a->sinks[i]->ops->alert(a->sinks[i], &sa));
	agent_latency_alert(&a->latency, al->ev->hdr.ts);
	agent_metrics_alert(a, al);
}

void agent_alert(struct agent *a, const struct alert *al)
{
	on_alert(a, al);
}

/* The batch is complete: the sinks in order (the store commits before stdout prints). */
static void flush_sinks(struct agent *a)
{
	for (size_t i = 0; i < a->nsinks; i++)
		if (a->sinks[i]->ops->flush)
			note_output_error(a, a->sinks[i]->ops->flush(a->sinks[i]));
	agent_latency_written(&a->latency);
}

/* The kernel's kill terms that name a side need each cgroup's: container or host. */
static void tell_side(struct agent *a, struct vg_cgroup *cg)
{
	if (!cg || cg->side_told)
		return;
	source_bpf_set_cgroup_side(a->src, cg->node.key, cg->meta.id[0] ? VG_KILL_CONTAINER : VG_KILL_HOST);
	cg->side_told = true;
}

/* Every cgroup the state knows, classified for the kernel. */
static void tell_sides(struct agent *a)
{
	struct hmap_node *n, *tmp;
	size_t i;
	hmap_for_each(&a->state->cgroups.map, n, tmp, i)
		tell_side(a, hmap_entry(n, struct vg_cgroup, node));
}

/* Give the kernel its part of the kills of the running engine. */
static int arm_kernel_kill(struct agent *a)
{
	kernel_kill_free(&a->kkill);
	kernel_kill_plan(&a->kkill, a->engine, a->rpolicy, a->cfg.allow_host);
	int rc = source_bpf_set_kill(a->src, a->kkill.terms, a->kkill.nterms, a->kkill.names, a->kkill.nnames);
	if (rc) {
		vg_err("cannot load the kill rules into the kernel: %s", strerror(-rc));
		return -1;
	}
	if (a->kkill.nterms)
		tell_sides(a);
	return 0;
}

/* The kernel's keep filter for the running rules (agent_kdrop.c); its terms name sides too. */
static void arm_kdrop(struct agent *a)
{
	agent_kdrop_arm(a);
	if (a->kdrop.on && live(a))
		tell_sides(a);
}

/* One valid record, decoded: state, raw sinks, recorder, then rules or the event sinks. */
static int on_event(void *ctx, const struct vg_event *ev)
{
	struct agent *a = ctx;

	if (a->kdrop.on && !live(a) && agent_kdrop_sim_drops(a, ev))
		return 0; /* replay --kernel-filter-sim: the kernel would not have sent it */
	__atomic_store_n(&a->events, a->events + 1, __ATOMIC_RELAXED); /* the heartbeat reads it */
	agent_metrics_event(a, ev->hdr.type);
	bool show = state_ingest(a->state, ev);
	if (show) {
		flow_table_ingest(a->flows, a->state, ev); /* before the rules: flow.* fields read it */
		agent_flows_before(a, ev);
	}
	if (a->kkill.nterms || (a->kdrop.on && live(a)))
		tell_side(a, state_cgroup(a->state, ev->hdr.cgroup_id));
	to_sinks_record(a, ev->raw, ev->raw_len);
	if (show && a->recorder) {
		const struct vg_cgroup *cg = state_cgroup(a->state, ev->hdr.cgroup_id);
		if (cg && cg->meta.id[0])
			recorder_add(a->recorder, ev->hdr.cgroup_id, ev->raw, ev->raw_len, ev->hdr.ts);
	}
	if (show && (!a->cfg.container || container_matches(a, ev))) {
		if (a->engine) {
			engine_process(a->engine, ev, a->state, on_alert, a);
		} else {
			for (size_t i = 0; i < a->nevent_sinks; i++) {
				struct vg_sink *s = a->event_sinks[i];
				int err = s->ops->event(s, ev, a->state, a->src->boot_to_realtime);
				if (err) {
					note_output_error(a, err);
					return 1;
				}
			}
		}
	}
	if (show)
		agent_flows_event(a, ev); /* after the rules: DNS names learnt, the flow counted */
	if (show && a->profiles)
		agent_profile_event(a, ev); /* after the rules: behaviour profiles (agent_profile.c) */
	state_done(a->state, ev);
	return 0;
}

/* A raw record from a source that does not decode (the kernel's): check it, then on_event. */
static int on_record(void *ctx, const void *rec, size_t len)
{
	struct agent *a = ctx;
	struct vg_event ev;
	char err[160];

	if (event_decode(rec, len, &ev, err, sizeof(err)) != 0) {
		if (a->bad++ < 10)
			vg_warn("dropping a malformed record: %s", err);
		return 0;
	}
	return on_event(a, &ev);
}

int agent_ingest_record(struct agent *a, const void *rec, size_t len)
{
	return on_record(a, rec, len);
}

/* Deliver the source's records to on_event, decoded once whichever the source. */
static int poll_source(struct agent *a, int timeout_ms)
{
	if (a->src->ops->poll_events)
		return a->src->ops->poll_events(a->src, timeout_ms, on_event, a);
	return source_poll(a->src, timeout_ms, on_record, a);
}

/* A record the state synthesised (what it learnt outside the kernel stream): a capture keeps it. */
static void emit_state(void *ctx, const void *rec, size_t len)
{
	to_sinks_record(ctx, rec, len);
}

/* A container's metadata became known: its egress lists and its file guard. */
static void on_container_known(void *ctx, uint64_t cgroup_id, const struct vg_container_meta *m)
{
	struct agent *a = ctx;
	char err[512];

	egress_container(a->egress, cgroup_id, m);
	if (a->guard && file_guard_add(a->guard, m, err, sizeof(err)))
		vg_warn("deny exec/open: %s", err);
	agent_protect_container(a, cgroup_id); /* a protecting profile's allow lists */
}

/*
 * The watcher read a container's metadata, usually before its process starts
 * (the runtime writes the bundle first): guard its files now rather than at
 * its first event, which the agent reads a few milliseconds later. Runs on
 * the watcher's thread (file_guard_add is thread-safe). Containers that are not
 * running (their root filesystem is not mounted) are simply not guarded.
 */
static void on_watched_meta(void *ctx, const struct vg_container_meta *m)
{
	struct file_guard *g = ctx;
	char err[512];
	if (m->rootfs && file_guard_add(g, m, err, sizeof(err)))
		vg_debug("deny exec/open, ahead of the container's start: %s", err);
}

static void forget_cgroup(void *ctx, uint64_t id)
{
	struct agent *a = ctx;
	source_bpf_forget_cgroup(a->src, id);
	recorder_forget(a->recorder, id);
	egress_forget(a->egress, id);
	agent_protect_forget(a, id);
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

/* The flow records (docs/flows.md) when flows are on, whatever the rules say; none with --no-flows. */
static void want_flows(struct agent *a)
{
	static const int flow_events[] = { VG_EVT_FLOW_TCP, VG_EVT_FLOW_UDP, VG_EVT_FLOW_DNS };
	bool asked = false;
	for (size_t i = 0; i < sizeof(flow_events) / sizeof(flow_events[0]); i++) {
		asked |= a->want[flow_events[i]];
		a->want[flow_events[i]] = a->cfg.no_flows ? 0 : a->cfg.flows ? 1 : a->want[flow_events[i]];
	}
	if (a->cfg.no_flows && asked && a->engine)
		vg_warn("--no-flows: rules of the flow source will not see any flow");
}

static struct engine *load_rules(struct agent *a)
{
	const struct agent_config *c = &a->cfg;
	struct engine_counts counts;
	struct vg_buf warnings = { 0 };
	char err[1024];
	const char *const *paths;
	size_t n;
	bool defaults;
	agent_rule_paths(a, &paths, &n, &defaults);
	struct engine *e = engine_load(paths, n, defaults, &c->eo, &counts, &warnings, err, sizeof(err));
	if (warnings.len)
		vg_debug("rule warnings:\n%s", warnings.data);
	buf_free(&warnings);
	if (!e) {
		vg_err("%s", err);
		return NULL;
	}
	vg_info("%zu rules loaded (%zu enabled), %zu macros, %zu lists%s", counts.rules, counts.enabled,
		counts.macros, counts.lists,
		!n ? " (Vigil's default rules)" : defaults ? " (with Vigil's default rules)" : "");
	return e;
}

/* A part that did not start (NULL): its reason logged, -1 to stop the wiring. */
static int started(const void *part, const char *err)
{
	if (part)
		return 0;
	vg_err("%s", err);
	return -1;
}

/* Whether the rules of e or the response policy name this action. */
static bool action_used(const struct agent *a, const struct engine *e, const char *action)
{
	return respond_rules_use(e, action) || response_policy_uses(a->rpolicy, action);
}

/*
 * Make the response able to carry out engine e's actions: e's rules are all
 * carried out (or it is refused), and what they need that is not running yet
 * is started -- the isolation programs, the flight recorder -- with a new
 * responder that knows them. The start and every reload come through here.
 * 0, or -1 with the reason logged; what started stays for the running rules.
 */
static int use_rules(struct agent *a, const struct engine *e, char *err, size_t errlen)
{
	const struct agent_config *c = &a->cfg;
	bool enforce = c->response == RESPOND_ENFORCE, changed = !a->responder;

	if (c->mode != AGENT_RUN || c->response == RESPOND_OFF)
		return 0;
	/* a rule whose action cannot be carried out is an error now, not a silent no-op */
	if (respond_check_rules(e, err, errlen))
		return -1;
	if (enforce && !a->isolate && action_used(a, e, "isolate")) {
		size_t nallow;
		const struct netlist_net *allow = response_policy_isolate_allow(a->rpolicy, &nallow);
		if (!(a->isolate = isolate_start(allow, nallow, err, errlen)))
			return -1;
		changed = true;
	}
	if (enforce && !a->recorder && action_used(a, e, "capture")) {
		/* 4 MiB or 60 s of records per container, 64 containers */
		a->recorder = recorder_new(4u << 20, 60ull * 1000000000ull, 64);
		a->bundles.dir = c->evidence_dir;
		a->bundles.recorder = a->recorder;
		a->bundles.format_alert = alert_json;
		changed = true;
	}
	if (changed) {
		responder_free(a->responder);
		a->responder = responder_new(c->response, c->allow_host, NULL, a->isolate,
					     a->recorder ? &a->bundles : NULL);
	}
	return 0;
}

int agent_apply(struct agent *a, const char *const *paths, size_t n, bool defaults,
		struct response_policy *rp, char *err, size_t errlen)
{
	struct engine_counts counts;
	struct vg_buf warnings = { 0 };
	struct response_policy *old = a->rpolicy;
	struct engine *e = engine_load(paths, n, defaults, &a->cfg.eo, &counts, &warnings, err, errlen);

	buf_free(&warnings);
	if (!e)
		return -1;
	if (rp)
		a->rpolicy = rp;
	if (use_rules(a, e, err, errlen)) {
		a->rpolicy = old;
		engine_free(e);
		return -1;
	}
	if (rp)
		response_policy_free(old);
	engine_free(a->engine);
	a->engine = e;
	agent_rules_digest(a);
	want_for_rules(a->want, e);
	want_flows(a);
	agent_profile_want(a);
	if (live(a))
		source_bpf_set_wanted(a->src, a->want);
	arm_kdrop(a); /* the new rules' filter, swapped in at once */
	if (a->responder && a->cfg.response == RESPOND_ENFORCE)
		arm_kernel_kill(a); /* on failure the kills happen from userspace */
	vg_info("%zu rules loaded (%zu enabled), %zu macros, %zu lists", counts.rules, counts.enabled,
		counts.macros, counts.lists);
	return 0;
}

/* Between two batches: the rules again, through use_rules; a bad set keeps the running one. */
static void reload_rules(struct agent *a)
{
	const char *const *paths;
	size_t n;
	bool defaults;
	char err[1024];

	agent_rule_paths(a, &paths, &n, &defaults);
	if (agent_apply(a, paths, n, defaults, NULL, err, sizeof(err))) {
		vg_err("%s", err);
		vg_err("rules not reloaded: keeping the rules already running");
		return;
	}
	vg_info("rules reloaded");
}

/* The response policy: read once, at start (SIGHUP reloads rules only). */
static int load_response_policy(struct agent *a)
{
	const struct agent_config *c = &a->cfg;
	char err[512];

	const char *path = agent_policy_path(a, POLICY_RESPONSE, c->rpolicy_path);

	if (c->mode != AGENT_RUN || c->response == RESPOND_OFF || !path)
		return 0;
	if (!(a->rpolicy = response_policy_load(path, err, sizeof(err))) ||
	    response_policy_check(a->rpolicy, respond_action_known, err, sizeof(err))) {
		vg_err("%s", err);
		return -1;
	}
	return 0;
}

/* The outputs sink_table names that the config asks for, in its (flush) order. */
static int open_sinks(struct agent *a)
{
	const struct agent_config *c = &a->cfg;
	struct vg_sink_config sc = {
		.show = c->mode != AGENT_CAPTURE,
		.json = c->json,
		.store_path = c->detect ? c->store_path : NULL,
		.capture_path = c->write_path,
		.boot_to_realtime = a->src->boot_to_realtime,
		.hostname = a->src->hostname,
		.on_commit = c->fleet.servers || c->noutputs ? agent_fleet_committed : NULL,
		.on_commit_ctx = a,
	};
	char err[512];

	for (size_t i = 0; sink_table[i]; i++) {
		struct vg_sink *s;
		err[0] = 0;
		if (sink_table[i]->open(&sc, &s, err, sizeof(err))) {
			if (err[0])
				vg_err("%s", err);
			return -1;
		}
		if (!s)
			continue;
		if (a->nsinks == AGENT_SINKS_MAX) {
			vg_err("cannot open output %s: more than %d outputs", sink_table[i]->name, AGENT_SINKS_MAX);
			s->ops->close(s);
			return -1;
		}
		a->sinks[a->nsinks++] = s;
		if (s->ops->record)
			a->record_sinks[a->nrecord_sinks++] = s;
		if (s->ops->event)
			a->event_sinks[a->nevent_sinks++] = s;
	}
	return 0;
}

/* The kernel-side guards: egress lists, and one fanotify group for drift and the file policy. */
static int start_guards(struct agent *a)
{
	const struct agent_config *c = &a->cfg;
	char err[512];

	/* enforced from the start or not at all: a policy this kernel cannot enforce is an error */
	const char *egress_path = agent_policy_path(a, POLICY_EGRESS, c->egress_path);
	if (egress_path && started(a->egress = egress_start(egress_path, err, sizeof(err)), err))
		return -1;
	if (c->deny_drift || a->files) {
		/* one fanotify group answers both: one thread, one decision per event */
		struct file_guard_opts dopts = { .drift = c->deny_drift != AGENT_DRIFT_OFF,
					    .drift_fail_open = c->deny_drift != AGENT_DRIFT_FAIL_CLOSED,
					    .files = a->files };
		if (started(a->guard = file_guard_start(&dopts, err, sizeof(err)), err))
			return -1;
	}
	return 0;
}

static int open_source(struct agent *a)
{
	if (!live(a)) {
		a->src = source_capture_open(a->cfg.replay_path);
	} else {
		struct vg_bpf_opts bo = { .want = a->want, .ring_mb = a->cfg.ring_mb, .attach = a->cfg.attach,
					  .flow_interval_s = a->cfg.flow_interval_s, .cgroup2_root = cgroup2_mount(),
					  .fair_rate = a->cfg.fair_rate, .fair_burst = a->cfg.fair_burst,
					  .fair_pressure_pct = a->cfg.fair_pressure_pct };
		a->src = source_bpf_open(&bo);
	}
	if (!a->src)
		return -1;
	/* evt.hostname and the alert's hostname are the recording machine's, also in replay */
	a->cfg.eo.hostname = a->src->hostname;
	a->cfg.eo.boot_to_realtime = a->src->boot_to_realtime;
	a->bundles.boot_to_realtime = a->src->boot_to_realtime;
	a->bundles.hostname = a->src->hostname;
	if (a->engine)
		engine_set_source(a->engine, a->src->hostname, a->src->boot_to_realtime);
	return 0;
}

/* The order matters for the user: a bad policy or rule file is reported before the sensor loads. */
static int wire(struct agent *a)
{
	const struct agent_config *c = &a->cfg;
	char err[1024];

	/* the fleet's policy last applied on this node, before the node's own files */
	if (agent_central_open(a))
		return -1;
	/* the file policy is read once, at start (SIGHUP reloads rules only) */
	const char *files_path = agent_policy_path(a, POLICY_FILES, c->files_path);
	if (files_path && started(a->files = file_policy_load(files_path, err, sizeof(err)), err))
		return -1;
	if (c->detect) {
		a->engine = load_rules(a);
		if (!a->engine)
			return -1;
		agent_rules_digest(a);
		want_for_rules(a->want, a->engine);
		want_flows(a);
		agent_profile_want(a);
		if (load_response_policy(a))
			return -1;
		if (use_rules(a, a->engine, err, sizeof(err))) {
			vg_err("%s", err);
			return -1;
		}
	}
	if (open_source(a))
		return -1;
	if (c->detect && live(a))
		agent_latency_start(&a->latency);
	if (open_sinks(a) || start_guards(a) || agent_fleet_start(a))
		return -1;
	if (agent_metrics_start(a))
		return -1;
	a->watch = live(a) ? container_watch_start("/", a->guard ? on_watched_meta : NULL, a->guard) : NULL;
	struct vg_state_opts so = {
		.watch = a->watch,
		.live = live(a),
		.emit = emit_state,
		.forget_cgroup = live(a) ? forget_cgroup : NULL,
		.container_known = a->egress || a->guard || c->profiles.on ? on_container_known : NULL,
		.ctx = a,
	};
	a->state = state_new(&so);
	a->flows = flow_table_new(0, 0);
	a->state->flows = a->flows;
	if (agent_flows_start(a) || agent_profile_start(a))
		return -1;
	if (so.live)
		state_seed(a->state);
	/* after the sensor and the response are up: the BPF objects it holds are known */
	if (so.live && c->detect)
		state_set_self(a->state, agent_self_describe(c));
	/* after the seed, so that the cgroups of running containers are classified at once */
	arm_kdrop(a);
	if (a->responder && c->response == RESPOND_ENFORCE && arm_kernel_kill(a))
		return -1;
	/* this agent's kill is armed, cgroups classified: an earlier agent's pinned kill may go */
	if (so.live && c->mode == AGENT_RUN)
		source_bpf_kill_take_over(a->src);
	/* last: a node takes the fleet's policy once it can act on it */
	return agent_central_start(a);
}

struct agent *agent_create(const struct agent_config *cfg)
{
	struct agent *a = xcalloc(1, sizeof(*a));
	a->cfg = *cfg;
	memcpy(a->want, cfg->want, sizeof(a->want));
	want_flows(a);
	if (wire(a)) {
		agent_destroy(a);
		return NULL;
	}
	return a;
}

void agent_stop(struct agent *a)
{
	/* a stop during the end's drain (or a second one) ends the drain's wait */
	if (a->stop_requested || a->draining)
		outbox_cancel(a->outbox);
	a->stop_requested = 1;
}

void agent_reload(struct agent *a)
{
	a->reload_requested = 1;
}

/* An output error ends the run; a closed pipe (| head) ends it quietly. */
static bool output_broken(struct agent *a, int *ret)
{
	if (!a->output_error)
		return false;
	if (a->output_error != EPIPE) {
		vg_err("cannot write output: %s", strerror(a->output_error));
		*ret = -1;
	}
	return true;
}

int agent_run(struct agent *a)
{
	/* The kernel wakes the reader only per 64 KiB of records (cheap under load);
	 * a detecting agent also looks every millisecond, so that an alert on a quiet
	 * machine is not held back (about 1000 cheap wakeups a second) */
	int poll_ms = a->engine && live(a) ? 1 : 100, ret = 0;
	uint64_t deadline = a->cfg.duration > 0 ? agent_now_ns() + (uint64_t)(a->cfg.duration * 1e9) : 0;

	/* watching from here on: a service manager may count the agent as started */
	agent_notify_init(&a->notify);
	agent_notify(&a->notify, "READY=1");
	while (!a->stop_requested) {
		int n = poll_source(a, poll_ms);
		flush_sinks(a);
		if (n == VG_SOURCE_EOF)
			break;
		if (n < 0) {
			ret = -1;
			break;
		}
		if (output_broken(a, &ret))
			break;
		if (a->reload_requested && a->engine) {
			a->reload_requested = 0;
			/* the fleet's new policy if one came, else SIGHUP: the files again */
			if (!agent_central_apply(a))
				reload_rules(a);
		}
		uint64_t now = agent_now_ns();
		state_sweep(a->state, now);
		if (a->heartbeat && now - a->stats_at >= 1000000000ULL) {
			struct vg_source_stats st = { 0 };
			source_stats(a->src, &st);
			__atomic_store_n(&a->lost_records, st.lost, __ATOMIC_RELAXED);
			a->stats_at = now;
		}
		agent_metrics_tick(a, now);
		agent_flows_tick(a, now);
		agent_profile_tick(a, now);
		agent_commands_tick(a);
		agent_floods_tick(a, now);
		/* from the loop itself: a loop that hangs stops the pings, and the manager restarts it */
		agent_notify_tick(&a->notify, now);
		if (deadline && now >= deadline)
			break;
	}
	agent_notify(&a->notify, "STOPPING=1");
	agent_notify_close(&a->notify);
	if (live(a)) {
		/* what is still queued in the kernel belongs to the capture too;
		 * bounded, since under a storm the queue never empties */
		uint64_t drain_end = agent_now_ns() + 2000000000ULL;
		while (poll_source(a, 0) > 0 && !a->output_error && agent_now_ns() < drain_end)
			flush_sinks(a);
		agent_floods_end(a);
		flush_sinks(a);
		agent_print_source_stats(a);
	}
	agent_log_summary(a);
	agent_fleet_drain(a);
	return ret;
}

int agent_destroy(struct agent *a)
{
	int ret = 0;

	if (!a)
		return 0;
	/* first: nothing from the fleet reaches the agent while it is taken apart */
	agent_central_stop(a);
	/* each of these accepts what was never started */
	agent_flows_fleet_stop(a);
	agent_fleet_stop(a);
	agent_metrics_stop(a);
	agent_flows_stop(a);
	agent_profile_stop(a);
	for (size_t i = 0; i < a->nsinks; i++)
		if (a->sinks[i]->ops->close(a->sinks[i]))
			ret = -1;
	egress_stop(a->egress);
	file_guard_stop(a->guard);
	file_policy_free(a->files);
	isolate_stop(a->isolate);
	engine_free(a->engine);
	responder_free(a->responder);
	response_policy_free(a->rpolicy);
	kernel_kill_free(&a->kkill);
	kdrop_tables_free(&a->kdrop.t);
	recorder_free(a->recorder);
	state_free(a->state);
	flow_table_free(a->flows);
	agent_floods_free(a);
	container_watch_stop(a->watch);
	source_close(a->src);
	buf_free(&a->alert_json);
	agent_latency_free(&a->latency);
	free(a);
	return ret;
}
