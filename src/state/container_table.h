/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cgroup id -> cgroup path -> container. Paths come from CGROUP records (the
 * kernel sends one the first time it sees a cgroup), metadata from
 * STATE_CONTAINER records (written by the live agent when it read the
 * runtime's state). Entries are freed when their cgroup is gone (live sweep).
 */
#ifndef VIGIL_CONTAINER_TABLE_H
#define VIGIL_CONTAINER_TABLE_H

#include <stdbool.h>
#include <stdint.h>
#include "common/hmap.h"
#include "state/container_meta.h"

struct vg_cgroup {
	struct hmap_node node; /* key: cgroup id */
	char *path;            /* cgroup v2 path, "/..." */
	struct vg_container_meta meta; /* meta.id[0] == 0: a host cgroup */
	uint64_t last_lookup;  /* live: CLOCK_BOOTTIME ns of the last metadata lookup */
	uint64_t gone_since;   /* live sweep: when the cgroup was first found gone (0: present) */
	bool side_told;        /* live: the kernel kill program knows whether it is a container's */
	/* user and group names as this cgroup's processes see them (their /etc/passwd and
	 * /etc/group), bounded; name "" when the id has none */
	struct vg_idname {
		uint32_t id;
		uint8_t group;
		char name[33];
	} *ids;
	size_t nids;
};

#define VG_IDNAMES_MAX 256

/* The name of a uid (group false) or gid in a cgroup: the entry, or NULL when unknown. */
const struct vg_idname *container_table_idname(const struct vg_cgroup *c, uint32_t id, bool group);
/* Record a name (replacing one for the same id); ignored past VG_IDNAMES_MAX. */
void container_table_set_idname(struct vg_cgroup *c, uint32_t id, bool group, const char *name);

struct vg_container_table {
	struct hmap map;
};

void container_table_init(struct vg_container_table *t);
void container_table_free(struct vg_container_table *t);
struct vg_cgroup *container_table_get(const struct vg_container_table *t, uint64_t cgroup_id);
/* Record a cgroup's path (idempotent: a known id keeps its entry). Returns the entry. */
struct vg_cgroup *container_table_add(struct vg_container_table *t, uint64_t cgroup_id, const char *path);
void container_table_remove(struct vg_container_table *t, uint64_t cgroup_id);

/* The mount point of the cgroup v2 hierarchy, from /proc/self/mountinfo ("" if none). */
const char *cgroup2_mount(void);
/* Live: the cgroup v2 path of a process from /proc/<pid>/cgroup; false if gone. */
bool cgroup_path_of_pid(const char *procfs, uint32_t pid, char *out, size_t size);
/* Live: the cgroup id (directory inode) of a v2 path; 0 if the cgroup is gone. */
uint64_t cgroup_id_of_path(const char *path);

#endif
