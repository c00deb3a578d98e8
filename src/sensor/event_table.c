/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>
#include <sys/syscall.h>
#include "sensor/event_table.h"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452 /* Linux 6.6; newer than this libc's headers */
#endif

#define P(pname, kind, arg, aux, fmt) { pname, kind, arg, aux, fmt }
#define VG_EVENT(id, ename, category, flags, ...)                                                    \
	[VG_EVT_##id] = { ename, category, flags,                                                    \
			  sizeof((struct vg_param_info[]){ { 0 }, ##__VA_ARGS__ }) /                   \
				  sizeof(struct vg_param_info) - 1,                                  \
			  { __VA_ARGS__ } },
static const struct vg_event_info event_table[VG_EVT_MAX] = {
#include "vigil/events.def"
};
#undef VG_EVENT
#undef P

/* x86-64 numbers; the names in events.def are the syscall names. */
static const int syscall_nr[VG_EVT_MAX] = {
	[VG_EVT_CLONE] = SYS_clone, [VG_EVT_CLONE3] = SYS_clone3, [VG_EVT_FORK] = SYS_fork,
	[VG_EVT_VFORK] = SYS_vfork, [VG_EVT_EXECVE] = SYS_execve, [VG_EVT_EXECVEAT] = SYS_execveat,
	[VG_EVT_OPEN] = SYS_open, [VG_EVT_OPENAT] = SYS_openat, [VG_EVT_OPENAT2] = SYS_openat2,
	[VG_EVT_CREAT] = SYS_creat, [VG_EVT_UNLINK] = SYS_unlink, [VG_EVT_UNLINKAT] = SYS_unlinkat,
	[VG_EVT_RENAME] = SYS_rename, [VG_EVT_RENAMEAT] = SYS_renameat, [VG_EVT_RENAMEAT2] = SYS_renameat2,
	[VG_EVT_MKDIR] = SYS_mkdir, [VG_EVT_MKDIRAT] = SYS_mkdirat, [VG_EVT_RMDIR] = SYS_rmdir,
	[VG_EVT_LINK] = SYS_link, [VG_EVT_LINKAT] = SYS_linkat, [VG_EVT_SYMLINK] = SYS_symlink,
	[VG_EVT_SYMLINKAT] = SYS_symlinkat, [VG_EVT_CHMOD] = SYS_chmod, [VG_EVT_FCHMOD] = SYS_fchmod,
	[VG_EVT_FCHMODAT] = SYS_fchmodat, [VG_EVT_FCHMODAT2] = SYS_fchmodat2, [VG_EVT_CHOWN] = SYS_chown,
	[VG_EVT_LCHOWN] = SYS_lchown, [VG_EVT_FCHOWN] = SYS_fchown, [VG_EVT_FCHOWNAT] = SYS_fchownat,
	[VG_EVT_TRUNCATE] = SYS_truncate, [VG_EVT_FTRUNCATE] = SYS_ftruncate,
	[VG_EVT_SOCKET] = SYS_socket, [VG_EVT_CONNECT] = SYS_connect, [VG_EVT_ACCEPT] = SYS_accept,
	[VG_EVT_ACCEPT4] = SYS_accept4, [VG_EVT_BIND] = SYS_bind, [VG_EVT_LISTEN] = SYS_listen,
	[VG_EVT_SENDTO] = SYS_sendto, [VG_EVT_RECVFROM] = SYS_recvfrom,
	[VG_EVT_SETUID] = SYS_setuid, [VG_EVT_SETGID] = SYS_setgid, [VG_EVT_SETREUID] = SYS_setreuid,
	[VG_EVT_SETREGID] = SYS_setregid, [VG_EVT_SETRESUID] = SYS_setresuid,
	[VG_EVT_SETRESGID] = SYS_setresgid, [VG_EVT_CAPSET] = SYS_capset, [VG_EVT_SETNS] = SYS_setns,
	[VG_EVT_UNSHARE] = SYS_unshare, [VG_EVT_MOUNT] = SYS_mount, [VG_EVT_UMOUNT2] = SYS_umount2,
	[VG_EVT_CHROOT] = SYS_chroot, [VG_EVT_PIVOT_ROOT] = SYS_pivot_root, [VG_EVT_PTRACE] = SYS_ptrace,
	[VG_EVT_INIT_MODULE] = SYS_init_module, [VG_EVT_FINIT_MODULE] = SYS_finit_module,
	[VG_EVT_DELETE_MODULE] = SYS_delete_module, [VG_EVT_BPF] = SYS_bpf,
	[VG_EVT_MEMFD_CREATE] = SYS_memfd_create, [VG_EVT_KILL] = SYS_kill, [VG_EVT_TKILL] = SYS_tkill,
	[VG_EVT_TGKILL] = SYS_tgkill, [VG_EVT_PRCTL] = SYS_prctl, [VG_EVT_IOCTL] = SYS_ioctl,
	[VG_EVT_CHDIR] = SYS_chdir, [VG_EVT_FCHDIR] = SYS_fchdir,
};

const struct vg_event_info *event_table_get(unsigned int type)
{
	if (type == VG_EVT_UNKNOWN || type >= VG_EVT_MAX)
		return NULL;
	return &event_table[type];
}

int event_table_find(const char *name)
{
	for (unsigned int t = 1; t < VG_EVT_MAX; t++)
		if (strcmp(event_table[t].name, name) == 0)
			return t;
	return -1;
}

int event_table_syscall_nr(unsigned int type)
{
	if (type >= VG_EVT_MAX || !(event_table[type].flags & VG_EF_SYSCALL))
		return -1;
	return syscall_nr[type];
}

const char *event_table_category_name(unsigned int category)
{
	switch (category) {
	case VG_CAT_PROCESS: return "process";
	case VG_CAT_FILE: return "file";
	case VG_CAT_NETWORK: return "network";
	case VG_CAT_PRIVILEGE: return "privilege";
	case VG_CAT_INTERNAL: return "internal";
	}
	return "unknown";
}
