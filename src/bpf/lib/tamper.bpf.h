/* SPDX-License-Identifier: GPL-2.0 */
/**
 * DOC: what tampering with the agent needs from the kernel
 *
 * Two parameters the rules about tampering with the agent need and a
 * syscall's arguments do not give: the process a pidfd refers to
 * (pidfd_send_signal), and the pin path a bpf(2) BPF_OBJ_PIN or BPF_OBJ_GET
 * names (what `bpftool ... pinned PATH` and `rm` of a pin go through).
 * Limits: a pidfd is recognised as a pidfs file (Linux 6.9+), an anonymous
 * "[pidfd]" inode (before 6.9) or a /proc/<pid> directory; a pin path given
 * relative to a directory fd (BPF_F_PATH_FD) is written as given.
 */
#ifndef VIGIL_BPF_LIB_TAMPER_H
#define VIGIL_BPF_LIB_TAMPER_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "vigil/event.h"
#include "args.bpf.h"
#include "path.bpf.h"
#include "record.bpf.h"

#define PIDFS_MAGIC 0x50494446
#define PROC_SUPER_MAGIC 0x9fa0
#define ANON_INODE_FS_MAGIC 0x09041934
#define VG_BPF_OBJ_PIN 6
#define VG_BPF_OBJ_GET 7

/**
 * put_pidfd() - the host pid of the process a pidfd refers to
 * @s: the record under construction
 * @fd: the descriptor
 *
 * Written as 8 bytes; 0 when @fd is not a pidfd (or the process is gone).
 */
static __noinline void put_pidfd(struct vg_scratch *s, long fd)
{
	struct file *f = fd_file(bpf_get_current_task_btf(), fd);
	struct pid *pid = NULL;

	if (f) {
		struct inode *inode = BPF_CORE_READ(f, f_inode);
		unsigned long magic = BPF_CORE_READ(inode, i_sb, s_magic);
		if (magic == PIDFS_MAGIC) {
			pid = BPF_CORE_READ(inode, i_private); /* pidfs keeps the struct pid on the inode */
		} else if (magic == ANON_INODE_FS_MAGIC) {
			char name[8] = {};
			bpf_probe_read_kernel(name, sizeof(name) - 1, BPF_CORE_READ(f, f_path.dentry, d_name.name));
			if (name[0] == '[' && name[1] == 'p' && name[2] == 'i' && name[3] == 'd' && name[4] == 'f' &&
			    name[5] == 'd' && name[6] == ']')
				pid = BPF_CORE_READ(f, private_data);
		} else if (magic == PROC_SUPER_MAGIC) {
			struct proc_inode *pi = container_of(inode, struct proc_inode, vfs_inode);
			pid = BPF_CORE_READ(pi, pid);
		}
	}
	put_u64(s, pid ? BPF_CORE_READ(pid, numbers[0].nr) : 0);
}

/**
 * put_bpf_path() - the pin path of a bpf(BPF_OBJ_PIN / BPF_OBJ_GET)
 * @s: the record under construction
 * @args: the syscall's arguments (cmd, attr, size)
 *
 * attr.pathname is the first member of the command's part of union bpf_attr;
 * for other commands the parameter is "".
 */
static __noinline void put_bpf_path(struct vg_scratch *s, struct sc_args *args)
{
	__u64 cmd = syscall_arg(args, 0), uptr = 0;

	if ((cmd == VG_BPF_OBJ_PIN || cmd == VG_BPF_OBJ_GET) &&
	    bpf_probe_read_user(&uptr, sizeof(uptr), (void *)syscall_arg(args, 1)) == 0 && uptr) {
		param_end(s, user_str_at(s, 0, (const char *)uptr));
		return;
	}
	*param_body(s, 0) = 0;
	param_end(s, 1);
}

#endif
