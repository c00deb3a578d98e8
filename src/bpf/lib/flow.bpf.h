/* SPDX-License-Identifier: GPL-2.0 */
/**
 * DOC: network flows
 *
 * Flow records (include/vigil/flow.h): every TCP connection's open, periodic
 * and close reports, per-socket UDP counts, and the DNS answers workloads
 * receive. Nothing here runs per packet except the DNS program's port test.
 *
 * Hooks, each chosen because it is what runs here (docs/flows.md, "Hooks"):
 *   tp_btf/inet_sock_set_state  TCP: CLOSE->SYN_SENT (in connect(): the owner is
 *                               the current task), ->ESTABLISHED (open),
 *                               ->CLOSE (close: counts read from tcp_sock)
 *   tp_btf/sock_send_length,    UDP byte and datagram counts, one run per
 *   tp_btf/sock_recv_length     sendmsg/recvmsg call; for TCP only the owner of
 *                               an accepted connection (its first read/write)
 *   cgroup/sock_release         UDP close (attached to the cgroup v2 root)
 *   cgroup_skb/ingress          DNS answers (UDP from port 53, and the first
 *                               segment with data of a TCP connection from
 *                               port 53; cgroup v2 root)
 *   iter/tcp, iter/udp          the periodic reports of live flows, run by
 *                               userspace once per interval in each netns;
 *                               written to the iterator's output, not the ring
 *
 * Who owns a flow: the process that called connect() for an active TCP open;
 * for a passive one, the first process that reads or writes the accepted
 * socket (the one that accepted it, or the worker it handed it to), because the
 * handshake completes in softirq where no process is involved. Until then the
 * flow knows only the socket's cgroup (the listener's) and netns; its OPEN
 * report waits for that first read/write (or the close). UDP: the process of the
 * socket's first send or receive.
 *
 * Records are built on the BPF stack, not in the per-CPU scratch of the
 * syscall program: the TCP hooks run in softirq, which can interrupt that
 * program on the same CPU. Only task-context code (SYN_SENT, first read/write)
 * uses the scratch, to fill the owner's header with fill_header().
 *
 * Limits: a record lost to a full ring buffer is counted in lost_full like any
 * other; a socket whose state cannot be allocated is not tracked (counted in
 * truncated); a run the kernel skips (one program interrupting itself on a
 * CPU) is counted in the programs' recursion misses. The TCP state program has
 * a second copy that does the runs the first one lost that way
 * (vg_flow_tcp_state_nested), counted in `rerun`.
 */
#ifndef VIGIL_BPF_LIB_FLOW_H
#define VIGIL_BPF_LIB_FLOW_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_tracing.h>
#include "vigil/event.h"
#include "vigil/flow.h"
#include "maps.h"
#include "record.bpf.h"
#include "submit.bpf.h"
#include "cgroup.bpf.h"
#include "socket.bpf.h"

#define FLOW_MSG_PEEK 2
#define FLOW_ETH_P_IP 0x0800
#define FLOW_ETH_P_IPV6 0x86DD
#define FLOW_SOCK_DONE 1 /* enum sock_flags: a FIN was received */

/* One flow report: the header and the 8 parameters of flow_tcp / flow_udp. */
struct flow_rec {
	struct vg_event_hdr h;
	__u16 l_tuple;
	struct vg_tuple tuple;
	__u16 l_phase;
	__u64 phase;
	__u16 l_cookie;
	__u64 cookie;
	__u16 l_bo;
	__u64 bytes_out;
	__u16 l_bi;
	__u64 bytes_in;
	__u16 l_po;
	__u64 pkts_out;
	__u16 l_pi;
	__u64 pkts_in;
	__u16 l_rtt;
	__u64 srtt_us;
} __attribute__((packed));

struct flow_counts {
	__u64 bytes_out, bytes_in, pkts_out, pkts_in, srtt_us;
};

static __always_inline bool flow_self(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == vg_self_tgid;
}

/* The ring buffer write every flow record goes through, counted as submit() counts. */
static __always_inline void flow_output(void *rec, __u32 len)
{
	struct vg_kernel_stats *st = stats();
	struct vg_event_hdr *h = rec;
	__u64 flags = BPF_RB_NO_WAKEUP;
	__u64 queued = bpf_ringbuf_query(&vg_events, BPF_RB_AVAIL_DATA);

	/* floods: the owner's cgroup's share, as submit() (lib/fair.bpf.h) */
	if (!fair_admit(h->cgroup_id, h->type, len, queued)) {
		if (st)
			st->shed++;
		return;
	}
	if (queued >= vg_wakeup_bytes)
		flags = BPF_RB_FORCE_WAKEUP;
	if (bpf_ringbuf_output(&vg_events, rec, len, flags) == 0) {
		if (st)
			st->emitted++;
	} else {
		if (st)
			st->lost_full++;
		fair_lost(h->cgroup_id);
	}
}

static __always_inline void flow_count_untracked(void)
{
	struct vg_kernel_stats *st = stats();
	if (st)
		st->truncated++;
}

/* local -> remote of a kernel socket (tracepoints and iterators) */
static __always_inline void flow_tuple_sk(struct vg_tuple *t, const struct sock *sk)
{
	t->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	t->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	t->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (t->family == AF_INET) {
		BPF_CORE_READ_INTO(&t->saddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO(&t->daddr, sk, __sk_common.skc_daddr);
	} else {
		BPF_CORE_READ_INTO(&t->saddr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&t->daddr, sk, __sk_common.skc_v6_daddr);
	}
}

/**
 * flow_build() - one report of a flow, built in *r
 * @st: the socket's flow state (its owner header is copied)
 * @t: the socket's ends; its pad is set to the direction here
 * @c: the counts to report
 */
static __always_inline void flow_build(struct flow_rec *r, struct vg_flow_sk *st, __u16 type, __u64 phase,
				       __u64 cookie, struct vg_tuple *t, const struct flow_counts *c)
{
	__u64 now = bpf_ktime_get_boot_ns();

	__builtin_memset(r, 0, sizeof(*r));
	__builtin_memcpy(&r->h, &st->owner, sizeof(r->h));
	r->h.ts = now;
	r->h.type = type;
	r->h.nparams = 8;
	r->h.len = sizeof(*r);
	r->h.retval = now - st->start_ns;
	r->h.cpu = bpf_get_smp_processor_id();
	r->h.flags = 0;
	t->pad = st->dir;
	r->l_tuple = sizeof(r->tuple);
	__builtin_memcpy(&r->tuple, t, sizeof(r->tuple));
	r->l_phase = r->l_cookie = r->l_bo = r->l_bi = r->l_po = r->l_pi = r->l_rtt = 8;
	r->phase = phase;
	r->cookie = cookie;
	r->bytes_out = c->bytes_out;
	r->bytes_in = c->bytes_in;
	r->pkts_out = c->pkts_out;
	r->pkts_in = c->pkts_in;
	r->srtt_us = c->srtt_us;
}

/*
 * Write a report: into the ring buffer, or (seq != NULL: an iterator's run)
 * into the iterator's output, which userspace reads at its own pace, so that
 * the periodic reports of 100,000 connections cannot fill the ring buffer.
 */
static __always_inline void flow_emit(struct vg_flow_sk *st, __u16 type, __u64 phase, __u64 cookie,
				      struct vg_tuple *t, const struct flow_counts *c, struct seq_file *seq)
{
	struct flow_rec r;

	flow_build(&r, st, type, phase, cookie, t, c);
	if (seq)
		bpf_seq_write(seq, &r, sizeof(r));
	else
		flow_output(&r, sizeof(r));
}

/*
 * Make the current task the flow's owner: its header (announcing its cgroup
 * first, as every record of it does). Task context only: uses the scratch.
 */
static __always_inline void flow_own(struct vg_flow_sk *st)
{
	struct vg_scratch *s = scratch_get();
	if (!s)
		return;
	announce_cgroup(s);
	fill_header(s, 0, 0);
	__builtin_memcpy(&st->owner, s->buf, sizeof(st->owner));
	st->flags |= VG_FSK_OWNED;
}

/* No process yet (a passive open in softirq): the socket's cgroup and netns. */
static __always_inline void flow_own_sock(struct vg_flow_sk *st, const struct sock *sk)
{
	st->owner.cgroup_id = BPF_CORE_READ(sk, sk_cgrp_data.cgroup, kn, id);
	st->owner.netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

/* TCP totals from tcp_sock: payload only (see include/vigil/flow.h). */
static __always_inline void flow_tcp_counts(struct flow_counts *c, const struct sock *sk)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;
	__u64 sent = BPF_CORE_READ(tp, bytes_sent), retrans = BPF_CORE_READ(tp, bytes_retrans);
	__u64 rcvd = BPF_CORE_READ(tp, bytes_received);
	unsigned long skflags = BPF_CORE_READ(sk, __sk_common.skc_flags);

	/* bytes_sent counts payload only, retransmissions included; bytes_received
	 * counts the sequence number of a received FIN too (SOCK_DONE says one came) */
	c->bytes_out = sent > retrans ? sent - retrans : 0;
	c->bytes_in = rcvd;
	if ((skflags & (1UL << FLOW_SOCK_DONE)) && rcvd)
		c->bytes_in = rcvd - 1;
	c->pkts_out = BPF_CORE_READ(tp, segs_out);
	c->pkts_in = BPF_CORE_READ(tp, segs_in);
	c->srtt_us = BPF_CORE_READ(tp, srtt_us) >> 3;
}

static __always_inline void flow_tcp_report(struct vg_flow_sk *st, const struct sock *sk, __u64 phase,
					    struct seq_file *seq)
{
	struct vg_tuple t = {};
	struct flow_counts c = {};

	flow_tuple_sk(&t, sk);
	/* at CLOSE the kernel has already given the local port back: the ends seen at open */
	if (t.sport == 0 && st->tuple.family)
		__builtin_memcpy(&t, &st->tuple, sizeof(t));
	else
		__builtin_memcpy(&st->tuple, &t, sizeof(t));
	if (phase != VG_FLOW_REC_OPEN)
		flow_tcp_counts(&c, sk);
	flow_emit(st, VG_EVT_FLOW_TCP, phase, bpf_get_socket_cookie((void *)sk), &t, &c, seq);
}

static __always_inline void flow_udp_report(struct vg_flow_sk *st, const struct sock *sk, __u64 phase,
					    struct seq_file *seq)
{
	struct vg_tuple t = {};
	struct flow_counts c = {
		.bytes_out = st->bytes_out, .bytes_in = st->bytes_in,
		.pkts_out = st->pkts_out, .pkts_in = st->pkts_in,
	};

	flow_tuple_sk(&t, sk);
	flow_emit(st, VG_EVT_FLOW_UDP, phase, bpf_get_socket_cookie((void *)sk), &t, &c, seq);
}

static __always_inline bool flow_inet(const struct sock *sk)
{
	__u16 fam = BPF_CORE_READ(sk, __sk_common.skc_family);
	return fam == AF_INET || fam == AF_INET6;
}

/* One TCP state change: the work of both programs below. */
static __always_inline int flow_tcp_state(const struct sock *sk, const int oldstate, const int newstate)
{
	struct vg_flow_sk *st;

	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP || !flow_inet(sk))
		return 0;
	if (newstate == TCP_SYN_SENT) {
		/* inside connect(): the current task is the owner */
		if (flow_self())
			return 0;
		st = bpf_sk_storage_get(&vg_flow_sks, (void *)sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
		if (!st) {
			flow_count_untracked();
			return 0;
		}
		__builtin_memset(st, 0, sizeof(*st));
		st->dir = VG_FLOW_REC_OUT;
		flow_own(st);
		return 0;
	}
	if (newstate == TCP_ESTABLISHED && oldstate == TCP_SYN_SENT) {
		st = bpf_sk_storage_get(&vg_flow_sks, (void *)sk, 0, 0);
		if (!st)
			return 0; /* the agent's own, or connected before the agent started */
		st->start_ns = bpf_ktime_get_boot_ns();
		st->flags |= VG_FSK_ESTABLISHED | VG_FSK_OPEN_SENT;
		flow_tcp_report(st, sk, VG_FLOW_REC_OPEN, NULL);
		return 0;
	}
	if (newstate == TCP_ESTABLISHED && oldstate == TCP_SYN_RECV) {
		/* softirq: no process owns the accepted socket yet */
		st = bpf_sk_storage_get(&vg_flow_sks, (void *)sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
		if (!st) {
			flow_count_untracked();
			return 0;
		}
		__builtin_memset(st, 0, sizeof(*st));
		st->dir = VG_FLOW_REC_IN;
		st->start_ns = bpf_ktime_get_boot_ns();
		st->flags = VG_FSK_ESTABLISHED;
		/* the ends now: closed before anyone reads or writes, the socket no longer
		 * holds its local port by the time TCP_CLOSE is reported */
		flow_tuple_sk(&st->tuple, sk);
		flow_own_sock(st, sk);
		return 0;
	}
	if (newstate == TCP_CLOSE) {
		st = bpf_sk_storage_get(&vg_flow_sks, (void *)sk, 0, 0);
		if (!st || !(st->flags & VG_FSK_ESTABLISHED) || (st->flags & VG_FSK_CLOSED))
			return 0;
		st->flags |= VG_FSK_CLOSED;
		if (!(st->flags & VG_FSK_OPEN_SENT))
			flow_tcp_report(st, sk, VG_FLOW_REC_OPEN, NULL);
		flow_tcp_report(st, sk, VG_FLOW_REC_CLOSE, NULL);
	}
	return 0;
}

static __always_inline __u32 *flow_depth(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&vg_flow_depth, &zero);
}

/*
 * The TCP state program. It keeps a count of its own depth on the CPU, for the
 * copy below: a state change in a softirq that interrupts this program on its
 * CPU (a close while the same CPU handles another socket's change in task
 * context) is skipped by the kernel's recursion guard for this program.
 */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(vg_flow_tcp_state, const struct sock *sk, const int oldstate, const int newstate)
{
	if (!(vg_want_flow & VG_WANT_FLOW_TCP))
		return 0;
	__u32 *depth = flow_depth();
	if (!depth)
		return 0;
	*depth += 1;
	flow_tcp_state(sk, oldstate, newstate);
	*depth -= 1;
	return 0;
}

/*
 * The same work, done only for the runs the program above lost: attached to the
 * same tracepoint, with its own recursion guard, it runs after (or before) it
 * every time. Found the depth above 0, it knows the other copy is interrupted
 * on this CPU, so the kernel skipped it for this change. Each such run is
 * counted in `rerun`, which userspace takes off the recursion misses. The
 * small windows between the kernel's guard and the depth count, and a change
 * interrupting this copy too, are still skipped and counted as misses.
 */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(vg_flow_tcp_state_nested, const struct sock *sk, const int oldstate, const int newstate)
{
	if (!(vg_want_flow & VG_WANT_FLOW_TCP))
		return 0;
	__u32 *depth = flow_depth();
	if (!depth || *depth == 0)
		return 0;
	struct vg_kernel_stats *ks = stats();
	if (ks)
		ks->rerun++;
	flow_tcp_state(sk, oldstate, newstate);
	return 0;
}

/*
 * A sendmsg/recvmsg of `ret` bytes on sk, in the calling task. UDP: count it
 * (the first one makes the flow); TCP: the first read/write of an accepted
 * connection names its owner.
 */
static __always_inline int flow_sock_io(struct sock *sk, int ret, bool out)
{
	__u32 want = vg_want_flow;
	struct vg_flow_sk *st;

	if (!want || ret <= 0 || !sk || !flow_inet(sk))
		return 0;
	__u16 proto = BPF_CORE_READ(sk, sk_protocol);
	if (proto == IPPROTO_TCP) {
		if (!(want & VG_WANT_FLOW_TCP))
			return 0;
		st = bpf_sk_storage_get(&vg_flow_sks, sk, 0, 0);
		if (!st || (st->flags & (VG_FSK_OWNED | VG_FSK_CLOSED)) || !(st->flags & VG_FSK_ESTABLISHED))
			return 0;
		if (flow_self()) {
			st->flags |= VG_FSK_CLOSED; /* the agent's own connection: never reported */
			return 0;
		}
		flow_own(st);
		if (!(st->flags & VG_FSK_OPEN_SENT)) {
			st->flags |= VG_FSK_OPEN_SENT;
			flow_tcp_report(st, sk, VG_FLOW_REC_OPEN, NULL);
		}
		return 0;
	}
	if (proto != IPPROTO_UDP || !(want & (VG_WANT_FLOW_UDP | VG_WANT_FLOW_DNS)) || flow_self())
		return 0;
	st = bpf_sk_storage_get(&vg_flow_sks, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!st) {
		flow_count_untracked();
		return 0;
	}
	if (!(st->flags & VG_FSK_ESTABLISHED)) {
		st->dir = out ? VG_FLOW_REC_OUT : VG_FLOW_REC_IN;
		st->start_ns = bpf_ktime_get_boot_ns();
		st->flags |= VG_FSK_ESTABLISHED;
		flow_own(st);
		if (want & VG_WANT_FLOW_UDP) {
			st->flags |= VG_FSK_OPEN_SENT;
			flow_udp_report(st, sk, VG_FLOW_REC_OPEN, NULL);
		}
	}
	/* the ends: at the first datagram, and again if the socket got connected since
	 * (an unconnected socket pays one load per datagram for this test) */
	if (!st->tuple.family || (!st->tuple.dport && BPF_CORE_READ(sk, __sk_common.skc_dport)))
		flow_tuple_sk(&st->tuple, sk);
	if (out) {
		__sync_fetch_and_add(&st->bytes_out, ret);
		__sync_fetch_and_add(&st->pkts_out, 1);
	} else {
		__sync_fetch_and_add(&st->bytes_in, ret);
		__sync_fetch_and_add(&st->pkts_in, 1);
	}
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(vg_flow_send, struct sock *sk, int ret, int flags)
{
	return flow_sock_io(sk, ret, true);
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(vg_flow_recv, struct sock *sk, int ret, int flags)
{
	if (flags & FLOW_MSG_PEEK)
		return 0; /* the data is read again later */
	return flow_sock_io(sk, ret, false);
}

/* UDP close: the socket is released (attached to the cgroup v2 root, so every socket). */
SEC("cgroup/sock_release")
int vg_flow_release(struct bpf_sock *ctx)
{
	struct vg_flow_sk *st;
	struct vg_tuple t = {};

	if (!(vg_want_flow & VG_WANT_FLOW_UDP) || ctx->protocol != IPPROTO_UDP)
		return 1;
	st = bpf_sk_storage_get(&vg_flow_sks, ctx, 0, 0);
	if (!st || !(st->flags & VG_FSK_ESTABLISHED) || (st->flags & VG_FSK_CLOSED))
		return 1;
	st->flags |= VG_FSK_CLOSED;
	__builtin_memcpy(&t, &st->tuple, sizeof(t));
	struct flow_counts c = {
		.bytes_out = st->bytes_out, .bytes_in = st->bytes_in,
		.pkts_out = st->pkts_out, .pkts_in = st->pkts_in,
	};
	flow_emit(st, VG_EVT_FLOW_UDP, VG_FLOW_REC_CLOSE, bpf_get_socket_cookie(ctx), &t, &c, NULL);
	return 1;
}

/* The periodic report of one live TCP flow (userspace runs the iterator per netns). */
SEC("iter/tcp")
int vg_flow_iter_tcp(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct tcp_sock *tp;
	struct vg_flow_sk *st;

	if (!skc || !(vg_want_flow & VG_WANT_FLOW_TCP))
		return 0;
	tp = bpf_skc_to_tcp_sock(skc);
	if (!tp)
		return 0; /* a request or time-wait socket */
	st = bpf_sk_storage_get(&vg_flow_sks, tp, 0, 0);
	if (!st || !(st->flags & VG_FSK_ESTABLISHED) || (st->flags & VG_FSK_CLOSED))
		return 0;
	flow_tcp_report(st, (const struct sock *)tp, VG_FLOW_REC_UPDATE, ctx->meta->seq);
	return 0;
}

SEC("iter/udp")
int vg_flow_iter_udp(struct bpf_iter__udp *ctx)
{
	struct udp_sock *up = ctx->udp_sk;
	struct vg_flow_sk *st;

	if (!up || !(vg_want_flow & VG_WANT_FLOW_UDP))
		return 0;
	st = bpf_sk_storage_get(&vg_flow_sks, up, 0, 0);
	if (!st || !(st->flags & VG_FSK_ESTABLISHED) || (st->flags & VG_FSK_CLOSED))
		return 0;
	flow_udp_report(st, (const struct sock *)up, VG_FLOW_REC_UPDATE, ctx->meta->seq);
	return 0;
}

/*
 * DNS answers: UDP from port 53 on its way into a socket (cgroup v2 root, so
 * every socket). Every other packet costs two loads and a compare.
 */
SEC("cgroup_skb/ingress")
int vg_flow_dns(struct __sk_buff *skb)
{
	__u32 zero = 0, off, poff;
	__u8 ip[40], proto;
	struct vg_tuple t = {};
	struct {
		__be16 source, dest;
		__be16 w[4]; /* UDP: len, check; TCP: seq, ack (not read) */
		__u8 doff;   /* TCP: data offset, in its high nibble */
	} l4;

	if (!(vg_want_flow & VG_WANT_FLOW_DNS))
		return 1;
	if (skb->protocol == bpf_htons(FLOW_ETH_P_IP)) {
		if (bpf_skb_load_bytes(skb, 0, ip, 20))
			return 1;
		proto = ip[9];
		off = (ip[0] & 0xf) * 4;
		t.family = AF_INET;
		__builtin_memcpy(t.daddr, &ip[12], 4);
		__builtin_memcpy(t.saddr, &ip[16], 4);
	} else if (skb->protocol == bpf_htons(FLOW_ETH_P_IPV6)) {
		if (bpf_skb_load_bytes(skb, 0, ip, 40))
			return 1;
		proto = ip[6];
		off = 40;
		t.family = AF_INET6;
		__builtin_memcpy(t.daddr, &ip[8], 16);
		__builtin_memcpy(t.saddr, &ip[24], 16);
	} else {
		return 1;
	}
	if ((proto != IPPROTO_UDP && proto != IPPROTO_TCP) || off < 20 || off > 60 ||
	    bpf_skb_load_bytes(skb, off, &l4, sizeof(l4)) || l4.source != bpf_htons(53))
		return 1;
	t.sport = bpf_ntohs(l4.dest);
	t.dport = 53;
	__u32 plen;
	if (proto == IPPROTO_UDP) {
		poff = off + 8;
		plen = bpf_ntohs(l4.w[0]);
		plen = plen > 8 ? plen - 8 : 0;
	} else {
		/* DNS over TCP: the first segment with data of the server's stream, which
		 * starts at a message's two-byte length (RFC 1035 4.2.2); marked in pad */
		poff = off + (l4.doff >> 4) * 4;
		plen = skb->len > poff ? skb->len - poff : 0;
		if (!plen || (l4.doff >> 4) < 5)
			return 1;
		t.pad = VG_FLOW_DNS_TCP;
	}
	__u32 copy = plen;
	if (copy > skb->len - poff)
		copy = skb->len - poff;
	if (copy > VG_FLOW_DNS_MAX)
		copy = VG_FLOW_DNS_MAX;

	struct vg_flow_dns_buf *b = bpf_map_lookup_elem(&vg_flow_dns_scratch, &zero);
	if (!b)
		return 1;
	struct vg_event_hdr *h = (struct vg_event_hdr *)b->buf;
	struct bpf_sock *sk = skb->sk;
	struct vg_flow_sk *st = NULL;
	if (sk)
		sk = bpf_sk_fullsock(sk);
	if (sk)
		st = bpf_sk_storage_get(&vg_flow_sks, sk, 0, 0);
	if (proto == IPPROTO_TCP) {
		/* only a tracked connection knows which segment is its first */
		if (!st || (st->flags & VG_FSK_DNS_SEEN))
			return 1;
		st->flags |= VG_FSK_DNS_SEEN;
	}
	if (st) {
		__builtin_memcpy(h, &st->owner, sizeof(*h));
	} else {
		__builtin_memset(h, 0, sizeof(*h));
		h->cgroup_id = bpf_skb_cgroup_id(skb);
	}
	if (h->pid == vg_self_tgid && st)
		return 1;
	h->ts = bpf_ktime_get_boot_ns();
	h->type = VG_EVT_FLOW_DNS;
	h->nparams = 4;
	h->retval = 0;
	h->cpu = bpf_get_smp_processor_id();
	h->flags = 0;
	__u32 pos = sizeof(*h);
	*(__u16 *)&b->buf[pos] = sizeof(t);
	__builtin_memcpy(&b->buf[pos + 2], &t, sizeof(t));
	pos += 2 + sizeof(t);
	__u64 cookie = bpf_get_socket_cookie(skb);
	*(__u16 *)&b->buf[pos] = 8;
	__builtin_memcpy(&b->buf[pos + 2], &cookie, 8);
	pos += 10;
	__u64 n = copy;
	barrier_var(n);
	n &= 1023; /* for the verifier: the compiler knows it is at most 512 and drops the test */
	if (n > VG_FLOW_DNS_MAX)
		n = VG_FLOW_DNS_MAX;
	if (n && bpf_skb_load_bytes(skb, poff, &b->buf[pos + 2], n))
		n = 0;
	*(__u16 *)&b->buf[pos] = n;
	pos += 2 + n;
	__u64 whole = plen;
	*(__u16 *)&b->buf[pos & 1023] = 8;
	__builtin_memcpy(&b->buf[(pos + 2) & 1023], &whole, 8);
	pos += 10;
	h->len = pos;
	flow_output(b->buf, pos & 1023);
	return 1;
}

#endif
