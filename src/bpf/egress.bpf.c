// SPDX-License-Identifier: GPL-2.0
/*
 * Egress control (deny_connect): cgroup sock_addr programs attached to the
 * cgroup v2 root. A connect() or an unconnected sendmsg() of a policed
 * container is looked up in that container's address rules (longest prefix
 * wins); a deny -- or the container's default -- makes the call fail with
 * EPERM before a packet leaves. Cgroups without a policy are not touched.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "vigil/egress.h"

char LICENSE[] SEC("license") = "GPL";

/* policed cgroups: cgroup id -> default verdict; sized for a node's containers */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VG_EGRESS_MAX_CGROUPS);
	__type(key, __u64);
	__type(value, struct vg_egress_policy);
} vg_egress_policy SEC(".maps");

/* address rules, longest prefix first: (cgroup id, address/len) -> verdict and ports */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, VG_EGRESS_MAX_RULES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vg_egress_key);
	__type(value, struct vg_egress_rule);
} vg_egress_rules SEC(".maps");

/* denials, for the agent's counters */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} vg_egress_denied SEC(".maps");

static __always_inline int decide(__u32 family, const __u32 *addr, __u16 port)
{
	__u64 cg = bpf_get_current_cgroup_id();
	struct vg_egress_policy *pol = bpf_map_lookup_elem(&vg_egress_policy, &cg);
	if (!pol)
		return 1;
	struct vg_egress_key key = { .cgroup_id = cg, .family = family };
	key.prefixlen = VG_EGRESS_KEY_BITS(family == 6 ? 128 : 32);
	key.addr[0] = addr[0];
	if (family == 6) {
		key.addr[1] = addr[1];
		key.addr[2] = addr[2];
		key.addr[3] = addr[3];
	}
	__u8 verdict = pol->default_verdict;
	struct vg_egress_rule *r = bpf_map_lookup_elem(&vg_egress_rules, &key);
	if (r) {
		bool port_match = r->nports == 0;
		for (int i = 0; i < VG_EGRESS_MAX_PORTS; i++)
			if (i < r->nports && r->ports[i] == port)
				port_match = true;
		if (port_match)
			verdict = r->verdict;
	}
	if (verdict == VG_EGRESS_DENY) {
		__u32 zero = 0;
		__u64 *n = bpf_map_lookup_elem(&vg_egress_denied, &zero);
		if (n)
			(*n)++;
		return 0;
	}
	return 1;
}

SEC("cgroup/connect4")
int vg_connect4(struct bpf_sock_addr *ctx)
{
	__u32 a[1] = { ctx->user_ip4 };
	return decide(4, a, bpf_ntohs(ctx->user_port));
}

SEC("cgroup/connect6")
int vg_connect6(struct bpf_sock_addr *ctx)
{
	__u32 a[4] = { ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2], ctx->user_ip6[3] };
	return decide(6, a, bpf_ntohs(ctx->user_port));
}

SEC("cgroup/sendmsg4")
int vg_sendmsg4(struct bpf_sock_addr *ctx)
{
	__u32 a[1] = { ctx->user_ip4 };
	return decide(4, a, bpf_ntohs(ctx->user_port));
}

SEC("cgroup/sendmsg6")
int vg_sendmsg6(struct bpf_sock_addr *ctx)
{
	__u32 a[4] = { ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2], ctx->user_ip6[3] };
	return decide(6, a, bpf_ntohs(ctx->user_port));
}
