/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
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
	free(st);
}

/*
 * Build a synthesised record (one parameter: a string or JSON body), hand it
 * to emit, and ingest it. `body` is NUL-terminated; the NUL is kept.
 */
static void synth(struct vg_state *st, uint16_t type, uint32_t pid, uint64_t cgroup_id, const char *body)
{
	size_t blen = strlen(body) + 1;
	struct vg_event_hdr h = { 0 };
	struct vg_buf rec = { 0 };
	struct vg_event ev;
	char err[160];
	uint16_t plen;

	if (blen > UINT16_MAX) {
		vg_warn("state record for pid %u too large (%zu bytes), not kept", pid, blen);
		return;
	}
	plen = blen;
	h.ts = boot_ns();
	h.type = type;
	h.pid = h.tid = pid;
	h.cgroup_id = cgroup_id;
	h.nparams = 1;
	h.len = sizeof(h) + sizeof(plen) + blen;
	h.loginuid = UINT32_MAX;
	buf_add(&rec, &h, sizeof(h));
	buf_add(&rec, &plen, sizeof(plen));
	buf_add(&rec, body, blen);
	if (st->opts.emit)
		st->opts.emit(st->opts.ctx, rec.data, rec.len);
	if (event_decode(rec.data, rec.len, &ev, err, sizeof(err)) == 0)
		state_ingest(st, &ev);
	else
		vg_warn("internal: synthesised record rejected: %s", err);
	buf_free(&rec);
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
	if (json)
		synth(st, VG_EVT_STATE_CONTAINER, 0, cg->node.key, json);
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
	}

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
		if (p && child)
			p->start_ns = h->ts;
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
	return count;
}
