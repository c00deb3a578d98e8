/* SPDX-License-Identifier: GPL-2.0 */
/**
 * DOC: the kill matcher
 *
 * The kill matcher: the terms userspace compiled from rules (vigil/kill.h,
 * maps vg_kill_terms and vg_kill_names) tested against the syscall that is
 * returning, and SIGKILL on a match. Limits: VG_KILL_TERMS terms of
 * VG_KILL_VALS values per set; at most VG_KILL_PER_SEC kills a second on the
 * node; never pid 1 or a kernel thread.
 */
#ifndef VIGIL_BPF_LIB_KILL_H
#define VIGIL_BPF_LIB_KILL_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "vigil/event.h"
#include "vigil/kill.h"
#include "maps.h"
#include "exe.bpf.h"
#include "record.bpf.h"
#include "socket.bpf.h"
#include "submit.bpf.h"

#define PF_KTHREAD 0x00200000 /* include/linux/sched.h */
#define SIGKILL 9

static __always_inline int in_s64(const __s64 *set, __u8 n, __s64 v)
{
	for (int i = 0; i < VG_KILL_VALS; i++)
		if (i < n && set[i] == v)
			return 1;
	return 0;
}

static __always_inline int in_u32(const __u32 *set, __u8 n, __u32 v)
{
	for (int i = 0; i < VG_KILL_VALS; i++)
		if (i < n && set[i] == v)
			return 1;
	return 0;
}

/* At most VG_KILL_PER_SEC kernel kills a second, node-wide. Plain loads and
 * stores (an atomic fetch-and-add needs a newer BPF ISA): CPUs racing may let
 * a few more through, which is harmless for a safety valve. */
static __always_inline int kill_allowed(void)
{
	__u64 sec = bpf_ktime_get_boot_ns() / 1000000000ull;

	if (vg_kill_second != sec) {
		vg_kill_second = sec;
		vg_kill_count = 0;
	}
	if (vg_kill_count >= VG_KILL_PER_SEC)
		return 0;
	vg_kill_count++;
	return 1;
}

/**
 * kill_term_matches() - whether kill term i matches the returning syscall
 * @i: the term's index in vg_kill_terms
 * @type: the event type of the syscall
 * @ret: its return value
 * @fd0: its first argument (the fd of a dup)
 * @side: the cgroup's enum vg_kill_where, 0 when userspace has not
 *        classified it yet
 *
 * A global function (verified once, on its own): tested inline in the loop
 * of kill_decide(), 32 terms made the verifier's state count explode.
 *
 * Return: 1 on a match, else 0.
 */
__noinline int kill_term_matches(__u32 i, __u32 type, long ret, long fd0, __u32 side)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 k = i;
	struct vg_kill_term *t = bpf_map_lookup_elem(&vg_kill_terms, &k);

	if (!t || type >= 128)
		return 0;
	/* a branch, not an index: the verifier keeps no bound on a computed index */
	__u64 word = type & 64 ? t->types[1] : t->types[0];
	if (!((word >> (type & 63)) & 1))
		return 0;
	if (t->where && side != t->where)
		return 0;
	if (ret < t->res_lo || ret > t->res_hi)
		return 0;
	if ((t->n_res_in && !in_s64(t->res_in, t->n_res_in, ret)) || in_s64(t->res_out, t->n_res_out, ret))
		return 0;
	__u32 euid = task->cred->euid.val;
	if ((t->n_uid_in && !in_u32(t->uid_in, t->n_uid_in, euid)) || in_u32(t->uid_out, t->n_uid_out, euid))
		return 0;
	if (t->names) {
		struct vg_kill_name key = { .term = i };
		bpf_get_current_comm(key.comm, sizeof(key.comm)); /* NUL-padded, as userspace wrote them */
		key.set = VG_KILL_NAMES_IN;
		if ((t->names & VG_KILL_NAMES_IN) && !bpf_map_lookup_elem(&vg_kill_names, &key))
			return 0;
		key.set = VG_KILL_NAMES_OUT;
		if ((t->names & VG_KILL_NAMES_OUT) && bpf_map_lookup_elem(&vg_kill_names, &key))
			return 0;
	}
	if (t->families && !(t->families & fd_family_bit(fd0)))
		return 0;
	if (t->exe_set | t->exe_clear) {
		struct file *f = BPF_CORE_READ(task, mm, exe_file);
		int exe = f ? exe_flags(f) : 0;
		if ((exe & t->exe_set) != t->exe_set || (exe & t->exe_clear))
			return 0;
	}
	return 1;
}

/**
 * kill_decide() - SIGKILL the current process if a kill term matches
 * @type: the event type of the returning syscall
 * @ret: its return value
 * @fd0: its first argument (the fd dup'ed)
 *
 * Test the kill terms against the syscall that is returning; on a match send
 * SIGKILL to the process, which then dies on its way back to user space.
 * Never the agent (its syscalls do not get here), pid 1 of the host or a
 * kernel thread.
 *
 * Return: the header flags to add (VG_HDR_KILLED and the term), or 0.
 */
__noinline int kill_decide(__u32 type, long ret, long fd0)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 n = vg_nkill;

	if (!n || (bpf_get_current_pid_tgid() >> 32) == 1 || (task->flags & PF_KTHREAD))
		return 0;
	__u64 cgid = bpf_get_current_cgroup_id();
	__u8 *sidep = bpf_map_lookup_elem(&vg_cgroup_side, &cgid);
	__u32 side = sidep ? *sidep : 0;

	for (__u32 i = 0; i < VG_KILL_TERMS; i++) {
		if (i >= n)
			break;
		if (!kill_term_matches(i, type, ret, fd0, side))
			continue;
		struct vg_kernel_stats *st = stats();
		if (!kill_allowed()) {
			if (st)
				st->kill_limited++;
			return 0;
		}
		if (bpf_send_signal(SIGKILL) != 0)
			return 0;
		if (st)
			st->killed++;
		return VG_HDR_KILLED | (i << 8);
	}
	return 0;
}

#endif
