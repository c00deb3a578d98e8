/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Container metadata from cgroup paths and from the runtimes' own state
 * files; contracts in container_meta.h. The podman layout was observed on the
 * test machines (facts at the top of tests/lib/containers.sh); containerd,
 * CRI-O and docker follow their documented on-disk formats.
 *
 * Ids read from the caller are validated as hex before they are used in a
 * path, and directory entries are only used when they look like ids or are
 * containerd namespace names read from the directory itself, so no input can
 * make a lookup leave the runtime state directories.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "state/container_meta.h"

#define CM_MAX_FILE (4u << 20)  /* state files larger than this are refused */
#define CM_MAX_STR 4096         /* longest string accepted by from_json */
#define CM_MIN_ID 12            /* shortest id prefix accepted */
#define CM_SKIP 1               /* internal: file present but unusable */
/* CAP_AUDIT_READ (37) is the last capability of Linux 3.16: a bounding set
 * this large means "all of them" for any runtime we know. */
#define CM_ALL_CAPS 38

static const char *const container_meta_names[] = {
	[VG_RT_NONE] = "",
	[VG_RT_DOCKER] = "docker",
	[VG_RT_CONTAINERD] = "containerd",
	[VG_RT_CRIO] = "cri-o",
	[VG_RT_PODMAN] = "podman",
	[VG_RT_UNKNOWN] = "unknown",
};

#define CM_NRT (sizeof container_meta_names / sizeof container_meta_names[0])

const char *container_meta_runtime_name(enum vg_runtime rt)
{
	if ((unsigned)rt >= CM_NRT)
		return "";
	return container_meta_names[rt];
}

enum vg_runtime container_meta_runtime_from_name(const char *name)
{
	for (unsigned i = 0; i < CM_NRT; i++)
		if (!strcmp(name, container_meta_names[i]))
			return (enum vg_runtime)i;
	return VG_RT_UNKNOWN;
}

static bool container_meta_is_hex(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* ---- cgroup paths ---- */

struct container_meta_prefix {
	const char *prefix;
	enum vg_runtime rt;
};

/* "<prefix><id>[.scope]" components. conmon's "libpod-conmon-<id>" and
 * "crio-conmon-<id>" fail the hex check on "conmon-". */
static const struct container_meta_prefix container_meta_prefixes[] = {
	{ "libpod-", VG_RT_PODMAN },
	{ "docker-", VG_RT_DOCKER },
	{ "cri-containerd-", VG_RT_CONTAINERD },
	{ "crio-", VG_RT_CRIO },
};

/* "<slice>:<prefix>:<id>": the systemd-driver cgroupsPath as containerd and
 * CRI-O spell it, seen in paths when the runtime uses it verbatim. */
static const struct container_meta_prefix container_meta_colon_prefixes[] = {
	{ "cri-containerd", VG_RT_CONTAINERD },
	{ "crio", VG_RT_CRIO },
	{ "docker", VG_RT_DOCKER },
	{ "libpod", VG_RT_PODMAN },
};

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
	if (n < minlen || n > 64 || !container_meta_is_hex(h, n))
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
		for (size_t i = 0; i < sizeof container_meta_colon_prefixes / sizeof container_meta_colon_prefixes[0]; i++)
			if (container_meta_comp_is(pre, pren, container_meta_colon_prefixes[i].prefix))
				return container_meta_take_id(h, hn, CM_MIN_ID, container_meta_colon_prefixes[i].rt,
							      id, rt);
		return 0;
	}

	size_t m = n;
	if (m > 6 && !memcmp(c + m - 6, ".scope", 6))
		m -= 6;
	for (size_t i = 0; i < sizeof container_meta_prefixes / sizeof container_meta_prefixes[0]; i++) {
		const char *pf = container_meta_prefixes[i].prefix;
		size_t l = strlen(pf);
		if (container_meta_comp_starts(c, m, pf))
			return container_meta_take_id(c + l, m - l, CM_MIN_ID, container_meta_prefixes[i].rt, id, rt);
	}

	/* A bare id is only a container where the layout says so: a podman pod's
	 * own cgroup is also a bare 64-hex name (below libpod_parent). */
	if (n == 64 && container_meta_is_hex(c, n) && pn > 0) {
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

/* ---- bounded file reading ---- */

struct container_meta_ctx {
	char root[PATH_MAX]; /* without trailing '/': "" for "/" */
	int err;             /* first real error seen (-errno), 0 if none */
};

/* Remember a real error (not "missing", not "skipped"); the first one wins. */
static void container_meta_note(struct container_meta_ctx *x, int r)
{
	if (r < 0 && r != -ENOENT && !x->err)
		x->err = r;
}

/* out = root + formatted path (which starts with '/'). 0 or -ENAMETOOLONG. */
static int container_meta_path(const struct container_meta_ctx *x, char out[PATH_MAX], const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int container_meta_path(const struct container_meta_ctx *x, char out[PATH_MAX], const char *fmt, ...)
{
	size_t rl = strlen(x->root);
	va_list ap;
	memcpy(out, x->root, rl + 1);
	va_start(ap, fmt);
	int n = vsnprintf(out + rl, PATH_MAX - rl, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= PATH_MAX - rl)
		return -ENAMETOOLONG;
	return 0;
}

/*
 * Read a whole regular file of at most CM_MAX_FILE bytes into a malloc'd,
 * NUL-terminated *buf (caller frees). Returns 0, -ENOENT when it (or a
 * directory on the way) is missing, CM_SKIP when it is not a regular file or
 * too large, or another -errno. O_NONBLOCK so a FIFO planted in a state
 * directory cannot block us; fstat then refuses it.
 */
static int container_meta_read_file(const char *path, char **buf, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return (errno == ENOENT || errno == ENOTDIR) ? -ENOENT : -errno;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > (off_t)CM_MAX_FILE) {
		close(fd);
		return CM_SKIP;
	}
	/* +1 so a file that grew past its fstat size is noticed below. */
	size_t cap = (size_t)st.st_size + 1, n = 0;
	char *b = malloc(cap + 1);
	if (!b) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		if (n == cap) {
			if (cap > CM_MAX_FILE) {
				free(b);
				close(fd);
				return CM_SKIP;
			}
			size_t ncap = cap * 2 > CM_MAX_FILE + 1 ? CM_MAX_FILE + 1 : cap * 2;
			char *nb = realloc(b, ncap + 1);
			if (!nb) {
				free(b);
				close(fd);
				return -ENOMEM;
			}
			b = nb;
			cap = ncap;
		}
		ssize_t r = read(fd, b + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = -errno;
			free(b);
			close(fd);
			return e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (n > CM_MAX_FILE) {
		free(b);
		return CM_SKIP;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

/* Parse a JSON file. 0 with *out (caller decrefs), -ENOENT, CM_SKIP for an
 * unusable or unparseable file, -errno. jansson cannot tell a parse error
 * from an allocation failure; both count as unparseable. */
static int container_meta_load_json(const char *path, json_t **out)
{
	char *buf = NULL;
	size_t len = 0;
	int r = container_meta_read_file(path, &buf, &len);
	if (r)
		return r;
	json_error_t err;
	*out = json_loadb(buf, len, 0, &err);
	free(buf);
	return *out ? 0 : CM_SKIP;
}

/*
 * Find the entry of directory dir that id names: id itself when it is a full
 * id (whether it exists is left to the caller's open), else the only 64-hex
 * entry starting with id. Returns 1 with full filled, 0 when there is none or
 * more than one, -errno when dir exists but cannot be read.
 */
static int container_meta_resolve(const char *dir, const char *id, char full[65])
{
	size_t n = strlen(id);
	if (n == 64) {
		memcpy(full, id, 65);
		return 1;
	}
	DIR *d = opendir(dir);
	if (!d)
		return (errno == ENOENT || errno == ENOTDIR) ? 0 : -errno;
	int found = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strlen(de->d_name) == 64 && !strncmp(de->d_name, id, n) && container_meta_is_hex(de->d_name, 64)) {
			if (found++)
				break;
			memcpy(full, de->d_name, 65);
		}
	}
	closedir(d);
	return found == 1;
}

/* ---- filling fields ---- */

/* Set *dst to a copy of s unless *dst is set already or s is NULL or empty:
 * sources are consulted best first, and the first one wins. 0 or -ENOMEM. */
static int container_meta_set(char **dst, const char *s)
{
	if (*dst || !s || !*s)
		return 0;
	*dst = strdup(s);
	return *dst ? 0 : -ENOMEM;
}

static int container_meta_set_json(char **dst, json_t *obj, const char *key)
{
	return container_meta_set(dst, json_string_value(json_object_get(obj, key)));
}

/* Image ids are kept as bare 64 hex; anything else (a repo digest) is not an id. */
static int container_meta_set_image_id(char **dst, const char *s)
{
	if (!s)
		return 0;
	if (!strncmp(s, "sha256:", 7))
		s += 7;
	if (strlen(s) != 64 || !container_meta_is_hex(s, 64))
		return 0;
	return container_meta_set(dst, s);
}

struct container_meta_key {
	const char *key;
	size_t off; /* of a char * in struct vg_container_meta */
};

#define CM_FIELD(f) offsetof(struct vg_container_meta, f)

/* OCI annotations (containerd CRI, CRI-O) and dockershim container labels. */
static const struct container_meta_key container_meta_k8s_keys[] = {
	{ "io.kubernetes.cri.sandbox-name", CM_FIELD(k8s_pod_name) },
	{ "io.kubernetes.cri.sandbox-namespace", CM_FIELD(k8s_namespace) },
	{ "io.kubernetes.cri.sandbox-uid", CM_FIELD(k8s_pod_uid) },
	{ "io.kubernetes.cri.container-name", CM_FIELD(k8s_container_name) },
	{ "io.kubernetes.cri.image-name", CM_FIELD(image) },
	{ "io.kubernetes.pod.name", CM_FIELD(k8s_pod_name) },
	{ "io.kubernetes.pod.namespace", CM_FIELD(k8s_namespace) },
	{ "io.kubernetes.pod.uid", CM_FIELD(k8s_pod_uid) },
	{ "io.kubernetes.container.name", CM_FIELD(k8s_container_name) },
	{ "io.kubernetes.cri-o.ImageName", CM_FIELD(image) },
	{ "io.kubernetes.cri-o.Name", CM_FIELD(name) },
};

static int container_meta_apply_keys(struct vg_container_meta *m, json_t *obj)
{
	if (!json_is_object(obj))
		return 0;
	for (size_t i = 0; i < sizeof container_meta_k8s_keys / sizeof container_meta_k8s_keys[0]; i++) {
		char **dst = (char **)((char *)m + container_meta_k8s_keys[i].off);
		int r = container_meta_set_json(dst, obj, container_meta_k8s_keys[i].key);
		if (r)
			return r;
	}
	return 0;
}

/* The pod uid in a kubepods cgroupsPath: "pod" + 8-4-4-4-12 hex, with '_'
 * for '-' under the systemd driver. Written as a dashed uuid, or NULL. */
static int container_meta_uid_from_cgroups_path(struct vg_container_meta *m, const char *cp)
{
	if (m->k8s_pod_uid || !cp || !strstr(cp, "kubepods"))
		return 0;
	for (const char *s = strstr(cp, "pod"); s; s = strstr(s + 1, "pod")) {
		const char *u = s + 3;
		char out[37];
		size_t i;
		for (i = 0; i < 36 && u[i]; i++) {
			bool dash = i == 8 || i == 13 || i == 18 || i == 23;
			if (dash ? (u[i] != '-' && u[i] != '_') : !container_meta_is_hex(u + i, 1))
				break;
			out[i] = dash ? '-' : u[i];
		}
		if (i == 36) {
			out[36] = '\0';
			return container_meta_set(&m->k8s_pod_uid, out);
		}
	}
	return 0;
}

/* The OCI rule for privileged (see container_meta.h): 1, 0, or -1 when the
 * config has no capabilities record. */
static int container_meta_oci_privileged(json_t *cfg)
{
	json_t *bounding = json_object_get(json_object_get(json_object_get(cfg, "process"), "capabilities"),
					   "bounding");
	if (!json_is_array(bounding))
		return -1;
	size_t ncaps = 0, i;
	bool sys_admin = false;
	json_t *v;
	json_array_foreach(bounding, i, v) {
		const char *s = json_string_value(v);
		if (s && !strncmp(s, "CAP_", 4)) {
			ncaps++;
			if (!strcmp(s, "CAP_SYS_ADMIN"))
				sys_admin = true;
		}
	}
	json_t *masked = json_object_get(json_object_get(cfg, "linux"), "maskedPaths");
	bool unmasked = !masked || (json_is_array(masked) && json_array_size(masked) == 0);
	return sys_admin && ncaps >= CM_ALL_CAPS && unmasked;
}

static void container_meta_free_mounts(struct vg_container_meta *m)
{
	for (size_t i = 0; i < m->nmounts; i++) {
		free(m->mounts[i].source);
		free(m->mounts[i].dest);
	}
	free(m->mounts);
	m->mounts = NULL;
	m->nmounts = 0;
}

/*
 * The mounts of an OCI config.json ("mounts": [{destination, source, options}])
 * or of our own JSON ([{source, dest, ro}]). Returns 0, -EINVAL on a wrong shape,
 * -ENOMEM. Replaces what m had.
 */
static int container_meta_apply_mounts(struct vg_container_meta *m, json_t *list)
{
	if (!list)
		return 0;
	if (!json_is_array(list))
		return -EINVAL;
	container_meta_free_mounts(m);
	size_t n = json_array_size(list);
	if (n > VG_MOUNTS_MAX)
		n = VG_MOUNTS_MAX;
	m->mounts = calloc(n ? n : 1, sizeof(*m->mounts));
	if (!m->mounts)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(list, i);
		json_t *d = json_object_get(e, "destination");
		if (!d)
			d = json_object_get(e, "dest");
		const char *dest = json_string_value(d);
		const char *src = json_string_value(json_object_get(e, "source"));
		if (!json_is_object(e) || !dest || strlen(dest) > CM_MAX_STR || (src && strlen(src) > CM_MAX_STR))
			return -EINVAL;
		struct vg_mount *mt = &m->mounts[m->nmounts];
		mt->dest = strdup(dest);
		mt->source = strdup(src ? src : "");
		if (!mt->dest || !mt->source) {
			free(mt->dest);
			free(mt->source);
			return -ENOMEM;
		}
		json_t *ro = json_object_get(e, "ro");
		json_t *opts = json_object_get(e, "options");
		size_t k;
		json_t *o;
		mt->ro = json_is_true(ro);
		json_array_foreach(opts, k, o)
			if (json_is_string(o) && !strcmp(json_string_value(o), "ro"))
				mt->ro = 1;
		m->nmounts++;
	}
	return 0;
}

/* Fill from an OCI runtime config.json (any runtime). */
static int container_meta_apply_oci(struct vg_container_meta *m, json_t *cfg)
{
	json_t *ann = json_object_get(cfg, "annotations");
	int r = container_meta_apply_keys(m, ann);
	if (r)
		return r;
	/* containerd has no container name of its own: use the CRI one, or the
	 * pod's for a sandbox (pause) container. */
	if ((r = container_meta_set_json(&m->name, ann, "io.kubernetes.cri.container-name")) ||
	    (r = container_meta_set_json(&m->name, ann, "io.kubernetes.cri.sandbox-name")))
		return r;
	r = container_meta_set_image_id(&m->image_id,
					json_string_value(json_object_get(ann, "io.kubernetes.cri-o.ImageRef")));
	if (r)
		return r;
	r = container_meta_uid_from_cgroups_path(
		m, json_string_value(json_object_get(json_object_get(cfg, "linux"), "cgroupsPath")));
	if (r)
		return r;
	if ((r = container_meta_apply_mounts(m, json_object_get(cfg, "mounts"))))
		return r;
	if (m->privileged == -1) {
		const char *p = json_string_value(json_object_get(ann, "io.podman.annotations.privileged"));
		if (p && !strcasecmp(p, "true"))
			m->privileged = 1;
		else if (p && !strcasecmp(p, "false"))
			m->privileged = 0;
		else
			m->privileged = container_meta_oci_privileged(cfg);
	}
	return 0;
}

/* ---- containers/storage: podman and CRI-O ---- */

static const char *const container_meta_storage_roots[] = {
	"/run/containers/storage",     /* runroot: CRI-O's bundles */
	"/var/lib/containers/storage", /* graphroot: podman's bundles, containers.json */
};

static const char *const container_meta_drivers[] = { "overlay", "vfs", "btrfs", "zfs" };

static const char *const container_meta_storage_lists[] = { "containers.json", "volatile-containers.json" };

#define CM_N(a) (sizeof(a) / sizeof((a)[0]))

/* Fill from one containers.json entry. */
static int container_meta_apply_storage_entry(struct vg_container_meta *m, json_t *e, bool *crio)
{
	int r = container_meta_set(&m->name, json_string_value(json_array_get(json_object_get(e, "names"), 0)));
	if (r || (r = container_meta_set_image_id(&m->image_id, json_string_value(json_object_get(e, "image")))))
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
	if (!(r = container_meta_set_json(&m->image, j, "image-name")) &&
	    !(r = container_meta_set_image_id(&m->image_id, json_string_value(json_object_get(j, "image-id")))))
		r = container_meta_set_json(&m->name, j, "name");
	json_decref(j);
	return r;
}

/* Find id (full, or a unique prefix) in a containers.json array. */
static json_t *container_meta_find_entry(json_t *list, const char *id)
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
static int container_meta_load_cstorage(struct vg_container_meta *m, struct container_meta_ctx *x)
{
	char dir[PATH_MAX], path[PATH_MAX], full[65];
	bool got_cfg = false, got_entry = false, libpod = false, crio = false;
	int r;

	for (size_t s = 0; s < CM_N(container_meta_storage_roots) && !got_cfg; s++) {
		for (size_t d = 0; d < CM_N(container_meta_drivers) && !got_cfg; d++) {
			if (container_meta_path(x, dir, "%s/%s-containers", container_meta_storage_roots[s],
						container_meta_drivers[d]))
				continue;
			r = container_meta_resolve(dir, m->id, full);
			if (r <= 0) {
				container_meta_note(x, r);
				continue;
			}
			json_t *cfg;
			if (container_meta_path(x, path, "%s/%s-containers/%s/userdata/config.json",
						container_meta_storage_roots[s], container_meta_drivers[d], full))
				continue;
			r = container_meta_load_json(path, &cfg);
			if (r) {
				container_meta_note(x, r);
				continue;
			}
			json_t *ann = json_object_get(cfg, "annotations");
			const char *mgr = json_string_value(json_object_get(ann, "io.container.manager"));
			libpod = mgr && !strcmp(mgr, "libpod");
			crio = !libpod && (json_object_get(ann, "io.kubernetes.cri-o.ContainerID") ||
					   json_object_get(ann, "io.kubernetes.cri-o.Name"));
			r = container_meta_apply_oci(m, cfg);
			json_decref(cfg);
			if (r)
				return r;
			memcpy(m->id, full, 65);
			got_cfg = true;
		}
	}

	for (size_t s = 0; s < CM_N(container_meta_storage_roots) && !got_entry; s++) {
		for (size_t d = 0; d < CM_N(container_meta_drivers) && !got_entry; d++) {
			for (size_t l = 0; l < CM_N(container_meta_storage_lists) && !got_entry; l++) {
				json_t *list;
				if (container_meta_path(x, path, "%s/%s-containers/%s", container_meta_storage_roots[s],
							container_meta_drivers[d], container_meta_storage_lists[l]))
					continue;
				r = container_meta_load_json(path, &list);
				if (r) {
					container_meta_note(x, r);
					continue;
				}
				json_t *e = container_meta_find_entry(list, m->id);
				if (e) {
					bool md_crio = false;
					const char *eid = json_string_value(json_object_get(e, "id"));
					memcpy(m->id, eid, 65);
					r = container_meta_apply_storage_entry(m, e, &md_crio);
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

/* ---- containerd (and docker's bundles) ---- */

static const char *const container_meta_task_dirs[] = {
	"/run/containerd/io.containerd.runtime.v2.task",
	"/run/containerd/io.containerd.runtime.v1.linux",
	"/run/docker/containerd/daemon/io.containerd.runtime.v2.task", /* dockerd's own containerd */
	"/run/docker/containerd/daemon/io.containerd.runtime.v1.linux",
};

/* Look for <task dir>/<namespace>/<id>/config.json in every namespace (or
 * only in only_ns). 1 found, 0 not, -ENOMEM. */
static int container_meta_load_tasks(struct vg_container_meta *m, struct container_meta_ctx *x, const char *only_ns)
{
	char base[PATH_MAX], dir[PATH_MAX], path[PATH_MAX], full[65];
	for (size_t t = 0; t < CM_N(container_meta_task_dirs); t++) {
		if (container_meta_path(x, base, "%s", container_meta_task_dirs[t]))
			continue;
		DIR *d = opendir(base);
		if (!d) {
			container_meta_note(x, (errno == ENOENT || errno == ENOTDIR) ? -ENOENT : -errno);
			continue;
		}
		struct dirent *de;
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.' || (only_ns && strcmp(de->d_name, only_ns)))
				continue;
			if (container_meta_path(x, dir, "%s/%s", container_meta_task_dirs[t], de->d_name))
				continue;
			int r = container_meta_resolve(dir, m->id, full);
			if (r <= 0) {
				container_meta_note(x, r);
				continue;
			}
			json_t *cfg;
			if (container_meta_path(x, path, "%s/%s/%s/config.json", container_meta_task_dirs[t],
						de->d_name, full))
				continue;
			r = container_meta_load_json(path, &cfg);
			if (r) {
				container_meta_note(x, r);
				continue;
			}
			r = container_meta_apply_oci(m, cfg);
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

/* ---- docker ---- */

static int container_meta_load_docker(struct vg_container_meta *m, struct container_meta_ctx *x)
{
	char dir[PATH_MAX], path[PATH_MAX], full[65];
	bool found = false;
	json_t *j;
	int r;

	if (container_meta_path(x, dir, "/var/lib/docker/containers"))
		return 0;
	r = container_meta_resolve(dir, m->id, full);
	if (r <= 0) {
		container_meta_note(x, r);
		return 0;
	}
	if (!container_meta_path(x, path, "/var/lib/docker/containers/%s/config.v2.json", full)) {
		r = container_meta_load_json(path, &j);
		if (r == 0) {
			const char *name = json_string_value(json_object_get(j, "Name"));
			if (name && *name == '/')
				name++; /* docker stores "/name" */
			json_t *conf = json_object_get(j, "Config");
			if (!(r = container_meta_set(&m->name, name)) &&
			    !(r = container_meta_set_json(&m->image, conf, "Image")) &&
			    !(r = container_meta_set_image_id(&m->image_id, json_string_value(json_object_get(j, "Image")))))
				r = container_meta_apply_keys(m, json_object_get(conf, "Labels")); /* dockershim */
			json_decref(j);
			if (r)
				return r;
			found = true;
		} else {
			container_meta_note(x, r);
		}
	}
	if (!container_meta_path(x, path, "/var/lib/docker/containers/%s/hostconfig.json", full)) {
		r = container_meta_load_json(path, &j);
		if (r == 0) {
			json_t *p = json_object_get(j, "Privileged");
			if (json_is_boolean(p))
				m->privileged = json_is_true(p);
			json_decref(j);
			found = true;
		} else {
			container_meta_note(x, r);
		}
	}
	if (!found)
		return 0;
	memcpy(m->id, full, 65);
	if (m->runtime == VG_RT_UNKNOWN || m->runtime == VG_RT_NONE)
		m->runtime = VG_RT_DOCKER;
	if (m->privileged == -1) {
		r = container_meta_load_tasks(m, x, "moby");
		if (r < 0)
			return r;
	}
	return 1;
}

/* ---- public ---- */

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
	container_meta_free_mounts(meta);
	memset(meta, 0, sizeof *meta);
}

int container_meta_load(struct vg_container_meta *meta, const char *id, enum vg_runtime rt, const char *root)
{
	if (!meta)
		return -EINVAL;
	memset(meta, 0, sizeof *meta);
	meta->privileged = -1;
	if (!id || (unsigned)rt >= CM_NRT)
		return -EINVAL;
	size_t n = strlen(id);
	if (n == 0)
		return 0; /* the host: nothing to load */
	if (n < CM_MIN_ID || n > 64 || !container_meta_is_hex(id, n))
		return -EINVAL;
	memcpy(meta->id, id, n + 1);
	meta->runtime = rt;

	struct container_meta_ctx x = { .err = 0 };
	if (!root)
		root = "/";
	size_t rl = strlen(root);
	while (rl > 0 && root[rl - 1] == '/')
		rl--;
	if (rl >= sizeof x.root)
		return -ENAMETOOLONG;
	memcpy(x.root, root, rl);
	x.root[rl] = '\0';

	int r;
	switch (rt) {
	case VG_RT_DOCKER:
		r = container_meta_load_docker(meta, &x);
		break;
	case VG_RT_CONTAINERD:
		r = container_meta_load_tasks(meta, &x, NULL);
		break;
	case VG_RT_CRIO:
	case VG_RT_PODMAN:
		r = container_meta_load_cstorage(meta, &x);
		break;
	default:
		r = container_meta_load_docker(meta, &x);
		if (r == 0)
			r = container_meta_load_tasks(meta, &x, NULL);
		if (r == 0)
			r = container_meta_load_cstorage(meta, &x);
		break;
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

/* ---- JSON ---- */

static const struct container_meta_key container_meta_json_strings[] = {
	{ "name", CM_FIELD(name) },
	{ "image", CM_FIELD(image) },
	{ "image_id", CM_FIELD(image_id) },
	{ "k8s_pod_name", CM_FIELD(k8s_pod_name) },
	{ "k8s_namespace", CM_FIELD(k8s_namespace) },
	{ "k8s_pod_uid", CM_FIELD(k8s_pod_uid) },
	{ "k8s_container_name", CM_FIELD(k8s_container_name) },
};

/* A JSON string of s; invalid UTF-8 (which jansson refuses) is written with
 * every non-ASCII byte as '?', so output is always valid JSON. NULL on
 * allocation failure. */
static json_t *container_meta_json_string(const char *s, size_t n)
{
	json_t *v = json_stringn(s, n);
	if (v)
		return v;
	char *c = malloc(n + 1);
	if (!c)
		return NULL;
	for (size_t i = 0; i < n; i++)
		c[i] = (unsigned char)s[i] >= 0x80 ? '?' : s[i];
	c[n] = '\0';
	v = json_stringn(c, n);
	free(c);
	return v;
}

static int container_meta_json_add(json_t *o, const char *key, json_t *v)
{
	return v ? json_object_set_new(o, key, v) : -1;
}

char *container_meta_to_json(const struct vg_container_meta *meta)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	bool ok = !container_meta_json_add(o, "id", container_meta_json_string(meta->id, strnlen(meta->id, 64))) &&
		  !container_meta_json_add(o, "runtime", json_string(container_meta_runtime_name(meta->runtime)));
	for (size_t i = 0; ok && i < CM_N(container_meta_json_strings); i++) {
		const char *s = *(char *const *)((const char *)meta + container_meta_json_strings[i].off);
		if (s)
			ok = !container_meta_json_add(o, container_meta_json_strings[i].key,
						      container_meta_json_string(s, strlen(s)));
	}
	ok = ok && !container_meta_json_add(o, "privileged", json_integer(meta->privileged)) &&
	     !container_meta_json_add(o, "metadata_found", json_integer(meta->metadata_found ? 1 : 0));
	if (ok && meta->nmounts) {
		json_t *arr = json_array();
		ok = arr && !container_meta_json_add(o, "mounts", arr);
		for (size_t i = 0; ok && i < meta->nmounts; i++) {
			json_t *e = json_object();
			ok = e && !json_array_append_new(arr, e) &&
			     !container_meta_json_add(e, "source", container_meta_json_string(meta->mounts[i].source, strlen(meta->mounts[i].source))) &&
			     !container_meta_json_add(e, "dest", container_meta_json_string(meta->mounts[i].dest, strlen(meta->mounts[i].dest))) &&
			     !container_meta_json_add(e, "ro", json_boolean(meta->mounts[i].ro));
		}
	}
	char *out = NULL;
	if (ok) {
		/* Dump into our own malloc'd buffer: callers free() it whatever
		 * allocator jansson was given. */
		size_t need = json_dumpb(o, NULL, 0, JSON_COMPACT);
		if (need > 0 && (out = malloc(need + 1))) {
			if (json_dumpb(o, out, need, JSON_COMPACT) != need) {
				free(out);
				out = NULL;
			} else {
				out[need] = '\0';
			}
		}
	}
	json_decref(o);
	return out;
}

/* Copy an optional string member; -EINVAL on a wrong type or size. */
static int container_meta_json_get_str(json_t *o, const char *key, char **dst)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -EINVAL;
	size_t n = json_string_length(v);
	const char *s = json_string_value(v);
	if (n > CM_MAX_STR || strlen(s) != n)
		return -EINVAL;
	*dst = strdup(s);
	return *dst ? 0 : -ENOMEM;
}

/* An optional integer member in [lo, hi] (booleans read as 0/1). */
static int container_meta_json_get_int(json_t *o, const char *key, int lo, int hi, int *dst)
{
	json_t *v = json_object_get(o, key);
	if (!v)
		return 0;
	if (json_is_boolean(v)) {
		*dst = json_is_true(v);
	} else if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);
		if (i < lo || i > hi)
			return -EINVAL;
		*dst = (int)i;
	} else {
		return -EINVAL;
	}
	return *dst >= lo && *dst <= hi ? 0 : -EINVAL;
}

int container_meta_from_json(struct vg_container_meta *meta, const char *json, size_t len)
{
	if (!meta)
		return -EINVAL;
	memset(meta, 0, sizeof *meta);
	if (!json)
		return -EINVAL;
	json_error_t err;
	json_t *o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
	if (!o)
		return -EINVAL;
	int r = -EINVAL;
	if (!json_is_object(o))
		goto out;

	meta->privileged = -1;
	json_t *v = json_object_get(o, "id");
	if (v) {
		const char *s = json_string_value(v);
		size_t n = s ? json_string_length(v) : 0;
		if (!s || n > 64 || (n > 0 && !container_meta_is_hex(s, n)))
			goto out;
		memcpy(meta->id, s, n);
		meta->id[n] = '\0';
	}
	v = json_object_get(o, "runtime");
	if (v) {
		const char *s = json_string_value(v);
		if (!s || json_string_length(v) != strlen(s))
			goto out;
		meta->runtime = container_meta_runtime_from_name(s);
	}
	for (size_t i = 0; i < CM_N(container_meta_json_strings); i++) {
		char **dst = (char **)((char *)meta + container_meta_json_strings[i].off);
		r = container_meta_json_get_str(o, container_meta_json_strings[i].key, dst);
		if (r)
			goto out;
	}
	r = container_meta_json_get_int(o, "privileged", -1, 1, &meta->privileged);
	if (!r)
		r = container_meta_json_get_int(o, "metadata_found", 0, 1, &meta->metadata_found);
	if (!r)
		r = container_meta_apply_mounts(meta, json_object_get(o, "mounts"));
out:
	json_decref(o);
	if (r)
		container_meta_free(meta);
	return r;
}
