/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Image manifests: which config and which layer blobs, in order, make up an
 * image, read from a docker-archive's manifest.json or an OCI layout's
 * index.json (nested indexes followed; several images are told apart by the
 * org.opencontainers.image.ref.name annotation, a RepoTag or a digest).
 */
#ifndef VIGIL_SCAN_IMAGE_H
#define VIGIL_SCAN_IMAGE_H

#include "scan/scan.h"

/* Returns the bytes of a metadata file of the image (by path inside it), or NULL. */
typedef const char *(*image_meta_fn)(void *ctx, const char *name, size_t *len);

struct image_plan {
	char *kind;           /* docker-archive or oci */
	char *tag, *digest;   /* may be NULL */
	char *config_path;
	char **layer_paths;   /* blob paths inside the image, in layer order */
	char **layer_digests; /* expected sha256 of each blob ("sha256:hex"), NULL if unknown */
	size_t nlayers;
};

/*
 * Work out the plan from the image's metadata. select chooses among several
 * images (NULL: the only one). Returns 0, or -1 with the reason in err.
 */
int image_plan(image_meta_fn meta, void *ctx, const char *select, struct image_plan *p,
	       struct vg_buf *err);
void image_plan_free(struct image_plan *p);

/* Whether s is "sha256:" and 64 lower-case hex digits. */
bool image_digest_valid(const char *s);

#endif
