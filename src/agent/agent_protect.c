/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Protecting profiles enforced (docs/profiles.md, "Protecting"): for every
 * running container whose workload's profile is in mode protecting,
 *
 * - the profile's learnt programs become the container's exec allow list in
 *   the fanotify file guard (respond/file_guard.c): any other executable of
 *   its root filesystem gets EPERM; each refusal is a deviation alert that
 *   says it was blocked, with a deny_exec action recorded;
 * - the profile's learnt outbound destinations (IP:PORT, and the addresses
 *   the DNS cache holds for a NAME:PORT), plus the container's resolvers on
 *   port 53, become its egress allow list in cgroup connect/sendmsg programs
 *   (respond/egress.c): anything else gets EPERM.
 *
 * Once a second every container is brought to what its profile's mode says
 * (a mode change, learning ending, new items, new DNS answers); a container
 * whose metadata becomes known is armed at once. The guard and the programs
 * are started when the first container is to be armed; if that fails the
 * agent says so (once) and the profile keeps alerting. All on the agent's loop.
 */
#include <arpa/inet.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "agent/agent_int.h"
#include "common/log.h"
#include "profile/profile.h"
#include "profile/profile_events.h"
#include "profile/profile_protect.h"
#include "respond/action.h"
#include "respond/egress.h"
#include "respond/file_guard.h"
#include "state/dns_cache.h"
#include "state/container_table.h"

#define DENIALS_BATCH 64
#define DNS_ADDRS_MAX 64 /* addresses of one name */
#define RESOLVERS_MAX 8

struct armed {
	struct hmap_node node; /* key: cgroup id */
	char id[65];
	uint64_t exec_hash, net_hash; /* of the lists armed; 0: not armed */
	uint64_t items_hash;          /* of the profile's programs the exec list was made from */
	bool exec_on, net_on;
	bool exec_failed, net_failed; /* said once per container */
};

struct agent_protect {
	struct file_guard *own_guard; /* when the agent runs none (no --deny-drift, no file policy) */
	struct egress *egress;
	bool guard_failed, egress_failed; /* could not be started: said once, not tried again */
	struct hmap armed;
	uint64_t blocked, lost;
};

static uint64_t boot_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

static struct agent_protect *protect_of(struct agent *a)
{
	if (!a->protect) {
		a->protect = xcalloc(1, sizeof(*a->protect));
		hmap_init(&a->protect->armed, 64);
	}
	return a->protect;
}

static struct file_guard *guard_of(struct agent *a)
{
	struct agent_protect *pr = protect_of(a);
	char err[512];
	if (a->guard)
		return a->guard;
	if (!pr->own_guard && !pr->guard_failed) {
		struct file_guard_opts o = { .drift = false, .drift_fail_open = true, .files = NULL };
		if (!(pr->own_guard = file_guard_start(&o, err, sizeof(err)))) {
			pr->guard_failed = true;
			vg_warn("profiles: protecting cannot refuse programs (%s): protecting profiles keep alerting "
				"on new programs, nothing is refused",
				err);
		}
	}
	return pr->own_guard;
}

static struct egress *egress_of(struct agent *a)
{
	struct agent_protect *pr = protect_of(a);
	char err[512];
	if (!pr->egress && !pr->egress_failed) {
		if (!(pr->egress = egress_start_lists(err, sizeof(err)))) {
			pr->egress_failed = true;
			vg_warn("profiles: protecting cannot refuse connections (%s): protecting profiles keep alerting "
				"on new destinations, nothing is refused",
				err);
		}
	}
	return pr->egress;
}

/* ---- the exec allow list ---- */

/*
 * The ELF interpreter (PT_INTERP) of the program at path in the container's
 * root, resolved there, as a path from that root, into out. false: none (a
 * static program, a script) or unreadable. The agent's own opens are never
 * held by the guard.
 */
static bool interp_of(const char *rootfs, const char *path, char *out, size_t outlen)
{
	int root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return false;
	struct open_how how = { .flags = O_RDONLY | O_CLOEXEC,
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV };
	bool ok = false;
	int fd = (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
	Elf64_Ehdr eh;
	if (fd >= 0 && pread(fd, &eh, sizeof(eh), 0) == sizeof(eh) && !memcmp(eh.e_ident, ELFMAG, SELFMAG) &&
	    eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_phentsize == sizeof(Elf64_Phdr) && eh.e_phnum < 256) {
		for (unsigned i = 0; i < eh.e_phnum && !ok; i++) {
			Elf64_Phdr ph;
			char ip[PATH_MAX];
			if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + i * sizeof(ph))) != sizeof(ph))
				break;
			if (ph.p_type != PT_INTERP || ph.p_filesz < 2 || ph.p_filesz >= sizeof(ip))
				continue;
			if (pread(fd, ip, ph.p_filesz, (off_t)ph.p_offset) != (ssize_t)ph.p_filesz)
				break;
			ip[ph.p_filesz - 1] = 0;
			/* resolved inside the root: the file the kernel will open (symlinks followed) */
			struct open_how ph_how = { .flags = O_PATH | O_CLOEXEC,
						   .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV };
			int ifd = (int)syscall(SYS_openat2, root, ip, &ph_how, sizeof(ph_how));
			char link[64], real[PATH_MAX];
			snprintf(link, sizeof(link), "/proc/self/fd/%d", ifd);
			ssize_t n = ifd >= 0 ? readlink(link, real, sizeof(real) - 1) : -1;
			size_t rl = strlen(rootfs);
			if (n > 0) {
				real[n] = 0;
				if (!strncmp(real, rootfs, rl) && real[rl] == '/' && strlen(real + rl) < outlen) {
					snprintf(out, outlen, "%s", real + rl);
					ok = true;
				}
			}
			if (ifd >= 0)
				close(ifd);
		}
	}
	if (fd >= 0)
		close(fd);
	close(root);
	return ok;
}

static void add_str(char ***v, size_t *n, const char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*v)[i], s))
			return;
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = xstrdup(s);
}

/*
 * The allow list of a profile for a container: each learnt program's path
 * (the part of "PATH as NAME <- PARENT" before " as "/" <- "), its ELF
 * interpreter, and for a program run under another name by an interpreter
 * that is not a multi-call binary (a script: "/usr/bin/python3 as job.py") the
 * base name NAME, since the script file itself is executed too.
 */
static size_t exec_list(const struct profile *p, const char *rootfs, char ***out)
{
	size_t n_items, n = 0;
	char **v = NULL;
	const struct profile_item **items = profile_sorted_items(p, &n_items);
	for (size_t i = 0; i < n_items; i++) {
		const struct profile_item *it = items[i];
		if (it->kind != PROF_EXEC || it->deviation)
			continue;
		char prog[PROF_VALUE_MAX], name[PROF_VALUE_MAX];
		if (!profile_exec_program(it->value, prog, sizeof(prog), name, sizeof(name)))
			continue;
		add_str(&v, &n, prog);
		const char *base = strrchr(prog, '/') + 1;
		if (name[0] && !strchr(name, '/') && strcmp(base, "busybox") && strcmp(base, "toybox"))
			add_str(&v, &n, name);
		char ip[PATH_MAX];
		if (!strchr(prog, '*') && interp_of(rootfs, prog, ip, sizeof(ip)))
			add_str(&v, &n, ip);
	}
	free(items);
	*out = v;
	return n;
}

static void strs_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* ---- the egress allow list ---- */

static void add_dest(struct egress_dest **v, size_t *n, int family, const void *addr, uint16_t port)
{
	struct egress_dest d = { .family = family, .port = port };
	memcpy(d.addr, addr, family == 4 ? 4 : 16);
	for (size_t i = 0; i < *n; i++)
		if (!memcmp(&(*v)[i], &d, sizeof(d)))
			return;
	if (*n >= EGRESS_ALLOW_MAX)
		return;
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = d;
}

/*
 * Add host:port: an address as it is; a name as the addresses the DNS cache
 * holds for it now (a second later: new answers), from the answers of the
 * servers `dns` (the container's resolvers) only.
 */
static void add_host(struct agent *a, struct egress_dest **v, size_t *n, const char *host, uint16_t port,
		     const struct dns_cache_addr *dns, size_t ndns)
{
	uint8_t addr[16];
	if (inet_pton(AF_INET, host, addr) == 1) {
		add_dest(v, n, 4, addr, port);
	} else if (inet_pton(AF_INET6, host, addr) == 1) {
		add_dest(v, n, 6, addr, port);
	} else if (a->dns && !strchr(host, '*')) {
		struct dns_cache_addr ad[DNS_ADDRS_MAX];
		size_t k = dns_cache_addrs_of(a->dns, host, dns, ndns, boot_now(), ad, DNS_ADDRS_MAX);
		for (size_t i = 0; i < k; i++)
			add_dest(v, n, ad[i].family == AF_INET ? 4 : 6, ad[i].addr, port);
	}
}

/* The nameservers of a resolv.conf, port 53. */
static void add_resolvers(struct agent *a, struct egress_dest **v, size_t *n, int fd)
{
	char buf[16384], ns[RESOLVERS_MAX][PROFILE_NS_LEN];
	ssize_t len = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
	size_t k = len > 0 ? profile_nameservers(buf, (size_t)len, ns, RESOLVERS_MAX) : 0;
	for (size_t i = 0; i < k; i++)
		add_host(a, v, n, ns[i], 53, NULL, 0);
}

/*
 * The container's resolvers: the nameservers of the resolv.conf the runtime
 * mounts at /etc/resolv.conf (its source on the host, from the OCI bundle), or
 * else of the image's own /etc/resolv.conf (read inside its root).
 */
static void resolvers(struct agent *a, const struct vg_container_meta *m, struct egress_dest **v, size_t *n)
{
	for (size_t i = 0; i < m->nmounts; i++)
		if (m->mounts[i].dest && m->mounts[i].source && !strcmp(m->mounts[i].dest, "/etc/resolv.conf")) {
			int fd = open(m->mounts[i].source, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
			add_resolvers(a, v, n, fd);
			if (fd >= 0)
				close(fd);
			return;
		}
	if (!m->rootfs)
		return;
	int root = open(m->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return;
	struct open_how how = { .flags = O_RDONLY | O_CLOEXEC,
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV };
	int fd = (int)syscall(SYS_openat2, root, "/etc/resolv.conf", &how, sizeof(how));
	add_resolvers(a, v, n, fd);
	if (fd >= 0)
		close(fd);
	close(root);
}

static size_t net_list(struct agent *a, const struct profile *p, const struct vg_container_meta *m,
		       struct egress_dest **out)
{
	size_t n_items, n = 0, nres = 0;
	struct egress_dest *v = NULL, *res = NULL;
	/* DNS keeps working: the container's own resolvers, port 53 (UDP and TCP); the
	 * names are taken from their answers alone */
	resolvers(a, m, &res, &nres);
	struct dns_cache_addr *dns = xcalloc(nres ? nres : 1, sizeof(*dns));
	for (size_t i = 0; i < nres; i++) {
		dns[i].family = res[i].family == 4 ? AF_INET : AF_INET6;
		memcpy(dns[i].addr, res[i].addr, sizeof(dns[i].addr));
	}
	const struct profile_item **items = profile_sorted_items(p, &n_items);
	for (size_t i = 0; i < n_items; i++) {
		const struct profile_item *it = items[i];
		char host[PROF_VALUE_MAX];
		uint16_t port;
		if (it->kind == PROF_CONNECT && !it->deviation && profile_dest_split(it->value, host, sizeof(host), &port))
			add_host(a, &v, &n, host, port, dns, nres);
	}
	free(items);
	free(dns);
	for (size_t i = 0; i < nres; i++)
		add_dest(&v, &n, res[i].family, res[i].addr, res[i].port);
	free(res);
	*out = v;
	return n;
}

/* ---- arming ---- */

static struct armed *armed_get(struct agent_protect *pr, uint64_t cgroup_id, const char *id, bool create)
{
	struct hmap_node *hn = hmap_get(&pr->armed, cgroup_id);
	if (hn || !create)
		return hn ? hmap_entry(hn, struct armed, node) : NULL;
	struct armed *e = xcalloc(1, sizeof(*e));
	e->node.key = cgroup_id;
	snprintf(e->id, sizeof(e->id), "%s", id);
	hmap_put(&pr->armed, &e->node);
	return e;
}

static void disarm(struct agent *a, struct armed *e, const struct vg_container_meta *m)
{
	struct agent_protect *pr = a->protect;
	char err[256];
	struct file_guard *g = a->guard ? a->guard : pr->own_guard;
	if (e->exec_on && g) {
		struct vg_container_meta mm = { 0 };
		snprintf(mm.id, sizeof(mm.id), "%s", e->id);
		file_guard_allow_exec(g, m ? m : &mm, NULL, 0, err, sizeof(err));
	}
	if (e->net_on)
		egress_forget(pr->egress, e->node.key);
	if (e->exec_on || e->net_on)
		vg_info("profiles: container %.12s no longer protected", e->id);
	e->exec_on = e->net_on = false;
	e->exec_hash = e->net_hash = 0;
}

/* Bring one container to what its profile says. */
static void arm(struct agent *a, uint64_t cgroup_id, const struct vg_cgroup *cg)
{
	const struct vg_container_meta *m = &cg->meta;
	if (!m->id[0])
		return;
	struct profile *p = agent_profile_of(a, cgroup_id);
	bool want = p && p->mode == PROF_PROTECTING && m->rootfs;
	struct agent_protect *pr = a->protect;
	if (!want && !pr)
		return;
	pr = protect_of(a);
	struct armed *e = armed_get(pr, cgroup_id, m->id, want);
	if (!want) {
		if (e) {
			disarm(a, e, m);
			hmap_del(&pr->armed, e->node.key);
			free(e);
		}
		return;
	}
	char err[512];
	/* programs: the list made again (interpreters read) only when the profile's programs changed */
	uint64_t ih = fnv(1469598103934665603ull, m->rootfs, strlen(m->rootfs) + 1);
	size_t n_items;
	const struct profile_item **items = profile_sorted_items(p, &n_items);
	for (size_t i = 0; i < n_items; i++)
		if (items[i]->kind == PROF_EXEC && !items[i]->deviation)
			ih = fnv(ih, items[i]->value, strlen(items[i]->value) + 1);
	free(items);
	char **progs = NULL;
	size_t np = 0;
	uint64_t h = e->exec_hash;
	if (ih != e->items_hash || !e->exec_on) {
		np = exec_list(p, m->rootfs, &progs);
		h = 1469598103934665603ull;
		for (size_t i = 0; i < np; i++)
			h = fnv(h, progs[i], strlen(progs[i]) + 1);
	}
	struct file_guard *g = h != e->exec_hash || !e->exec_on ? guard_of(a) : NULL;
	e->items_hash = ih;
	if (g) {
		if (file_guard_allow_exec(g, m, (const char *const *)progs, np, err, sizeof(err))) {
			if (!e->exec_failed)
				vg_warn("profiles: container %.12s: programs not refused (%s): its profile keeps alerting",
					m->id, err);
			e->exec_failed = true;
		} else {
			if (!e->exec_on)
				vg_info("profiles: container %s (%.12s) protected: %zu programs allowed (profile %s)",
					m->name ? m->name : "?", m->id, np, p->key);
			e->exec_on = true;
			e->exec_hash = h;
			e->exec_failed = false;
		}
	}
	strs_free(progs, np);
	/* destinations */
	struct egress_dest *dests;
	size_t nd = net_list(a, p, m, &dests);
	h = 1469598103934665603ull;
	h = fnv(h, dests, nd * sizeof(*dests));
	struct egress *eg = h != e->net_hash ? egress_of(a) : NULL;
	if (eg) {
		if (egress_allow_only(eg, cgroup_id, dests, nd, err, sizeof(err))) {
			if (!e->net_failed)
				vg_warn("profiles: container %.12s: connections not refused (%s): its profile keeps alerting",
					m->id, err);
			e->net_failed = true;
			e->net_on = false;
			e->net_hash = 0;
		} else {
			if (!e->net_on)
				vg_info("profiles: container %s (%.12s) protected: %zu destinations allowed (profile %s)",
					m->name ? m->name : "?", m->id, nd, p->key);
			e->net_on = true;
			e->net_hash = h;
			e->net_failed = false;
		}
	}
	free(dests);
}

void agent_protect_container(struct agent *a, uint64_t cgroup_id)
{
	if (!a->profiles || !a->state || a->cfg.mode == AGENT_REPLAY)
		return;
	const struct vg_cgroup *cg = state_cgroup(a->state, cgroup_id);
	if (cg)
		arm(a, cgroup_id, cg);
}

void agent_protect_sync(struct agent *a)
{
	if (!a->profiles || !a->state || a->cfg.mode == AGENT_REPLAY)
		return;
	struct hmap_node *n, *tmp;
	size_t i;
	hmap_for_each(&a->state->cgroups.map, n, tmp, i) {
		const struct vg_cgroup *cg = hmap_entry(n, struct vg_cgroup, node);
		if (cg->meta.id[0] && !cg->gone_since)
			arm(a, cg->node.key, cg);
	}
}

void agent_protect_forget(struct agent *a, uint64_t cgroup_id)
{
	struct agent_protect *pr = a->protect;
	struct armed *e = pr ? armed_get(pr, cgroup_id, "", false) : NULL;
	if (!e)
		return;
	disarm(a, e, NULL);
	hmap_del(&pr->armed, e->node.key);
	free(e);
}

/* The parent pid of a process, from /proc (the state may not know a fresh fork yet); 0 unknown. */
static uint32_t ppid_of(uint32_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	const char *rp = strrchr(buf, ')'); /* after the comm, which may hold anything */
	unsigned ppid = 0;
	if (!rp || sscanf(rp + 1, " %*c %u", &ppid) != 1)
		return 0;
	return ppid;
}

static void program_text(const struct vg_proc *p, char *out, size_t outlen)
{
	char argv0[256] = "";
	if (p->args && p->args_len)
		snprintf(argv0, sizeof(argv0), "%.*s", (int)strnlen(p->args, p->args_len), p->args);
	profile_program(p->exe, p->comm, argv0, out, outlen);
}

/*
 * The program the refused process would have run, as a profile item: "PATH <-
 * PARENT", PARENT as for a program that ran (profile_observations): the
 * program of the process's parent when it is in the same container.
 */
static void blocked_item(struct agent *a, const struct file_guard_denial *d, uint64_t cgroup_id, char *out,
			 size_t outlen)
{
	const struct vg_proc *p = state_proc(a->state, d->pid);
	uint32_t ppid = p ? p->ppid : ppid_of(d->pid);
	const struct vg_proc *pp = ppid ? state_proc(a->state, ppid) : NULL;
	char parent[PROF_VALUE_MAX / 2] = "<outside>";
	if (pp && pp->cgroup_id == cgroup_id)
		program_text(pp, parent, sizeof(parent));
	snprintf(out, outlen, "%s <- %s", d->path, parent);
}

/* A userspace execve record of the refused execution (result -EPERM), for the alert's event. */
static bool blocked_event(struct agent *a, const struct file_guard_denial *d, uint64_t cgroup_id,
			  struct vg_buf *rec, struct vg_event *ev)
{
	struct vg_event_hdr h = { 0 };
	uint16_t plen = (uint16_t)(strlen(d->path) + 1);
	const struct vg_proc *p = state_proc(a->state, d->pid);
	h.ts = d->ts;
	h.type = VG_EVT_EXECVE;
	h.pid = h.tid = d->pid;
	h.ppid = p ? p->ppid : 0;
	h.cgroup_id = cgroup_id;
	h.retval = -EPERM;
	h.nparams = 1;
	h.len = (uint32_t)(sizeof(h) + sizeof(plen) + plen);
	h.loginuid = UINT32_MAX;
	if (p)
		snprintf(h.comm, sizeof(h.comm), "%s", p->comm);
	buf_add(rec, &h, sizeof(h));
	buf_add(rec, &plen, sizeof(plen));
	buf_add(rec, d->path, plen);
	char err[160];
	if (event_decode(rec->data, rec->len, ev, err, sizeof(err))) {
		vg_warn("internal: refused execution record rejected: %s", err);
		return false;
	}
	return true;
}

void agent_protect_poll(struct agent *a)
{
	struct agent_protect *pr = a->protect;
	struct file_guard *g = pr ? (a->guard ? a->guard : pr->own_guard) : NULL;
	if (!g || !pr->armed.count)
		return;
	struct file_guard_denial d[DENIALS_BATCH];
	uint64_t lost = 0;
	size_t n = file_guard_take_denials(g, d, DENIALS_BATCH, &lost);
	if (lost && !pr->lost)
		vg_warn("profiles: more refused executions than reported: the rest are counted");
	pr->lost += lost;
	for (size_t i = 0; i < n; i++) {
		/* the container's cgroup: the armed one of that id */
		struct hmap_node *hn, *tmp;
		size_t k;
		uint64_t cgroup_id = 0;
		hmap_for_each(&pr->armed, hn, tmp, k) {
			struct armed *e = hmap_entry(hn, struct armed, node);
			if (!strcmp(e->id, d[i].id))
				cgroup_id = e->node.key;
		}
		struct profile *p = cgroup_id ? agent_profile_of(a, cgroup_id) : NULL;
		if (!p)
			continue;
		pr->blocked++;
		char value[PROF_VALUE_MAX];
		blocked_item(a, &d[i], cgroup_id, value, sizeof(value));
		struct vg_buf rec = { 0 };
		struct vg_event ev;
		if (blocked_event(a, &d[i], cgroup_id, &rec, &ev)) {
			char target[96];
			snprintf(target, sizeof(target), "pid %u", d[i].pid);
			const struct vg_cgroup *cg = state_cgroup(a->state, cgroup_id);
			struct action_result res = { .action = ACTION_DENY_EXEC, .outcome = OUTCOME_DONE,
						     .target = target, .detail = d[i].path, .path = "kernel",
						     .cgroup = cg ? cg->path : "",
						     .latency_ns = 0 };
			a->done_before = &res;
			agent_profile_blocked(a, p, &ev, value);
			a->done_before = NULL; /* when the alert was not raised (rate) */
		}
		buf_free(&rec);
	}
}

void agent_protect_stop(struct agent *a)
{
	struct agent_protect *pr = a->protect;
	if (!pr)
		return;
	struct hmap_node *n, *tmp;
	size_t i;
	hmap_for_each(&pr->armed, n, tmp, i) {
		struct armed *e = hmap_entry(n, struct armed, node);
		disarm(a, e, NULL);
		free(e);
	}
	hmap_free(&pr->armed);
	vg_info("profiles: protecting refused %llu executions (%llu not reported), %llu connections",
		(unsigned long long)pr->blocked, (unsigned long long)pr->lost,
		(unsigned long long)egress_denied(pr->egress));
	file_guard_stop(pr->own_guard);
	egress_stop(pr->egress);
	free(pr);
	a->protect = NULL;
}
