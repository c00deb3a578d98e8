/* SPDX-License-Identifier: GPL-2.0 */
/**
 * DOC: floods: per-cgroup fairness of the ring buffer, losses by cgroup
 *
 * One ring buffer carries every record (global order). A container that makes
 * syscalls faster than the agent reads them would fill it, and then every
 * other container's records would be lost with its own: an attacker could
 * flood from one container to blind the sensor to another. So:
 *
 * - while the ring buffer holds less than vg_fair_pressure_bytes (half of it
 *   by default) nothing is checked: the only cost is the query submit() makes
 *   anyway to decide the wakeup;
 * - above it, each cgroup may write vg_fair_rate bytes a second on average,
 *   in bursts of up to vg_fair_burst bytes (a token bucket in bytes, kept as
 *   the generic cell rate algorithm: one time per cgroup; a record of LEN
 *   bytes costs LEN * vg_fair_ns_per_kib / 1024 ns of the cgroup's time);
 *   a record over that share is shed: not written, counted as the cgroup's
 *   (vg_fair_cgroup.shed). A flooder thus fills the ring only up to the
 *   pressure mark plus its burst; the rest stays for the containers within
 *   their share;
 * - above vg_fair_critical_bytes (three quarters of the way from the pressure
 *   mark to full) only a cgroup that has used less than a quarter of its
 *   burst may write: the heavy hitters are shed whole, the quiet ones still
 *   get through;
 * - a record the ring buffer refuses anyway (full) is counted as lost against
 *   its own cgroup (vg_fair_cgroup.lost);
 * - CGROUP records are never shed (one per cgroup: without it userspace could
 *   not name the cgroup that floods).
 *
 * Limits: the bucket is updated without atomics (two CPUs of one cgroup may
 * both take the last token: the share is approximate, never the counts, which
 * are atomic); a shed record is gone (userspace learns how many, per cgroup,
 * not which); the shares are per cgroup v2 (a container's), the host's
 * processes in one cgroup share one share.
 */
#ifndef VIGIL_BPF_LIB_FAIR_H
#define VIGIL_BPF_LIB_FAIR_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "vigil/event.h"
#include "vigil/fair.h"
#include "maps.h"

/* The cgroup's entry, created when missing (full share, zero counts); NULL if the map refuses. */
static __always_inline struct vg_fair_cgroup *fair_entry(__u64 cgid)
{
	struct vg_fair_cgroup *c = bpf_map_lookup_elem(&vg_fair_cgroups, &cgid);
	if (c)
		return c;
	struct vg_fair_cgroup zero = {};
	bpf_map_update_elem(&vg_fair_cgroups, &cgid, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&vg_fair_cgroups, &cgid);
}

/**
 * fair_charge() - the ring buffer is under pressure: take a record from the cgroup's share
 * @cgid: the record's cgroup
 * @len: the record's size in bytes
 * @critical: the ring is past the critical mark (only light cgroups write)
 *
 * Return: 1 when the record may be written, 0 when it is shed (and counted).
 */
__noinline int fair_charge(__u64 cgid, __u32 len, int critical)
{
	struct vg_fair_cgroup *c = fair_entry(cgid);
	__u64 now = bpf_ktime_get_boot_ns();
	__u64 tol = vg_fair_tolerance_ns;

	if (!c)
		return 1; /* not tracked: written (visibility first) */
	if (critical)
		tol /= 4;
	__u64 tat = c->tat_ns;
	if (tat < now)
		tat = now;
	if (tat - now > tol) {
		__sync_fetch_and_add(&c->shed, 1);
		return 0;
	}
	c->tat_ns = tat + (((__u64)len * vg_fair_ns_per_kib) >> 10);
	return 1;
}

/* Whether a record of this cgroup, type and size may be written, @queued bytes waiting in the ring. */
static __always_inline int fair_admit(__u64 cgid, __u32 type, __u32 len, __u64 queued)
{
	if (queued < vg_fair_pressure_bytes || !vg_fair_ns_per_kib || type == VG_EVT_CGROUP)
		return 1;
	return fair_charge(cgid, len, queued >= vg_fair_critical_bytes);
}

/* The ring buffer refused a record of this cgroup: count it as the cgroup's loss. */
__noinline int fair_lost(__u64 cgid)
{
	struct vg_fair_cgroup *c = fair_entry(cgid);
	if (c)
		__sync_fetch_and_add(&c->lost, 1);
	return 0;
}

#endif
