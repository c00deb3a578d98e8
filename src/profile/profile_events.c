/* SPDX-License-Identifier: Apache-2.0 */
/* Events into profile observations, and workloads into keys (profile_events.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include "common/buf.h"
#include "common/path.h"
#include "profile/profile_events.h"

const struct profile_need profile_needs[] = {
	{ VG_EVT_EXECVE, "evt.res = 0 (successful exec)" },
	{ VG_EVT_EXECVEAT, "evt.res = 0 (successful exec)" },
	{ VG_EVT_OPEN, "fd >= 0 and (flags has O_WRONLY, O_RDWR, O_CREAT or O_TRUNC, or the path is sensitive)" },
	{ VG_EVT_OPENAT, "fd >= 0 and (flags has O_WRONLY, O_RDWR, O_CREAT or O_TRUNC, or the path is sensitive)" },
	{ VG_EVT_OPENAT2, "fd >= 0 and (flags has O_WRONLY, O_RDWR, O_CREAT or O_TRUNC, or the path is sensitive)" },
	{ VG_EVT_CREAT, "fd >= 0" },
	{ VG_EVT_BIND, "evt.res = 0 and an AF_INET/AF_INET6 address with a port other than 0" },
	{ VG_EVT_CONNECT, "without flows: evt.res = 0 or -EINPROGRESS, an AF_INET/AF_INET6 address; with them, "
			  "-EPERM (a protecting profile's refusal)" },
	{ VG_EVT_FLOW_TCP, "with flows: phase open, outbound" },
	{ VG_EVT_FLOW_UDP, "with flows: phase open, outbound" },
	{ VG_EVT_FLOW_DNS, "with flows: DNS answers name the peers" },
	{ VG_EVT_SETUID, "evt.res = 0" },
	{ VG_EVT_SETGID, "evt.res = 0" },
	{ VG_EVT_SETREUID, "evt.res = 0" },
	{ VG_EVT_SETREGID, "evt.res = 0" },
	{ VG_EVT_SETRESUID, "evt.res = 0" },
	{ VG_EVT_SETRESGID, "evt.res = 0" },
	{ VG_EVT_CAPSET, "evt.res = 0" },
	{ VG_EVT_MOUNT, "any result" },
	{ VG_EVT_UMOUNT2, "any result" },
	{ VG_EVT_PTRACE, "any result" },
	{ VG_EVT_INIT_MODULE, "any result" },
	{ VG_EVT_FINIT_MODULE, "any result" },
	{ VG_EVT_DELETE_MODULE, "any result" },
	{ VG_EVT_BPF, "any result" },
	{ VG_EVT_UNSHARE, "any result" },
	{ VG_EVT_SETNS, "any result" },
	{ VG_EVT_CHROOT, "any result" },
	{ VG_EVT_PIVOT_ROOT, "any result" },
	{ VG_EVT_USERFAULTFD, "any result" },
	{ VG_EVT_PROCESS_VM_READV, "any result" },
	{ VG_EVT_PROCESS_VM_WRITEV, "any result" },
	/* the state's own: the process table names programs and parents */
	{ VG_EVT_CLONE, "all (process table)" },
	{ VG_EVT_CLONE3, "all (process table)" },
	{ VG_EVT_FORK, "all (process table)" },
	{ VG_EVT_VFORK, "all (process table)" },
	{ VG_EVT_PROCEXIT, "all (process table)" },
};
const size_t profile_nneeds = sizeof(profile_needs) / sizeof(profile_needs[0]);

void profile_want(uint8_t want[VG_EVT_MAX], bool flows)
{
	for (size_t i = 0; i < profile_nneeds; i++) {
		enum vg_event_type t = profile_needs[i].type;
		bool flow = t == VG_EVT_FLOW_TCP || t == VG_EVT_FLOW_UDP || t == VG_EVT_FLOW_DNS;
		if (flow && !flows)
			continue;
		/* connect also with flows: a connect a protecting profile refused makes no flow,
		 * and only its record can say so (profile_connect_refused) */
		want[t] = 1;
	}
}

/* ---- keys ---- */

static bool safe_chars(const char *s, size_t n)
{
	/* the alphabet of Kubernetes' generated name suffixes (k8s.io/apimachinery rand) */
	for (size_t i = 0; i < n; i++)
		if (!strchr("bcdfghjklmnpqrstvwxz2456789", s[i]))
			return false;
	return true;
}

void profile_pod_owner(const char *pod, char *out, size_t outlen)
{
	size_t n = strlen(pod);
	const char *last = strrchr(pod, '-');
	if (last && last != pod) {
		size_t tail = n - (size_t)(last - pod) - 1, i;
		for (i = 0; i < tail && last[1 + i] >= '0' && last[1 + i] <= '9'; i++)
			;
		if (tail && i == tail) { /* NAME-0: a StatefulSet's ordinal */
			snprintf(out, outlen, "StatefulSet/%.*s", (int)(last - pod), pod);
			return;
		}
		if (tail == 5 && safe_chars(last + 1, 5)) {
			const char *prev = last - 1;
			while (prev > pod && *prev != '-')
				prev--;
			size_t h = (size_t)(last - prev) - 1;
			if (*prev == '-' && h >= 5 && h <= 10 && safe_chars(prev + 1, h)) {
				snprintf(out, outlen, "Deployment/%.*s", (int)(prev - pod), pod);
				return;
			}
			/* a DaemonSet's or a Job's pod: the two name their pods alike */
			snprintf(out, outlen, "Workload/%.*s", (int)(last - pod), pod);
			return;
		}
	}
	snprintf(out, outlen, "Pod/%s", pod);
}

bool profile_ident_of(const struct vg_container_meta *m, struct profile_ident *o)
{
	memset(o, 0, sizeof(*o));
	if (!m || !m->id[0])
		return false;
	if (m->image_id && m->image_id[0])
		snprintf(o->digest, sizeof(o->digest), "sha256:%.64s", m->image_id);
	snprintf(o->image, sizeof(o->image), "%s", m->image ? m->image : "");
	if (!o->digest[0] && !o->image[0])
		return false;
	const char *what = o->digest[0] ? o->digest : o->image;
	/* the repository without its tag or digest: what a new release keeps */
	char repo[256];
	snprintf(repo, sizeof(repo), "%s", o->image[0] ? o->image : o->digest);
	char *at = strchr(repo, '@'), *slash = strrchr(repo, '/'), *colon = strrchr(repo, ':');
	if (at)
		*at = 0;
	else if (colon && (!slash || colon > slash))
		*colon = 0;
	if (m->k8s_namespace && m->k8s_pod_name) {
		profile_pod_owner(m->k8s_pod_name, o->owner, sizeof(o->owner));
		snprintf(o->ns, sizeof(o->ns), "%s", m->k8s_namespace);
		const char *c = m->k8s_container_name ? m->k8s_container_name : "";
		if (snprintf(o->key, sizeof(o->key), "k8s:%s/%s/%s@%s", o->ns, o->owner, c, what) >= (int)sizeof(o->key) ||
		    snprintf(o->lineage, sizeof(o->lineage), "k8s:%s/%s/%s", o->ns, o->owner, c) >= (int)sizeof(o->lineage))
			return false; /* a name too long for a key: not profiled */
	} else {
		if (snprintf(o->key, sizeof(o->key), "%s%s", o->digest[0] ? "" : "image:", what) >= (int)sizeof(o->key) ||
		    snprintf(o->lineage, sizeof(o->lineage), "repo:%s", repo) >= (int)sizeof(o->lineage))
			return false;
	}
	return true;
}

/* ---- observations ---- */

void profile_program(const char *exe, const char *comm, const char *argv0, char *out, size_t outlen)
{
	const char *base = strrchr(exe, '/');
	base = base ? base + 1 : exe;
	/* the name the program was run as: argv[0]'s basename (a multi-call binary run
	 * through /proc/self/exe has comm "exe" but argv[0] "wget"), else comm */
	const char *name = argv0 && argv0[0] ? argv0 : comm;
	const char *slash = strrchr(name, '/');
	if (slash && slash[1])
		name = slash + 1;
	size_t nl = strlen(name);
	bool same = !strcmp(base, name) || !strcmp(base, comm) ||
		    (strlen(comm) >= VG_COMM_LEN - 1 && !strncmp(base, comm, strlen(comm)));
	if (!name[0] || same)
		snprintf(out, outlen, "%s", exe);
	else
		snprintf(out, outlen, "%s as %.*s", exe, (int)(nl > 64 ? 64 : nl), name);
}

static void sockaddr_text(const struct vg_param_val *pv, char *out, size_t outlen, unsigned *port)
{
	struct sockaddr_storage ss = { 0 };
	size_t n = pv->len < sizeof(ss) ? pv->len : sizeof(ss);
	char ip[INET6_ADDRSTRLEN] = "";
	out[0] = 0;
	*port = 0;
	if (!pv->data || n < sizeof(sa_family_t))
		return;
	memcpy(&ss, pv->data, n);
	if (ss.ss_family == AF_INET && n >= sizeof(struct sockaddr_in)) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		*port = ntohs(in->sin_port);
		snprintf(out, outlen, "%s:%u", ip, *port);
	} else if (ss.ss_family == AF_INET6 && n >= sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		*port = ntohs(in6->sin6_port);
		snprintf(out, outlen, "[%s]:%u", ip, *port);
	}
}

static const struct vg_param_val *param(const struct vg_event *ev, unsigned i)
{
	return i < ev->nparams ? &ev->params[i] : NULL;
}

/* The absolute path of a PATH parameter. */
static void abs_path(const struct vg_event *ev, unsigned i, char *out, size_t outlen)
{
	const char *raw = event_param_str(ev, i);
	if (raw[0] == '/' && !strstr(raw, "/.") && !strstr(raw, "//")) {
		snprintf(out, outlen, "%s", raw);
		return;
	}
	struct vg_buf b = { 0 };
	path_resolve(event_param_base(ev, i), raw, &b);
	snprintf(out, outlen, "%s", b.data ? b.data : "");
	buf_free(&b);
}

static size_t obs_open(const struct vg_event *ev, unsigned pi, int fi, struct profile_obs *out)
{
	if (ev->hdr.retval < 0 || pi >= ev->nparams)
		return 0;
	uint64_t flags = fi >= 0 ? (uint64_t)event_param_int(ev, (unsigned)fi) : O_WRONLY | O_CREAT | O_TRUNC;
	bool write = (flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC)) != 0;
	abs_path(ev, pi, out->value, sizeof(out->value));
	if (!out->value[0])
		return 0;
	if (write) {
		out->kind = PROF_WRITE;
		return 1;
	}
	if (profile_sensitive_path(out->value)) {
		out->kind = PROF_READ;
		return 1;
	}
	return 0;
}

static void program_of(const struct vg_proc *p, char *out, size_t outlen)
{
	/* args is argv NUL-separated: its first string is argv[0] */
	char argv0[256] = "";
	if (p->args && p->args_len)
		snprintf(argv0, sizeof(argv0), "%.*s", (int)strnlen(p->args, p->args_len), p->args);
	profile_program(p->exe, p->comm, argv0, out, outlen);
}

size_t profile_observations(const struct vg_event *ev, const struct vg_state *st, bool use_connect,
			    struct profile_obs *out, size_t max)
{
	unsigned t = ev->hdr.type;
	int64_t res = ev->hdr.retval;
	if (!max)
		return 0;
	switch (t) {
	case VG_EVT_EXECVE:
	case VG_EVT_EXECVEAT: {
		if (res != 0)
			return 0;
		const struct vg_proc *p = state_proc(st, ev->hdr.pid);
		char prog[PROF_VALUE_MAX / 2], parent[PROF_VALUE_MAX / 2 - 8];
		if (p)
			program_of(p, prog, sizeof(prog));
		else
			profile_program(event_param_str(ev, 0), ev->hdr.comm, event_param_str(ev, 1), prog, sizeof(prog));
		/* the parent inside the same container; a process started from outside it
		 * (the runtime: entrypoint, exec sessions, health checks) has "<outside>" */
		const struct vg_proc *pp = p ? state_proc(st, p->ppid) : NULL;
		if (pp && pp->cgroup_id == ev->hdr.cgroup_id)
			program_of(pp, parent, sizeof(parent));
		else
			snprintf(parent, sizeof(parent), "<outside>");
		out->kind = PROF_EXEC;
		snprintf(out->value, sizeof(out->value), "%s <- %s", prog, parent);
		return 1;
	}
	case VG_EVT_OPEN:
		return obs_open(ev, 0, 1, out);
	case VG_EVT_OPENAT:
	case VG_EVT_OPENAT2:
		return obs_open(ev, 1, 2, out);
	case VG_EVT_CREAT:
		return obs_open(ev, 0, -1, out);
	case VG_EVT_BIND: {
		const struct vg_param_val *pv = param(ev, 1);
		unsigned port;
		char addr[96];
		if (res != 0 || !pv)
			return 0;
		sockaddr_text(pv, addr, sizeof(addr), &port);
		if (!addr[0] || !port)
			return 0;
		out->kind = PROF_LISTEN;
		snprintf(out->value, sizeof(out->value), "%u", port);
		return 1;
	}
	case VG_EVT_CONNECT: {
		const struct vg_param_val *pv = param(ev, 1);
		unsigned port;
		if (!use_connect || (res != 0 && res != -115) || !pv)
			return 0;
		sockaddr_text(pv, out->value, sizeof(out->value), &port);
		if (!out->value[0] || !port)
			return 0;
		out->kind = PROF_CONNECT;
		return 1;
	}
	case VG_EVT_SETUID:
	case VG_EVT_SETGID:
	case VG_EVT_SETREUID:
	case VG_EVT_SETREGID:
	case VG_EVT_SETRESUID:
	case VG_EVT_SETRESGID: {
		if (res != 0)
			return 0;
		size_t n = (size_t)snprintf(out->value, sizeof(out->value), "%s", ev->info->name);
		for (unsigned i = 0; i < ev->nparams && i < 3 && n < 200; i++)
			n += (size_t)snprintf(out->value + n, sizeof(out->value) - n, " %d",
					      (int)event_param_int(ev, i));
		out->kind = PROF_PRIV;
		return 1;
	}
	case VG_EVT_CAPSET:
		if (res != 0)
			return 0;
		out->kind = PROF_PRIV;
		snprintf(out->value, sizeof(out->value), "capset");
		return 1;
	case VG_EVT_MOUNT:
	case VG_EVT_UMOUNT2:
	case VG_EVT_PTRACE:
	case VG_EVT_INIT_MODULE:
	case VG_EVT_FINIT_MODULE:
	case VG_EVT_DELETE_MODULE:
	case VG_EVT_BPF:
	case VG_EVT_UNSHARE:
	case VG_EVT_SETNS:
	case VG_EVT_CHROOT:
	case VG_EVT_PIVOT_ROOT:
	case VG_EVT_USERFAULTFD:
	case VG_EVT_PROCESS_VM_READV:
	case VG_EVT_PROCESS_VM_WRITEV:
		out->kind = PROF_SYSCALL;
		snprintf(out->value, sizeof(out->value), "%s", ev->info->name);
		return 1;
	default:
		return 0;
	}
}

bool profile_flow_observation(const struct vg_flow *f, struct profile_obs *out)
{
	char ip[INET6_ADDRSTRLEN] = "";
	if (f->phase != VG_FLOW_OPEN || f->dir != VG_FLOW_OUTBOUND || !f->remote.port)
		return false;
	if (f->remote.family != AF_INET && f->remote.family != AF_INET6)
		return false;
	inet_ntop(f->remote.family, f->remote.addr, ip, sizeof(ip));
	const char *proto = f->proto == VG_FLOW_TCP ? "tcp" : "udp";
	out->kind = PROF_CONNECT;
	if (f->remote_name[0])
		snprintf(out->value, sizeof(out->value), "%s/%s:%u", proto, f->remote_name, f->remote.port);
	else if (f->remote.family == AF_INET6)
		snprintf(out->value, sizeof(out->value), "%s/[%s]:%u", proto, ip, f->remote.port);
	else
		snprintf(out->value, sizeof(out->value), "%s/%s:%u", proto, ip, f->remote.port);
	return true;
}

bool profile_connect_refused(const struct vg_event *ev, char *value, size_t len)
{
	unsigned port;
	if (ev->hdr.type != VG_EVT_CONNECT || ev->hdr.retval != -EPERM || ev->nparams < 2)
		return false;
	sockaddr_text(&ev->params[1], value, len, &port);
	return value[0] && port;
}
