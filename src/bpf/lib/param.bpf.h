/* SPDX-License-Identifier: GPL-2.0 */
/**
 * DOC: parameter dispatch
 *
 * One parameter of a record, as events.def specifies it (enum vg_capture_kind):
 * put_param() dispatches to the writers of the other headers. Limits: those
 * of each writer; an unknown kind is written empty.
 */
#ifndef VIGIL_BPF_LIB_PARAM_H
#define VIGIL_BPF_LIB_PARAM_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "vigil/event.h"
#include "args.bpf.h"
#include "exe.bpf.h"
#include "path.bpf.h"
#include "record.bpf.h"
#include "socket.bpf.h"
#include "tamper.bpf.h"

/**
 * put_param() - append one parameter to the record
 * @s: the scratch buffer holding the record
 * @regs: the syscall's arguments
 * @ret: the syscall's return value
 * @spec: a struct param_spec as a u32, kind | arg << 8 | aux << 16 (BPF
 *        calls take at most five arguments)
 *
 * Global functions (put_param, build_path, fill_header, emit_cgroup) are
 * verified once on their own instead of at every call site, which keeps the
 * verifier's work linear in the program size. Kernel pointers cross them as
 * u64 and are only ever read with probe reads.
 *
 * Return: 0 (what did not fit is written empty and counted).
 */
__noinline int put_param(struct vg_scratch *s, struct sc_args *regs, long ret, __u32 spec)
{
	__u8 kind = spec & 0xff, arg = (spec >> 8) & 0xff, aux = (spec >> 16) & 0xff;

	if (!s || !regs)
		return 0;
	__u64 a = syscall_arg(regs, arg);

	switch (kind) {
	case VG_CK_ARG:
		put_u64(s, a);
		break;
	case VG_CK_USER_U64: {
		__u64 v = 0;
		bpf_probe_read_user(&v, sizeof(v), (void *)(a + aux));
		put_u64(s, v);
		break;
	}
	case VG_CK_STR:
		param_end(s, user_str_at(s, 0, (const char *)a));
		break;
	case VG_CK_PATH:
		put_path(s, (const char *)a, aux, regs);
		break;
	case VG_CK_FD_PATH:
		param_end(s, file_path_at(s, 0, fd_file(bpf_get_current_task_btf(), (int)a)));
		break;
	case VG_CK_SOCKADDR:
		put_sockaddr(s, (const void *)a, syscall_arg(regs, aux));
		break;
	case VG_CK_TUPLE:
		put_tuple(s, arg == VG_ARG_RET ? ret : (int)a);
		break;
	case VG_CK_EXE:
		put_exe(s, ret, (const char *)a, aux, regs);
		break;
	case VG_CK_ARGV:
		put_argv(s, ret, (const char *const *)a);
		break;
	case VG_CK_CWD:
		put_cwd(s);
		break;
	case VG_CK_ENV:
		put_env(s, ret);
		break;
	case VG_CK_EXE_INFO:
		put_exe_info(s, ret);
		break;
	case VG_CK_PIDFD:
		put_pidfd(s, (int)a);
		break;
	case VG_CK_BPF_PATH:
		put_bpf_path(s, regs);
		break;
	default:
		param_end(s, 0);
	}
	return 0;
}

#endif
