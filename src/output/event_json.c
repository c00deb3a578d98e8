/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include "common/path.h"
#include "output/event_json.h"
#include "sensor/param_text.h"
#include "state/dns_parse.h"
#include "vigil/flow.h"

static void put_time(struct vg_json *j, uint64_t ts, uint64_t boot_to_realtime)
{
	uint64_t wall = ts + boot_to_realtime;
	time_t sec = wall / 1000000000ULL;
	struct tm tm;
	char buf[64];

	gmtime_r(&sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), ".%09lluZ",
		 (unsigned long long)(wall % 1000000000ULL));
	jw_str(j, "time", buf);
	jw_uint(j, "ts", ts);
}

static void put_args_array(struct vg_json *j, const char *key, const char *args, size_t len)
{
	size_t i = 0;

	jw_arr_begin(j, key);
	while (i < len) {
		size_t n = strnlen(args + i, len - i);
		jw_strn(j, NULL, args + i, n);
		i += n + 1;
	}
	jw_arr_end(j);
}

/* argv joined by spaces, as Falco's proc.cmdline shows it */
static void put_process(struct vg_json *j, const struct vg_event *ev, const struct vg_proc *p)
{
	const struct vg_event_hdr *h = &ev->hdr;
	char hex[32];

	jw_obj_begin(j, "process");
	jw_uint(j, "pid", h->pid);
	jw_uint(j, "tid", h->tid);
	jw_uint(j, "vpid", h->vpid);
	jw_uint(j, "vtid", h->vtid);
	jw_strn(j, "name", h->comm, strnlen(h->comm, sizeof(h->comm)));
	if (p) {
		jw_str(j, "exe", p->exe);
		jw_args_line(j, "cmdline", p->args, p->args_len);
		put_args_array(j, "args", p->args ? p->args : "", p->args_len);
		jw_str(j, "cwd", p->cwd);
		jw_uint(j, "exe_ino", p->exe_ino);
		jw_bool(j, "exe_upper_layer", p->exe_flags & VG_EXE_UPPER_LAYER);
		jw_bool(j, "exe_memfd", p->exe_flags & VG_EXE_MEMFD);
	}
	jw_uint(j, "sid", h->sid);
	jw_uint(j, "tty", h->tty);
	snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)h->cap_eff);
	jw_str(j, "cap_effective", hex);
	snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)h->cap_prm);
	jw_str(j, "cap_permitted", hex);
	jw_obj_end(j);
}

static void put_parent(struct vg_json *j, const struct vg_event *ev, const struct vg_state *st)
{
	const struct vg_proc *pp = state_proc(st, ev->hdr.ppid);

	jw_obj_begin(j, "parent");
	jw_uint(j, "pid", ev->hdr.ppid);
	if (pp) {
		jw_strn(j, "name", pp->comm, strnlen(pp->comm, sizeof(pp->comm)));
		jw_str(j, "exe", pp->exe);
		jw_args_line(j, "cmdline", pp->args, pp->args_len);
	}
	jw_obj_end(j);
}

static void put_user(struct vg_json *j, const struct vg_event_hdr *h)
{
	jw_obj_begin(j, "user");
	jw_uint(j, "uid", h->uid);
	jw_uint(j, "gid", h->gid);
	jw_uint(j, "euid", h->euid);
	jw_uint(j, "egid", h->egid);
	jw_int(j, "loginuid", h->loginuid == UINT32_MAX ? -1 : (int64_t)h->loginuid);
	jw_obj_end(j);
}

static void put_container(struct vg_json *j, const struct vg_cgroup *cg)
{
	const struct vg_container_meta *m = cg ? &cg->meta : NULL;

	jw_obj_begin(j, "container");
	if (!m || !m->id[0]) {
		jw_str(j, "id", "");
		jw_obj_end(j);
		jw_null(j, "k8s");
		return;
	}
	jw_strn(j, "id", m->id, strnlen(m->id, 12));
	jw_str(j, "full_id", m->id);
	jw_str(j, "runtime", container_meta_runtime_name(m->runtime));
	jw_str(j, "name", m->name);
	jw_str(j, "image", m->image);
	jw_str(j, "image_id", m->image_id);
	if (m->privileged < 0)
		jw_null(j, "privileged");
	else
		jw_bool(j, "privileged", m->privileged);
	jw_bool(j, "metadata", m->metadata_found);
	jw_obj_end(j);
	if (!m->k8s_pod_name && !m->k8s_namespace) {
		jw_null(j, "k8s");
		return;
	}
	jw_obj_begin(j, "k8s");
	jw_str(j, "pod", m->k8s_pod_name);
	jw_str(j, "namespace", m->k8s_namespace);
	jw_str(j, "pod_uid", m->k8s_pod_uid);
	jw_str(j, "container", m->k8s_container_name);
	jw_obj_end(j);
}

static void put_flags(struct vg_json *j, const char *key, uint64_t v, const struct flag_name *names,
		      const char *base)
{
	struct vg_buf b = { 0 };
	param_flags_text(&b, v, names, base);
	jw_str(j, key, b.data);
	buf_free(&b);
}

static void put_ip(struct vg_json *j, const char *key, int family, const void *addr)
{
	char s[INET6_ADDRSTRLEN];
	if (!inet_ntop(family, addr, s, sizeof(s)))
		s[0] = 0;
	jw_str(j, key, s);
}

static void put_sockaddr(struct vg_json *j, const char *key, const struct vg_param_val *pv)
{
	struct sockaddr_storage ss = { 0 };
	size_t n = pv->len < sizeof(ss) ? pv->len : sizeof(ss);

	if (n < sizeof(sa_family_t)) {
		jw_null(j, key);
		return;
	}
	memcpy(&ss, pv->data, n);
	jw_obj_begin(j, key);
	if (ss.ss_family == AF_INET && n >= sizeof(struct sockaddr_in)) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		jw_str(j, "family", "ipv4");
		put_ip(j, "ip", AF_INET, &in->sin_addr);
		jw_uint(j, "port", ntohs(in->sin_port));
	} else if (ss.ss_family == AF_INET6 && n >= sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		jw_str(j, "family", "ipv6");
		put_ip(j, "ip", AF_INET6, &in6->sin6_addr);
		jw_uint(j, "port", ntohs(in6->sin6_port));
	} else if (ss.ss_family == AF_UNIX) {
		const char *path = pv->data + offsetof(struct sockaddr_un, sun_path);
		size_t plen = n - offsetof(struct sockaddr_un, sun_path);
		jw_str(j, "family", "unix");
		if (plen > 0 && path[0] == 0) {
			/* abstract socket: shown as "@name", as ss and Falco do */
			struct vg_buf b = { 0 };
			buf_addc(&b, '@');
			buf_add(&b, path + 1, strnlen(path + 1, plen - 1));
			jw_strn(j, "path", b.data, b.len);
			buf_free(&b);
		} else {
			jw_strn(j, "path", path, strnlen(path, plen));
		}
	} else {
		jw_uint(j, "family", ss.ss_family);
	}
	jw_obj_end(j);
}

static void put_tuple(struct vg_json *j, const char *key, const struct vg_param_val *pv)
{
	struct vg_tuple t;

	if (pv->len != sizeof(t)) {
		jw_null(j, key);
		return;
	}
	memcpy(&t, pv->data, sizeof(t));
	if (t.family != AF_INET && t.family != AF_INET6) {
		if (t.family == AF_UNIX) {
			jw_obj_begin(j, key);
			jw_str(j, "family", "unix");
			jw_obj_end(j);
		} else {
			jw_null(j, key);
		}
		return;
	}
	jw_obj_begin(j, key);
	jw_str(j, "family", t.family == AF_INET ? "ipv4" : "ipv6");
	put_ip(j, "local_ip", t.family, t.saddr);
	jw_uint(j, "local_port", t.sport);
	put_ip(j, "remote_ip", t.family, t.daddr);
	jw_uint(j, "remote_port", t.dport);
	jw_obj_end(j);
}

/*
 * A flow_dns payload, parsed (state/dns_parse.h): the query and the A, AAAA
 * and CNAME answers; a message that does not parse gives its error instead.
 */
static void put_dns(struct vg_json *j, const char *key, const struct vg_param_val *pv, bool tcp)
{
	static const char *const types[] = { [DNS_TYPE_A] = "A", [DNS_TYPE_CNAME] = "CNAME", [DNS_TYPE_AAAA] = "AAAA" };
	struct dns_msg *m = xmalloc(sizeof(*m)); /* ~33 KiB: not on the stack */
	char err[128];
	const uint8_t *msg = (const uint8_t *)pv->data;
	size_t len = pv->len;

	jw_obj_begin(j, key);
	if (tcp) {
		/* over TCP: the first message, after its two-byte length (cut to what was kept) */
		size_t mlen = len >= 2 ? (size_t)msg[0] << 8 | msg[1] : 0;
		msg += len >= 2 ? 2 : len;
		len = len >= 2 ? len - 2 : 0;
		if (mlen < len)
			len = mlen;
		jw_bool(j, "tcp", true);
	}
	if (dns_parse(msg, len, m, err, sizeof(err)) < 0) {
		jw_str(j, "error", err);
		jw_obj_end(j);
		free(m);
		return;
	}
	jw_uint(j, "id", m->id);
	jw_uint(j, "rcode", m->rcode);
	if (m->has_question) {
		jw_str(j, "query", m->qname);
		jw_uint(j, "qtype", m->qtype);
	} else {
		jw_null(j, "query");
	}
	jw_arr_begin(j, "answers");
	for (size_t i = 0; i < m->nanswers; i++) {
		const struct dns_rr *rr = &m->answers[i];
		jw_obj_begin(j, NULL);
		jw_str(j, "name", rr->name);
		jw_str(j, "type", rr->type < sizeof(types) / sizeof(types[0]) && types[rr->type] ? types[rr->type] : "?");
		jw_uint(j, "ttl", rr->ttl);
		if (rr->type == DNS_TYPE_CNAME)
			jw_str(j, "cname", rr->u.cname);
		else
			put_ip(j, "address", rr->type == DNS_TYPE_AAAA ? AF_INET6 : AF_INET, rr->u.addr);
		jw_obj_end(j);
	}
	jw_arr_end(j);
	if (m->truncated)
		jw_bool(j, "truncated", true);
	jw_obj_end(j);
	free(m);
}

static void put_param(struct vg_json *j, const struct vg_event *ev, unsigned int i)
{
	const struct vg_param_val *pv = &ev->params[i];
	const char *key = pv->info->name;
	int64_t v = event_param_int(ev, i);

	if (!pv->data && pv->info->kind != VG_CK_PATH && pv->info->kind != VG_CK_EXE) {
		jw_null(j, key);
		return;
	}
	if (ev->hdr.type == VG_EVT_FLOW_DNS && pv->info->kind == VG_CK_BLOB) {
		struct vg_tuple t = { 0 };
		if (ev->nparams > 0 && ev->params[0].data && ev->params[0].len == sizeof(t))
			memcpy(&t, ev->params[0].data, sizeof(t));
		put_dns(j, key, pv, t.pad == VG_FLOW_DNS_TCP);
		return;
	}
	switch (pv->info->format) {
	case VG_PF_DEC:
	case VG_PF_FD:
		jw_int(j, key, (int32_t)v); /* int arguments: the upper half of the register is undefined */
		break;
	case VG_PF_DEC64:
		jw_int(j, key, v);
		break;
	case VG_PF_UDEC:
		jw_uint(j, key, (uint64_t)v);
		break;
	case VG_PF_HEX: {
		char s[32];
		snprintf(s, sizeof(s), "0x%llx", (unsigned long long)v);
		jw_str(j, key, s);
		break;
	}
	case VG_PF_OCT: {
		char s[32];
		snprintf(s, sizeof(s), "0%o", (unsigned int)v & 07777);
		jw_str(j, key, s);
		break;
	}
	case VG_PF_OPEN_FLAGS: {
		uint32_t f = (uint32_t)v;
		static const char *acc[] = { "O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE" };
		put_flags(j, key, f & ~O_ACCMODE, param_open_flags, acc[f & O_ACCMODE]);
		break;
	}
	case VG_PF_CLONE_FLAGS:
		/* the low byte of clone flags is the exit signal */
		put_flags(j, key, (uint64_t)v & ~0xffULL, param_clone_flags, NULL);
		break;
	case VG_PF_SIGNAL: {
		int sig = (int32_t)v;
		const char *name = sig > 0 && sig < NSIG ? sigabbrev_np(sig) : NULL;
		if (name) {
			char s[32];
			snprintf(s, sizeof(s), "SIG%s", name);
			jw_str(j, key, s);
		} else {
			jw_int(j, key, sig);
		}
		break;
	}
	case VG_PF_STR:
		jw_str(j, key, event_param_str(ev, i));
		break;
	case VG_PF_PATH: {
		struct vg_buf b = { 0 };
		const char *raw = event_param_str(ev, i);
		path_resolve(event_param_base(ev, i), raw, &b);
		jw_strn(j, key, b.data ? b.data : "", b.len);
		if (raw[0] && raw[0] != '/') {
			char rk[64];
			snprintf(rk, sizeof(rk), "%s_raw", key);
			jw_str(j, rk, raw);
		}
		buf_free(&b);
		break;
	}
	case VG_PF_ARGV:
		put_args_array(j, key, pv->data ? pv->data : "", pv->len);
		break;
	case VG_PF_SOCKADDR:
		put_sockaddr(j, key, pv);
		break;
	case VG_PF_TUPLE:
		put_tuple(j, key, pv);
		break;
	case VG_PF_EXE_INFO: {
		struct vg_exe_info ei;
		if (pv->len != sizeof(ei)) {
			jw_null(j, key);
			break;
		}
		memcpy(&ei, pv->data, sizeof(ei));
		jw_obj_begin(j, key);
		jw_uint(j, "ino", ei.ino);
		jw_uint(j, "dev", ei.dev);
		jw_bool(j, "upper_layer", ei.flags & VG_EXE_UPPER_LAYER);
		jw_bool(j, "memfd", ei.flags & VG_EXE_MEMFD);
		jw_bool(j, "deleted", ei.flags & VG_EXE_DELETED);
		jw_obj_end(j);
		break;
	}
	default:
		jw_null(j, key);
	}
}

static void put_args(struct vg_json *j, const struct vg_event *ev, const char *key)
{
	jw_obj_begin(j, key);
	for (unsigned int i = 0; i < ev->info->nparams; i++) {
		/* the environment holds credentials: rules may test it (proc.env), event
		 * output does not print it */
		if (ev->info->params[i].kind == VG_CK_ENV)
			continue;
		put_param(j, ev, i);
	}
	jw_obj_end(j);
}

static void put_result(struct vg_json *j, const struct vg_event *ev)
{
	int64_t r = ev->hdr.retval;

	if (ev->hdr.type == VG_EVT_PROCEXIT) {
		/* a wait status: exit code or terminating signal */
		int status = (int)r;
		jw_int(j, "result", r);
		if ((status & 0x7f) == 0) {
			jw_int(j, "exit_code", (status >> 8) & 0xff);
		} else {
			const char *name = sigabbrev_np(status & 0x7f);
			char s[32];
			snprintf(s, sizeof(s), "SIG%s", name ? name : "?");
			jw_str(j, "exit_signal", s);
			jw_bool(j, "core_dumped", status & 0x80);
		}
		return;
	}
	jw_int(j, "result", r);
	if (r < 0 && r > -4096) {
		const char *name = strerrorname_np((int)-r);
		if (name)
			jw_str(j, "errno", name);
	}
}

void event_json(struct vg_buf *out, const struct vg_event *ev, const struct vg_state *st, uint64_t boot_to_realtime)
{
	const struct vg_event_hdr *h = &ev->hdr;
	const struct vg_proc *p = state_proc(st, h->pid);
	const struct vg_cgroup *cg = state_cgroup(st, h->cgroup_id);
	struct vg_json j;

	jw_init(&j, out);
	jw_obj_begin(&j, NULL);
	jw_str(&j, "type", ev->info->name);
	jw_str(&j, "category", event_table_category_name(ev->info->category));
	put_time(&j, h->ts, boot_to_realtime);
	jw_uint(&j, "cpu", h->cpu);
	if (h->flags & VG_HDR_IA32)
		jw_bool(&j, "ia32", true); /* made through the 32-bit syscall ABI */
	if (h->flags & VG_HDR_IO_URING)
		jw_bool(&j, "io_uring", true); /* an io_uring operation, not the syscall */
	if (h->flags & VG_HDR_NO_RESULT)
		jw_bool(&j, "no_result", true); /* IOSQE_CQE_SKIP_SUCCESS: written at submission */
	put_result(&j, ev);
	put_process(&j, ev, p);
	put_parent(&j, ev, st);
	put_user(&j, h);
	put_container(&j, cg);
	jw_obj_begin(&j, "namespaces");
	jw_uint(&j, "pid", h->pidns);
	jw_uint(&j, "mnt", h->mntns);
	jw_uint(&j, "net", h->netns);
	jw_obj_end(&j);
	jw_obj_begin(&j, "cgroup");
	jw_uint(&j, "id", h->cgroup_id);
	jw_str(&j, "path", cg ? cg->path : NULL);
	jw_obj_end(&j);
	put_args(&j, ev, "args");
	jw_obj_end(&j);
}

void event_json_args(struct vg_buf *out, const struct vg_event *ev)
{
	struct vg_json j;

	jw_init(&j, out);
	put_args(&j, ev, NULL);
}
