/* SPDX-License-Identifier: GPL-2.0 */
/**
 * DOC: record header and submission
 *
 * The record's header (who, where, when: struct vg_event_hdr) and its copy
 * into the ring buffer, the one place records leave the kernel. Limits: a
 * record is at most VG_RECORD_MAX bytes; a full ring buffer loses it
 * (counted in vg_kernel_stats.lost_full and as its cgroup's, lib/fair.bpf.h),
 * and a cgroup over its share while the ring is under pressure is shed; the reader is woken only once
 * vg_wakeup_bytes are queued.
 */
#ifndef VIGIL_BPF_LIB_SUBMIT_H
#define VIGIL_BPF_LIB_SUBMIT_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "vigil/event.h"
#include "maps.h"
#include "fair.bpf.h"

/* This CPU's counters (vg_stats_map), or NULL. */
static __always_inline struct vg_kernel_stats *stats(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&vg_stats_map, &zero);
}

/**
 * fill_header() - start a record: write its header, no parameters yet
 * @s: the scratch buffer (NULL: nothing is done)
 * @type: the event type
 * @retval: the syscall's return value (the exit code for PROCEXIT)
 *
 * Fields are read with direct loads through the task's BTF pointers (the
 * verifier turns them into fault-safe loads): a helper call per field cost
 * about 0.7 us per record. Only the pid-namespace arrays, indexed by a
 * runtime level, still need probe reads.
 *
 * Return: 0.
 */
__noinline int fill_header(struct vg_scratch *s, __u32 type, long retval)
{
	if (!s)
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	struct vg_event_hdr *h = (struct vg_event_hdr *)s->buf;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	const struct cred *cred = task->cred;
	struct pid *tpid = task->thread_pid;
	struct pid *gpid = task->group_leader->thread_pid;
	unsigned int level = tpid->level;
	struct tty_struct *tty = task->signal->tty;
	struct upid up = {};

	h->ts = bpf_ktime_get_boot_ns();
	h->cgroup_id = bpf_get_current_cgroup_id();
	/* kernel_cap_t is a u64 (6.3+) or two u32s: the same 8 bytes either way */
	BPF_CORE_READ_INTO(&h->cap_eff, cred, cap_effective);
	BPF_CORE_READ_INTO(&h->cap_prm, cred, cap_permitted);
	h->retval = retval;
	h->type = type;
	h->tid = (__u32)pid_tgid;
	h->pid = pid_tgid >> 32;
	h->ppid = task->real_parent->tgid;
	bpf_probe_read_kernel(&up, sizeof(up), &tpid->numbers[level]);
	h->vtid = up.nr;
	h->pidns = BPF_CORE_READ(up.ns, ns.inum);
	h->vpid = BPF_CORE_READ(gpid, numbers[level].nr);
	h->sid = task->signal->pids[PIDTYPE_SID]->numbers[0].nr;
	h->uid = cred->uid.val;
	h->gid = cred->gid.val;
	h->euid = cred->euid.val;
	h->egid = cred->egid.val;
	h->loginuid = task->loginuid.val;
	h->tty = 0;
	if (tty) {
		__u32 major = tty->driver->major;
		__u32 minor = tty->driver->minor_start + tty->index;
		h->tty = major << 20 | minor;
	}
	h->mntns = task->nsproxy->mnt_ns->ns.inum;
	h->netns = task->nsproxy->net_ns->ns.inum;
	h->cpu = bpf_get_smp_processor_id();
	h->flags = 0;
	__builtin_memcpy(h->comm, task->comm, sizeof(h->comm));
	s->off = sizeof(*h);
	s->nparams = 0;
	return 0;
}

/* Copy the assembled record to the ring buffer, waking the reader only in batches. */
static __always_inline void submit(struct vg_scratch *s)
{
	struct vg_event_hdr *h = (struct vg_event_hdr *)s->buf;
	struct vg_kernel_stats *st = stats();
	__u32 len = s->off;
	__u64 flags = BPF_RB_NO_WAKEUP;

	if (len > VG_RECORD_MAX)
		len = VG_RECORD_MAX;
	h->len = len;
	h->nparams = s->nparams;
	__u64 queued = bpf_ringbuf_query(&vg_events, BPF_RB_AVAIL_DATA);
	/* floods: over its share while the ring is under pressure (lib/fair.bpf.h) */
	if (!fair_admit(h->cgroup_id, h->type, len, queued)) {
		if (st)
			st->shed++;
		return;
	}
	if (queued >= vg_wakeup_bytes)
		flags = BPF_RB_FORCE_WAKEUP;
	if (bpf_ringbuf_output(&vg_events, s->buf, len, flags) == 0) {
		if (st)
			st->emitted++;
	} else {
		if (st)
			st->lost_full++;
		fair_lost(h->cgroup_id);
	}
}

#endif
