/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal to state/: the container runtime readers behind
 * container_meta_parse_cgroup and container_meta_load, and the helpers they
 * share (bounded file reading, filling struct vg_container_meta from JSON).
 *
 * Each runtime is one file (runtime_docker.c, runtime_containerd.c,
 * runtime_storage.c for podman and CRI-O) exporting one
 * struct container_runtime_ops; container_meta.c lists them in one table.
 * Adding a runtime is a new file, an entry in that table and a value in
 * enum vg_runtime. Callers outside state/ use container_meta.h only.
 */
#ifndef VIGIL_CONTAINER_RUNTIME_H
#define VIGIL_CONTAINER_RUNTIME_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "state/container_meta.h"

#define CRT_MAX_STR 4096 /* longest string accepted from our own JSON */
#define CRT_MIN_ID 12    /* shortest id prefix accepted */
#define CRT_SKIP 1       /* file present but unusable (too large, not regular, unparseable) */
#define CRT_N(a) (sizeof(a) / sizeof((a)[0]))

/* One lookup's context: where the runtime state is, and what went wrong. */
struct container_runtime_ctx {
	char root[PATH_MAX]; /* without trailing '/': "" for "/" */
	int err;             /* first real error seen (-errno), 0 if none */
};

/*
 * A runtime: its name, how its cgroups are named and how its state is read.
 * Runtimes that share a reader (podman and CRI-O) point at the same read
 * function; container_meta_load probes each reader once.
 */
struct container_runtime_ops {
	enum vg_runtime rt;
	const char *name;          /* as container_meta_runtime_name returns it */
	const char *cgroup_prefix; /* a "<prefix><id>[.scope]" cgroup component, or NULL */
	const char *colon_prefix;  /* a "<slice>:<prefix>:<id>" cgroup component, or NULL */
	/*
	 * Fill m (m->id holds the id or a prefix of it, m->runtime the runtime
	 * asked for, possibly VG_RT_UNKNOWN) from the state under x->root.
	 * Returns 1 when state was found (m->id then is the full id and
	 * m->runtime is set), 0 when not, -ENOMEM; other errors are noted in x.
	 */
	int (*read)(struct vg_container_meta *m, struct container_runtime_ctx *x);
};

extern const struct container_runtime_ops runtime_docker_ops;
extern const struct container_runtime_ops runtime_containerd_ops;
extern const struct container_runtime_ops runtime_crio_ops;
extern const struct container_runtime_ops runtime_podman_ops;

/* The containerd reader limited to one namespace (docker's "moby"), or every
 * namespace for NULL. Same returns as read. */
int runtime_containerd_read_ns(struct vg_container_meta *m, struct container_runtime_ctx *x, const char *only_ns);

/* Are s[0..n) all lowercase hex digits (and n > 0)? */
bool container_runtime_is_hex(const char *s, size_t n);

/* Remember a real error (not -ENOENT, not CRT_SKIP) in x; the first one wins. */
void container_runtime_note(struct container_runtime_ctx *x, int r);

/* out = x->root + the formatted path (which starts with '/'). 0 or -ENAMETOOLONG. */
int container_runtime_path(const struct container_runtime_ctx *x, char out[PATH_MAX], const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Parse a JSON state file of at most 4 MiB. 0 with *out (caller decrefs),
 * -ENOENT, CRT_SKIP for an unusable or unparseable file, another -errno. */
int container_runtime_load_json(const char *path, json_t **out);

/*
 * Find the entry of directory dir that id names: id itself when it is a full
 * id (whether it exists is left to the caller's open), else the only 64-hex
 * entry starting with id. Returns 1 with full filled, 0 when there is none or
 * more than one, -errno when dir exists but cannot be read.
 */
int container_runtime_resolve(const char *dir, const char *id, char full[65]);

/* Set *dst to a copy of s unless *dst is set already or s is NULL or empty:
 * sources are consulted best first, and the first one wins. 0 or -ENOMEM. */
int container_runtime_set(char **dst, const char *s);

/* container_runtime_set with obj's string member key (absent: no change). */
int container_runtime_set_json(char **dst, json_t *obj, const char *key);

/* container_runtime_set for an image id: kept as bare 64 hex ("sha256:"
 * stripped); anything else (a repo digest) is ignored. 0 or -ENOMEM. */
int container_runtime_set_image_id(char **dst, const char *s);

/* A string member of struct vg_container_meta under a JSON key. */
struct container_runtime_key {
	const char *key;
	size_t off; /* of a char * in struct vg_container_meta */
};

#define CRT_FIELD(f) offsetof(struct vg_container_meta, f)

/* The Kubernetes fields (and CRI image and name) from OCI annotations
 * (containerd CRI, CRI-O) or dockershim labels in obj. 0 or -ENOMEM. */
int container_runtime_apply_keys(struct vg_container_meta *m, json_t *obj);

/* Fill from an OCI runtime config.json (any runtime): annotations, pod uid,
 * mounts, root path, privileged (rule in container_meta.h). 0, -EINVAL for
 * a malformed mounts list, -ENOMEM. */
int container_runtime_apply_oci(struct vg_container_meta *m, json_t *cfg);

/*
 * The mounts of an OCI config.json ("mounts": [{destination, source, options}])
 * or of our own JSON ([{source, dest, ro}]), at most VG_MOUNTS_MAX. Returns 0,
 * -EINVAL on a wrong shape, -ENOMEM. Replaces what m had.
 */
int container_runtime_apply_mounts(struct vg_container_meta *m, json_t *list);

/* Free m's mounts and leave it with none. */
void container_runtime_free_mounts(struct vg_container_meta *m);

#endif
