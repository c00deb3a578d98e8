/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The event ABI: the one definition of a record shared by the kernel programs
 * (src/bpf/vigil.bpf.c) and userspace (decoder, capture files).
 *
 * A record is a fixed header followed by hdr.nparams parameters. Each parameter
 * is a 16-bit little-endian length followed by that many bytes; what the bytes
 * mean (an integer, a string, a path, an address) is given by the event's entry
 * in events.def, never by the record itself. Everything is naturally aligned in
 * the header; parameters are packed without padding (readers must memcpy).
 *
 * Worked example: `openat(AT_FDCWD, "x", O_RDONLY)` from /root returning 3 is
 *
 *   header  type=VG_EVT_OPENAT nparams=4 retval=3 len=sizeof(header)+40 ...
 *   param0  len=8  s64 -100                        dirfd
 *   param1  len=8  "x\0/root\0"                    path: raw path, NUL, base dir, NUL
 *   param2  len=8  u64 0                           flags
 *   param3  len=8  u64 0                           mode
 *
 * and the decoder turns param1 into the absolute path "/root/x".
 *
 * Compatibility: VG_EVENT_ABI_VERSION changes whenever the header or the meaning
 * of an existing parameter changes. Appending a new event type or a new trailing
 * parameter to an event does not change it: readers ignore parameters past the
 * ones they know and reject unknown event types with a clear error.
 */
#ifndef VIGIL_EVENT_H
#define VIGIL_EVENT_H

#ifdef __VIGIL_BPF__
/* vmlinux.h provides the fixed-width types in kernel programs */
#else
#include <linux/types.h>
#endif

#define VG_EVENT_ABI_VERSION 1

/* Limits of what the kernel side copies; documented in docs/events.md. */
#define VG_COMM_LEN 16
#define VG_PATH_MAX 4096      /* longest path or string parameter, bytes incl. NUL */
#define VG_PATH_COMPONENTS 48 /* deepest path the kernel walks; deeper paths start with "..." */
#define VG_ARGV_MAX 4096      /* bytes of argv kept at exec (NUL-separated) */
#define VG_SOCKADDR_MAX 128   /* bytes of a user sockaddr kept (covers sockaddr_un) */
#define VG_RECORD_MAX 32768   /* largest record the kernel emits */

/* Event types. The numbering is part of the ABI: append only. */
enum vg_event_type {
	VG_EVT_UNKNOWN = 0,
#define VG_EVENT(id, name, category, flags, ...) VG_EVT_##id,
#include "vigil/events.def"
#undef VG_EVENT
	VG_EVT_MAX
};

enum vg_category {
	VG_CAT_PROCESS = 1,
	VG_CAT_FILE,
	VG_CAT_NETWORK,
	VG_CAT_PRIVILEGE,
	VG_CAT_INTERNAL, /* cgroup paths, state snapshots: not syscalls */
	VG_CAT_SENSOR,   /* the sensor's own condition, as the agent reports it (sensor_flood): rules see it */
};

/* Per-event flags (events.def). */
#define VG_EF_DEFAULT 0x1   /* captured unless the user names a syscall list */
#define VG_EF_SYSCALL 0x2   /* a syscall, emitted at its exit */
#define VG_EF_USERSPACE 0x4 /* synthesised by userspace, never by the kernel */

/*
 * How the kernel fills a parameter (what is in its bytes):
 *   ARG        8 bytes: the raw syscall argument `arg`
 *   USER_U64   8 bytes: the u64 at user pointer argument `arg` + `aux` bytes
 *   STR        a user string at argument `arg`, NUL-terminated ("" if unreadable)
 *   PATH       "raw\0base\0": the user path at `arg`; when it is relative,
 *              base is the directory it is relative to: the cwd, or the path
 *              of the directory fd in argument `aux` (aux = VG_AUX_CWD: cwd)
 *   FD_PATH    "path\0": the path of the open fd in argument `arg`
 *   SOCKADDR   the raw user sockaddr at `arg`, its length in argument `aux`
 *   TUPLE      struct vg_tuple of the socket fd in argument `arg`
 *              (arg = VG_ARG_RET: the fd the syscall returned)
 *   EXE        at a successful exec: "/abs/exe\0\0" from the new image;
 *              on failure: like PATH for argument `arg`, dirfd `aux`
 *   ARGV       argv, NUL-separated, at most VG_ARGV_MAX bytes; from the new
 *              image on success, from user argument `arg` on failure
 *   CWD        "path\0": the task's working directory
 *   EXE_INFO   struct vg_exe_info of the new image (0 bytes on failure)
 *   KSTR       a kernel-side string prepared by the program (cgroup path)
 */
enum vg_capture_kind {
	VG_CK_NONE = 0,
	VG_CK_ARG,
	VG_CK_USER_U64,
	VG_CK_STR,
	VG_CK_PATH,
	VG_CK_FD_PATH,
	VG_CK_SOCKADDR,
	VG_CK_TUPLE,
	VG_CK_EXE,
	VG_CK_ARGV,
	VG_CK_CWD,
	VG_CK_EXE_INFO,
	VG_CK_KSTR,
	VG_CK_BLOB, /* userspace-synthesised bytes (state records) */
	VG_CK_ENV,  /* at a successful exec: the environment, NUL-separated, at most
		     * VG_ARGV_MAX bytes, from the new image (0 bytes on failure) */
	VG_CK_PIDFD,    /* 8 bytes: the host pid of the pidfd in argument `arg`, 0 if it is none */
	VG_CK_BPF_PATH, /* bpf(2) BPF_OBJ_PIN / BPF_OBJ_GET: the pin path at attr.pathname
			 * (attr is argument `arg`), NUL-terminated; "" for other commands */
};

#define VG_AUX_CWD 0xff /* PATH/EXE aux: relative to the cwd */
#define VG_ARG_RET 0xff /* TUPLE arg: the returned fd */

/* How userspace shows a parameter. */
enum vg_param_format {
	VG_PF_NONE = 0,
	VG_PF_DEC,        /* signed decimal of an int argument (32 bits) */
	VG_PF_DEC64,      /* signed decimal, 64 bits (lengths, offsets) */
	VG_PF_UDEC,       /* unsigned decimal */
	VG_PF_HEX,        /* hexadecimal */
	VG_PF_OCT,        /* file mode, octal */
	VG_PF_FD,         /* file descriptor (AT_FDCWD shown as -100) */
	VG_PF_STR,        /* string */
	VG_PF_PATH,       /* resolved absolute path */
	VG_PF_ARGV,       /* string array */
	VG_PF_SOCKADDR,   /* address: ip:port, [ip6]:port, unix path */
	VG_PF_TUPLE,      /* local -> remote socket addresses */
	VG_PF_OPEN_FLAGS, /* O_* names */
	VG_PF_CLONE_FLAGS,/* CLONE_* names */
	VG_PF_SIGNAL,     /* signal number and name */
	VG_PF_EXE_INFO,   /* exe inode and flags */
	VG_PF_JSON,       /* a JSON object (state records) */
};

#define VG_MAX_PARAMS 8

/*
 * Record header. 128 bytes, naturally aligned; identical in the kernel,
 * userspace and capture files (little-endian, x86-64 and arm64).
 */
struct vg_event_hdr {
	__u64 ts;        /* CLOCK_BOOTTIME, ns */
	__u64 cgroup_id; /* cgroup v2 id (= inode of its directory) */
	__u64 cap_eff;   /* effective capabilities after the syscall */
	__u64 cap_prm;   /* permitted capabilities after the syscall */
	__s64 retval;    /* syscall return value; procexit: the wait status */
	__u32 len;       /* bytes in the record, header included */
	__u16 type;      /* enum vg_event_type */
	__u16 nparams;
	__u32 tid, pid, ppid;   /* host pid namespace */
	__u32 vtid, vpid;       /* in the task's own pid namespace */
	__u32 sid;              /* session id (session leader's host pid) */
	__u32 uid, gid, euid, egid;
	__u32 loginuid;         /* audit login uid; 4294967295 when unset */
	__u32 tty;              /* controlling tty as major<<20|minor, 0 if none */
	__u32 pidns, mntns, netns; /* namespace inode numbers */
	__u16 cpu;
	__u16 flags;            /* VG_HDR_* */
	char comm[VG_COMM_LEN];
};

#define VG_HDR_IA32 0x1 /* a 32-bit (int 0x80 / compat) syscall: numbers and args as i386 */
/* the kernel program sent SIGKILL on this syscall's exit (include/vigil/kill.h);
 * bits 8-15 hold the index of the kill term that matched */
#define VG_HDR_KILLED 0x2
#define VG_HDR_KILL_TERM(flags) (((flags) >> 8) & 0xff)
/* an io_uring operation, not a syscall (src/bpf/lib/uring.bpf.h): the record's type is
 * the syscall twin (openat, openat2, connect) or io_uring_op, its retval the CQE's result */
#define VG_HDR_IO_URING 0x4
/* io_uring with IOSQE_CQE_SKIP_SUCCESS: written at submission, no result will be posted
 * (retval 0: what the operation returns on success, if it succeeds) */
#define VG_HDR_NO_RESULT 0x8

/* The io_uring operations the kernel writes (vg_uring_want): by the event type they are written as. */
#define VG_URING_WANT_OPENAT 0x1
#define VG_URING_WANT_OPENAT2 0x2
#define VG_URING_WANT_CONNECT 0x4
#define VG_URING_WANT_OP 0x8 /* io_uring_op: every other operation */

/* Socket endpoints of a connected or bound socket, as the kernel holds them. */
struct vg_tuple {
	__u16 family; /* AF_INET, AF_INET6, AF_UNIX, 0 if not a socket */
	__u16 sport;  /* host byte order */
	__u16 dport;
	__u16 pad;
	__u8 saddr[16]; /* IPv4 in the first 4 bytes */
	__u8 daddr[16];
};

#define VG_EXE_UPPER_LAYER 0x1 /* on an overlayfs upper layer (written after start) */
#define VG_EXE_MEMFD 0x2       /* a memfd: fileless execution */
#define VG_EXE_DELETED 0x4     /* unlinked */

struct vg_exe_info {
	__u64 ino;
	__u32 dev;
	__u32 flags; /* VG_EXE_* */
};

/* Kernel-side counters, one set per CPU (map vg_stats_map). */
struct vg_kernel_stats {
	__u64 emitted;   /* records written to the ring buffer */
	__u64 lost_full; /* records lost: ring buffer full */
	__u64 truncated; /* records whose parameters were cut to fit */
	__u64 killed;    /* processes killed by a kill term (include/vigil/kill.h) */
	__u64 kill_limited; /* kill terms that matched past VG_KILL_PER_SEC: left to userspace */
	__u64 shed;      /* records dropped by the per-cgroup fairness (include/vigil/fair.h) */
	__u64 rerun;     /* program runs the kernel skipped for recursion and a second copy did */
};

#ifndef __VIGIL_BPF__
_Static_assert(sizeof(struct vg_event_hdr) == 128, "event header is ABI");
_Static_assert(sizeof(struct vg_tuple) == 40, "tuple is ABI");
_Static_assert(sizeof(struct vg_exe_info) == 16, "exe info is ABI");
#endif

#endif /* VIGIL_EVENT_H */
