/* SPDX-License-Identifier: Apache-2.0 */
/* Isolation maps, shared by src/bpf/isolate.bpf.c and src/respond/isolate.c. */
#ifndef VIGIL_ISOLATE_MAPS_H
#define VIGIL_ISOLATE_MAPS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define VG_ISOLATE_MAX_CGROUPS 4096
#define VG_ISOLATE_MAX_ALLOW 1024
#define VG_ISOLATE_MAX_PORTS 8

/* LPM key of the allow list: prefixlen counts the family's 32 bits plus the address's */
struct vg_isolate_key {
	__u32 prefixlen;
	__u32 family;  /* 4 or 6 */
	__u32 addr[4]; /* network order */
};

#define VG_ISOLATE_KEY_BITS(addr_bits) (32 + (addr_bits))

/* An allowed peer network: the peer's ports (0 of them: every port and protocol) */
struct vg_isolate_allow {
	__u8 nports;
	__u8 pad;
	__u16 ports[VG_ISOLATE_MAX_PORTS];
};

#endif
