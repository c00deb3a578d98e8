/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Container metadata from cgroup paths and from the runtimes' own state
 * files; contracts in container_meta.h. This file names the runtimes and
 * dispatches to their readers (runtime_*.c, interface in
 * container_runtime.h); the JSON codec is container_meta_codec.c.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "state/container_runtime.h"

/*
 * Every runtime, indexed by its enum value. The index order is also the
 * probe order of container_meta_load for VG_RT_UNKNOWN: docker, containerd,
 * then containers/storage (CRI-O and podman share it and are told apart by
 * what the reader finds).
 */
static const struct container_runtime_ops *const container_meta_runtimes[] = {
	[VG_RT_NONE] = NULL,
	[VG_RT_DOCKER] = &runtime_docker_ops,
	[VG_RT_CONTAINERD] = &runtime_containerd_ops,
	[VG_RT_CRIO] = &runtime_crio_ops,
	[VG_RT_PODMAN] = &runtime_podman_ops,
	[VG_RT_UNKNOWN] = NULL,
};

const char *container_meta_runtime_name(enum vg_runtime rt)
{
	if ((unsigned)rt >= CRT_N(container_meta_runtimes))
		return "";
	if (container_meta_runtimes[rt])
		return container_meta_runtimes[rt]->name;
	return rt == VG_RT_UNKNOWN ? "unknown" : "";
}

enum vg_runtime container_meta_runtime_from_name(const char *name)
{
	if (!*name)
		return VG_RT_NONE;
	for (size_t i = 0; i < CRT_N(container_meta_runtimes); i++)
		if (container_meta_runtimes[i] && !strcmp(name, container_meta_runtimes[i]->name))
			return container_meta_runtimes[i]->rt;
	return VG_RT_UNKNOWN;
}

/* ---- cgroup paths ---- */

static bool container_meta_comp_is(const char *c, size_t n, const char *s)
{
	return strlen(s) == n && !memcmp(c, s, n);
}

static bool container_meta_comp_starts(const char *c, size_t n, const char *p)
{
	size_t l = strlen(p);
	return n >= l && !memcmp(c, p, l);
}

/* Is some component of path[0..upto) one starting with prefix? */
static bool container_meta_under(const char *path, const char *upto, const char *prefix)
{
	const char *s = path;
	while (s < upto) {
		while (s < upto && *s == '/')
			s++;
		const char *e = s;
		while (e < upto && *e != '/')
			e++;
		if (e > s && container_meta_comp_starts(s, (size_t)(e - s), prefix))
			return true;
		s = e;
	}
	return false;
}

static int container_meta_take_id(const char *h, size_t n, size_t minlen, enum vg_runtime r,
				  char id[65], enum vg_runtime *rt)
{
	if (n < minlen || n > 64 || !container_runtime_is_hex(h, n))
		return 0;
	memcpy(id, h, n);
	id[n] = '\0';
	if (rt)
		*rt = r;
	return 1;
}

/* Does component c[0..n) (parent p[0..pn), pn 0 at the top) name a container? */
static int container_meta_match(const char *path, const char *c, size_t n, const char *p, size_t pn,
				char id[65], enum vg_runtime *rt)
{
	const char *colon = memchr(c, ':', n);
	if (colon) {
		const char *last = memrchr(c, ':', n);
		if (last == colon)
			return 0;
		const char *pc = memrchr(c, ':', (size_t)(last - c));
		const char *pre = pc + 1;
		size_t pren = (size_t)(last - pre);
		const char *h = last + 1;
		size_t hn = (size_t)(c + n - h);
		for (size_t i = 0; i < CRT_N(container_meta_runtimes); i++) {
			const struct container_runtime_ops *o = container_meta_runtimes[i];
			if (o && o->colon_prefix && container_meta_comp_is(pre, pren, o->colon_prefix))
				return container_meta_take_id(h, hn, CRT_MIN_ID, o->rt, id, rt);
		}
		return 0;
	}

	size_t m = n;
	if (m > 6 && !memcmp(c + m - 6, ".scope", 6))
		m -= 6;
	for (size_t i = 0; i < CRT_N(container_meta_runtimes); i++) {
		const struct container_runtime_ops *o = container_meta_runtimes[i];
		if (!o || !o->cgroup_prefix)
			continue;
		size_t l = strlen(o->cgroup_prefix);
		if (container_meta_comp_starts(c, m, o->cgroup_prefix))
			return container_meta_take_id(c + l, m - l, CRT_MIN_ID, o->rt, id, rt);
	}

	/* A bare id is only a container where the layout says so: a podman pod's
	 * own cgroup is also a bare 64-hex name (below libpod_parent). */
	if (n == 64 && container_runtime_is_hex(c, n) && pn > 0) {
		if (container_meta_comp_is(p, pn, "docker"))
			return container_meta_take_id(c, n, 64, VG_RT_DOCKER, id, rt);
		if (container_meta_comp_starts(p, pn, "pod") && container_meta_under(path, p, "kubepods"))
			return container_meta_take_id(c, n, 64, VG_RT_UNKNOWN, id, rt);
	}
	return 0;
}

int container_meta_parse_cgroup(const char *cgroup_path, char id[65], enum vg_runtime *rt)
{
	id[0] = '\0';
	if (rt)
		*rt = VG_RT_NONE;
	if (!cgroup_path)
		return 0;

	const char *path = cgroup_path;
	/* A whole /proc/PID/cgroup line: "<n>:<controllers>:<path>". */
	if (*path >= '0' && *path <= '9') {
		const char *s = path;
		while (*s >= '0' && *s <= '9')
			s++;
		if (*s == ':') {
			const char *c2 = strchr(s + 1, ':');
			if (c2)
				path = c2 + 1;
		}
	}

	const char *end = path + strlen(path);
	while (end > path) {
		while (end > path && end[-1] == '/')
			end--;
		if (end == path)
			break;
		const char *start = end;
		while (start > path && start[-1] != '/')
			start--;
		const char *pend = start;
		while (pend > path && pend[-1] == '/')
			pend--;
		const char *pstart = pend;
		while (pstart > path && pstart[-1] != '/')
			pstart--;
		if (container_meta_match(path, start, (size_t)(end - start), pstart, (size_t)(pend - pstart), id,
					 rt))
			return 1;
		end = start;
	}
	id[0] = '\0';
	if (rt)
		*rt = VG_RT_NONE;
	return 0;
}

void container_meta_free(struct vg_container_meta *meta)
{
	if (!meta)
		return;
	free(meta->name);
	free(meta->image);
	free(meta->image_id);
	free(meta->k8s_pod_name);
	free(meta->k8s_namespace);
	free(meta->k8s_pod_uid);
	free(meta->k8s_container_name);
	free(meta->rootfs);
	container_runtime_free_mounts(meta);
	memset(meta, 0, sizeof *meta);
}

int container_meta_load(struct vg_container_meta *meta, const char *id, enum vg_runtime rt, const char *root)
{
	if (!meta)
		return -EINVAL;
	memset(meta, 0, sizeof *meta);
	meta->privileged = -1;
	if (!id || (unsigned)rt >= CRT_N(container_meta_runtimes))
		return -EINVAL;
	size_t n = strlen(id);
	if (n == 0)
		return 0; /* the host: nothing to load */
	if (n < CRT_MIN_ID || n > 64 || !container_runtime_is_hex(id, n))
		return -EINVAL;
	memcpy(meta->id, id, n + 1);
	meta->runtime = rt;

	struct container_runtime_ctx x = { .err = 0 };
	if (!root)
		root = "/";
	size_t rl = strlen(root);
	while (rl > 0 && root[rl - 1] == '/')
		rl--;
	if (rl >= sizeof x.root)
		return -ENAMETOOLONG;
	memcpy(x.root, root, rl);
	x.root[rl] = '\0';

	int r = 0;
	const struct container_runtime_ops *o = container_meta_runtimes[rt];
	if (o) {
		r = o->read(meta, &x);
	} else {
		/* Probe every reader once, in table order (runtimes that share a
		 * reader are adjacent). */
		int (*tried)(struct vg_container_meta *, struct container_runtime_ctx *) = NULL;
		for (size_t i = 0; r == 0 && i < CRT_N(container_meta_runtimes); i++) {
			o = container_meta_runtimes[i];
			if (!o || o->read == tried)
				continue;
			tried = o->read;
			r = o->read(meta, &x);
		}
	}
	if (r < 0) {
		container_meta_free(meta);
		return r;
	}
	if (r > 0) {
		meta->metadata_found = 1;
		return 0;
	}
	return x.err;
}

