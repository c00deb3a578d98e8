// SPDX-License-Identifier: GPL-2.0
/*
 * Network isolation of containers (the `isolate` action): cgroup_skb programs
 * on the cgroup v2 root drop every packet to or from a socket of an isolated
 * container, except loopback and the peers of the allow list. The set of
 * isolated containers is a map pinned in bpffs, so `vigil respond release` can
 * take a container out of it.
 *
 * The peer is read from the packet itself (the destination of what leaves,
 * the source of what arrives), not from the socket, so unconnected UDP (a
 * DNS query by sendto) is judged like a connection. An allow entry with ports
 * admits only TCP and UDP whose peer port is listed, in both directions: the
 * container's request to peer:53 and the peer's answer from port 53.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "vigil/isolate.h"

char LICENSE[] SEC("license") = "GPL";

/* isolated cgroups: cgroup id -> 1; sized for a node's containers */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VG_ISOLATE_MAX_CGROUPS);
	__type(key, __u64);
	__type(value, __u8);
} vg_isolated SEC(".maps");

/* peers isolated containers may still reach (longest prefix wins), for every isolated container */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, VG_ISOLATE_MAX_ALLOW);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vg_isolate_key);
	__type(value, struct vg_isolate_allow);
} vg_isolate_allow SEC(".maps");

/* dropped packets */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} vg_isolate_dropped SEC(".maps");

/* 1 pass, 0 drop. out: the packet leaves the container (its peer is the destination). */
static __always_inline int judge(struct __sk_buff *skb, bool out)
{
	__u64 cg = bpf_skb_cgroup_id(skb);
	if (!bpf_map_lookup_elem(&vg_isolated, &cg))
		return 1;
	struct vg_isolate_key key = {};
	__u32 l4 = 0;
	__u8 proto = 0;
	if (skb->protocol == bpf_htons(0x0800)) {
		struct iphdr ip;
		if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)))
			goto drop;
		__u32 a = out ? ip.daddr : ip.saddr;
		/* loopback stays: a container talking to itself is not the network */
		if ((bpf_ntohl(a) >> 24) == 127)
			return 1;
		key.prefixlen = VG_ISOLATE_KEY_BITS(32);
		key.family = 4;
		key.addr[0] = a;
		proto = ip.protocol;
		l4 = ip.ihl * 4;
		if (ip.frag_off & bpf_htons(0x1FFF))
			proto = 0; /* a later fragment carries no ports */
	} else if (skb->protocol == bpf_htons(0x86DD)) {
		struct ipv6hdr ip6;
		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)))
			goto drop;
		struct in6_addr *a = out ? &ip6.daddr : &ip6.saddr;
		if (!a->in6_u.u6_addr32[0] && !a->in6_u.u6_addr32[1] && !a->in6_u.u6_addr32[2] &&
		    a->in6_u.u6_addr32[3] == bpf_htonl(1))
			return 1;
		key.prefixlen = VG_ISOLATE_KEY_BITS(128);
		key.family = 6;
		key.addr[0] = a->in6_u.u6_addr32[0];
		key.addr[1] = a->in6_u.u6_addr32[1];
		key.addr[2] = a->in6_u.u6_addr32[2];
		key.addr[3] = a->in6_u.u6_addr32[3];
		proto = ip6.nexthdr; /* extension headers: no ports (allowed only by a portless entry) */
		l4 = sizeof(ip6);
	} else {
		goto drop;
	}
	struct vg_isolate_allow *al = bpf_map_lookup_elem(&vg_isolate_allow, &key);
	if (!al)
		goto drop;
	if (!al->nports)
		return 1;
	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP) {
		__be16 ports[2];
		if (bpf_skb_load_bytes(skb, l4, ports, sizeof(ports)))
			goto drop;
		__u16 port = bpf_ntohs(out ? ports[1] : ports[0]);
		for (int i = 0; i < VG_ISOLATE_MAX_PORTS; i++)
			if (i < al->nports && al->ports[i] == port)
				return 1;
	}
drop:;
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&vg_isolate_dropped, &zero);
	if (n)
		(*n)++;
	return 0;
}

SEC("cgroup_skb/egress")
int vg_isolate_egress(struct __sk_buff *skb)
{
	return judge(skb, true);
}

SEC("cgroup_skb/ingress")
int vg_isolate_ingress(struct __sk_buff *skb)
{
	return judge(skb, false);
}
