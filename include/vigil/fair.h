/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-container fairness of the event ring buffer and lost records by cgroup,
 * shared by the kernel side (src/bpf/lib/fair.bpf.h) and userspace
 * (src/sensor/source_bpf.c reads the counts, src/agent/agent_floods.c turns
 * them into sensor_flood events). Policy and knobs: docs/platform-notes.md,
 * "Floods".
 */
#ifndef VIGIL_FAIR_H
#define VIGIL_FAIR_H

#ifndef __VIGIL_BPF__
#include <linux/types.h>
#endif

#define VG_FAIR_CGROUPS 16384     /* cgroups whose counts the kernel keeps (LRU) */
#define VG_FAIR_RATE_DIVISOR 16 /* default share: the ring's size / 16 per second, and as burst */
#define VG_FAIR_PRESSURE_DEFAULT 50 /* percent of the ring buffer filled: pressure from here on */

/*
 * One cgroup's state (map vg_fair_cgroups): its share, a token bucket kept as
 * the generic cell rate algorithm (one time instead of tokens and a refill
 * time, no division in the kernel), and what it lost.
 */
struct vg_fair_cgroup {
	__u64 tat_ns;    /* theoretical arrival time of its next record (CLOCK_BOOTTIME) */
	__u64 pad;
	__u64 lost;      /* its records refused by a full ring buffer */
	__u64 shed;      /* its records dropped by the fairness (over its share under pressure) */
};

#ifndef __VIGIL_BPF__
_Static_assert(sizeof(struct vg_fair_cgroup) == 32, "fair cgroup is ABI");
#endif

#endif /* VIGIL_FAIR_H */
