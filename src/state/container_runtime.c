/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the container runtime readers share: bounded reading of state files
 * and filling struct vg_container_meta from the JSON found there (OCI
 * config.json, CRI annotations, mounts); contracts in container_runtime.h.
 *
 * Ids read from the caller are validated as hex before they are used in a
 * path, and directory entries are only used when they look like ids, so no
 * input can make a lookup leave the runtime state directories.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state/container_runtime.h"

#define CRT_MAX_FILE (4u << 20) /* state files larger than this are refused */
/* CAP_AUDIT_READ (37) is the last capability of Linux 3.16: a bounding set
 * this large means "all of them" for any runtime we know. */
#define CRT_ALL_CAPS 38

bool container_runtime_is_hex(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* ---- bounded file reading ---- */

/* Remember a real error (not "missing", not "skipped"); the first one wins. */
void container_runtime_note(struct container_runtime_ctx *x, int r)
{
	if (r < 0 && r != -ENOENT && !x->err)
		x->err = r;
}

/* out = root + formatted path (which starts with '/'). 0 or -ENAMETOOLONG. */
int container_runtime_path(const struct container_runtime_ctx *x, char out[PATH_MAX], const char *fmt, ...)
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
 * Read a whole regular file of at most CRT_MAX_FILE bytes into a malloc'd,
 * NUL-terminated *buf (caller frees). Returns 0, -ENOENT when it (or a
 * directory on the way) is missing, CRT_SKIP when it is not a regular file or
 * too large, or another -errno. O_NONBLOCK so a FIFO planted in a state
 * directory cannot block us; fstat then refuses it.
 */
static int container_runtime_read_file(const char *path, char **buf, size_t *len)
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
	if (!S_ISREG(st.st_mode) || st.st_size > (off_t)CRT_MAX_FILE) {
		close(fd);
		return CRT_SKIP;
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
			if (cap > CRT_MAX_FILE) {
				free(b);
				close(fd);
				return CRT_SKIP;
			}
			size_t ncap = cap * 2 > CRT_MAX_FILE + 1 ? CRT_MAX_FILE + 1 : cap * 2;
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
	if (n > CRT_MAX_FILE) {
		free(b);
		return CRT_SKIP;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

/* Parse a JSON file. 0 with *out (caller decrefs), -ENOENT, CRT_SKIP for an
 * unusable or unparseable file, -errno. jansson cannot tell a parse error
 * from an allocation failure; both count as unparseable. */
int container_runtime_load_json(const char *path, json_t **out)
{
	char *buf = NULL;
	size_t len = 0;
	int r = container_runtime_read_file(path, &buf, &len);
	if (r)
		return r;
	json_error_t err;
	*out = json_loadb(buf, len, 0, &err);
	free(buf);
	return *out ? 0 : CRT_SKIP;
}

/*
 * Find the entry of directory dir that id names: id itself when it is a full
 * id (whether it exists is left to the caller's open), else the only 64-hex
 * entry starting with id. Returns 1 with full filled, 0 when there is none or
 * more than one, -errno when dir exists but cannot be read.
 */
int container_runtime_resolve(const char *dir, const char *id, char full[65])
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
		if (strlen(de->d_name) == 64 && !strncmp(de->d_name, id, n) && container_runtime_is_hex(de->d_name, 64)) {
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
int container_runtime_set(char **dst, const char *s)
{
	if (*dst || !s || !*s)
		return 0;
	*dst = strdup(s);
	return *dst ? 0 : -ENOMEM;
}

int container_runtime_set_json(char **dst, json_t *obj, const char *key)
{
	return container_runtime_set(dst, json_string_value(json_object_get(obj, key)));
}

/* Image ids are kept as bare 64 hex; anything else (a repo digest) is not an id. */
int container_runtime_set_image_id(char **dst, const char *s)
{
	if (!s)
		return 0;
	if (!strncmp(s, "sha256:", 7))
		s += 7;
	if (strlen(s) != 64 || !container_runtime_is_hex(s, 64))
		return 0;
	return container_runtime_set(dst, s);
}

/* OCI annotations (containerd CRI, CRI-O) and dockershim container labels. */
static const struct container_runtime_key container_runtime_k8s_keys[] = {
	{ "io.kubernetes.cri.sandbox-name", CRT_FIELD(k8s_pod_name) },
	{ "io.kubernetes.cri.sandbox-namespace", CRT_FIELD(k8s_namespace) },
	{ "io.kubernetes.cri.sandbox-uid", CRT_FIELD(k8s_pod_uid) },
	{ "io.kubernetes.cri.container-name", CRT_FIELD(k8s_container_name) },
	{ "io.kubernetes.cri.image-name", CRT_FIELD(image) },
	{ "io.kubernetes.pod.name", CRT_FIELD(k8s_pod_name) },
	{ "io.kubernetes.pod.namespace", CRT_FIELD(k8s_namespace) },
	{ "io.kubernetes.pod.uid", CRT_FIELD(k8s_pod_uid) },
	{ "io.kubernetes.container.name", CRT_FIELD(k8s_container_name) },
	{ "io.kubernetes.cri-o.ImageName", CRT_FIELD(image) },
	{ "io.kubernetes.cri-o.Name", CRT_FIELD(name) },
};

int container_runtime_apply_keys(struct vg_container_meta *m, json_t *obj)
{
	if (!json_is_object(obj))
		return 0;
	for (size_t i = 0; i < sizeof container_runtime_k8s_keys / sizeof container_runtime_k8s_keys[0]; i++) {
		char **dst = (char **)((char *)m + container_runtime_k8s_keys[i].off);
		int r = container_runtime_set_json(dst, obj, container_runtime_k8s_keys[i].key);
		if (r)
			return r;
	}
	return 0;
}

/* The pod uid in a kubepods cgroupsPath: "pod" + 8-4-4-4-12 hex, with '_'
 * for '-' under the systemd driver. Written as a dashed uuid, or NULL. */
static int container_runtime_uid_from_cgroups_path(struct vg_container_meta *m, const char *cp)
{
	if (m->k8s_pod_uid || !cp || !strstr(cp, "kubepods"))
		return 0;
	for (const char *s = strstr(cp, "pod"); s; s = strstr(s + 1, "pod")) {
		const char *u = s + 3;
		char out[37];
		size_t i;
		for (i = 0; i < 36 && u[i]; i++) {
			bool dash = i == 8 || i == 13 || i == 18 || i == 23;
			if (dash ? (u[i] != '-' && u[i] != '_') : !container_runtime_is_hex(u + i, 1))
				break;
			out[i] = dash ? '-' : u[i];
		}
		if (i == 36) {
			out[36] = '\0';
			return container_runtime_set(&m->k8s_pod_uid, out);
		}
	}
	return 0;
}

/* The OCI rule for privileged (see container_meta.h): 1, 0, or -1 when the
 * config has no capabilities record. */
static int container_runtime_oci_privileged(json_t *cfg)
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
	return sys_admin && ncaps >= CRT_ALL_CAPS && unmasked;
}

void container_runtime_free_mounts(struct vg_container_meta *m)
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
int container_runtime_apply_mounts(struct vg_container_meta *m, json_t *list)
{
	if (!list)
		return 0;
	if (!json_is_array(list))
		return -EINVAL;
	container_runtime_free_mounts(m);
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
		if (!json_is_object(e) || !dest || strlen(dest) > CRT_MAX_STR || (src && strlen(src) > CRT_MAX_STR))
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
int container_runtime_apply_oci(struct vg_container_meta *m, json_t *cfg)
{
	json_t *ann = json_object_get(cfg, "annotations");
	int r = container_runtime_apply_keys(m, ann);
	if (r)
		return r;
	/* containerd has no container name of its own: use the CRI one, or the
	 * pod's for a sandbox (pause) container. */
	if ((r = container_runtime_set_json(&m->name, ann, "io.kubernetes.cri.container-name")) ||
	    (r = container_runtime_set_json(&m->name, ann, "io.kubernetes.cri.sandbox-name")))
		return r;
	r = container_runtime_set_image_id(&m->image_id,
					json_string_value(json_object_get(ann, "io.kubernetes.cri-o.ImageRef")));
	if (r)
		return r;
	r = container_runtime_uid_from_cgroups_path(
		m, json_string_value(json_object_get(json_object_get(cfg, "linux"), "cgroupsPath")));
	if (r)
		return r;
	if ((r = container_runtime_apply_mounts(m, json_object_get(cfg, "mounts"))))
		return r;
	/* an absolute root path (runtimes that give one relative to the bundle are not resolved) */
	const char *root = json_string_value(json_object_get(json_object_get(cfg, "root"), "path"));
	if (root && root[0] == '/' && (r = container_runtime_set(&m->rootfs, root)))
		return r;
	if (m->privileged == -1) {
		const char *p = json_string_value(json_object_get(ann, "io.podman.annotations.privileged"));
		if (p && !strcasecmp(p, "true"))
			m->privileged = 1;
		else if (p && !strcasecmp(p, "false"))
			m->privileged = 0;
		else
			m->privileged = container_runtime_oci_privileged(cfg);
	}
	return 0;
}

