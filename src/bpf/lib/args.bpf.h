/* SPDX-License-Identifier: GPL-2.0 */
/**
 * DOC: syscall arguments
 *
 * The syscall's arguments at its exit, read back from the saved user
 * registers (x86-64 and ia32 calling conventions). Limits: six arguments;
 * after a successful execve the registers belong to the new image, so exec
 * parameters are read from the new image instead (lib/exe.bpf.h).
 */
#ifndef VIGIL_BPF_LIB_ARGS_H
#define VIGIL_BPF_LIB_ARGS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "vigil/event.h"

/* The six syscall arguments, read once from the saved user registers. */
struct sc_args {
	__u64 a[6];
};

static __always_inline void read_args(struct sc_args *args, struct pt_regs *regs, int ia32)
{
	if (ia32) {
		args->a[0] = (__u32)BPF_CORE_READ(regs, bx);
		args->a[1] = (__u32)BPF_CORE_READ(regs, cx);
		args->a[2] = (__u32)BPF_CORE_READ(regs, dx);
		args->a[3] = (__u32)BPF_CORE_READ(regs, si);
		args->a[4] = (__u32)BPF_CORE_READ(regs, di);
		args->a[5] = (__u32)BPF_CORE_READ(regs, bp);
		return;
	}
	args->a[0] = BPF_CORE_READ(regs, di);
	args->a[1] = BPF_CORE_READ(regs, si);
	args->a[2] = BPF_CORE_READ(regs, dx);
	args->a[3] = BPF_CORE_READ(regs, r10);
	args->a[4] = BPF_CORE_READ(regs, r8);
	args->a[5] = BPF_CORE_READ(regs, r9);
}

/* A switch, not an index: the verifier then needs no bound on i. */
static __always_inline __u64 syscall_arg(struct sc_args *args, __u32 i)
{
	switch (i) {
	case 0: return args->a[0];
	case 1: return args->a[1];
	case 2: return args->a[2];
	case 3: return args->a[3];
	case 4: return args->a[4];
	case 5: return args->a[5];
	}
	return 0;
}

#endif
