/* SPDX-License-Identifier: Apache-2.0 */
/*
 * In-kernel dropping of events no consumer can use: the kernel/user ABI of the
 * keep filter (src/engine/kdrop.c compiles it, src/sensor/source_bpf.c loads
 * it, src/bpf/lib/kdrop.bpf.h tests it in the sys_exit program).
 *
 * Per event type, either every event is kept, or an event is kept when one of
 * the type's keep terms matches it. Each term is a necessary condition of some
 * rule (or another consumer's need) restricted to what the kernel can test; a
 * term never rejects an event its rule could match, so what is dropped could
 * not have raised an alert. A test the kernel cannot decide on one event (a
 * cgroup not yet classified, a path it cannot read or that is not in its
 * normal form) keeps the event.
 *
 * The terms of type T are terms[first[T] .. first[T] + count[T]); a term's
 * index within its type (0..63) is its bit in the path masks.
 */
#ifndef VIGIL_KDROP_H
#define VIGIL_KDROP_H

#ifndef __VIGIL_BPF__
#include <linux/types.h>
#endif

#define VG_KDROP_TERMS 512     /* terms the kernel holds (every type together) */
#define VG_KDROP_TYPE_TERMS 64 /* terms of one type (bits of a path mask) */
#define VG_KDROP_VALS 4        /* uids of one set */
#define VG_KDROP_NAMES 4096    /* process names of every term together */
#define VG_KDROP_PATH 64       /* bytes of a path key: longer literals are not tested */
#define VG_KDROP_PATHS 4096    /* path keys (literals and the prefixes leading to them) */
#define VG_KDROP_PLENS 16      /* distinct prefix lengths tested */
#define VG_KDROP_SCAN 256      /* a path longer than this is kept (not scanned) */

/* what the type's terms need: enum, one per type */
enum vg_kdrop_mode {
	VG_KDROP_KEEP_ALL = 0, /* every event of the type is kept */
	VG_KDROP_FILTER = 1,   /* kept when one of its terms matches */
};

/* which side of the cgroup (the same values as vg_kill_where) */
#define VG_KDROP_CONTAINER 1
#define VG_KDROP_HOST 2

#define VG_KDROP_NAMES_IN 0x1
#define VG_KDROP_NAMES_OUT 0x2

/* One conjunction. An empty set (count 0) or a zero mask does not constrain. */
struct vg_kdrop_term {
	__s64 res_lo, res_hi;           /* return value within [lo, hi] */
	__u32 uid_in[VG_KDROP_VALS];    /* effective uid one of these */
	__u32 uid_out[VG_KDROP_VALS];   /* effective uid none of these */
	__u32 flags_all;                /* opens: every one of these O_* bits set */
	__u8 n_uid_in, n_uid_out;
	__u8 where;                     /* VG_KDROP_CONTAINER / _HOST, 0: either */
	__u8 names;                     /* VG_KDROP_NAMES_* */
	__u8 acc;                       /* opens: 1 << (flags & O_ACCMODE) must be in it; 0: any */
	__u8 path;                      /* opens: the path must be one of this term's literals */
	__u8 pad[2];
};

/* A term's process name (comm, NUL-padded): userspace's term-by-term form; the kernel gets vg_kdrop_comm. */
struct vg_kdrop_name {
	__u32 term; /* global index */
	__u32 set;  /* VG_KDROP_NAMES_IN or VG_KDROP_NAMES_OUT */
	char comm[16];
};

/*
 * Key of vg_kdrop_comms: a process name some of one type's terms test (comm,
 * NUL-padded; type | bank << 15 in the kernel). Value: the type's terms
 * (bit: index within the type) whose IN set, and whose OUT set, holds it, so
 * that one lookup tests the names of every term of the type.
 */
struct vg_kdrop_comm {
	__u16 type;
	__u16 pad[3];
	char comm[16];
};

struct vg_kdrop_comm_val {
	__u64 in, out;
};

/*
 * Key of vg_kdrop_paths: the first len bytes of a path, NUL-padded (len 0:
 * the whole path, an exact literal). Value: the mask of the type's terms the
 * key satisfies (a prefix of a longer literal is stored with mask 0, so that
 * a miss ends the walk over the lengths).
 */
struct vg_kdrop_path {
	__u16 type;
	__u16 len;
	char s[VG_KDROP_PATH];
};

/*
 * The cheap tests of one type's terms, by dimension (bit j: the type's term
 * j), so that the kernel rejects most events with a few loads and ANDs, with
 * no per-term loop: the terms in play are sign[ret < 0] & acc[flags & 3] &
 * noreq[k] for every required flag fbit[k] not set & side[the cgroup's side];
 * then, when some left test process names, one vg_kdrop_comms lookup of the
 * comm removes those whose names it fails (names_in & ~in, names_out & out).
 * None left: dropped. One with no other test (not in exact or path): kept.
 * Otherwise the terms in exact are tested one by one (vg_kdrop_term), then
 * the path decides for those in path.
 */
#define VG_KDROP_FBITS 8 /* distinct required O_* bits of one type (more: those terms are exact) */
struct vg_kdrop_fast {
	__u64 side[4];               /* by side: 0 not known (every term), VG_KDROP_CONTAINER, VG_KDROP_HOST */
	__u64 sign[2];               /* [0]: result >= 0, [1]: < 0; terms whose range meets it */
	__u64 acc[4];                /* opens: by flags & O_ACCMODE */
	__u64 noreq[VG_KDROP_FBITS]; /* terms that do not require fbit[k] */
	__u32 fbit[VG_KDROP_FBITS];  /* a flag bit some term requires; 0: unused */
	__u64 exact;                 /* terms with a test the masks do not make (range, uids) */
	__u64 path;                  /* terms that need the open's path */
	__u8 exact_lo, exact_hi;     /* the exact terms are within [lo, hi) */
	__u8 pad[6];
	__u64 names_in, names_out;   /* terms with an IN, an OUT set of process names (vg_kdrop_comms) */
};

/*
 * A filter in front of the path lookups: bit vg_kdrop_bloom_bit(type, w) of
 * a bank's VG_KDROP_BLOOM bits is set for every path key of the shortest
 * prefix length plen[0] (w: its first min(plen[0], 8) bytes, little-endian,
 * zero above). A path at least plen[0] long whose bit is clear has no key of
 * that length, so no literal, exact or prefix, can match it: it is decided
 * without a hash lookup. A set bit decides nothing (the lookups follow).
 * The bits vg_kdrop_comm_bit() of every vg_kdrop_comms key are set in the
 * same bits: a comm whose bit is clear is in no set of the type's terms.
 */
#define VG_KDROP_BLOOM_LOG2 15
#define VG_KDROP_BLOOM (1u << VG_KDROP_BLOOM_LOG2)

static inline __u32 vg_kdrop_bloom_bit(__u32 type, __u64 w)
{
	__u64 h = (w ^ ((__u64)type * 0x9e3779b97f4a7c15ull)) * 0xbf58476d1ce4e5b9ull;
	h ^= h >> 31;
	h *= 0x94d049bb133111ebull;
	return (__u32)(h >> (64 - VG_KDROP_BLOOM_LOG2));
}

/* The bloom bit of a vg_kdrop_comms key: c0, c1 the comm's two words (little-endian). */
static inline __u32 vg_kdrop_comm_bit(__u32 type, __u64 c0, __u64 c1)
{
	return vg_kdrop_bloom_bit(type | 0x100, c0 ^ (c1 * 0xff51afd7ed558ccdull));
}

#ifndef __VIGIL_BPF__
_Static_assert(sizeof(struct vg_kdrop_fast) == 216, "kdrop fast masks are ABI");
_Static_assert(sizeof(struct vg_kdrop_comm) == 24, "kdrop comm key is ABI");
_Static_assert(sizeof(struct vg_kdrop_term) == 64, "kdrop term is ABI");
_Static_assert(sizeof(struct vg_kdrop_path) == 4 + VG_KDROP_PATH, "kdrop path key is ABI");
#endif

#endif
