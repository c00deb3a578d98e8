/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every map and global of the kernel side, each with why it has its type and size.
 */
#ifndef VIGIL_BPF_MAPS_H
#define VIGIL_BPF_MAPS_H

#define VG_SYSCALL_MAX 512 /* x86-64 syscall numbers are below 512 */
#define VG_SCRATCH_SIZE (2 * VG_RECORD_MAX) /* masked offsets may overshoot by one record */
#define VG_TMP_SIZE (2 * VG_PATH_MAX)

/* Read-only configuration, set by userspace between open and load. */
const volatile __u32 vg_self_tgid = 0;         /* the agent: never traced (no feedback loop) */
const volatile __u32 vg_wakeup_bytes = 65536;  /* wake the reader only when this much is queued */

/*
 * syscall number -> event type (0: not wanted). In .bss, so that userspace can
 * change the wanted set at run time through the mmapped skeleton; the check is
 * the first thing the program does, so an unwanted syscall costs one load.
 */
__u16 vg_syscall_event[VG_SYSCALL_MAX];
/* The same for 32-bit syscalls (int 0x80, compat tasks): i386 numbering, so
 * that a process cannot hide a syscall by making it through the other ABI. */
__u16 vg_syscall_event_ia32[VG_SYSCALL_MAX];
/* procexit wanted (it is not a syscall, so it has no slot above). */
__u8 vg_want_procexit;

/*
 * The one ring buffer every record goes through: a single buffer keeps records
 * globally ordered (a fork is always seen before the child's first syscall).
 * Its size is set by userspace before load (--ring-mb); the default 16 MiB holds
 * ~100k typical records, a few hundred ms of a syscall storm.
 */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} vg_events SEC(".maps");

/*
 * Per-CPU scratch space where a record is assembled before one copy into the
 * ring buffer. A plain array indexed by CPU (not PERCPU_ARRAY, whose values
 * are limited to 32 KiB). Recursion on one CPU cannot happen: the kernel does
 * not run a tracing program re-entrantly on the same CPU (it counts a miss).
 */
struct vg_scratch {
	__u32 off;  /* bytes of the record written so far */
	__u32 nparams;
	char buf[VG_SCRATCH_SIZE];
	char tmp[VG_TMP_SIZE]; /* paths are assembled here right to left */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256); /* resized to the number of possible CPUs */
	__type(key, __u32);
	__type(value, struct vg_scratch);
} vg_scratch_map SEC(".maps");

/* Counters, per CPU so that the hot path never shares a cache line. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vg_kernel_stats);
} vg_stats_map SEC(".maps");

/*
 * cgroups whose path userspace has been sent. A miss makes the program emit a
 * CGROUP record before the event, so the path is known even when the cgroup is
 * gone by the time userspace reads the event (short-lived containers). LRU: an
 * eviction only costs one more CGROUP record. 16384 live cgroups per node is
 * far above what a node runs.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u8);
} vg_known_cgroups SEC(".maps");

/*
 * In-kernel kill (include/vigil/kill.h). The terms are an array userspace
 * fills, then publishes by setting vg_nkill (0 first while it rewrites them, so
 * the program never tests a half-written set: in that window the kill is left
 * to userspace). Process names are a hash keyed by (term, set, comm): one
 * lookup per term instead of a loop over names.
 */
__u32 vg_nkill;
__u64 vg_kill_second;     /* the second vg_kill_count counts (CLOCK_BOOTTIME) */
__u32 vg_kill_count;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VG_KILL_TERMS);
	__type(key, __u32);
	__type(value, struct vg_kill_term);
} vg_kill_terms SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VG_KILL_NAMES);
	__type(key, struct vg_kill_name);
	__type(value, __u8);
} vg_kill_names SEC(".maps");

/*
 * cgroup id -> VG_KILL_CONTAINER or VG_KILL_HOST, as userspace's container
 * table classified it (it parses the cgroup path). A cgroup not (yet) in the
 * map matches no term that names a side: such an event is left to userspace.
 * LRU for the same reason as vg_known_cgroups: an eviction only costs that.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u8);
} vg_cgroup_side SEC(".maps");


/*
 * Network flows (src/bpf/lib/flow.bpf.h, docs/flows.md). Which flow records
 * are wanted (VG_WANT_FLOW_* of include/vigil/flow.h): in .bss, so that
 * userspace turns them on and off at run time like the syscall table.
 */
__u32 vg_want_flow;

/*
 * Per-socket flow state: the owner's record header, when the flow opened and
 * (UDP) its counts. Socket-local storage, not a hash: it lives and dies with
 * the socket (no stale entries, no size to choose: one value per tracked
 * socket, about 260 bytes, so 100,000 connections cost about 26 MiB of kernel
 * memory), it is found from the socket in O(1) by every program type here
 * (tracepoints, cgroup programs, iterators), and BPF_F_CLONE hands a
 * listener's state to the connections it accepts.
 */
struct vg_flow_sk {
	struct vg_event_hdr owner; /* pid 0: not known yet (a passive open before its first read/write) */
	__u64 start_ns;
	__u64 bytes_out, bytes_in, pkts_out, pkts_in; /* UDP only: TCP's are read from tcp_sock */
	struct vg_tuple tuple; /* the ends at the last report or datagram (a closing
				* socket no longer tells them all) */
	__u8 dir;   /* VG_FLOW_REC_OUT / _IN */
	__u8 flags; /* VG_FSK_* */
	__u8 pad[6];
};

#define VG_FSK_ESTABLISHED 0x1 /* TCP reached ESTABLISHED / UDP carried a datagram */
#define VG_FSK_OPEN_SENT 0x2   /* the OPEN report was written */
#define VG_FSK_CLOSED 0x4      /* the CLOSE report was written: nothing more */
#define VG_FSK_OWNED 0x8       /* owner holds a process (else only cgroup and netns) */
#define VG_FSK_DNS_SEEN 0x10   /* TCP from port 53: its first segment with data was reported */

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC | BPF_F_CLONE);
	__type(key, int);
	__type(value, struct vg_flow_sk);
} vg_flow_sks SEC(".maps");

/*
 * Where a DNS answer's record is assembled (too big for the BPF stack). Only
 * the cgroup_skb ingress program writes it, which never nests with itself on
 * one CPU (it runs in softirq, or with bottom halves off).
 */
struct vg_flow_dns_buf {
	char buf[1024 + 256]; /* a record of at most 704 bytes; the verifier sees offsets up to 1023 + 192 */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vg_flow_dns_buf);
} vg_flow_dns_scratch SEC(".maps");

/*
 * How deep the TCP state program is on each CPU: above 0 while its body runs.
 * The kernel skips a program that a softirq interrupts with its own tracepoint
 * (its per-program recursion guard); a second copy attached to the same
 * tracepoint sees the count above 0 then, and does that run's work
 * (lib/flow.bpf.h, vg_flow_tcp_state_nested).
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} vg_flow_depth SEC(".maps");

/*
 * io_uring (lib/uring.bpf.h). Which operations are wanted, VG_URING_WANT_*
 * bits (vigil/event.h) set by userspace with the wanted event types (.bss:
 * changed at run time).
 */
__u8 vg_uring_want;

/*
 * What an open or connect names, copied when it is submitted (the kernel frees
 * the filename before the completion), until its completion writes the record.
 */
struct vg_uring_pending {
	__u32 opcode;
	__s32 dfd;      /* open: directory fd; connect: the socket fd as submitted */
	__u64 flags, mode, resolve;
	__u32 addrlen;
	__u32 pad;
	__u8 addr[VG_SOCKADDR_MAX];
	char path[VG_PATH_MAX];
};

/*
 * io_kiocb address -> its pending open or connect. LRU, 512 in flight (2.2 MiB,
 * preallocated): a request evicted by a flood of opens that never complete is
 * still written at its completion, with the path of the file it opened (a failed
 * open then has no path). Requests with IOSQE_CQE_SKIP_SUCCESS never get here:
 * they are written at submission.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 512);
	__type(key, __u64);
	__type(value, struct vg_uring_pending);
} vg_uring_pending SEC(".maps");

/* One pending value per CPU to build on (4.3 KiB: far above the 512-byte stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vg_uring_pending);
} vg_uring_tmp SEC(".maps");


/*
 * Floods (src/bpf/lib/fair.bpf.h, include/vigil/fair.h): per-cgroup fairness
 * of the ring buffer and lost records by cgroup. Knobs set by userspace before
 * load: while more than vg_fair_pressure_bytes are queued, a cgroup writes on
 * average one KiB per vg_fair_ns_per_kib, in bursts of vg_fair_tolerance_ns
 * worth; past vg_fair_critical_bytes, a quarter of that burst. 0 ns per KiB
 * turns the fairness off (losses are still counted by cgroup).
 */
#include "vigil/fair.h"
const volatile __u64 vg_fair_pressure_bytes = 8 << 20;
const volatile __u64 vg_fair_critical_bytes = 14 << 20;
const volatile __u64 vg_fair_ns_per_kib = 976562;       /* 1 MiB/s */
const volatile __u64 vg_fair_tolerance_ns = 1000000000; /* 1 MiB of burst */

/*
 * cgroup id -> its share and its losses. LRU: a cgroup evicted under a flood
 * of cgroups (more than VG_FAIR_CGROUPS) starts again with a full share and
 * zero counts (userspace has read the counts it had at least once a second).
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VG_FAIR_CGROUPS);
	__type(key, __u64);
	__type(value, struct vg_fair_cgroup);
} vg_fair_cgroups SEC(".maps");

/*
 * In-kernel dropping (include/vigil/kdrop.h, lib/kdrop.bpf.h). Two banks of
 * tables: userspace writes the bank the program is not reading, then flips
 * vg_kdrop_bank, so a reload swaps the whole filter at once. vg_kdrop_on 0:
 * every event is kept (capture, --no-kernel-filter, or before the first plan).
 */
__u32 vg_kdrop_on;
__u32 vg_kdrop_bank;
__u8 vg_kdrop_mode[2][128];  /* enum vg_kdrop_mode per event type */
__u16 vg_kdrop_first[2][128];
__u8 vg_kdrop_count[2][128];
__u16 vg_kdrop_plen[2][VG_KDROP_PLENS];
__u32 vg_kdrop_nplen[2];

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * VG_KDROP_TERMS);
	__type(key, __u32);
	__type(value, struct vg_kdrop_term);
} vg_kdrop_terms SEC(".maps");

/* (type | bank << 15, comm) -> the type's terms whose IN, OUT set of names holds it */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * VG_KDROP_NAMES);
	__type(key, struct vg_kdrop_comm);
	__type(value, struct vg_kdrop_comm_val);
} vg_kdrop_comms SEC(".maps");

/* (type | bank << 15, len, bytes) -> mask of the type's terms */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * VG_KDROP_PATHS);
	__type(key, struct vg_kdrop_path);
	__type(value, __u64);
} vg_kdrop_paths SEC(".maps");

/* events dropped, per event type and CPU */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 128);
	__type(key, __u32);
	__type(value, __u64);
} vg_kdrop_dropped SEC(".maps");

/* the cheap tests of each type's terms, per bank (include/vigil/kdrop.h) */
struct vg_kdrop_fast vg_kdrop_fast[2][128];
/* per bank: the filter in front of the path lookups (include/vigil/kdrop.h) */
__u64 vg_kdrop_bloom[2][VG_KDROP_BLOOM / 64];

/*
 * Each CPU's last vg_cgroup_side answer, for the in-kernel filter
 * (lib/kdrop.bpf.h kdrop_side): valid while vg_cgroup_side_gen, which
 * userspace bumps after each change of vg_cgroup_side, is what it was read
 * with. tag binds the three fields (a torn entry does not pass).
 */
struct vg_side_cache {
	__u64 cgid, gen, tag;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vg_side_cache);
} vg_kdrop_side_cache SEC(".maps");

__u64 vg_cgroup_side_gen;

#endif
