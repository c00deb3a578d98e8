// SPDX-License-Identifier: GPL-2.0
/* The cheapest possible syscall-exit sensor: a tp_btf/sys_exit program that
 * does nothing. bench/floor.sh compares Vigil's per-syscall cost with it. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/sys_exit")
int BPF_PROG(empty_exit, struct pt_regs *regs, long ret)
{
	return 0;
}
