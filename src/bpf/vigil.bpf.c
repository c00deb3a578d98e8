// SPDX-License-Identifier: GPL-2.0
/*
 * Vigil's kernel programs: one record per wanted syscall, written at its exit
 * (so the return value and the resolved objects are known), plus procexit.
 *
 * Cost model: attached to sys_exit, the program runs for every syscall of
 * every task; its first instructions look the syscall number up in
 * vg_syscall_event[] and return when it is not wanted, so an unwanted syscall
 * costs the program's dispatch and that lookup. Attached to the per-syscall
 * tracepoints of the wanted syscalls instead (vg_sys_exit_tp), an unwanted
 * syscall runs nothing; userspace chooses (enum vg_attach in
 * src/sensor/source.h), because only sys_exit sees 32-bit syscalls. The
 * syscall arguments are read back from the saved user registers at exit, so
 * no sys_enter program and no per-task map exist.
 * (A successful execve has replaced those registers: exec parameters are then
 * read from the new image.)
 *
 * A fork is reported twice, as Falco does: by the parent (retval: the child's
 * pid in the parent's pid namespace) and by the child (retval 0; its header
 * carries the child's host pid and parent), which is what the process table
 * follows.
 */
#define __VIGIL_BPF__
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "vigil/event.h"
#include "vigil/kill.h"
#include "vigil/kdrop.h"
#include "maps.h"

char LICENSE[] SEC("license") = "GPL";

#define TS_COMPAT 0x0002 /* arch/x86/include/asm/thread_info.h */

/* What the kernel needs of events.def: how to capture each parameter. */
struct param_spec {
	__u8 kind, arg, aux, pad;
};

struct event_spec {
	__u8 nparams;
	struct param_spec p[VG_MAX_PARAMS];
};

#define P(name, kind, arg, aux, fmt) { kind, arg, aux, 0 }
#define VG_EVENT(id, name, category, flags, ...)                                          \
	[VG_EVT_##id] = { .nparams = sizeof((struct param_spec[]){ { 0 }, ##__VA_ARGS__ }) / \
					     sizeof(struct param_spec) - 1,               \
			  .p = { __VA_ARGS__ } },
/* 128 slots, indexed with a mask: the verifier then needs no other bound */
#define SPEC_SLOTS 128
_Static_assert(VG_EVT_MAX <= SPEC_SLOTS, "event types must fit the spec table");
static const struct event_spec vg_specs[SPEC_SLOTS] = {
#include "vigil/events.def"
};
#undef VG_EVENT
#undef P

/*
 * The kernel helpers, one header each (src/bpf/lib/), what they do and their
 * limits written at their top. Their order here is the order in which the
 * global functions are emitted into the object.
 */
#include "lib/args.bpf.h"
#include "lib/record.bpf.h"
#include "lib/path.bpf.h"
#include "lib/socket.bpf.h"
#include "lib/exe.bpf.h"
#include "lib/submit.bpf.h"
#include "lib/cgroup.bpf.h"
#include "lib/param.bpf.h"
#include "lib/kill.bpf.h"
#include "lib/flow.bpf.h"
#include "lib/uring.bpf.h"
#include "lib/kdrop.bpf.h"

/*
 * The hot path: every syscall of every task runs this far. nr comes from the
 * caller (a direct load in the tp_btf program), the task is a trusted BTF
 * pointer read directly: no helper call before an unwanted syscall returns.
 */
static __always_inline int on_sys_exit(struct pt_regs *regs, __u64 nr, long ret, int direct)
{
	struct task_struct *task = bpf_get_current_task_btf();
	/* TS_COMPAT: set for a 32-bit syscall until the return to user space */
	int ia32 = task->thread_info.status & TS_COMPAT;
	__u16 type;

	if (nr >= VG_SYSCALL_MAX)
		return 0;
	type = ia32 ? vg_syscall_event_ia32[nr] : vg_syscall_event[nr];
	if (!type || type >= VG_EVT_MAX)
		return 0;
	if ((bpf_get_current_pid_tgid() >> 32) == vg_self_tgid)
		return 0;

	struct vg_scratch *s = scratch_get();
	if (!s)
		return 0;
	if (vg_kdrop_on && !kdrop_keep(s, type, ret, regs, ia32, direct))
		return 0; /* no consumer can use it (lib/kdrop.bpf.h) */
	struct sc_args args;
	read_args(&args, regs, ia32);
	announce_cgroup(s);
	fill_header(s, type, ret);
	if (ia32)
		((struct vg_event_hdr *)s->buf)->flags |= VG_HDR_IA32;

	__u32 t = type;
	barrier_var(t);
	const struct event_spec *spec = &vg_specs[t & (SPEC_SLOTS - 1)];
	__u8 n = spec->nparams;
	/* the child of clone3 cannot read clone_args: the parent may already
	 * have reused that memory (a thread shares it); its record has no flags */
	if (t == VG_EVT_CLONE3 && ret == 0)
		n = 0;
	for (int i = 0; i < VG_MAX_PARAMS; i++) {
		if (i >= n)
			break;
		const struct param_spec *p = &spec->p[i];
		put_param(s, &args, ret, p->kind | p->arg << 8 | p->aux << 16);
	}
	if (vg_nkill)
		((struct vg_event_hdr *)s->buf)->flags |= kill_decide(t, ret, (long)syscall_arg(&args, 0));
	submit(s);
	return 0;
}

static __always_inline int on_process_exit(struct task_struct *p)
{
	if (!vg_want_procexit || (bpf_get_current_pid_tgid() >> 32) == vg_self_tgid)
		return 0;
	/* one record per process: when its last thread exits */
	if (BPF_CORE_READ(p, signal, live.counter) != 0)
		return 0;
	struct vg_scratch *s = scratch_get();
	if (!s)
		return 0;
	announce_cgroup(s);
	fill_header(s, VG_EVT_PROCEXIT, BPF_CORE_READ(p, exit_code));
	submit(s);
	return 0;
}

/*
 * BTF-enabled tracepoints are preferred; the raw_tp twins are the fallback
 * userspace enables (and logs) when the kernel refuses tp_btf programs.
 */
SEC("tp_btf/sys_exit")
int BPF_PROG(vg_sys_exit, struct pt_regs *regs, long ret)
{
	return on_sys_exit(regs, regs->orig_ax, ret, 1);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(vg_sched_exit, struct task_struct *p)
{
	return on_process_exit(p);
}

SEC("raw_tp/sys_exit")
int BPF_PROG(vg_sys_exit_raw, struct pt_regs *regs, long ret)
{
	return on_sys_exit(regs, BPF_CORE_READ(regs, orig_ax), ret, 0);
}

/*
 * The per-syscall attachment: the same code, attached by userspace to the
 * classic tracepoint syscalls/sys_exit_NAME of each wanted syscall only, so
 * an unwanted syscall runs no program at all (the kernel tests a bit and
 * returns). The context is the tracepoint's record (format file of
 * syscalls/sys_exit_*: number at offset 8, return value at 16); the syscall's
 * arguments come from the task's saved user registers. These tracepoints
 * never fire for 32-bit (compat) syscalls, so userspace uses this attachment
 * only where the kernel cannot run them (or when told to).
 */
struct syscall_exit_record {
	__u64 common;
	int nr;
	int pad;
	long ret;
};

SEC("tracepoint")
int vg_sys_exit_tp(struct syscall_exit_record *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	return on_sys_exit(regs, (__u32)ctx->nr, ctx->ret, 1);
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(vg_sched_exit_raw, struct task_struct *p)
{
	return on_process_exit(p);
}
