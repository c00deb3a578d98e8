/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "common/buf.h"
#include "common/log.h"
#include "common/path.h"
#include "state/state.h"

#define SWEEP_INTERVAL_NS (5ULL * 1000000000ULL)
#define META_RETRY_NS (1ULL * 1000000000ULL)

static uint64_t boot_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_BOOTTIME, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + t.tv_nsec;
}

struct vg_state *state_new(const struct vg_state_opts *opts)
{
	struct vg_state *st = xcalloc(1, sizeof(*st));

	st->opts = *opts;
	if (!st->opts.procfs)
		st->opts.procfs = "/proc";
	if (!st->opts.host_root)
		st->opts.host_root = "/";
	if (!st->opts.max_procs)
		st->opts.max_procs = 262144;
	proc_table_init(&st->procs, st->opts.max_procs);
	container_table_init(&st->cgroups);
	return st;
}

void state_free(struct vg_state *st)
{
	if (!st)
		return;
	proc_table_free(&st->procs);
	container_table_free(&st->cgroups);
	agent_self_free(st->self);
	free(st);
}

/*
 * Build a synthesised record (one parameter: a string or JSON body), hand it
 * to emit, and ingest it. `body` is NUL-terminated; the NUL is kept.
 */
/* A userspace record of one string parameter (CGROUP path or STATE_* JSON). false if too large. */
static bool state_record(struct vg_buf *rec, uint16_t type, uint32_t pid, uint64_t cgroup_id, const char *body)
{
	size_t blen = strlen(body) + 1;
	struct vg_event_hdr h = { 0 };
	uint16_t plen;

	if (blen > UINT16_MAX) {
		vg_warn("state record for pid %u too large (%zu bytes), not kept", pid, blen);
		return false;
	}
	plen = blen;
	h.ts = boot_ns();
	h.type = type;
	h.pid = h.tid = pid;
	h.cgroup_id = cgroup_id;
	h.nparams = 1;
	h.len = sizeof(h) + sizeof(plen) + blen;
	h.loginuid = UINT32_MAX;
	buf_add(rec, &h, sizeof(h));
	buf_add(rec, &plen, sizeof(plen));
	buf_add(rec, body, blen);
	return true;
}

/* Returns true when the record was ingested and parsed. */
static bool synth(struct vg_state *st, uint16_t type, uint32_t pid, uint64_t cgroup_id, const char *body)
{
	struct vg_buf rec = { 0 };
	struct vg_event ev;
	char err[160];
	uint64_t bad = st->bad_state_records;
	bool ok = false;

	if (!state_record(&rec, type, pid, cgroup_id, body))
		return false;
	if (st->opts.emit)
		st->opts.emit(st->opts.ctx, rec.data, rec.len);
	if (event_decode(rec.data, rec.len, &ev, err, sizeof(err)) == 0) {
		state_ingest(st, &ev);
		ok = st->bad_state_records == bad;
	} else {
		vg_warn("internal: synthesised record rejected: %s", err);
	}
	buf_free(&rec);
	return ok;
}

void state_set_self(struct vg_state *st, struct vg_agent_self *s)
{
	struct vg_buf rec = { 0 };
	char *json = agent_self_to_json(s);

	agent_self_free(st->self);
	st->self = s;
	/* into the stream (a capture), not ingested: this state keeps the live description */
	if (json && st->opts.emit && state_record(&rec, VG_EVT_STATE_AGENT, s->pid, 0, json))
		st->opts.emit(st->opts.ctx, rec.data, rec.len);
	buf_free(&rec);
	free(json);
}

/* Replay: the agent that recorded the capture. */
static void ingest_agent(struct vg_state *st, const struct vg_event *ev)
{
	const struct vg_param_val *pv = ev->nparams ? &ev->params[0] : NULL;
	struct vg_agent_self *s = pv && pv->data ? agent_self_from_json(pv->data, pv->len) : NULL;
	if (!s) {
		st->bad_state_records++;
		return;
	}
	agent_self_free(st->self);
	st->self = s;
}

/* Live: read the runtime's state for a container cgroup and record it. */
static void lookup_metadata(struct vg_state *st, struct vg_cgroup *cg)
{
	struct vg_container_meta meta = { 0 };
	char *json;

	cg->last_lookup = boot_ns();
	if (container_meta_load(&meta, cg->meta.id, cg->meta.runtime, st->opts.host_root) != 0 ||
	    !meta.metadata_found) {
		/* gone already (we read events late)? the watcher may have read it */
		container_meta_free(&meta);
		if (!container_watch_get(st->opts.watch, cg->meta.id, &meta))
			return;
	}
	json = container_meta_to_json(&meta);
	container_meta_free(&meta);
	/* those who act on containers (egress lists, file guard) get the typed metadata
	 * the state holds, not the record's JSON */
	if (json && synth(st, VG_EVT_STATE_CONTAINER, 0, cg->node.key, json) && st->opts.container_known)
		st->opts.container_known(st->opts.ctx, cg->node.key, &cg->meta);
	free(json);
}

static void ingest_cgroup(struct vg_state *st, const struct vg_event *ev)
{
	const char *path = event_param_str(ev, 0);

	if (!path[0] || container_table_get(&st->cgroups, ev->hdr.cgroup_id))
		return;
	/* metadata is looked up at the cgroup's first event, not here: the
	 * STATE_CONTAINER record must follow this CGROUP record in a capture */
	container_table_add(&st->cgroups, ev->hdr.cgroup_id, path);
}

static void ingest_container(struct vg_state *st, const struct vg_event *ev)
{
	struct vg_cgroup *cg = container_table_get(&st->cgroups, ev->hdr.cgroup_id);
	struct vg_container_meta meta = { 0 };
	const struct vg_param_val *pv = &ev->params[0];

	if (!cg || !pv->data || container_meta_from_json(&meta, pv->data, strnlen(pv->data, pv->len)) != 0) {
		st->bad_state_records++;
		container_meta_free(&meta);
		return;
	}
	/* the id comes from the cgroup path; metadata cannot move a cgroup to another container */
	memcpy(meta.id, cg->meta.id, sizeof(meta.id));
	meta.runtime = cg->meta.runtime;
	container_meta_free(&cg->meta);
	cg->meta = meta;
}

static void ingest_proc(struct vg_state *st, const struct vg_event *ev)
{
	const struct vg_param_val *pv = &ev->params[0];
	if (!pv->data || proc_from_json(&st->procs, pv->data, strnlen(pv->data, pv->len)) != 0)
		st->bad_state_records++;
}

/* Live: a cgroup the kernel's CGROUP record did not reach us for (lost record). */
static void resolve_unknown_cgroup(struct vg_state *st, const struct vg_event *ev)
{
	char path[PATH_MAX];

	if (!cgroup_path_of_pid(st->opts.procfs, ev->hdr.pid, path, sizeof(path)))
		return;
	if (cgroup_id_of_path(path) == ev->hdr.cgroup_id)
		synth(st, VG_EVT_CGROUP, ev->hdr.pid, ev->hdr.cgroup_id, path);
}

static void refresh_from_header(struct vg_proc *p, const struct vg_event_hdr *h)
{
	p->ppid = h->ppid;
	p->vpid = h->vpid;
	p->sid = h->sid;
	p->tty = h->tty;
	p->uid = h->uid;
	p->gid = h->gid;
	p->euid = h->euid;
	p->egid = h->egid;
	p->loginuid = h->loginuid;
	p->cgroup_id = h->cgroup_id;
	memcpy(p->comm, h->comm, sizeof(p->comm));
	p->comm[sizeof(p->comm) - 1] = 0;
}

static void apply_exec(struct vg_proc *p, const struct vg_event *ev)
{
	struct vg_buf path = { 0 };
	const struct vg_param_val *exe = event_param(ev, "exe");
	const struct vg_param_val *argv = event_param(ev, "argv");
	const struct vg_param_val *info = event_param(ev, "exe_info");
	unsigned int i = exe - ev->params;

	if (p->exec_count < UINT32_MAX)
		p->exec_count++;
	path_resolve(event_param_base(ev, i), event_param_str(ev, i), &path);
	proc_set_exe(p, path.data ? path.data : "");
	buf_free(&path);
	proc_set_args(p, argv->data ? argv->data : "", argv->len);
	proc_set_cwd(p, event_param_str(ev, event_param(ev, "cwd") - ev->params));
	if (info->len == sizeof(struct vg_exe_info)) {
		struct vg_exe_info ei;
		memcpy(&ei, info->data, sizeof(ei));
		p->exe_ino = ei.ino;
		p->exe_flags = ei.flags;
	}
	/* the new image's environment; a record without one (older capture) leaves it unknown */
	const struct vg_param_val *env = event_param(ev, "env");
	if (env && env->data)
		proc_set_env(p, env->data, env->len);
	else if (env) {
		free(p->env);
		p->env = NULL;
		p->env_len = 0;
	}
}

static void apply_chdir(struct vg_proc *p, const struct vg_event *ev)
{
	struct vg_buf path = { 0 };

	path_resolve(event_param_base(ev, 0), event_param_str(ev, 0), &path);
	if (path.data)
		proc_set_cwd(p, path.data);
	buf_free(&path);
}

/* ---- user and group names ---- */

/*
 * Look an id up in a passwd or group file (name:x:id:...). Reads at most 1 MiB
 * line by line; writes the name, or "" when absent or unreadable.
 */
static void idfile_lookup(const char *path, uint32_t id, char *name, size_t size)
{
	FILE *f = fopen(path, "re");
	char line[1024];
	size_t total = 0;

	name[0] = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f) && (total += strlen(line)) < (1u << 20)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		char *end;
		unsigned long v = strtoul(c2 + 1, &end, 10);
		if (end == c2 + 1 || *end != ':' || v != id)
			continue;
		*c1 = 0;
		snprintf(name, size, "%s", line);
		break;
	}
	fclose(f);
}

/*
 * Live: make sure the names of the event's user, login user and group are known
 * for its cgroup, reading the passwd/group files the process itself sees (a
 * container's own, through /proc/PID/root). Each lookup becomes a STATE_USER
 * record, written before the event, so replay knows the same names.
 */
static void ensure_idnames(struct vg_state *st, struct vg_cgroup *cg, const struct vg_event_hdr *h)
{
	struct { uint32_t id; bool group; } want[3] = {
		{ h->euid, false }, { h->loginuid, false }, { h->egid, true },
	};
	for (int i = 0; i < 3; i++) {
		if (want[i].id == UINT32_MAX || container_table_idname(cg, want[i].id, want[i].group) ||
		    cg->nids >= VG_IDNAMES_MAX)
			continue;
		char path[PATH_MAX], name[64];
		const char *file = want[i].group ? "group" : "passwd";
		if (cg->meta.id[0])
			snprintf(path, sizeof(path), "%s/%u/root/etc/%s", st->opts.procfs, h->pid, file);
		else
			snprintf(path, sizeof(path), "%s/etc/%s",
				 strcmp(st->opts.host_root, "/") ? st->opts.host_root : "", file);
		idfile_lookup(path, want[i].id, name, sizeof(name));
		struct vg_buf json = { 0 };
		struct vg_json j;
		jw_init(&j, &json);
		jw_obj_begin(&j, NULL);
		jw_str(&j, "kind", want[i].group ? "group" : "user");
		jw_uint(&j, "id", want[i].id);
		jw_str(&j, "name", name);
		jw_obj_end(&j);
		synth(st, VG_EVT_STATE_USER, h->pid, cg->node.key, json.data);
		buf_free(&json);
	}
}

static void ingest_user(struct vg_state *st, const struct vg_event *ev)
{
	struct vg_cgroup *cg = container_table_get(&st->cgroups, ev->hdr.cgroup_id);
	const struct vg_param_val *pv = &ev->params[0];
	json_error_t e;
	json_t *o = cg && pv->data ? json_loadb(pv->data, strnlen(pv->data, pv->len), 0, &e) : NULL;
	const char *kind = json_string_value(json_object_get(o, "kind"));
	const char *name = json_string_value(json_object_get(o, "name"));
	json_t *id = json_object_get(o, "id");
	if (!kind || !name || !json_is_integer(id) || json_integer_value(id) < 0 ||
	    json_integer_value(id) > UINT32_MAX || (strcmp(kind, "user") && strcmp(kind, "group")))
		st->bad_state_records++;
	else
		container_table_set_idname(cg, (uint32_t)json_integer_value(id), !strcmp(kind, "group"), name);
	json_decref(o);
}

static bool is_fork(uint16_t type)
{
	return type == VG_EVT_CLONE || type == VG_EVT_CLONE3 || type == VG_EVT_FORK || type == VG_EVT_VFORK;
}

bool state_ingest(struct vg_state *st, const struct vg_event *ev)
{
	const struct vg_event_hdr *h = &ev->hdr;
	struct vg_proc *p;

	switch (h->type) {
	case VG_EVT_CGROUP:
		ingest_cgroup(st, ev);
		return false;
	case VG_EVT_STATE_CONTAINER:
		ingest_container(st, ev);
		return false;
	case VG_EVT_STATE_PROC:
		ingest_proc(st, ev);
		return false;
	case VG_EVT_STATE_USER:
		ingest_user(st, ev);
		return false;
	case VG_EVT_STATE_AGENT:
		if (!st->opts.live)
			ingest_agent(st, ev);
		return false;
	}

	if (st->opts.live) {
		struct vg_cgroup *cg = container_table_get(&st->cgroups, h->cgroup_id);
		if (!cg) {
			resolve_unknown_cgroup(st, ev);
			cg = container_table_get(&st->cgroups, h->cgroup_id);
		}
		if (cg && cg->meta.id[0] && !cg->meta.metadata_found &&
		    (!cg->last_lookup || boot_ns() > cg->last_lookup + META_RETRY_NS))
			lookup_metadata(st, cg);
		if (cg && h->type != VG_EVT_PROCEXIT && h->type != VG_EVT_SENSOR_FLOOD)
			ensure_idnames(st, cg, h);
	}
	/* the agent's report on a cgroup (agent_floods.c): no process of its own */
	if (h->type == VG_EVT_SENSOR_FLOOD)
		return true;

	p = proc_table_get(&st->procs, h->pid);
	if (!p && st->opts.live && h->type != VG_EVT_PROCEXIT) {
		p = proc_table_load_procfs(&st->procs, st->opts.procfs, h->pid);
		if (p) {
			/* record what /proc said, so that replay starts from the same entry */
			char *json = proc_to_json(p);
			proc_table_remove(&st->procs, h->pid);
			synth(st, VG_EVT_STATE_PROC, h->pid, h->cgroup_id, json);
			free(json);
			p = proc_table_get(&st->procs, h->pid);
		}
	}
	bool child = is_fork(h->type) && h->retval == 0 && h->tid == h->pid;
	if (!p || child) {
		/* a new process: it starts as a copy of its parent */
		struct vg_proc *parent = NULL;
		/* a record naming itself as its parent is bogus; adding would free the "parent" */
		if (h->ppid != h->pid)
			parent = proc_table_get(&st->procs, h->ppid);
		p = proc_table_add(&st->procs, h->pid);
		if (p && parent)
			proc_inherit(p, parent);
		if (p && child) {
			p->start_ns = h->ts;
			p->exec_count = 0;
		}
	}
	if (!p)
		return true; /* table full: the event is still shown, without process details */
	refresh_from_header(p, h);
	if ((h->type == VG_EVT_EXECVE || h->type == VG_EVT_EXECVEAT) && h->retval == 0)
		apply_exec(p, ev);
	else if (h->type == VG_EVT_CHDIR && h->retval == 0)
		apply_chdir(p, ev);
	else if (h->type == VG_EVT_FCHDIR && h->retval == 0)
		proc_set_cwd(p, event_param_str(ev, 1));
	return true;
}

void state_done(struct vg_state *st, const struct vg_event *ev)
{
	if (ev->hdr.type == VG_EVT_PROCEXIT)
		proc_table_remove(&st->procs, ev->hdr.pid);
}

/*
 * An entry is freed only at the second sweep that finds its process or cgroup
 * gone: records of a process that just died can still be queued in the ring
 * buffer, and they must find the same entry live as they will in replay.
 * (Normally procexit frees a process entry long before; the sweep catches
 * exits whose record was lost.)
 */
void state_sweep(struct vg_state *st, uint64_t now_ns)
{
	struct hmap_node *n, *tmp;
	size_t i;

	if (!st->opts.live || now_ns < st->last_sweep + SWEEP_INTERVAL_NS)
		return;
	st->last_sweep = now_ns;
	hmap_for_each(&st->procs.map, n, tmp, i) {
		struct vg_proc *p = hmap_entry(n, struct vg_proc, node);
		if (!(kill(p->pid, 0) != 0 && errno == ESRCH))
			p->gone_since = 0;
		else if (!p->gone_since)
			p->gone_since = now_ns;
		else
			proc_table_remove(&st->procs, p->pid);
	}
	hmap_for_each(&st->cgroups.map, n, tmp, i) {
		struct vg_cgroup *cg = hmap_entry(n, struct vg_cgroup, node);
		if (cgroup_id_of_path(cg->path) == cg->node.key) {
			cg->gone_since = 0;
		} else if (!cg->gone_since) {
			cg->gone_since = now_ns;
		} else {
			if (st->opts.forget_cgroup)
				st->opts.forget_cgroup(st->opts.ctx, cg->node.key);
			container_table_remove(&st->cgroups, cg->node.key);
		}
	}
}

size_t state_seed(struct vg_state *st)
{
	DIR *d = opendir(st->opts.procfs);
	struct dirent *de;
	size_t count = 0;

	if (!d) {
		vg_warn("cannot read %s: %s; processes older than the agent will lack details", st->opts.procfs,
			strerror(errno));
		return 0;
	}
	while ((de = readdir(d))) {
		char path[PATH_MAX];
		uint32_t pid;
		uint64_t cgid = 0;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = strtoul(de->d_name, NULL, 10);
		if (cgroup_path_of_pid(st->opts.procfs, pid, path, sizeof(path))) {
			cgid = cgroup_id_of_path(path);
			if (cgid && !container_table_get(&st->cgroups, cgid))
				synth(st, VG_EVT_CGROUP, pid, cgid, path);
		}
		struct vg_proc *p = proc_table_load_procfs(&st->procs, st->opts.procfs, pid);
		if (!p)
			continue;
		p->cgroup_id = cgid;
		char *json = proc_to_json(p);
		proc_table_remove(&st->procs, pid);
		synth(st, VG_EVT_STATE_PROC, pid, cgid, json);
		free(json);
		count++;
	}
	closedir(d);
	/* the containers already running: their metadata now, not at their next event
	 * (egress policies must be in place before their next connect) */
	struct hmap_node *n, *tmp;
	size_t i;
	hmap_for_each(&st->cgroups.map, n, tmp, i) {
		struct vg_cgroup *cg = hmap_entry(n, struct vg_cgroup, node);
		if (cg->meta.id[0] && !cg->meta.metadata_found)
			lookup_metadata(st, cg);
	}
	return count;
}

/* ---- snapshots for forensic bundles ---- */

static void emit_one(void (*emit)(void *, const void *, size_t), void *ctx, uint16_t type, uint32_t pid,
		     uint64_t cgroup_id, const char *body)
{
	struct vg_buf rec = { 0 };
	if (body && state_record(&rec, type, pid, cgroup_id, body))
		emit(ctx, rec.data, rec.len);
	buf_free(&rec);
}

size_t state_snapshot(const struct vg_state *st, uint64_t cgroup_id,
		      void (*emit)(void *ctx, const void *rec, size_t len), void *ctx)
{
	const struct vg_cgroup *cg = container_table_get(&st->cgroups, cgroup_id);
	size_t n = 0;
	if (!cg)
		return 0;
	emit_one(emit, ctx, VG_EVT_CGROUP, 0, cgroup_id, cg->path);
	char *json = container_meta_to_json(&cg->meta);
	emit_one(emit, ctx, VG_EVT_STATE_CONTAINER, 0, cgroup_id, json);
	free(json);
	for (size_t i = 0; i < cg->nids; i++) {
		struct vg_buf b = { 0 };
		struct vg_json j;
		jw_init(&j, &b);
		jw_obj_begin(&j, NULL);
		jw_str(&j, "kind", cg->ids[i].group ? "group" : "user");
		jw_uint(&j, "id", cg->ids[i].id);
		jw_str(&j, "name", cg->ids[i].name);
		jw_obj_end(&j);
		emit_one(emit, ctx, VG_EVT_STATE_USER, 0, cgroup_id, b.data);
		buf_free(&b);
	}
	/* the container's processes and their ancestors (outside it too: conmon, a shell) */
	struct hmap seen;
	struct hmap_node *it, *tmp;
	size_t k;
	hmap_init(&seen, 64);
	hmap_for_each(&st->procs.map, it, tmp, k) {
		const struct vg_proc *p = hmap_entry(it, struct vg_proc, node);
		if (p->cgroup_id != cgroup_id)
			continue;
		/* ancestors first, so that a replay learns parents before children */
		const struct vg_proc *chain[64];
		size_t depth = 0;
		for (const struct vg_proc *a = p; a && depth < 64; a = proc_table_ancestor(&st->procs, a, 1))
			chain[depth++] = a;
		while (depth--) {
			const struct vg_proc *a = chain[depth];
			if (hmap_get(&seen, a->pid))
				continue;
			struct hmap_node *mark = xcalloc(1, sizeof(*mark));
			mark->key = a->pid;
			hmap_put(&seen, mark);
			char *pj = proc_to_json(a);
			emit_one(emit, ctx, VG_EVT_STATE_PROC, a->pid, a->cgroup_id, pj);
			free(pj);
			n++;
		}
	}
	hmap_for_each(&seen, it, tmp, k)
		free(it);
	hmap_free(&seen);
	return n;
}
