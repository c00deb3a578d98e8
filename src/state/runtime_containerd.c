/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The containerd reader: the OCI bundle of every task under
 * <task dir>/<namespace>/<id>/config.json, for containerd's v2 and v1 shims
 * and for the containerd that dockerd runs itself (namespace "moby").
 * containerd has no container names of its own; the CRI annotations give
 * the Kubernetes ones. Namespace names are only used as read from the
 * directory itself.
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

static const char *const runtime_containerd_task_dirs[] = {
	"/run/containerd/io.containerd.runtime.v2.task",
	"/run/containerd/io.containerd.runtime.v1.linux",
	"/run/docker/containerd/daemon/io.containerd.runtime.v2.task", /* dockerd's own containerd */
	"/run/docker/containerd/daemon/io.containerd.runtime.v1.linux",
};

/* Look for <task dir>/<namespace>/<id>/config.json in every namespace (or
 * only in only_ns). 1 found, 0 not, -ENOMEM. */
int runtime_containerd_read_ns(struct vg_container_meta *m, struct container_runtime_ctx *x, const char *only_ns)
{
	char base[PATH_MAX], dir[PATH_MAX], path[PATH_MAX], full[65];
	for (size_t t = 0; t < CRT_N(runtime_containerd_task_dirs); t++) {
		if (container_runtime_path(x, base, "%s", runtime_containerd_task_dirs[t]))
			continue;
		DIR *d = opendir(base);
		if (!d) {
			container_runtime_note(x, (errno == ENOENT || errno == ENOTDIR) ? -ENOENT : -errno);
			continue;
		}
		struct dirent *de;
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.' || (only_ns && strcmp(de->d_name, only_ns)))
				continue;
			if (container_runtime_path(x, dir, "%s/%s", runtime_containerd_task_dirs[t], de->d_name))
				continue;
			int r = container_runtime_resolve(dir, m->id, full);
			if (r <= 0) {
				container_runtime_note(x, r);
				continue;
			}
			json_t *cfg;
			if (container_runtime_path(x, path, "%s/%s/%s/config.json", runtime_containerd_task_dirs[t],
						de->d_name, full))
				continue;
			r = container_runtime_load_json(path, &cfg);
			if (r) {
				container_runtime_note(x, r);
				continue;
			}
			r = container_runtime_apply_oci(m, cfg);
			json_decref(cfg);
			if (r == 0) {
				memcpy(m->id, full, 65);
				/* docker runs its containers in containerd namespace "moby". */
				if (m->runtime == VG_RT_UNKNOWN || m->runtime == VG_RT_NONE)
					m->runtime = strcmp(de->d_name, "moby") ? VG_RT_CONTAINERD : VG_RT_DOCKER;
			}
			closedir(d);
			return r ? r : 1;
		}
		closedir(d);
	}
	return 0;
}

static int runtime_containerd_read(struct vg_container_meta *m, struct container_runtime_ctx *x)
{
	return runtime_containerd_read_ns(m, x, NULL);
}

const struct container_runtime_ops runtime_containerd_ops = {
	.rt = VG_RT_CONTAINERD, .name = "containerd", .cgroup_prefix = "cri-containerd-", .colon_prefix = "cri-containerd",
	.read = runtime_containerd_read,
};
