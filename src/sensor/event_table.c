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
	[VG_EVT_DUP] = SYS_dup, [VG_EVT_DUP2] = SYS_dup2, [VG_EVT_DUP3] = SYS_dup3,
	[VG_EVT_SENDMSG] = SYS_sendmsg, [VG_EVT_RECVMSG] = SYS_recvmsg, [VG_EVT_USERFAULTFD] = SYS_userfaultfd,
	[VG_EVT_IO_URING_SETUP] = SYS_io_uring_setup, [VG_EVT_PIDFD_OPEN] = SYS_pidfd_open,
	[VG_EVT_PIDFD_SEND_SIGNAL] = SYS_pidfd_send_signal, [VG_EVT_PROCESS_VM_READV] = SYS_process_vm_readv,
	[VG_EVT_PROCESS_VM_WRITEV] = SYS_process_vm_writev,
};

/*
 * i386 numbers (asm/unistd_32.h), for 32-bit syscalls of compat tasks and
 * int 0x80. The 16-bit set*id/chown forms map to the same events. accept has
 * no i386 syscall of its own; socketcall(2) multiplexing is not decoded.
 */
static const struct {
	uint16_t type, nr;
} ia32_syscalls[] = {
	{ VG_EVT_CLONE, 120 }, /* clone */
	{ VG_EVT_CLONE3, 435 }, /* clone3 */
	{ VG_EVT_FORK, 2 }, /* fork */
	{ VG_EVT_EXECVE, 11 }, /* execve */
	{ VG_EVT_EXECVEAT, 358 }, /* execveat */
	{ VG_EVT_OPEN, 5 }, /* open */
	{ VG_EVT_OPENAT, 295 }, /* openat */
	{ VG_EVT_OPENAT2, 437 }, /* openat2 */
	{ VG_EVT_CREAT, 8 }, /* creat */
	{ VG_EVT_UNLINK, 10 }, /* unlink */
	{ VG_EVT_UNLINKAT, 301 }, /* unlinkat */
	{ VG_EVT_RENAME, 38 }, /* rename */
	{ VG_EVT_RENAMEAT, 302 }, /* renameat */
	{ VG_EVT_RENAMEAT2, 353 }, /* renameat2 */
	{ VG_EVT_MKDIR, 39 }, /* mkdir */
	{ VG_EVT_MKDIRAT, 296 }, /* mkdirat */
	{ VG_EVT_RMDIR, 40 }, /* rmdir */
	{ VG_EVT_LINK, 9 }, /* link */
	{ VG_EVT_LINKAT, 303 }, /* linkat */
	{ VG_EVT_SYMLINK, 83 }, /* symlink */
	{ VG_EVT_SYMLINKAT, 304 }, /* symlinkat */
	{ VG_EVT_CHMOD, 15 }, /* chmod */
	{ VG_EVT_FCHMOD, 94 }, /* fchmod */
	{ VG_EVT_FCHMODAT, 306 }, /* fchmodat */
	{ VG_EVT_CHOWN, 182 }, /* chown */
	{ VG_EVT_CHOWN, 212 }, /* chown32 */
	{ VG_EVT_LCHOWN, 16 }, /* lchown */
	{ VG_EVT_LCHOWN, 198 }, /* lchown32 */
	{ VG_EVT_FCHOWN, 95 }, /* fchown */
	{ VG_EVT_FCHOWN, 207 }, /* fchown32 */
	{ VG_EVT_FCHOWNAT, 298 }, /* fchownat */
	{ VG_EVT_TRUNCATE, 92 }, /* truncate */
	{ VG_EVT_FTRUNCATE, 93 }, /* ftruncate */
	{ VG_EVT_SOCKET, 359 }, /* socket */
	{ VG_EVT_CONNECT, 362 }, /* connect */
	{ VG_EVT_ACCEPT4, 364 }, /* accept4 */
	{ VG_EVT_BIND, 361 }, /* bind */
	{ VG_EVT_LISTEN, 363 }, /* listen */
	{ VG_EVT_SENDTO, 369 }, /* sendto */
	{ VG_EVT_RECVFROM, 371 }, /* recvfrom */
	{ VG_EVT_SETUID, 23 }, /* setuid */
	{ VG_EVT_SETUID, 213 }, /* setuid32 */
	{ VG_EVT_SETGID, 46 }, /* setgid */
	{ VG_EVT_SETGID, 214 }, /* setgid32 */
	{ VG_EVT_SETREUID, 70 }, /* setreuid */
	{ VG_EVT_SETREUID, 203 }, /* setreuid32 */
	{ VG_EVT_SETREGID, 71 }, /* setregid */
	{ VG_EVT_SETREGID, 204 }, /* setregid32 */
	{ VG_EVT_SETRESUID, 164 }, /* setresuid */
	{ VG_EVT_SETRESUID, 208 }, /* setresuid32 */
	{ VG_EVT_SETRESGID, 170 }, /* setresgid */
	{ VG_EVT_SETRESGID, 210 }, /* setresgid32 */
	{ VG_EVT_CAPSET, 185 }, /* capset */
	{ VG_EVT_UNSHARE, 310 }, /* unshare */
	{ VG_EVT_MOUNT, 21 }, /* mount */
	{ VG_EVT_UMOUNT2, 52 }, /* umount2 */
	{ VG_EVT_CHROOT, 61 }, /* chroot */
	{ VG_EVT_PIVOT_ROOT, 217 }, /* pivot_root */
	{ VG_EVT_PTRACE, 26 }, /* ptrace */
	{ VG_EVT_INIT_MODULE, 128 }, /* init_module */
	{ VG_EVT_FINIT_MODULE, 350 }, /* finit_module */
	{ VG_EVT_DELETE_MODULE, 129 }, /* delete_module */
	{ VG_EVT_BPF, 357 }, /* bpf */
	{ VG_EVT_MEMFD_CREATE, 356 }, /* memfd_create */
	{ VG_EVT_KILL, 37 }, /* kill */
	{ VG_EVT_TKILL, 238 }, /* tkill */
	{ VG_EVT_TGKILL, 270 }, /* tgkill */
	{ VG_EVT_PRCTL, 172 }, /* prctl */
	{ VG_EVT_IOCTL, 54 }, /* ioctl */
	{ VG_EVT_CHDIR, 12 }, /* chdir */
	{ VG_EVT_FCHDIR, 133 }, /* fchdir */
	{ VG_EVT_FCHMODAT2, 452 }, /* fchmodat2: same number on every ABI */
	{ VG_EVT_DUP, 41 }, /* dup */
	{ VG_EVT_DUP2, 63 }, /* dup2 */
	{ VG_EVT_DUP3, 330 }, /* dup3 */
	{ VG_EVT_SENDMSG, 370 }, /* sendmsg */
	{ VG_EVT_RECVMSG, 372 }, /* recvmsg */
	{ VG_EVT_USERFAULTFD, 374 }, /* userfaultfd */
	{ VG_EVT_IO_URING_SETUP, 425 }, /* io_uring_setup: same number on every ABI */
	{ VG_EVT_PIDFD_OPEN, 434 }, /* pidfd_open */
	{ VG_EVT_PIDFD_SEND_SIGNAL, 424 }, /* pidfd_send_signal */
	{ VG_EVT_PROCESS_VM_READV, 347 }, /* process_vm_readv */
	{ VG_EVT_PROCESS_VM_WRITEV, 348 }, /* process_vm_writev */
};

size_t event_table_ia32_nrs(unsigned int type, int *nrs, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < sizeof(ia32_syscalls) / sizeof(ia32_syscalls[0]); i++)
		if (ia32_syscalls[i].type == type && n < max)
			nrs[n++] = ia32_syscalls[i].nr;
	return n;
}

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
	case VG_CAT_SENSOR: return "sensor";
	}
	return "unknown";
}
