/* SPDX-License-Identifier: GPL-2.0 */
/**
 * DOC: paths
 *
 * Paths as the task sees them: the walk from a dentry up to the task's root,
 * crossing mount points, and the PATH / FD_PATH / CWD parameters built on it.
 * Limits: at most VG_PATH_COMPONENTS components (a longer path starts with
 * "..."), VG_PATH_MAX bytes, components of 255 bytes; the walk runs under
 * bpf_loop (Linux 5.17+) so the verifier's work does not grow with it.
 */
#ifndef VIGIL_BPF_LIB_PATH_H
#define VIGIL_BPF_LIB_PATH_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "vigil/event.h"
#include "maps.h"
#include "args.bpf.h"
#include "record.bpf.h"

#define AT_FDCWD -100

struct path_walk {
	struct vg_scratch *s;
	struct dentry *dentry, *root_dentry;
	struct vfsmount *vfsmnt, *root_mnt;
	struct mount *mnt;
	__u32 pos;
	int complete;
};

/* One step of build_path: prepend one component, or cross one mount point. */
static int path_step(__u32 i, struct path_walk *w)
{
	/* locals: CO-RE reads must start from kernel types, not from w */
	struct dentry *dentry = w->dentry;
	struct vfsmount *vfsmnt = w->vfsmnt;
	struct mount *mnt = w->mnt;
	struct vg_scratch *s = w->s;

	if (!dentry || (dentry == w->root_dentry && vfsmnt == w->root_mnt))
		goto done;
	if (dentry == BPF_CORE_READ(vfsmnt, mnt_root)) {
		struct mount *parent = BPF_CORE_READ(mnt, mnt_parent);
		if (!parent || parent == mnt)
			goto done; /* the global root */
		w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = parent;
		w->vfsmnt = &parent->mnt;
		return 0;
	}
	struct dentry *up = BPF_CORE_READ(dentry, d_parent);
	if (up == dentry)
		goto done;
	struct qstr name = BPF_CORE_READ(dentry, d_name);
	__u32 len = name.len & 0xff;
	if (len + 1 > w->pos)
		return 1; /* too long: keep what fits, marked incomplete */
	w->pos -= len;
	bpf_probe_read_kernel(&s->tmp[tmp_index(w->pos)], len, name.name);
	w->pos--;
	s->tmp[tmp_index(w->pos)] = '/';
	w->dentry = up;
	return 0;
done:
	w->complete = 1;
	return 1;
}

/**
 * build_path() - the path of a dentry as the current task sees it
 * @s: the scratch buffer; the path is assembled in s->tmp
 * @dentry_ptr: the dentry (kernel pointers cross global functions as u64)
 * @vfsmnt_ptr: the vfsmount it was reached through
 *
 * Assemble the path of (dentry, vfsmnt) as seen from the task's root into
 * s->tmp, right to left, ending with its NUL at tmp[VG_PATH_MAX - 1]. Mount
 * points are crossed; the walk stops at the task's root (so a container
 * process sees its own paths), at the global root, or after
 * VG_PATH_COMPONENTS steps (the path then starts with "...").
 * bpf_loop keeps the verifier's work independent of the step count.
 *
 * Return: the offset in s->tmp of the path's first byte.
 */
__noinline __u32 build_path(struct vg_scratch *s, __u64 dentry_ptr, __u64 vfsmnt_ptr)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct path_walk w = {
		.s = s,
		.dentry = (struct dentry *)dentry_ptr,
		.vfsmnt = (struct vfsmount *)vfsmnt_ptr,
		.root_dentry = BPF_CORE_READ(task, fs, root.dentry),
		.root_mnt = BPF_CORE_READ(task, fs, root.mnt),
		.mnt = container_of((struct vfsmount *)vfsmnt_ptr, struct mount, mnt),
		.pos = VG_PATH_MAX - 1,
	};

	if (!s)
		return 0;
	s->tmp[tmp_index(w.pos)] = 0;
	bpf_loop(VG_PATH_COMPONENTS, path_step, &w, 0);
	if (!w.complete && w.pos >= 3) {
		w.pos -= 3;
		s->tmp[tmp_index(w.pos)] = '.';
		s->tmp[tmp_index(w.pos + 1)] = '.';
		s->tmp[tmp_index(w.pos + 2)] = '.';
	}
	if (w.pos == VG_PATH_MAX - 1) {
		w.pos--;
		s->tmp[tmp_index(w.pos)] = '/';
	}
	return w.pos;
}

/* Copy the path in s->tmp (from build_path) to body offset `at`; returns bytes incl. NUL. */
static __always_inline __u32 tmp_to_body(struct vg_scratch *s, __u32 at, __u32 pos)
{
	pos &= TMP_MASK;
	__u32 len = VG_PATH_MAX - pos;
	if (room(s) < at + len || at > VG_PATH_MAX) {
		*param_body(s, at) = 0;
		return 1;
	}
	bpf_probe_read_kernel(param_body(s, at), len, &s->tmp[tmp_index(pos)]);
	return len;
}

static __always_inline struct file *fd_file(struct task_struct *task, long fd)
{
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds;
	struct file *f = NULL;

	if (fd < 0 || fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

static __always_inline __u32 file_path_at(struct vg_scratch *s, __u32 at, struct file *f)
{
	if (!f) {
		*param_body(s, at) = 0;
		return 1;
	}
	__u32 pos = build_path(s, (__u64)BPF_CORE_READ(f, f_path.dentry), (__u64)BPF_CORE_READ(f, f_path.mnt));
	return tmp_to_body(s, at, pos);
}

static __always_inline __u32 cwd_at(struct vg_scratch *s, __u32 at)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 pos = build_path(s, (__u64)BPF_CORE_READ(task, fs, pwd.dentry), (__u64)BPF_CORE_READ(task, fs, pwd.mnt));
	return tmp_to_body(s, at, pos);
}

/* PATH: "raw\0base\0"; base is empty for an absolute (or unreadable) raw path. */
static __noinline void put_path(struct vg_scratch *s, const char *upath, int dirfd_arg, struct sc_args *regs)
{
	__u32 n = user_str_at(s, 0, upath);
	char first = *param_body(s, 0);
	__u32 m;

	if (n > 1 && first != '/') {
		long dirfd = AT_FDCWD;
		if (dirfd_arg != VG_AUX_CWD)
			dirfd = (int)syscall_arg(regs, dirfd_arg);
		if (dirfd == AT_FDCWD)
			m = cwd_at(s, n);
		else
			m = file_path_at(s, n, fd_file(bpf_get_current_task_btf(), dirfd));
	} else {
		*param_body(s, n) = 0;
		m = 1;
	}
	param_end(s, n + m);
}

static __always_inline void put_cwd(struct vg_scratch *s)
{
	param_end(s, cwd_at(s, 0));
}

#endif
