/* SPDX-License-Identifier: GPL-2.0 */
/**
 * DOC: in-kernel dropping
 *
 * The keep filter (include/vigil/kdrop.h) tested before a record is built:
 * an event of a filtered type is dropped unless one of its type's terms can
 * match it. The cheap tests come first (result, cgroup side, comm, euid, an
 * open's access mode and flags); the path of an open is read only when every
 * term still in play needs it, and then only as the raw user string: an
 * absolute path in normal form (no "//", ".", ".." components, no trailing
 * slash) is what the engine's fd.name is, and is looked up by prefixes of
 * the lengths userspace chose, then whole. Anything the program cannot
 * decide keeps the event: a cgroup userspace has not classified, a path it
 * cannot read, a relative one, one longer than VG_KDROP_SCAN bytes.
 *
 * Cost: a dropped event costs the tests, never read_args, fill_header, the
 * path walk or the ring buffer. The cheap tests are per-type masks (struct
 * vg_kdrop_fast: result sign, access mode, required flags, side, names) ANDed
 * in a few loads, with no per-term loop; the cgroup's side is looked up only
 * when the terms left differ on it (from a per-CPU cache of the last answer);
 * the process names of every term with one lookup of the comm (read from the
 * task, no helper), none when the comm's bloom bit is clear; only the terms
 * left that test more (a narrower result range, uids) are walked, within
 * their index range; the path last. A miss on a path prefix also rules out
 * the exact literals (userspace stores their prefixes as keys too), and a
 * clear bloom bit of the shortest prefix is such a miss without a lookup, so
 * a path no literal starts like costs the string read, its scan and a few
 * loads. Limits: VG_KDROP_TYPE_TERMS terms per type, path literals of fewer
 * than VG_KDROP_PATH bytes (longer prefixes are cut: weaker).
 */
#ifndef VIGIL_BPF_LIB_KDROP_H
#define VIGIL_BPF_LIB_KDROP_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "vigil/event.h"
#include "vigil/kdrop.h"
#include "maps.h"
#include "args.bpf.h"
#include "record.bpf.h"

#define KDROP_O_CREAT 0100
#define KDROP_O_WRONLY 01
#define KDROP_O_TRUNC 01000

static __always_inline int kdrop_in_u32(const __u32 *set, __u8 n, __u32 v)
{
	for (int i = 0; i < VG_KDROP_VALS; i++)
		if (i < n && set[i] == v)
			return 1;
	return 0;
}

/**
 * kdrop_term() - whether keep term i can match the returning syscall
 * @i: the term's index in vg_kdrop_terms (bank included)
 * @ret: the return value
 * @flags: an open's flags (0 for other types)
 * @side: the cgroup's side, 0 when not known
 * @euid: the effective uid
 *
 * Return: 0 no, 1 yes, 2 yes if the open's path is one of the term's.
 */
__noinline int kdrop_term(__u32 i, long ret, __u32 flags, __u32 side, __u32 euid)
{
	__u32 k = i;
	struct vg_kdrop_term *t = bpf_map_lookup_elem(&vg_kdrop_terms, &k);

	if (!t)
		return 1; /* cannot be: keep */
	if (ret < t->res_lo || ret > t->res_hi)
		return 0;
	if (t->where && side && side != t->where)
		return 0;
	if ((t->n_uid_in && !kdrop_in_u32(t->uid_in, t->n_uid_in, euid)) ||
	    kdrop_in_u32(t->uid_out, t->n_uid_out, euid))
		return 0;
	if (t->acc && !(t->acc & (1 << (flags & 3))))
		return 0;
	if ((flags & t->flags_all) != t->flags_all)
		return 0;
	if (t->path)
		return 2; /* its names are not tested: the path decides (weaker, and one lookup for all) */
	return 1; /* its names, if any, were tested with every term's (kdrop_names) */
}

/* w with its bytes from the first NUL on cleared; *end set when it has a NUL. */
static __always_inline __u64 kdrop_cut_nul(__u64 w, int *end)
{
	const __u64 lo7 = 0x7f7f7f7f7f7f7f7full;
	__u64 z = ~(((w & lo7) + lo7) | w | lo7); /* 0x80 in each byte that is 0, exactly */

	if (!z)
		return w;
	*end = 1;
	return w & (((z & -z) >> 7) - 1);
}

/**
 * kdrop_names() - the type's terms whose process names the current thread passes
 * @slot: the type with the bank bit (the key's type)
 * @f: the type's masks
 *
 * One lookup of the comm, read with two loads from the task (NUL-padded as
 * bpf_get_current_comm() gives it, without the helper call), for every term;
 * none when its bloom bit is clear (no set of the type holds it).
 *
 * Return: the mask of terms not ruled out by their names.
 */
static __always_inline __u64 kdrop_names(__u32 slot, const struct vg_kdrop_fast *f)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct vg_kdrop_comm key = { .type = slot };
	int end = 0;
	__u64 c0 = kdrop_cut_nul(*(const __u64 *)&task->comm[0], &end), c1 = 0;

	if (!end)
		c1 = kdrop_cut_nul(*(const __u64 *)&task->comm[8], &end);
	__u32 b = vg_kdrop_comm_bit(slot & 0x7fff, c0, c1);
	if (!((vg_kdrop_bloom[(slot >> 15) & 1][(b / 64) & (VG_KDROP_BLOOM / 64 - 1)] >> (b & 63)) & 1))
		return ~f->names_in; /* in no set: no IN set holds it, every OUT set lets it through */
	__builtin_memcpy(&key.comm[0], &c0, 8);
	__builtin_memcpy(&key.comm[8], &c1, 8);
	const struct vg_kdrop_comm_val *v = bpf_map_lookup_elem(&vg_kdrop_comms, &key);
	__u64 in = v ? v->in : 0, out = v ? v->out : 0;
	return ~(f->names_in & ~in) & ~(f->names_out & out);
}

/*
 * Whether the path in s->tmp (len bytes, absolute) is in normal form: no
 * component empty, "." or "..", no trailing slash.
 */
static __always_inline int kdrop_path_normal(struct vg_scratch *s, __u32 len)
{
	if (len > 1 && s->tmp[tmp_index(len - 1)] == '/')
		return 0;
	for (__u32 i = 0; i < VG_KDROP_SCAN; i++) {
		if (i + 1 >= len)
			break;
		if (s->tmp[tmp_index(i)] != '/')
			continue;
		char a = s->tmp[tmp_index(i + 1)];
		if (a == '/')
			return 0;
		if (a != '.')
			continue;
		char b = s->tmp[tmp_index(i + 2)];
		if (b == '/' || b == 0)
			return 0;
		if (b == '.') {
			char c = s->tmp[tmp_index(i + 3)];
			if (c == '/' || c == 0)
				return 0;
		}
	}
	return 1;
}

/*
 * The path key (slot, len) of the first n bytes of the path in s->tmp (n <
 * VG_KDROP_PATH), built in s->buf (the record is not started yet) with word
 * loads and stores: no helper call, no memset.
 */
static __always_inline struct vg_kdrop_path *kdrop_key(struct vg_scratch *s, __u32 slot, __u32 len, __u32 n)
{
	struct vg_kdrop_path *key = (struct vg_kdrop_path *)s->buf;
	__u64 *d = (__u64 *)key->s;
	const __u64 *w = (const __u64 *)s->tmp;

	key->type = slot;
	key->len = len;
#pragma unroll
	for (__u32 i = 0; i < VG_KDROP_PATH / 8; i++) {
		__u64 v = 0;
		if (8 * i + 8 <= n)
			v = w[i];
		else if (8 * i < n)
			v = w[i] & ((1ull << (8 * (n - 8 * i))) - 1);
		d[i] = v;
	}
	return key;
}

/**
 * kdrop_path_mask() - the terms of the type whose path literals the open's path meets
 * @s: the scratch buffer (its tmp is used; the record is not started yet)
 * @slot: the type with the bank bit (the key's type)
 * @uptr: the user's path
 *
 * Return: the mask of the type's terms (bit: index within the type), every
 * bit when the path cannot be decided.
 */
__noinline __u64 kdrop_path_mask(struct vg_scratch *s, __u32 slot, __u64 uptr)
{
	__u32 bank = (slot >> 15) & 1;
	struct vg_kdrop_path *key;
	__u64 mask = 0, *v;

	if (!s)
		return ~0ull;
	long n = bpf_probe_read_user_str(s->tmp, VG_KDROP_SCAN + 1, (const void *)uptr);
	if (n <= 1 || n > VG_KDROP_SCAN)
		return ~0ull; /* unreadable, empty or too long: keep */
	__u32 len = n - 1;
	if (s->tmp[0] != '/' || !kdrop_path_normal(s, len))
		return ~0ull;
	__u32 np = vg_kdrop_nplen[bank], missed = 0, l0 = vg_kdrop_plen[bank][0];
	if (np && l0 && l0 <= len) {
		/* the bloom bit of the shortest prefix: clear, no key of that length, no literal */
		__u64 w = *(const __u64 *)s->tmp;
		if (l0 < 8)
			w &= (1ull << (8 * l0)) - 1;
		__u32 b = vg_kdrop_bloom_bit(slot & 0x7fff, w);
		if (!((vg_kdrop_bloom[bank][(b / 64) & (VG_KDROP_BLOOM / 64 - 1)] >> (b & 63)) & 1))
			return 0;
	}
	for (__u32 p = 0; p < VG_KDROP_PLENS; p++) {
		if (p >= np)
			break;
		__u32 l = vg_kdrop_plen[bank][p];
		if (l > len || !l || l >= VG_KDROP_PATH)
			break;
		key = kdrop_key(s, slot, l, l);
		v = bpf_map_lookup_elem(&vg_kdrop_paths, key);
		if (!v) {
			missed = 1; /* no literal, prefix or exact, continues this prefix */
			break;
		}
		mask |= *v;
	}
	if (len < VG_KDROP_PATH && !missed) {
		key = kdrop_key(s, slot, 0, len);
		v = bpf_map_lookup_elem(&vg_kdrop_paths, key);
		if (v)
			mask |= *v;
	}
	return mask;
}

/* The tag of a side cache entry: a mix of the cgroup id and generation, the side in its low bits. */
static __always_inline __u64 kdrop_side_tag(__u64 cgid, __u64 gen, __u32 side)
{
	__u64 h = (cgid ^ (gen * 0x9e3779b97f4a7c15ull)) * 0xbf58476d1ce4e5b9ull;
	return (h ^ (h >> 29)) << 2 | (side & 3);
}

/*
 * The current cgroup's side (0 not classified), as vg_cgroup_side holds it:
 * from this CPU's cache when the cgroup and the map's generation are those
 * it was filled with (a run of events of one task costs no hash lookup).
 * The generation is read before the map, and userspace bumps it after
 * changing the map, so a cached answer is never older than the map was.
 */
static __always_inline __u32 kdrop_side(void)
{
	__u64 cgid = bpf_get_current_cgroup_id();
	__u64 gen = *(volatile __u64 *)&vg_cgroup_side_gen;
	__u32 zero = 0;
	struct vg_side_cache *c = bpf_map_lookup_elem(&vg_kdrop_side_cache, &zero);

	if (c && c->cgid == cgid && c->gen == gen) {
		__u64 tag = c->tag;
		if (tag == kdrop_side_tag(cgid, gen, tag & 3))
			return tag & 3;
	}
	__u8 *sidep = bpf_map_lookup_elem(&vg_cgroup_side, &cgid);
	__u32 side = sidep ? *sidep & 3 : 0;
	if (c) {
		c->cgid = cgid;
		c->gen = gen;
		c->tag = kdrop_side_tag(cgid, gen, side);
	}
	return side;
}

struct kdrop_loop {
	__u32 first, lo, n, flags, side, euid, keep;
	long ret;
	__u64 mask, need;
};

/* One term of l->mask, under bpf_loop: the verifier checks it once, not once per term and outcome. */
static int kdrop_step(__u32 i, struct kdrop_loop *l)
{
	i += l->lo;
	if (i >= l->n)
		return 1;
	if (!((l->mask >> (i & 63)) & 1))
		return 0;
	int r = kdrop_term(l->first + i, l->ret, l->flags, l->side, l->euid);
	if (r == 1) {
		l->keep = 1;
		return 1;
	}
	if (r == 2)
		l->need |= 1ull << (i & 63);
	return 0;
}

/**
 * kdrop_decide() - whether an event of a filtered type is kept
 * @s: this CPU's scratch buffer
 * @type: its event type, below 128
 * @ret: its return value
 * @flags: an open's flags (0 for other types)
 * @upath: an open's user path (0 for other types)
 *
 * A global function: verified once, on its own. The cheap tests first, as
 * masks (struct vg_kdrop_fast: result sign, access mode, required flags,
 * then the cgroup's side only when it matters); then, for the terms left
 * that test more (exact ranges, uids, names), the term itself; the path
 * last, for the terms that need it. Counts what it drops per type in
 * vg_kdrop_dropped.
 *
 * Return: 1 keep, 0 drop.
 */
__noinline int kdrop_decide(struct vg_scratch *s, __u32 type, long ret, __u32 flags, __u64 upath)
{
	__u32 bank = vg_kdrop_bank & 1, t = type & 127;
	const struct vg_kdrop_fast *f = &vg_kdrop_fast[bank][t];
	__u64 m = f->sign[ret < 0 ? 1 : 0] & f->acc[flags & 3], need;
	__u32 side = 0;

	if (!s)
		return 1; /* cannot be: keep */
#pragma unroll
	for (int k = 0; k < VG_KDROP_FBITS; k++)
		if (f->fbit[k] && !(flags & f->fbit[k]))
			m &= f->noreq[k];
	if (m && (m & f->side[VG_KDROP_CONTAINER]) != (m & f->side[VG_KDROP_HOST])) {
		side = kdrop_side();
		m &= f->side[side];
	}
	if (m & (f->names_in | f->names_out))
		m &= kdrop_names(t | bank << 15, f);
	if (!m)
		goto drop;
	if (m & ~(f->exact | f->path))
		return 1; /* a term with no other test */
	need = m & f->path & ~f->exact;
	if (m & f->exact) {
		struct task_struct *task = bpf_get_current_task_btf();
		struct kdrop_loop l = {
			.first = vg_kdrop_first[bank][t] + bank * VG_KDROP_TERMS,
			.n = vg_kdrop_count[bank][t],
			.flags = flags,
			.ret = ret,
			.side = side,
			.mask = m & f->exact,
			.lo = f->exact_lo,
		};
		__u32 hi = f->exact_hi;
		if (hi > l.n)
			hi = l.n;
		l.euid = task->cred->euid.val;
		if (hi > l.lo) /* only the range of the exact terms */
			bpf_loop(hi - l.lo, kdrop_step, &l, 0);
		if (l.keep)
			return 1;
		need |= l.need;
	}
	if (need && upath && (kdrop_path_mask(s, t | bank << 15, upath) & need))
		return 1;
drop:;
	__u64 *cnt = bpf_map_lookup_elem(&vg_kdrop_dropped, &t);
	if (cnt)
		(*cnt)++;
	return 0;
}

/*
 * Syscall argument i (0-2) from the saved user registers: direct loads when
 * regs is a BTF pointer (tp_btf, and bpf_task_pt_regs in the per-syscall
 * programs), probe reads in the raw_tp fallback, where it is a plain value.
 */
static __always_inline __u64 kdrop_arg(struct pt_regs *regs, int ia32, int direct, int i)
{
	if (direct) {
		if (ia32)
			return (__u32)(i == 0 ? regs->bx : i == 1 ? regs->cx : regs->dx);
		return i == 0 ? regs->di : i == 1 ? regs->si : regs->dx;
	}
	if (ia32)
		return (__u32)(i == 0 ? BPF_CORE_READ(regs, bx) : i == 1 ? BPF_CORE_READ(regs, cx) : BPF_CORE_READ(regs, dx));
	return i == 0 ? BPF_CORE_READ(regs, di) : i == 1 ? BPF_CORE_READ(regs, si) : BPF_CORE_READ(regs, dx);
}

/**
 * kdrop_keep() - whether the returning syscall's event is kept
 * @s: this CPU's scratch buffer
 * @type: its event type
 * @ret: its return value
 * @regs: the task's saved user registers
 * @ia32: a 32-bit syscall
 * @direct: regs is a BTF pointer (see kdrop_arg)
 *
 * Called before anything of the record is built, before even its arguments
 * are read (an open reads the two it needs); a type that is not filtered
 * costs two loads.
 *
 * Return: 1 keep, 0 drop.
 */
static __always_inline int kdrop_keep(struct vg_scratch *s, __u32 type, long ret, struct pt_regs *regs, int ia32,
				      int direct)
{
	__u32 bank = vg_kdrop_bank & 1, t = type & 127;
	__u32 flags = 0;
	__u64 upath = 0;

	if (!vg_kdrop_on || vg_kdrop_mode[bank][t] != VG_KDROP_FILTER)
		return 1;
	switch (t) {
	case VG_EVT_OPEN:
		flags = kdrop_arg(regs, ia32, direct, 1);
		upath = kdrop_arg(regs, ia32, direct, 0);
		break;
	case VG_EVT_OPENAT:
		flags = kdrop_arg(regs, ia32, direct, 2);
		upath = kdrop_arg(regs, ia32, direct, 1);
		break;
	case VG_EVT_OPENAT2: {
		__u64 fl = 0;
		bpf_probe_read_user(&fl, sizeof(fl), (const void *)kdrop_arg(regs, ia32, direct, 2));
		flags = fl;
		upath = kdrop_arg(regs, ia32, direct, 1);
		break;
	}
	case VG_EVT_CREAT:
		flags = KDROP_O_CREAT | KDROP_O_WRONLY | KDROP_O_TRUNC;
		upath = kdrop_arg(regs, ia32, direct, 0);
		break;
	}
	return kdrop_decide(s, t, ret, flags, upath);
}

#endif
