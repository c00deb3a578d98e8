/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The containers/storage reader, for podman and CRI-O: both keep each
 * container's OCI bundle under <storage root>/<driver>-containers/<id>/userdata
 * and list containers (names, image) in <driver>-containers/containers.json,
 * and are told apart by annotations (podman's io.container.manager=libpod,
 * CRI-O's io.kubernetes.cri-o.*) or by the pod fields of CRI-O's metadata.
 * The podman layout was observed on the test machines (facts at the top of
 * tests/lib/containers.sh).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include "state/container_runtime.h"

static const char *const runtime_storage_roots[] = {
	"/run/containers/storage",     /* runroot: CRI-O's bundles */
	"/var/lib/containers/storage", /* graphroot: podman's bundles, containers.json */
};

static const char *const runtime_storage_drivers[] = { "overlay", "vfs", "btrfs", "zfs" };

static const char *const runtime_storage_lists[] = { "containers.json", "volatile-containers.json" };

/* Fill from one containers.json entry. */
static int runtime_storage_apply_entry(struct vg_container_meta *m, json_t *e, bool *crio)
{
	int r = container_runtime_set(&m->name, json_string_value(json_array_get(json_object_get(e, "names"), 0)));
	if (r || (r = container_runtime_set_image_id(&m->image_id, json_string_value(json_object_get(e, "image")))))
		return r;
	/* "metadata" is a string holding JSON, written by the runtime. */
	const char *md = json_string_value(json_object_get(e, "metadata"));
	if (!md)
		return 0;
	json_error_t err;
	json_t *j = json_loads(md, 0, &err);
	if (!j)
		return 0;
	if (json_object_get(j, "pod-name") || json_object_get(j, "pod-id"))
		*crio = true;
	if (!(r = container_runtime_set_json(&m->image, j, "image-name")) &&
	    !(r = container_runtime_set_image_id(&m->image_id, json_string_value(json_object_get(j, "image-id")))))
		r = container_runtime_set_json(&m->name, j, "name");
	json_decref(j);
	return r;
}

/* Find id (full, or a unique prefix) in a containers.json array. */
static json_t *runtime_storage_find_entry(json_t *list, const char *id)
{
	size_t n = strlen(id), i;
	json_t *e, *hit = NULL;
	if (!json_is_array(list))
		return NULL;
	json_array_foreach(list, i, e) {
		const char *eid = json_string_value(json_object_get(e, "id"));
		if (!eid || strncmp(eid, id, n) || strlen(eid) != 64)
			continue;
		if (hit)
			return NULL; /* ambiguous prefix */
		hit = e;
	}
	return hit;
}

/* 1 found, 0 not, -ENOMEM (other errors are noted in x). */
static int runtime_storage_read(struct vg_container_meta *m, struct container_runtime_ctx *x)
{
	char dir[PATH_MAX], path[PATH_MAX], full[65];
	bool got_cfg = false, got_entry = false, libpod = false, crio = false;
	int r;

	for (size_t s = 0; s < CRT_N(runtime_storage_roots) && !got_cfg; s++) {
		for (size_t d = 0; d < CRT_N(runtime_storage_drivers) && !got_cfg; d++) {
			if (container_runtime_path(x, dir, "%s/%s-containers", runtime_storage_roots[s],
						runtime_storage_drivers[d]))
				continue;
			r = container_runtime_resolve(dir, m->id, full);
			if (r <= 0) {
				container_runtime_note(x, r);
				continue;
			}
			json_t *cfg;
			if (container_runtime_path(x, path, "%s/%s-containers/%s/userdata/config.json",
						runtime_storage_roots[s], runtime_storage_drivers[d], full))
				continue;
			r = container_runtime_load_json(path, &cfg);
			if (r) {
				container_runtime_note(x, r);
				continue;
			}
			json_t *ann = json_object_get(cfg, "annotations");
			const char *mgr = json_string_value(json_object_get(ann, "io.container.manager"));
			libpod = mgr && !strcmp(mgr, "libpod");
			crio = !libpod && (json_object_get(ann, "io.kubernetes.cri-o.ContainerID") ||
					   json_object_get(ann, "io.kubernetes.cri-o.Name"));
			r = container_runtime_apply_oci(m, cfg);
			json_decref(cfg);
			if (r)
				return r;
			memcpy(m->id, full, 65);
			got_cfg = true;
		}
	}

	for (size_t s = 0; s < CRT_N(runtime_storage_roots) && !got_entry; s++) {
		for (size_t d = 0; d < CRT_N(runtime_storage_drivers) && !got_entry; d++) {
			for (size_t l = 0; l < CRT_N(runtime_storage_lists) && !got_entry; l++) {
				json_t *list;
				if (container_runtime_path(x, path, "%s/%s-containers/%s", runtime_storage_roots[s],
							runtime_storage_drivers[d], runtime_storage_lists[l]))
					continue;
				r = container_runtime_load_json(path, &list);
				if (r) {
					container_runtime_note(x, r);
					continue;
				}
				json_t *e = runtime_storage_find_entry(list, m->id);
				if (e) {
					bool md_crio = false;
					const char *eid = json_string_value(json_object_get(e, "id"));
					memcpy(m->id, eid, 65);
					r = runtime_storage_apply_entry(m, e, &md_crio);
					if (!got_cfg)
						crio = md_crio;
					got_entry = true;
				}
				json_decref(list);
				if (r < 0)
					return r;
			}
		}
	}

	if (!got_cfg && !got_entry)
		return 0;
	if (m->runtime == VG_RT_UNKNOWN || m->runtime == VG_RT_NONE)
		m->runtime = crio ? VG_RT_CRIO : VG_RT_PODMAN;
	return 1;
}

const struct container_runtime_ops runtime_crio_ops = {
	.rt = VG_RT_CRIO, .name = "cri-o", .cgroup_prefix = "crio-", .colon_prefix = "crio",
	.read = runtime_storage_read,
};

/* conmon's "libpod-conmon-<id>" and "crio-conmon-<id>" cgroups fail the hex
 * check on "conmon-": not containers. */
const struct container_runtime_ops runtime_podman_ops = {
	.rt = VG_RT_PODMAN, .name = "podman", .cgroup_prefix = "libpod-", .colon_prefix = "libpod",
	.read = runtime_storage_read,
};
