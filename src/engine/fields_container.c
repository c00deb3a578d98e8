/* SPDX-License-Identifier: Apache-2.0 */
/*
 * container.* and k8s.*: the metadata of the event's container, as the
 * container table holds it (the container plugin's fields, built in).
 * container.id is the 12-character short id, or "host" outside containers.
 */
#include <fnmatch.h>
#include <string.h>
#include "common/buf.h"
#include "engine/fields_internal.h"

/* ---- container.* and k8s.* ---- */

static const struct vg_container_meta *meta_of(const struct ectx *c)
{
	return c->cg && c->cg->meta.id[0] ? &c->cg->meta : NULL;
}

#define META_OFF(member) offsetof(struct vg_container_meta, member)

/* Table-driven: the string member at the field's `off` in the container's metadata. */
static int f_meta_str(struct ectx *c, const struct fref *r, struct fval *o)
{
	const struct vg_container_meta *m = meta_of(c);
	if (!m)
		return 0;
	const char *s;
	memcpy(&s, (const char *)m + r->def->off, sizeof(s));
	return put_str(o, s);
}

static int f_container_id(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	const struct vg_container_meta *m = meta_of(c);
	return m ? put_strn(o, m->id, strnlen(m->id, 12)) : put_str(o, "host");
}

static int f_container_full_id(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	const struct vg_container_meta *m = meta_of(c);
	return m ? put_str(o, m->id) : put_str(o, "host");
}

static int f_container_name(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	const struct vg_container_meta *m = meta_of(c);
	return m ? put_str(o, m->name) : put_str(o, "host");
}

/* Split "registry:5000/repo/name:tag@sha256:..." into repository and tag. */
static void image_split(const char *img, size_t *repo_len, const char **tag, size_t *tag_len)
{
	size_t n = strlen(img);
	const char *at = strchr(img, '@');
	if (at)
		n = at - img;
	const char *slash = memrchr(img, '/', n);
	const char *colon = memrchr(slash ? slash : img, ':', n - (slash ? slash - img : 0));
	*tag = NULL;
	*tag_len = 0;
	*repo_len = n;
	if (colon) {
		*repo_len = colon - img;
		*tag = colon + 1;
		*tag_len = n - (colon + 1 - img);
	}
}

enum image_part { IMAGE_REPOSITORY, IMAGE_TAG };

/* The part of the image reference the field's `off` names. */
static int f_container_image_part(struct ectx *c, const struct fref *r, struct fval *o)
{
	const struct vg_container_meta *m = meta_of(c);
	size_t rl, tl;
	const char *tag;
	if (!m || !m->image)
		return 0;
	image_split(m->image, &rl, &tag, &tl);
	if (r->def->off == IMAGE_REPOSITORY)
		return put_strn(o, m->image, rl);
	return tag ? put_strn(o, tag, tl) : 0;
}

static int f_container_privileged(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	const struct vg_container_meta *m = meta_of(c);
	return m && m->privileged >= 0 ? put_int(o, m->privileged) : 0;
}

static int f_container_type(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	const struct vg_container_meta *m = meta_of(c);
	return m ? put_str(o, container_meta_runtime_name(m->runtime)) : put_str(o, "host");
}

/*
 * container.mount.dest[X]: the destination of the mount whose source matches X
 * (a glob) or of mount number X; container.mount.source[X] the other way round.
 * "N/A" in a container that has no such mount, as Falco's rules expect.
 * Which of the two is the field's `off` (MOUNT_DEST, MOUNT_SOURCE).
 */
enum mount_want { MOUNT_SOURCE, MOUNT_DEST };

static int f_container_mount(struct ectx *c, const struct fref *r, struct fval *o)
{
	bool want_dest = r->def->off == MOUNT_DEST;
	const struct vg_container_meta *m = meta_of(c);
	if (!m)
		return 0;
	for (size_t i = 0; i < m->nmounts; i++) {
		const struct vg_mount *mt = &m->mounts[i];
		bool hit = r->argn >= 0 ? (size_t)r->argn == i
					: fnmatch(r->arg, want_dest ? mt->source : mt->dest, 0) == 0;
		if (hit)
			return put_str(o, want_dest ? mt->dest : mt->source);
	}
	return put_str(o, "N/A");
}

/* "source:dest:ro|rw" of every mount, comma-separated */
static int f_container_mounts(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	const struct vg_container_meta *m = meta_of(c);
	struct vg_buf b = { 0 };
	if (!m)
		return 0;
	for (size_t i = 0; i < m->nmounts; i++)
		buf_printf(&b, "%s%s:%s:%s", i ? "," : "", m->mounts[i].source, m->mounts[i].dest,
			   m->mounts[i].ro ? "ro" : "rw");
	const char *s = arena_dup(&c->arena, b.data ? b.data : "", b.len);
	buf_free(&b);
	return put_str(o, s);
}

static const struct fdef defs[] = {
	{ "container.id", FT_STR, FA_NONE, false, f_container_id, "12-character id, or host" },
	{ "container.full_id", FT_STR, FA_NONE, false, f_container_full_id, "full id, or host" },
	{ "container.name", FT_STR, FA_NONE, false, f_container_name, "name, or host" },
	{ "container.image", FT_STR, FA_NONE, false, f_meta_str, "image reference", NULL, META_OFF(image) },
	{ "container.image.repository", FT_STR, FA_NONE, false, f_container_image_part,
	  "image repository (reference without tag and digest)", NULL, IMAGE_REPOSITORY },
	{ "container.image.tag", FT_STR, FA_NONE, false, f_container_image_part, "image tag", NULL, IMAGE_TAG },
	{ "container.image.id", FT_STR, FA_NONE, false, f_meta_str, "image id", NULL, META_OFF(image_id) },
	{ "container.privileged", FT_BOOL, FA_NONE, false, f_container_privileged, "privileged container" },
	{ "container.type", FT_STR, FA_NONE, false, f_container_type, "runtime: podman, docker, ..." },
	{ "container.start_ts", FT_INT, FA_NONE, false, field_none, "container start time (not known: no value)" },
	{ "container.mounts", FT_STR, FA_NONE, false, f_container_mounts, "mounts as source:dest:ro|rw, comma-separated" },
	{ "container.mount.dest", FT_STR, FA_REQUIRED, false, f_container_mount,
	  "destination of the mount whose source matches [GLOB] (or number [N]); N/A if none", NULL, MOUNT_DEST },
	{ "container.mount.source", FT_STR, FA_REQUIRED, false, f_container_mount,
	  "source of the mount whose destination matches [GLOB] (or number [N]); N/A if none", NULL, MOUNT_SOURCE },
	{ "k8s.ns.name", FT_STR, FA_NONE, false, f_meta_str, "Kubernetes namespace", NULL, META_OFF(k8s_namespace) },
	{ "k8s.pod.name", FT_STR, FA_NONE, false, f_meta_str, "Kubernetes pod name", NULL, META_OFF(k8s_pod_name) },
	{ "k8s.pod.uid", FT_STR, FA_NONE, false, f_meta_str, "Kubernetes pod uid", NULL, META_OFF(k8s_pod_uid) },
	{ "k8s.container.name", FT_STR, FA_NONE, false, f_meta_str, "Kubernetes container name", NULL, META_OFF(k8s_container_name) },
};

const struct field_class fields_container = FIELD_CLASS(defs);
