/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The docker reader: /var/lib/docker/containers/<id>/config.v2.json (name,
 * image, dockershim labels) and hostconfig.json (privileged). The OCI bundle
 * is only read, from dockerd's containerd namespace "moby", when hostconfig
 * does not say whether the container is privileged.
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

static int runtime_docker_read(struct vg_container_meta *m, struct container_runtime_ctx *x)
{
	char dir[PATH_MAX], path[PATH_MAX], full[65];
	bool found = false;
	json_t *j;
	int r;

	if (container_runtime_path(x, dir, "/var/lib/docker/containers"))
		return 0;
	r = container_runtime_resolve(dir, m->id, full);
	if (r <= 0) {
		container_runtime_note(x, r);
		return 0;
	}
	if (!container_runtime_path(x, path, "/var/lib/docker/containers/%s/config.v2.json", full)) {
		r = container_runtime_load_json(path, &j);
		if (r == 0) {
			const char *name = json_string_value(json_object_get(j, "Name"));
			if (name && *name == '/')
				name++; /* docker stores "/name" */
			json_t *conf = json_object_get(j, "Config");
			if (!(r = container_runtime_set(&m->name, name)) &&
			    !(r = container_runtime_set_json(&m->image, conf, "Image")) &&
			    !(r = container_runtime_set_image_id(&m->image_id, json_string_value(json_object_get(j, "Image")))))
				r = container_runtime_apply_keys(m, json_object_get(conf, "Labels")); /* dockershim */
			json_decref(j);
			if (r)
				return r;
			found = true;
		} else {
			container_runtime_note(x, r);
		}
	}
	if (!container_runtime_path(x, path, "/var/lib/docker/containers/%s/hostconfig.json", full)) {
		r = container_runtime_load_json(path, &j);
		if (r == 0) {
			json_t *p = json_object_get(j, "Privileged");
			if (json_is_boolean(p))
				m->privileged = json_is_true(p);
			json_decref(j);
			found = true;
		} else {
			container_runtime_note(x, r);
		}
	}
	if (!found)
		return 0;
	memcpy(m->id, full, 65);
	if (m->runtime == VG_RT_UNKNOWN || m->runtime == VG_RT_NONE)
		m->runtime = VG_RT_DOCKER;
	if (m->privileged == -1) {
		r = runtime_containerd_read_ns(m, x, "moby");
		if (r < 0)
			return r;
	}
	return 1;
}

const struct container_runtime_ops runtime_docker_ops = {
	.rt = VG_RT_DOCKER, .name = "docker", .cgroup_prefix = "docker-", .colon_prefix = "docker",
	.read = runtime_docker_read,
};
