/* SPDX-License-Identifier: GPL-2.0 */
/**
 * DOC: executable, argv and environment
 *
 * What an exec leaves behind: the executable's path, inode and flags (upper
 * overlay layer, memfd, deleted), and the argv and environment of the new
 * image (or of the user's argv array when the exec failed). Limits: argv and
 * environment are cut at VG_ARGV_MAX bytes; a failed exec's argv at 32
 * arguments; the memfd test reads the "memfd:" name prefix on tmpfs and
 * hugetlbfs, which is how the kernel names them.
 */
#ifndef VIGIL_BPF_LIB_EXE_H
#define VIGIL_BPF_LIB_EXE_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "vigil/event.h"
#include "args.bpf.h"
#include "path.bpf.h"
#include "record.bpf.h"

#define OVERLAYFS_SUPER_MAGIC 0x794c7630
#define TMPFS_MAGIC 0x01021994
#define HUGETLBFS_MAGIC 0x958458f6

static __always_inline int exe_flags(struct file *exe)
{
	struct inode *inode = BPF_CORE_READ(exe, f_inode);
	unsigned long magic = BPF_CORE_READ(inode, i_sb, s_magic);
	int flags = 0;

	if (magic == OVERLAYFS_SUPER_MAGIC) {
		struct ovl_inode *oi = container_of(inode, struct ovl_inode, vfs_inode);
		if (BPF_CORE_READ(oi, __upperdentry))
			flags |= VG_EXE_UPPER_LAYER;
	}
	if (magic == TMPFS_MAGIC || magic == HUGETLBFS_MAGIC) {
		char pfx[6] = {};
		bpf_probe_read_kernel(pfx, sizeof(pfx), BPF_CORE_READ(exe, f_path.dentry, d_name.name));
		if (pfx[0] == 'm' && pfx[1] == 'e' && pfx[2] == 'm' && pfx[3] == 'f' && pfx[4] == 'd' && pfx[5] == ':')
			flags |= VG_EXE_MEMFD;
	}
	if (BPF_CORE_READ(inode, __i_nlink) == 0)
		flags |= VG_EXE_DELETED;
	return flags;
}

static __noinline void put_exe_info(struct vg_scratch *s, long ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct file *exe = BPF_CORE_READ(task, mm, exe_file);
	struct vg_exe_info info = {};

	if (ret != 0 || !exe) {
		param_end(s, 0);
		return;
	}
	info.ino = BPF_CORE_READ(exe, f_inode, i_ino);
	info.dev = BPF_CORE_READ(exe, f_inode, i_sb, s_dev);
	info.flags = exe_flags(exe);
	put_bytes(s, &info, sizeof(info));
}

static __noinline void put_exe(struct vg_scratch *s, long ret, const char *upath, int dirfd_arg, struct sc_args *regs)
{
	if (ret == 0) {
		struct task_struct *task = bpf_get_current_task_btf();
		struct file *exe = BPF_CORE_READ(task, mm, exe_file);
		__u32 n = file_path_at(s, 0, exe);
		*param_body(s, n) = 0;
		param_end(s, n + 1);
		return;
	}
	put_path(s, upath, dirfd_arg, regs);
}

/*
 * Copy the NUL-separated strings of [start, end) of the new image's memory
 * (argv or environment) into the parameter, at most VG_ARGV_MAX bytes; a cut
 * string is terminated. The caller checked the room. Returns the length.
 */
static __always_inline __u32 copy_strings(struct vg_scratch *s, unsigned long start, unsigned long end)
{
	__u32 len = end > start ? end - start : 0;
	if (len > VG_ARGV_MAX)
		len = VG_ARGV_MAX;
	barrier_var(len);
	if (bpf_probe_read_user(param_body(s, 0), len & (2 * VG_ARGV_MAX - 1), (void *)start) < 0)
		return 0;
	if (len == VG_ARGV_MAX)
		*param_body(s, len - 1) = 0;
	return len;
}

static __noinline void put_argv(struct vg_scratch *s, long ret, const char *const *uargv)
{
	__u32 len = 0;

	if (room(s) < 2 * VG_ARGV_MAX) {
		param_end(s, 0);
		return;
	}
	if (ret == 0) {
		struct task_struct *task = bpf_get_current_task_btf();
		len = copy_strings(s, BPF_CORE_READ(task, mm, arg_start), BPF_CORE_READ(task, mm, arg_end));
	} else {
		for (int i = 0; i < 32 && len < VG_ARGV_MAX; i++) {
			const char *arg = NULL;
			if (bpf_probe_read_user(&arg, sizeof(arg), &uargv[i]) < 0 || !arg)
				break;
			/* room() above leaves VG_ARGV_MAX spare bytes past the limit */
			long n = bpf_probe_read_user_str(param_body(s, len & (VG_ARGV_MAX - 1)), VG_ARGV_MAX, arg);
			if (n <= 0)
				break;
			len += n;
		}
		if (len > VG_ARGV_MAX)
			len = VG_ARGV_MAX;
	}
	param_end(s, len);
}

/* The new image's environment (proc.env): like argv, from mm->env_start..env_end. */
static __noinline void put_env(struct vg_scratch *s, long ret)
{
	__u32 len = 0;

	if (ret != 0 || room(s) < 2 * VG_ARGV_MAX) {
		param_end(s, 0);
		return;
	}
	struct task_struct *task = bpf_get_current_task_btf();
	len = copy_strings(s, BPF_CORE_READ(task, mm, env_start), BPF_CORE_READ(task, mm, env_end));
	param_end(s, len);
}

#endif
