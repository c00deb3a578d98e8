// SPDX-License-Identifier: GPL-2.0
/*
 * Network isolation of containers (the `isolate` action): cgroup_skb programs
 * on the cgroup v2 root drop every packet to or from a socket of an isolated
 * container, except loopback. The set of isolated containers is a map pinned
 * in bpffs, so `vigil respond release` can take a container out of it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

/* isolated cgroups: cgroup id -> 1 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u8);
} vg_isolated SEC(".maps");

/* dropped packets */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} vg_isolate_dropped SEC(".maps");

static __always_inline int judge(struct __sk_buff *skb)
{
	__u64 cg = bpf_skb_cgroup_id(skb);
	if (!bpf_map_lookup_elem(&vg_isolated, &cg))
		return 1;
	/* loopback stays: a container talking to itself is not the network */
	if (skb->protocol == bpf_htons(0x0800)) {
		__u32 a = skb->remote_ip4;
		if ((bpf_ntohl(a) >> 24) == 127)
			return 1;
	} else if (skb->protocol == bpf_htons(0x86DD)) {
		if (!skb->remote_ip6[0] && !skb->remote_ip6[1] && !skb->remote_ip6[2] &&
		    skb->remote_ip6[3] == bpf_htonl(1))
			return 1;
	}
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&vg_isolate_dropped, &zero);
	if (n)
		(*n)++;
	return 0;
}

SEC("cgroup_skb/egress")
int vg_isolate_egress(struct __sk_buff *skb)
{
	return judge(skb);
}

SEC("cgroup_skb/ingress")
int vg_isolate_ingress(struct __sk_buff *skb)
{
	return judge(skb);
}
