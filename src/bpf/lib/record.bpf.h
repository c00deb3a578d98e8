/* SPDX-License-Identifier: GPL-2.0 */
/**
 * DOC: the record under construction
 *
 * The record under construction: a per-CPU scratch buffer (struct
 * vg_scratch in maps.h) holding the header and the parameters, each a u16
 * length and a body; lib/submit.bpf.h fills the header and sends it.
 *
 * Every variable offset into buf[] and tmp[] goes through rec_index() or
 * tmp_index(): the mask, kept by barrier_var, is what lets the verifier
 * accept the access. A parameter that does not fit in the VG_RECORD_MAX
 * bytes left is written empty and counted in vg_kernel_stats.truncated.
 */
#ifndef VIGIL_BPF_LIB_RECORD_H
#define VIGIL_BPF_LIB_RECORD_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "vigil/event.h"
#include "maps.h"

#define REC_MASK (VG_RECORD_MAX - 1)
#define TMP_MASK (VG_PATH_MAX - 1)

/**
 * scratch_get() - this CPU's scratch buffer
 *
 * Return: the buffer; NULL only if the lookup fails, which callers must
 * still check for the verifier.
 */
static __always_inline struct vg_scratch *scratch_get(void)
{
	__u32 cpu = bpf_get_smp_processor_id();
	return bpf_map_lookup_elem(&vg_scratch_map, &cpu);
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

#endif
