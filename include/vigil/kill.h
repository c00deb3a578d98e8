/* SPDX-License-Identifier: Apache-2.0 */
/*
 * In-kernel kill: rule conditions the kernel can decide on its own, shared by
 * the sys_exit program (src/bpf/vigil.bpf.c) and userspace
 * (src/engine/kfilter.c compiles them, src/sensor/source_bpf.c loads them).
 *
 * A rule with the `kill` action whose condition only tests what the kernel
 * program has in hand at the syscall's exit is turned into terms: the rule
 * matches an event exactly when one of its terms does. The program tests the
 * terms after it assembled the record; on a match it sends SIGKILL to the
 * process (bpf_send_signal) before the syscall returns, so the process never
 * runs another instruction of its own, and marks the record VG_HDR_KILLED
 * with the term's index so that userspace reports the kill.
 */
#ifndef VIGIL_KILL_H
#define VIGIL_KILL_H

#ifndef __VIGIL_BPF__
#include <linux/types.h>
#endif

#define VG_KILL_TERMS 32 /* terms the kernel holds (every kill rule together) */
#define VG_KILL_VALS 4   /* values of one set of results or uids */
#define VG_KILL_NAMES 4096 /* process names of every term together */
#define VG_KILL_PER_SEC 50 /* kernel kills a second at most (a runaway rule cannot kill a node) */

enum vg_kill_where {
	VG_KILL_ANYWHERE = 0,
	VG_KILL_CONTAINER = 1, /* cgroup known to userspace as a container's */
	VG_KILL_HOST = 2,      /* cgroup known to userspace as the host's */
};

/* socket families of the duplicated fd (dup, dup2, dup3) */
#define VG_KILL_FAM_INET 0x1
#define VG_KILL_FAM_INET6 0x2
#define VG_KILL_FAM_UNIX 0x4

/* which process-name sets of vg_kill_names a term uses */
#define VG_KILL_NAMES_IN 0x1  /* the name must be in the term's set */
#define VG_KILL_NAMES_OUT 0x2 /* the name must not be in the term's other set */

/*
 * One conjunction. Every constraint holds for a match; an empty set (count 0)
 * or a zero mask does not constrain.
 */
struct vg_kill_term {
	__u64 types[2];          /* event types (VG_EVT_*), one bit each */
	__s64 res_lo, res_hi;    /* return value within [lo, hi] */
	__s64 res_in[VG_KILL_VALS];  /* return value one of these */
	__s64 res_out[VG_KILL_VALS]; /* return value none of these */
	__u32 uid_in[VG_KILL_VALS];  /* effective uid one of these */
	__u32 uid_out[VG_KILL_VALS]; /* effective uid none of these */
	__u32 rule;              /* the engine's rule index (userspace's bookkeeping) */
	__u8 n_res_in, n_res_out, n_uid_in, n_uid_out;
	__u8 where;              /* enum vg_kill_where */
	__u8 families;           /* VG_KILL_FAM_*: the dup'ed fd is a socket of one of them */
	__u8 exe_set, exe_clear; /* VG_EXE_* flags of the executable that must be set / clear */
	__u8 names;              /* VG_KILL_NAMES_* */
	__u8 pad[3];
};

/* Key of vg_kill_names: a term's process name (comm, NUL-padded). */
struct vg_kill_name {
	__u32 term;
	__u32 set; /* VG_KILL_NAMES_IN or VG_KILL_NAMES_OUT */
	char comm[16];
};

#ifndef __VIGIL_BPF__
_Static_assert(sizeof(struct vg_kill_term) == 144, "kill term is ABI");
#endif

#endif
