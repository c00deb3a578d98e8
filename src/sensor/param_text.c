/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "common/path.h"
#include "sensor/param_text.h"

const struct flag_name param_open_flags[] = {
	{ O_CREAT, "O_CREAT" },       { O_EXCL, "O_EXCL" },         { O_NOCTTY, "O_NOCTTY" },
	{ O_TRUNC, "O_TRUNC" },       { O_APPEND, "O_APPEND" },     { O_NONBLOCK, "O_NONBLOCK" },
	{ O_DSYNC, "O_DSYNC" },       { O_DIRECT, "O_DIRECT" },     { 0100000, "O_LARGEFILE" } /* glibc defines O_LARGEFILE as 0 on x86-64 */,
	{ O_DIRECTORY, "O_DIRECTORY" }, { O_NOFOLLOW, "O_NOFOLLOW" }, { O_NOATIME, "O_NOATIME" },
	{ O_CLOEXEC, "O_CLOEXEC" },   { 04000000, "O_SYNC" },       { O_PATH, "O_PATH" },
	{ 020000000, "O_TMPFILE" }, { 0, NULL },
}, param_clone_flags[] = {
	{ 0x00000100, "CLONE_VM" },        { 0x00000200, "CLONE_FS" },      { 0x00000400, "CLONE_FILES" },
	{ 0x00000800, "CLONE_SIGHAND" },   { 0x00001000, "CLONE_PIDFD" },   { 0x00002000, "CLONE_PTRACE" },
	{ 0x00004000, "CLONE_VFORK" },     { 0x00008000, "CLONE_PARENT" },  { 0x00010000, "CLONE_THREAD" },
	{ 0x00020000, "CLONE_NEWNS" },     { 0x00040000, "CLONE_SYSVSEM" }, { 0x00080000, "CLONE_SETTLS" },
	{ 0x00100000, "CLONE_PARENT_SETTID" }, { 0x00200000, "CLONE_CHILD_CLEARTID" },
	{ 0x00800000, "CLONE_UNTRACED" },  { 0x01000000, "CLONE_CHILD_SETTID" },
	{ 0x02000000, "CLONE_NEWCGROUP" }, { 0x04000000, "CLONE_NEWUTS" },  { 0x08000000, "CLONE_NEWIPC" },
	{ 0x10000000, "CLONE_NEWUSER" },   { 0x20000000, "CLONE_NEWPID" },  { 0x40000000, "CLONE_NEWNET" },
	{ 0x80000000ULL, "CLONE_IO" },     { 0x00000080, "CLONE_NEWTIME" }, { 0, NULL },
};

static const struct flag_name mode_flags[] = {
	{ 04000, "S_ISUID" }, { 02000, "S_ISGID" }, { 01000, "S_ISVTX" },
	{ 0400, "S_IRUSR" },  { 0200, "S_IWUSR" },  { 0100, "S_IXUSR" },
	{ 040, "S_IRGRP" },   { 020, "S_IWGRP" },   { 010, "S_IXGRP" },
	{ 04, "S_IROTH" },    { 02, "S_IWOTH" },    { 01, "S_IXOTH" }, { 0, NULL },
};

static const char *const ptrace_requests[] = {
	[0] = "PTRACE_TRACEME", [1] = "PTRACE_PEEKTEXT", [2] = "PTRACE_PEEKDATA",
	[3] = "PTRACE_PEEKUSR", [4] = "PTRACE_POKETEXT", [5] = "PTRACE_POKEDATA",
	[6] = "PTRACE_POKEUSR", [7] = "PTRACE_CONT", [8] = "PTRACE_KILL",
	[9] = "PTRACE_SINGLESTEP", [12] = "PTRACE_GETREGS", [13] = "PTRACE_SETREGS",
	[14] = "PTRACE_GETFPREGS", [15] = "PTRACE_SETFPREGS", [16] = "PTRACE_ATTACH",
	[17] = "PTRACE_DETACH", [24] = "PTRACE_SYSCALL",
};

static const char *const bpf_cmds[] = {
	"BPF_MAP_CREATE", "BPF_MAP_LOOKUP_ELEM", "BPF_MAP_UPDATE_ELEM", "BPF_MAP_DELETE_ELEM",
	"BPF_MAP_GET_NEXT_KEY", "BPF_PROG_LOAD", "BPF_OBJ_PIN", "BPF_OBJ_GET",
	"BPF_PROG_ATTACH", "BPF_PROG_DETACH", "BPF_PROG_TEST_RUN", "BPF_PROG_GET_NEXT_ID",
	"BPF_MAP_GET_NEXT_ID", "BPF_PROG_GET_FD_BY_ID", "BPF_MAP_GET_FD_BY_ID",
	"BPF_OBJ_GET_INFO_BY_FD", "BPF_PROG_QUERY", "BPF_RAW_TRACEPOINT_OPEN", "BPF_BTF_LOAD",
	"BPF_BTF_GET_FD_BY_ID", "BPF_TASK_FD_QUERY", "BPF_MAP_LOOKUP_AND_DELETE_ELEM",
	"BPF_MAP_FREEZE", "BPF_BTF_GET_NEXT_ID", "BPF_MAP_LOOKUP_BATCH",
	"BPF_MAP_LOOKUP_AND_DELETE_BATCH", "BPF_MAP_UPDATE_BATCH", "BPF_MAP_DELETE_BATCH",
	"BPF_LINK_CREATE", "BPF_LINK_UPDATE", "BPF_LINK_GET_FD_BY_ID", "BPF_LINK_GET_NEXT_ID",
	"BPF_ENABLE_STATS", "BPF_ITER_CREATE", "BPF_LINK_DETACH", "BPF_PROG_BIND_MAP",
};

static const char *const af_names[] = {
	[AF_UNSPEC] = "AF_UNSPEC", [AF_UNIX] = "AF_UNIX", [AF_INET] = "AF_INET",
	[AF_INET6] = "AF_INET6", [AF_NETLINK] = "AF_NETLINK", [AF_PACKET] = "AF_PACKET",
};

void param_flags_text(struct vg_buf *b, uint64_t v, const struct flag_name *names, const char *base)
{
	size_t start = b->len;
	if (base)
		buf_adds(b, base);
	for (; names->name; names++) {
		if ((v & names->bit) == names->bit) {
			if (b->len > start)
				buf_addc(b, '|');
			buf_adds(b, names->name);
			v &= ~names->bit;
		}
	}
	if (v) {
		if (b->len > start)
			buf_addc(b, '|');
		buf_printf(b, "0x%llx", (unsigned long long)v);
	}
	if (b->len == start)
		buf_addc(b, '0');
}

void param_text_exe_flags(struct vg_buf *b, uint32_t f)
{
	static const struct flag_name exe_flags[] = {
		{ VG_EXE_UPPER_LAYER, "EXE_UPPER_LAYER" }, { VG_EXE_MEMFD, "EXE_FROM_MEMFD" },
		{ VG_EXE_DELETED, "EXE_DELETED" }, { 0, NULL },
	};
	/* Falco also says EXE_LOWER_LAYER for an image file; we know it when not upper or memfd */
	if (!(f & (VG_EXE_UPPER_LAYER | VG_EXE_MEMFD))) {
		buf_adds(b, "EXE_LOWER_LAYER");
		if (f)
			buf_addc(b, '|');
		else
			return;
	}
	param_flags_text(b, f, exe_flags, NULL);
}

static void named(struct vg_buf *b, int64_t v, const char *const *names, size_t n)
{
	if (v >= 0 && (uint64_t)v < n && names[v])
		buf_adds(b, names[v]);
	else
		buf_printf(b, "%lld", (long long)v);
}

static void sockaddr_text(struct vg_buf *b, const struct vg_param_val *pv)
{
	struct sockaddr_storage ss = { 0 };
	size_t n = pv->len < sizeof(ss) ? pv->len : sizeof(ss);
	char ip[INET6_ADDRSTRLEN] = "";
	if (!pv->data || n < sizeof(sa_family_t))
		return;
	memcpy(&ss, pv->data, n);
	if (ss.ss_family == AF_INET && n >= sizeof(struct sockaddr_in)) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		buf_printf(b, "%s:%u", ip, ntohs(in->sin_port));
	} else if (ss.ss_family == AF_INET6 && n >= sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		buf_printf(b, "%s:%u", ip, ntohs(in6->sin6_port));
	} else if (ss.ss_family == AF_UNIX) {
		const char *p = pv->data + offsetof(struct sockaddr_un, sun_path);
		size_t pl = n > offsetof(struct sockaddr_un, sun_path) ? n - offsetof(struct sockaddr_un, sun_path) : 0;
		if (pl && p[0] == 0) {
			buf_addc(b, '@');
			buf_add(b, p + 1, strnlen(p + 1, pl - 1));
		} else {
			buf_add(b, p, strnlen(p, pl));
		}
	}
}

static void tuple_text(struct vg_buf *b, const struct vg_param_val *pv)
{
	struct vg_tuple t;
	char l[INET6_ADDRSTRLEN] = "", r[INET6_ADDRSTRLEN] = "";
	if (pv->len != sizeof(t))
		return;
	memcpy(&t, pv->data, sizeof(t));
	if (t.family != AF_INET && t.family != AF_INET6)
		return;
	inet_ntop(t.family, t.saddr, l, sizeof(l));
	inet_ntop(t.family, t.daddr, r, sizeof(r));
	buf_printf(b, "%s:%u->%s:%u", l, t.sport, r, t.dport);
}

void param_text(struct vg_buf *b, const struct vg_event *ev, unsigned int i)
{
	const struct vg_param_val *pv = &ev->params[i];
	const char *name = pv->info->name;
	int64_t v = event_param_int(ev, i);
	unsigned int t = ev->hdr.type;

	switch (pv->info->format) {
	case VG_PF_DEC:
		if (t == VG_EVT_PTRACE && !strcmp(name, "request"))
			named(b, (int32_t)v, ptrace_requests, sizeof(ptrace_requests) / sizeof(ptrace_requests[0]));
		else if (t == VG_EVT_BPF && !strcmp(name, "cmd"))
			named(b, (int32_t)v, bpf_cmds, sizeof(bpf_cmds) / sizeof(bpf_cmds[0]));
		else if (t == VG_EVT_SOCKET && !strcmp(name, "domain"))
			named(b, (int32_t)v, af_names, sizeof(af_names) / sizeof(af_names[0]));
		else
			buf_printf(b, "%d", (int32_t)v);
		break;
	case VG_PF_FD:
		buf_printf(b, "%d", (int32_t)v);
		break;
	case VG_PF_DEC64:
		buf_printf(b, "%lld", (long long)v);
		break;
	case VG_PF_UDEC:
		buf_printf(b, "%llu", (unsigned long long)v);
		break;
	case VG_PF_HEX:
		buf_printf(b, "0x%llx", (unsigned long long)v);
		break;
	case VG_PF_OCT:
		param_flags_text(b, (uint64_t)v & 07777, mode_flags, NULL);
		break;
	case VG_PF_OPEN_FLAGS: {
		static const char *acc[] = { "O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE" };
		uint32_t f = (uint32_t)v;
		param_flags_text(b, f & ~O_ACCMODE, param_open_flags, acc[f & O_ACCMODE]);
		break;
	}
	case VG_PF_CLONE_FLAGS:
		param_flags_text(b, (uint64_t)v & ~0xffULL, param_clone_flags, NULL);
		break;
	case VG_PF_SIGNAL: {
		int sig = (int32_t)v;
		const char *s = sig > 0 && sig < NSIG ? sigabbrev_np(sig) : NULL;
		if (s)
			buf_printf(b, "SIG%s", s);
		else
			buf_printf(b, "%d", sig);
		break;
	}
	case VG_PF_STR:
		buf_adds(b, event_param_str(ev, i));
		break;
	case VG_PF_PATH:
		path_resolve(event_param_base(ev, i), event_param_str(ev, i), b);
		break;
	case VG_PF_ARGV:
		for (size_t k = 0; pv->data && k < pv->len; k++)
			buf_addc(b, pv->data[k] ? pv->data[k] : ' ');
		while (b->len && b->data[b->len - 1] == ' ')
			b->data[--b->len] = 0;
		break;
	case VG_PF_SOCKADDR:
		sockaddr_text(b, pv);
		break;
	case VG_PF_TUPLE:
		tuple_text(b, pv);
		break;
	default:
		break;
	}
}
