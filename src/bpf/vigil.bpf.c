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
#include "maps.h"

char LICENSE[] SEC("license") = "GPL";

#define OVERLAYFS_SUPER_MAGIC 0x794c7630
#define TMPFS_MAGIC 0x01021994
#define HUGETLBFS_MAGIC 0x958458f6
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define AT_FDCWD -100
#define TS_COMPAT 0x0002 /* arch/x86/include/asm/thread_info.h */
#define PF_KTHREAD 0x00200000 /* include/linux/sched.h */
#define SIGKILL 9

#define REC_MASK (VG_RECORD_MAX - 1)
#define TMP_MASK (VG_PATH_MAX - 1)

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

/* kernfs_node.parent became __parent in 6.15 */
struct kernfs_node___old {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));

static __always_inline struct vg_scratch *scratch_get(void)
{
	__u32 cpu = bpf_get_smp_processor_id();
	return bpf_map_lookup_elem(&vg_scratch_map, &cpu);
}

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

/*
 * Every variable offset into the scratch buffers is masked right before use,
 * behind barrier_var so that the compiler cannot drop a mask it believes
 * redundant: the verifier needs to see it.
 */
static __always_inline __u32 rec_index(__u32 i)
{
	barrier_var(i);
	return i & REC_MASK;
}

static __always_inline __u32 tmp_index(__u32 i)
{
	barrier_var(i);
	return i & TMP_MASK;
}

/* Room left for one more parameter body; 0 when the record is full. */
static __always_inline __u32 room(struct vg_scratch *s)
{
	__u32 off = s->off;
	if (off + 2 >= VG_RECORD_MAX)
		return 0;
	return VG_RECORD_MAX - off - 2;
}

/* Close the parameter whose body of `len` bytes was written after its length. */
static __always_inline void param_end(struct vg_scratch *s, __u32 len)
{
	__u32 off = s->off;
	/* a plain store: x86 and arm64 BPF allow unaligned map value access */
	*(__u16 *)&s->buf[rec_index(off)] = len;
	s->off = off + 2 + len;
	s->nparams++;
}

static __always_inline char *param_body(struct vg_scratch *s, __u32 at)
{
	return &s->buf[rec_index(s->off + 2 + at)];
}

static __always_inline void count_truncated(void)
{
	__u32 zero = 0;
	struct vg_kernel_stats *st = bpf_map_lookup_elem(&vg_stats_map, &zero);
	if (st)
		st->truncated++;
}

/* A fixed-size parameter; written empty (and counted) when it does not fit. */
static __noinline void put_bytes(struct vg_scratch *s, const void *src, __u32 len)
{
	if (len > room(s) || len > VG_PATH_MAX ||
	    bpf_probe_read_kernel(param_body(s, 0), len & (2 * VG_PATH_MAX - 1), src) < 0) {
		count_truncated();
		param_end(s, 0);
		return;
	}
	param_end(s, len);
}

static __always_inline void put_u64(struct vg_scratch *s, __u64 v)
{
	if (room(s) < sizeof(v)) {
		count_truncated();
		param_end(s, 0);
		return;
	}
	*(__u64 *)param_body(s, 0) = v;
	param_end(s, sizeof(v));
}

/*
 * Append a user string at body offset `at`; returns bytes written including
 * the NUL (an unreadable string is written as "").
 */
static __noinline __u32 user_str_at(struct vg_scratch *s, __u32 at, const char *ustr)
{
	long n = -1;
	if (room(s) >= at + VG_PATH_MAX && at <= VG_PATH_MAX)
		n = bpf_probe_read_user_str(param_body(s, at), VG_PATH_MAX, ustr);
	if (n <= 0) {
		*param_body(s, at) = 0;
		return 1;
	}
	return n;
}

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

/*
 * Assemble the path of (dentry, vfsmnt) as seen from the task's root into
 * s->tmp, right to left, ending with its NUL at tmp[VG_PATH_MAX - 1]. Returns
 * the offset of the first byte. Mount points are crossed; the walk stops at
 * the task's root (so a container process sees its own paths), at the global
 * root, or after VG_PATH_COMPONENTS steps (the path then starts with "...").
 * bpf_loop keeps the verifier's work independent of the step count.
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

static __noinline void put_tuple(struct vg_scratch *s, long fd)
{
	struct vg_tuple t = {};
	struct file *f = fd_file(bpf_get_current_task_btf(), fd);

	if (f && (BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT) == S_IFSOCK) {
		struct socket *sock = BPF_CORE_READ(f, private_data);
		struct sock *sk = BPF_CORE_READ(sock, sk);
		t.family = BPF_CORE_READ(sk, __sk_common.skc_family);
		t.sport = BPF_CORE_READ(sk, __sk_common.skc_num);
		t.dport = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
		if (t.family == AF_INET) {
			BPF_CORE_READ_INTO(&t.saddr, sk, __sk_common.skc_rcv_saddr);
			BPF_CORE_READ_INTO(&t.daddr, sk, __sk_common.skc_daddr);
		} else if (t.family == AF_INET6) {
			BPF_CORE_READ_INTO(&t.saddr, sk, __sk_common.skc_v6_rcv_saddr);
			BPF_CORE_READ_INTO(&t.daddr, sk, __sk_common.skc_v6_daddr);
		}
	}
	put_bytes(s, &t, sizeof(t));
}

static __noinline void put_sockaddr(struct vg_scratch *s, const void *uaddr, __u64 len)
{
	if (len > VG_SOCKADDR_MAX)
		len = VG_SOCKADDR_MAX;
	if (!uaddr || room(s) < VG_SOCKADDR_MAX ||
	    bpf_probe_read_user(param_body(s, 0), len & (2 * VG_SOCKADDR_MAX - 1), uaddr) < 0)
		len = 0;
	param_end(s, len);
}

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

/* argv of the new image (success) or from the user argv array (failure). */
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

static __always_inline void put_cwd(struct vg_scratch *s)
{
	param_end(s, cwd_at(s, 0));
}

/*
 * Fields are read with direct loads through the task's BTF pointers (the
 * verifier turns them into fault-safe loads): a helper call per field cost
 * about 0.7 us per record. Only the pid-namespace arrays, indexed by a
 * runtime level, still need probe reads.
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

static __always_inline struct vg_kernel_stats *stats(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&vg_stats_map, &zero);
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
	if (bpf_ringbuf_query(&vg_events, BPF_RB_AVAIL_DATA) >= vg_wakeup_bytes)
		flags = BPF_RB_FORCE_WAKEUP;
	if (bpf_ringbuf_output(&vg_events, s->buf, len, flags) == 0) {
		if (st)
			st->emitted++;
	} else if (st) {
		st->lost_full++;
	}
}

/* The CGROUP record: the full cgroup v2 path of the current task. */
__noinline int emit_cgroup(struct vg_scratch *s, __u64 cgid)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct kernfs_node *kn = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn);
	__u32 pos = VG_PATH_MAX - 1;
	int i;

	if (!s)
		return 0;
	fill_header(s, VG_EVT_CGROUP, 0);
	s->tmp[tmp_index(pos)] = 0;
	for (i = 0; i < VG_PATH_COMPONENTS && kn; i++) {
		struct kernfs_node *up;
		if (bpf_core_field_exists(kn->__parent))
			up = BPF_CORE_READ(kn, __parent);
		else
			up = BPF_CORE_READ((struct kernfs_node___old *)kn, parent);
		if (!up)
			break; /* the root: its name is not part of the path */
		const char *name = BPF_CORE_READ(kn, name);
		/* the name is read into the unused upper half of tmp, then placed */
		char *part = &s->tmp[VG_PATH_MAX];
		long n = bpf_probe_read_kernel_str(part, 256, name);
		if (n <= 1 || n > pos)
			break;
		pos -= n - 1;
		bpf_probe_read_kernel(&s->tmp[tmp_index(pos)], (n - 1) & 255, part);
		pos--;
		s->tmp[tmp_index(pos)] = '/';
		kn = up;
	}
	if (pos == VG_PATH_MAX - 1) {
		pos--;
		s->tmp[tmp_index(pos)] = '/';
	}
	param_end(s, tmp_to_body(s, 0, pos));
	((struct vg_event_hdr *)s->buf)->cgroup_id = cgid;
	submit(s);
	return 0;
}

/* Emit a CGROUP record the first time a cgroup is seen. */
static __always_inline void announce_cgroup(struct vg_scratch *s)
{
	__u64 cgid = bpf_get_current_cgroup_id();
	__u8 one = 1;

	if (bpf_map_lookup_elem(&vg_known_cgroups, &cgid))
		return;
	bpf_map_update_elem(&vg_known_cgroups, &cgid, &one, BPF_ANY);
	emit_cgroup(s, cgid);
}

/* spec: a struct param_spec as a u32 (BPF calls take at most five arguments) */
/*
 * Global functions (put_param, build_path, fill_header, emit_cgroup) are
 * verified once on their own instead of at every call site, which keeps the
 * verifier's work linear in the program size. Kernel pointers cross them as
 * u64 and are only ever read with probe reads.
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
	default:
		param_end(s, 0);
	}
	return 0;
}

/* The socket family of a file descriptor as a VG_KILL_FAM_* bit, 0 if it is no such socket. */
static __always_inline __u8 fd_family_bit(long fd)
{
	struct file *f = fd_file(bpf_get_current_task_btf(), fd);

	if (!f || (BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return 0;
	struct socket *sock = BPF_CORE_READ(f, private_data);
	__u16 family = BPF_CORE_READ(sock, sk, __sk_common.skc_family);
	return family == AF_INET ? VG_KILL_FAM_INET : family == AF_INET6 ? VG_KILL_FAM_INET6 :
	       family == AF_UNIX ? VG_KILL_FAM_UNIX : 0;
}

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

/*
 * Whether kill term i matches the syscall that is returning. A global
 * function (verified once, on its own): tested inline in the loop below, 32
 * terms made the verifier's state count explode. side: the cgroup's
 * enum vg_kill_where, 0 when userspace has not classified it yet.
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

/*
 * Test the kill terms against the syscall that is returning; on a match send
 * SIGKILL to the process, which then dies on its way back to user space.
 * Returns the header flags to add (VG_HDR_KILLED and the term), or 0.
 * fd0: the syscall's first argument (the fd dup'ed). Never the agent (its
 * syscalls do not get here), pid 1 of the host or a kernel thread.
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

/*
 * The hot path: every syscall of every task runs this far. nr comes from the
 * caller (a direct load in the tp_btf program), the task is a trusted BTF
 * pointer read directly: no helper call before an unwanted syscall returns.
 */
static __always_inline int on_sys_exit(struct pt_regs *regs, __u64 nr, long ret)
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
	return on_sys_exit(regs, regs->orig_ax, ret);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(vg_sched_exit, struct task_struct *p)
{
	return on_process_exit(p);
}

SEC("raw_tp/sys_exit")
int BPF_PROG(vg_sys_exit_raw, struct pt_regs *regs, long ret)
{
	return on_sys_exit(regs, BPF_CORE_READ(regs, orig_ax), ret);
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
	return on_sys_exit(regs, (__u32)ctx->nr, ctx->ret);
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(vg_sched_exit_raw, struct task_struct *p)
{
	return on_process_exit(p);
}
