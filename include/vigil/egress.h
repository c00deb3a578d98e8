/* SPDX-License-Identifier: Apache-2.0 */
/* Egress control maps, shared by src/bpf/egress.bpf.c and src/respond/egress.c. */
#ifndef VIGIL_EGRESS_H
#define VIGIL_EGRESS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define VG_EGRESS_MAX_CGROUPS 4096
#define VG_EGRESS_MAX_RULES 65536
#define VG_EGRESS_MAX_PORTS 8

enum { VG_EGRESS_ALLOW = 1, VG_EGRESS_DENY = 2 };

struct vg_egress_policy {
	__u8 default_verdict; /* VG_EGRESS_ALLOW or VG_EGRESS_DENY */
	__u8 pad[7];
};

/* LPM key: prefixlen counts the bits of cgroup_id and family (always matched) plus the address's */
struct vg_egress_key {
	__u32 prefixlen;
	__u64 cgroup_id;
	__u32 family; /* 4 or 6 */
	__u32 addr[4]; /* network order */
} __attribute__((packed));

#define VG_EGRESS_KEY_BITS(addr_bits) (64 + 32 + (addr_bits))

struct vg_egress_rule {
	__u8 verdict;
	__u8 nports; /* 0: every port */
	__u16 ports[VG_EGRESS_MAX_PORTS];
};

#endif
