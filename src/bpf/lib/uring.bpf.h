/* SPDX-License-Identifier: GPL-2.0 */
/**
 * DOC: io_uring operations
 *
 * Operations submitted through io_uring never pass through the syscalls the
 * sys_exit program sees. Two tracepoints of the io_uring core make them
 * visible (docs/platform-notes.md says which kernels have them):
 *
 * - io_uring_submit_req(req) fires once the request is prepared: an open's
 *   path is in the kernel's own copy (struct filename), a connect's address
 *   is read from the submitter's memory (the socket's own tuple, read at
 *   completion, is what it really connected to). Both are kept in
 *   vg_uring_pending, keyed by the request.
 * - io_uring_complete(ctx, req, cqe) fires when the result is posted: the
 *   record is written then, with the result as its retval.
 *
 * An open is written as an openat or openat2 record and a connect as a
 * connect record, with VG_HDR_IO_URING in the header, so that the rules
 * about opens and connects match them unchanged; every other operation, when
 * io_uring_op is wanted, as an io_uring_op record (opcode, path of its file,
 * result). The task at completion may be an io-wq worker thread of the
 * process: the header's comm is then the process's (its leader's), not the
 * worker's "iou-wrk-N".
 *
 * Limits: a request with IOSQE_CQE_SKIP_SUCCESS posts no completion when it
 * succeeds, so it is written at submission (VG_HDR_NO_RESULT, retval 0); a
 * relative path is resolved against the directory fd or cwd at completion;
 * an open evicted from vg_uring_pending (512 in flight) is written with the
 * path of the file it opened, and without a path when it failed or opened a
 * fixed-file slot; a connect's socket fd is the number submitted (a fixed
 * file's index with IOSQE_FIXED_FILE).
 */
#ifndef VIGIL_BPF_LIB_URING_H
#define VIGIL_BPF_LIB_URING_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "vigil/event.h"
#include "maps.h"
#include "cgroup.bpf.h"
#include "kill.bpf.h"
#include "path.bpf.h"
#include "record.bpf.h"
#include "submit.bpf.h"

#define VG_IORING_OP_CONNECT 16
#define VG_IORING_OP_OPENAT 18
#define VG_IORING_OP_OPENAT2 28
#define VG_PF_IO_WORKER 0x00000010 /* include/linux/sched.h */
#define VG_URING_RESOLVE 0x80000000u /* uring_emit: no path kept, take it from the result fd */

/* The event type an opcode is written as, 0 when it has no twin or the twin is not wanted. */
static __always_inline __u32 uring_twin(__u32 op, __u8 want)
{
	if (op == VG_IORING_OP_OPENAT && (want & VG_URING_WANT_OPENAT))
		return VG_EVT_OPENAT;
	if (op == VG_IORING_OP_OPENAT2 && (want & VG_URING_WANT_OPENAT2))
		return VG_EVT_OPENAT2;
	if (op == VG_IORING_OP_CONNECT && (want & VG_URING_WANT_CONNECT))
		return VG_EVT_CONNECT;
	return 0;
}

/* The header of an io_uring record: the flag, and the process's name for a worker's. */
static __always_inline void uring_header(struct vg_scratch *s, __u32 type, long res, __u32 hflags)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct vg_event_hdr *h = (struct vg_event_hdr *)s->buf;

	announce_cgroup(s);
	fill_header(s, type, res);
	h->flags |= VG_HDR_IO_URING | (hflags & 0xffff);
	if (task->flags & VG_PF_IO_WORKER)
		BPF_CORE_READ_INTO(&h->comm, task, group_leader, comm);
}

/* The open's path as PATH writes it, "raw\0base\0", from the kernel copy kept at submission. */
static __noinline void uring_put_path(struct vg_scratch *s, struct vg_uring_pending *p, long res, int resolve)
{
	struct task_struct *task = bpf_get_current_task_btf();
	long n = -1;
	__u32 m;

	if (!s || !p)
		return;
	if (resolve) {
		/* no copy kept: the path of the file the open installed, absolute */
		n = res >= 0 && p->dfd >= 0 ? file_path_at(s, 0, fd_file(task, res)) : 1;
		if (n <= 1)
			*param_body(s, 0) = 0;
		*param_body(s, n & (VG_PATH_MAX - 1)) = 0;
		param_end(s, (n & (VG_PATH_MAX - 1)) + 1);
		return;
	}
	if (room(s) >= 2 * VG_PATH_MAX)
		n = bpf_probe_read_kernel_str(param_body(s, 0), VG_PATH_MAX, p->path);
	if (n <= 0) {
		*param_body(s, 0) = 0;
		n = 1;
	}
	char first = *param_body(s, 0);
	if (n > 1 && first != '/') {
		if (p->dfd == AT_FDCWD)
			m = cwd_at(s, n);
		else
			m = file_path_at(s, n, fd_file(task, p->dfd));
	} else {
		*param_body(s, n) = 0;
		m = 1;
	}
	param_end(s, n + m);
}

/* struct vg_tuple of a socket file (put_tuple of lib/socket.bpf.h, from the file). */
static __noinline void uring_put_tuple(struct vg_scratch *s, struct file *f)
{
	struct vg_tuple t = {};

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

/**
 * uring_emit() - write the record of an io_uring open or connect
 * @s: this CPU's scratch buffer
 * @p: what was kept at submission
 * @req_ptr: the request (struct io_kiocb *)
 * @res: the result posted (0 with VG_HDR_NO_RESULT)
 * @tf: the event type | header flags << 16 | VG_URING_RESOLVE (no path kept)
 *
 * Return: 0.
 */
__noinline int uring_emit(struct vg_scratch *s, struct vg_uring_pending *p, __u64 req_ptr, long res, __u32 tf)
{
	struct io_kiocb *req = (struct io_kiocb *)req_ptr;
	__u32 type = tf & 0xffff, hflags = (tf >> 16) & 0xff;
	__u32 len;

	if (!s || !p)
		return 0;
	uring_header(s, type, res, hflags);
	put_u64(s, (__s64)p->dfd);
	if (type == VG_EVT_CONNECT) {
		len = p->addrlen;
		if (len > VG_SOCKADDR_MAX)
			len = VG_SOCKADDR_MAX;
		if (room(s) < VG_SOCKADDR_MAX)
			len = 0;
		barrier_var(len);
		if (len)
			bpf_probe_read_kernel(param_body(s, 0), len & (2 * VG_SOCKADDR_MAX - 1), p->addr);
		param_end(s, len & (2 * VG_SOCKADDR_MAX - 1));
		uring_put_tuple(s, BPF_CORE_READ(req, file));
	} else {
		uring_put_path(s, p, res, (tf & VG_URING_RESOLVE) != 0);
		put_u64(s, p->flags);
		put_u64(s, p->mode);
		if (type == VG_EVT_OPENAT2)
			put_u64(s, p->resolve);
	}
	if (vg_nkill && !(hflags & VG_HDR_NO_RESULT))
		((struct vg_event_hdr *)s->buf)->flags |= kill_decide(type, res, p->dfd);
	submit(s);
	return 0;
}

/**
 * uring_emit_op() - write an io_uring_op record: opcode, path of the request's file
 * @s: this CPU's scratch buffer
 * @req_ptr: the request (struct io_kiocb *)
 * @op: its opcode
 * @res: the result posted (0 with VG_HDR_NO_RESULT)
 * @hflags: header flags to add
 *
 * Return: 0.
 */
__noinline int uring_emit_op(struct vg_scratch *s, __u64 req_ptr, __u32 op, long res, __u32 hflags)
{
	struct io_kiocb *req = (struct io_kiocb *)req_ptr;

	if (!s)
		return 0;
	uring_header(s, VG_EVT_IO_URING_OP, res, hflags);
	put_u64(s, op);
	struct file *f = BPF_CORE_READ(req, file);
	if (f)
		param_end(s, file_path_at(s, 0, f));
	else
		param_end(s, 0);
	submit(s);
	return 0;
}

static __always_inline int uring_ignored(void)
{
	return !vg_uring_want || (bpf_get_current_pid_tgid() >> 32) == vg_self_tgid;
}

/**
 * uring_submit() - a request was prepared: keep what its open or connect names
 * @req_ptr: the request (struct io_kiocb *)
 *
 * Return: 0.
 */
__noinline int uring_submit(__u64 req_ptr)
{
	struct io_kiocb *req = (struct io_kiocb *)req_ptr;
	__u8 want = vg_uring_want;
	__u32 zero = 0;

	if (!req_ptr)
		return 0;
	__u32 op = BPF_CORE_READ(req, opcode);
	__u32 type = uring_twin(op, want);
	/* with CQE_SKIP_SUCCESS no completion comes when it succeeds: write it now (if it
	 * fails, a completion comes too and is written without the path). REQ_F_CQE_SKIP
	 * is the build kernel's value: the kernel's flags are an anonymous enum, which
	 * CO-RE cannot relocate (1 << 6 on 6.18: a kernel that moved it needs a rebuild) */
	int noresult = (BPF_CORE_READ(req, flags) & REQ_F_CQE_SKIP) != 0;
	if (!type) {
		if ((want & VG_URING_WANT_OP) && noresult)
			uring_emit_op(scratch_get(), req_ptr, op, 0, VG_HDR_NO_RESULT);
		return 0;
	}
	struct vg_uring_pending *p = bpf_map_lookup_elem(&vg_uring_tmp, &zero);
	if (!p)
		return 0;
	p->opcode = op;
	p->path[0] = 0;
	p->addrlen = 0;
	p->flags = p->mode = p->resolve = 0;
	if (type == VG_EVT_CONNECT) {
		struct io_connect *c = (struct io_connect *)req; /* the command overlays the request's start */
		__u32 len = BPF_CORE_READ(c, addr_len);
		p->dfd = BPF_CORE_READ(req, cqe.fd);
		if (len > VG_SOCKADDR_MAX)
			len = VG_SOCKADDR_MAX;
		barrier_var(len);
		len &= 2 * VG_SOCKADDR_MAX - 1;
		if (len > VG_SOCKADDR_MAX)
			len = VG_SOCKADDR_MAX;
		/* the submitter's sockaddr, read as the kernel reads it (a thread that
		 * rewrites it in between is caught by the tuple, read from the socket) */
		if (bpf_probe_read_user(p->addr, len, BPF_CORE_READ(c, addr)) == 0)
			p->addrlen = len;
	} else {
		struct io_open *o = (struct io_open *)req;
		p->dfd = BPF_CORE_READ(o, dfd);
		if (bpf_probe_read_kernel_str(p->path, sizeof(p->path), BPF_CORE_READ(o, filename, name)) < 0)
			p->path[0] = 0;
		p->flags = BPF_CORE_READ(o, how.flags);
		p->mode = BPF_CORE_READ(o, how.mode);
		p->resolve = BPF_CORE_READ(o, how.resolve);
	}
	if (noresult)
		return uring_emit(scratch_get(), p, req_ptr, 0, type | VG_HDR_NO_RESULT << 16);
	bpf_map_update_elem(&vg_uring_pending, &req_ptr, p, BPF_ANY);
	return 0;
}

/**
 * uring_complete() - a request's result was posted: write its record
 * @req_ptr: the request (struct io_kiocb *)
 * @res: the result
 *
 * Return: 0.
 */
__noinline int uring_complete(__u64 req_ptr, long res)
{
	struct io_kiocb *req = (struct io_kiocb *)req_ptr;
	__u8 want = vg_uring_want;
	__u32 zero = 0;

	if (!req_ptr)
		return 0;
	__u32 op = BPF_CORE_READ(req, opcode);
	/* most operations (reads, writes) are no open or connect: no map lookup for them */
	__u32 type = uring_twin(op, want);
	if (!type) {
		if (want & VG_URING_WANT_OP)
			uring_emit_op(scratch_get(), req_ptr, op, res, 0);
		return 0;
	}
	struct vg_uring_pending *p = bpf_map_lookup_elem(&vg_uring_pending, &req_ptr);
	if (p && p->opcode == op) {
		uring_emit(scratch_get(), p, req_ptr, res, type);
		bpf_map_delete_elem(&vg_uring_pending, &req_ptr);
		return 0;
	}
	/* not kept (evicted, or the agent started in between): what the completion still tells */
	p = bpf_map_lookup_elem(&vg_uring_tmp, &zero);
	if (!p)
		return 0;
	p->opcode = op;
	p->path[0] = 0;
	p->addrlen = 0;
	p->flags = p->mode = p->resolve = 0;
	if (type == VG_EVT_CONNECT) {
		p->dfd = -1;
		return uring_emit(scratch_get(), p, req_ptr, res, type);
	}
	struct io_open *o = (struct io_open *)req;
	p->dfd = BPF_CORE_READ(o, file_slot) ? -1 : AT_FDCWD; /* a fixed-file slot: no fd to resolve */
	if (res >= 0 && p->dfd == AT_FDCWD) {
		struct file *f = fd_file(bpf_get_current_task_btf(), res);
		p->flags = f ? BPF_CORE_READ(f, f_flags) : 0;
	}
	return uring_emit(scratch_get(), p, req_ptr, res, type | VG_URING_RESOLVE);
}

/*
 * The programs: BTF tracepoints, and their raw twins for kernels that refuse
 * tp_btf (userspace loads one pair, or neither where io_uring is not built).
 * The request crosses into the global functions as a plain number: the
 * verifier refuses a trusted BTF pointer there, so it is read from the
 * context as bytes.
 */
static __always_inline __u64 uring_arg(__u64 *ctx, int i)
{
	__u64 v = 0;
	bpf_probe_read_kernel(&v, sizeof(v), &ctx[i & 3]);
	return v;
}

SEC("tp_btf/io_uring_submit_req")
int vg_uring_submit(__u64 *ctx)
{
	if (uring_ignored())
		return 0;
	return uring_submit(uring_arg(ctx, 0));
}

SEC("tp_btf/io_uring_complete")
int BPF_PROG(vg_uring_complete, struct io_ring_ctx *ring, void *req, struct io_uring_cqe *cqe)
{
	if (uring_ignored())
		return 0;
	return uring_complete(uring_arg(ctx, 1), BPF_CORE_READ(cqe, res));
}

SEC("raw_tp/io_uring_submit_req")
int vg_uring_submit_raw(__u64 *ctx)
{
	if (uring_ignored())
		return 0;
	return uring_submit(uring_arg(ctx, 0));
}

SEC("raw_tp/io_uring_complete")
int BPF_PROG(vg_uring_complete_raw, struct io_ring_ctx *ring, void *req, struct io_uring_cqe *cqe)
{
	if (uring_ignored())
		return 0;
	return uring_complete(uring_arg(ctx, 1), BPF_CORE_READ(cqe, res));
}

#endif
