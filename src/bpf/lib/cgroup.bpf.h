/* SPDX-License-Identifier: GPL-2.0 */
/**
 * DOC: the CGROUP record
 *
 * The CGROUP record: the cgroup v2 path of the current task, sent the first
 * time a cgroup is seen (vg_known_cgroups), before that task's event.
 * Limits: VG_PATH_COMPONENTS components of at most 255 bytes; the kernfs
 * parent field is read under both its names (parent, __parent since 6.15).
 */
#ifndef VIGIL_BPF_LIB_CGROUP_H
#define VIGIL_BPF_LIB_CGROUP_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "vigil/event.h"
#include "maps.h"
#include "record.bpf.h"
#include "submit.bpf.h"

/* kernfs_node.parent became __parent in 6.15 */
struct kernfs_node___old {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));

/**
 * emit_cgroup() - send the CGROUP record of the current task's cgroup
 * @s: the scratch buffer (the record is built and sent from it)
 * @cgid: the cgroup id the record is for
 *
 * Return: 0.
 */
__noinline int emit_cgroup(struct vg_scratch *s, __u64 cgid)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct kernfs_node *kn = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn);
	__u32 pos = VG_PATH_MAX - 1;
	int i;

	if (!s)
		return 0;
	fill_header(s, VG_EVT_CGROUP, 0);
	s->tmp[tmp_index(pos)] = 0;
	for (i = 0; i < VG_PATH_COMPONENTS && kn; i++) {
		struct kernfs_node *up;
		if (bpf_core_field_exists(kn->__parent))
			up = BPF_CORE_READ(kn, __parent);
		else
			up = BPF_CORE_READ((struct kernfs_node___old *)kn, parent);
		if (!up)
			break; /* the root: its name is not part of the path */
		const char *name = BPF_CORE_READ(kn, name);
		/* the name is read into the unused upper half of tmp, then placed */
		char *part = &s->tmp[VG_PATH_MAX];
		long n = bpf_probe_read_kernel_str(part, 256, name);
		if (n <= 1 || n > pos)
			break;
		pos -= n - 1;
		bpf_probe_read_kernel(&s->tmp[tmp_index(pos)], (n - 1) & 255, part);
		pos--;
		s->tmp[tmp_index(pos)] = '/';
		kn = up;
	}
	if (pos == VG_PATH_MAX - 1) {
		pos--;
		s->tmp[tmp_index(pos)] = '/';
	}
	param_end(s, tmp_to_body(s, 0, pos));
	((struct vg_event_hdr *)s->buf)->cgroup_id = cgid;
	submit(s);
	return 0;
}

/* Emit a CGROUP record the first time a cgroup is seen. */
static __always_inline void announce_cgroup(struct vg_scratch *s)
{
	__u64 cgid = bpf_get_current_cgroup_id();
	__u8 one = 1;

	if (bpf_map_lookup_elem(&vg_known_cgroups, &cgid))
		return;
	bpf_map_update_elem(&vg_known_cgroups, &cgid, &one, BPF_ANY);
	emit_cgroup(s, cgid);
}

#endif
