/* SPDX-License-Identifier: GPL-2.0 */
/**
 * DOC: sockets and addresses
 *
 * Sockets and addresses: the connection tuple of a socket file descriptor,
 * a user sockaddr copied as it is, and the family of a descriptor for the
 * kill matcher. Limits: only AF_INET and AF_INET6 tuples carry addresses
 * (others are zero); a sockaddr is cut at VG_SOCKADDR_MAX bytes.
 */
#ifndef VIGIL_BPF_LIB_SOCKET_H
#define VIGIL_BPF_LIB_SOCKET_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "vigil/event.h"
#include "vigil/kill.h"
#include "path.bpf.h"
#include "record.bpf.h"

#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10

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

#endif
