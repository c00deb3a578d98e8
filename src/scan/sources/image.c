/* SPDX-License-Identifier: Apache-2.0 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "scan/sources/image.h"

bool image_digest_valid(const char *s)
{
	if (!s || strncmp(s, "sha256:", 7) || strlen(s) != 71)
		return false;
	for (const char *p = s + 7; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

void image_plan_free(struct image_plan *p)
{
	for (size_t i = 0; i < p->nlayers; i++) {
		free(p->layer_paths[i]);
		free(p->layer_digests[i]);
	}
	free(p->layer_paths);
	free(p->layer_digests);
	free(p->kind);
	free(p->tag);
	free(p->digest);
	free(p->config_path);
	memset(p, 0, sizeof(*p));
}

static json_t *meta_json(image_meta_fn meta, void *ctx, const char *name, struct vg_buf *err)
{
	size_t len;
	const char *d = meta(ctx, name, &len);
	json_error_t je;

	if (!d) {
		buf_printf(err, "%s is missing", name);
		return NULL;
	}
	json_t *j = json_loadb(d, len, 0, &je);
	if (!j)
		buf_printf(err, "cannot parse %s:%d:%d: %s", name, je.line, je.column, je.text);
	return j;
}

static void plan_add_layer(struct image_plan *p, const char *path, const char *digest)
{
	p->layer_paths = xrealloc(p->layer_paths, (p->nlayers + 1) * sizeof(char *));
	p->layer_digests = xrealloc(p->layer_digests, (p->nlayers + 1) * sizeof(char *));
	p->layer_paths[p->nlayers] = xstrdup(path);
	p->layer_digests[p->nlayers] = digest ? xstrdup(digest) : NULL;
	p->nlayers++;
}

/* The blob path of an OCI descriptor's digest, or -1 when the digest is not sha256:<hex>. */
static int blob_path(const char *digest, char *out, size_t n, struct vg_buf *err)
{
	if (!image_digest_valid(digest)) {
		buf_printf(err, "unsupported or malformed digest '%s'", digest ? digest : "");
		return -1;
	}
	snprintf(out, n, "blobs/sha256/%s", digest + 7);
	return 0;
}

/* docker save: [{"Config": "...", "RepoTags": [...], "Layers": ["a/layer.tar", ...]}] */
static int plan_docker(json_t *m, image_meta_fn meta, void *ctx, const char *select,
		       struct image_plan *p, struct vg_buf *err)
{
	json_t *img = NULL, *e;
	size_t i;

	if (!json_is_array(m) || !json_array_size(m)) {
		buf_printf(err, "manifest.json: expected a non-empty array");
		return -1;
	}
	json_array_foreach(m, i, e) {
		json_t *tags = json_object_get(e, "RepoTags"), *t;
		size_t k;
		if (!select) {
			img = e;
			break;
		}
		json_array_foreach(tags, k, t)
			if (json_is_string(t) && !strcmp(json_string_value(t), select))
				img = e;
		/* or the config's digest, with or without "sha256:" */
		const char *cfg = json_string_value(json_object_get(e, "Config"));
		const char *hex = strncmp(select, "sha256:", 7) ? select : select + 7;
		if (!img && cfg && strlen(hex) >= 12 && strstr(cfg, hex))
			img = e;
		if (img)
			break;
	}
	if (!img) {
		buf_printf(err, "manifest.json: no image tagged '%s'", select);
		return -1;
	}
	if (!select && json_array_size(m) > 1) {
		buf_printf(err, "manifest.json holds %zu images: choose one with --select TAG",
			   json_array_size(m));
		return -1;
	}
	const char *cfg = json_string_value(json_object_get(img, "Config"));
	json_t *layers = json_object_get(img, "Layers");
	if (!cfg || !json_is_array(layers)) {
		buf_printf(err, "manifest.json: image without Config or Layers");
		return -1;
	}
	p->kind = xstrdup("docker-archive");
	p->config_path = xstrdup(cfg);
	json_t *tags = json_object_get(img, "RepoTags");
	if (json_is_string(json_array_get(tags, 0)))
		p->tag = xstrdup(json_string_value(json_array_get(tags, 0)));
	/* Legacy layer.tar files are uncompressed: their sha256 is the config's diff_id. */
	json_t *diff_ids = NULL, *config = NULL;
	struct vg_buf cerr = { 0 };
	config = meta_json(meta, ctx, cfg, &cerr);
	buf_free(&cerr);
	if (config)
		diff_ids = json_object_get(json_object_get(config, "rootfs"), "diff_ids");
	json_array_foreach(layers, i, e) {
		const char *lp = json_string_value(e);
		if (!lp) {
			buf_printf(err, "manifest.json: layer %zu is not a string", i + 1);
			json_decref(config);
			return -1;
		}
		char dig[80];
		const char *expect = NULL;
		if (!strncmp(lp, "blobs/sha256/", 13) && strlen(lp) == 13 + 64) {
			snprintf(dig, sizeof(dig), "sha256:%s", lp + 13);
			expect = image_digest_valid(dig) ? dig : NULL;
		} else {
			const char *d = json_string_value(json_array_get(diff_ids, i));
			expect = image_digest_valid(d) ? d : NULL;
		}
		plan_add_layer(p, lp, expect);
	}
	json_decref(config);
	return 0;
}

/* Pick linux/amd64 (else the first) among an index's manifests, or the one selected. */
static json_t *index_pick(json_t *manifests, const char *select, struct vg_buf *err)
{
	size_t i;
	json_t *e, *amd64 = NULL, *any = NULL;

	json_array_foreach(manifests, i, e) {
		const char *dg = json_string_value(json_object_get(e, "digest"));
		const char *ref = json_string_value(json_object_get(
			json_object_get(e, "annotations"), "org.opencontainers.image.ref.name"));
		if (select && ((dg && !strcmp(dg, select)) || (ref && !strcmp(ref, select))))
			return e;
		json_t *plat = json_object_get(e, "platform");
		const char *os = json_string_value(json_object_get(plat, "os"));
		const char *arch = json_string_value(json_object_get(plat, "architecture"));
		if (!amd64 && os && arch && !strcmp(os, "linux") && !strcmp(arch, "amd64"))
			amd64 = e;
		if (!any)
			any = e;
	}
	if (select) {
		buf_printf(err, "index.json: no manifest with tag or digest '%s'", select);
		return NULL;
	}
	if (!any)
		buf_printf(err, "index.json: no manifests");
	return amd64 ? amd64 : any;
}

static int plan_oci(image_meta_fn meta, void *ctx, const char *select, struct image_plan *p,
		    struct vg_buf *err)
{
	json_t *doc = meta_json(meta, ctx, "index.json", err);
	char path[128];
	const char *sel = select;

	if (!doc)
		return -1;
	p->kind = xstrdup("oci");
	for (int depth = 0;; depth++) {
		json_t *manifests = json_object_get(doc, "manifests");
		json_t *layers = json_object_get(doc, "layers");
		if (json_is_array(layers)) { /* an image manifest */
			const char *cfg = json_string_value(
				json_object_get(json_object_get(doc, "config"), "digest"));
			if (blob_path(cfg, path, sizeof(path), err))
				goto fail;
			p->config_path = xstrdup(path);
			size_t i;
			json_t *l;
			json_array_foreach(layers, i, l) {
				const char *dg = json_string_value(json_object_get(l, "digest"));
				if (blob_path(dg, path, sizeof(path), err))
					goto fail;
				plan_add_layer(p, path, dg);
			}
			json_decref(doc);
			return 0;
		}
		if (!json_is_array(manifests) || depth > 4) {
			buf_printf(err, "%s: neither an image index nor a manifest",
				   depth ? "manifest" : "index.json");
			goto fail;
		}
		json_t *m = index_pick(manifests, sel, err);
		if (!m)
			goto fail;
		sel = NULL; /* the tag names the top-level entry only */
		const char *dg = json_string_value(json_object_get(m, "digest"));
		const char *ref = json_string_value(json_object_get(
			json_object_get(m, "annotations"), "org.opencontainers.image.ref.name"));
		if (ref && !p->tag)
			p->tag = xstrdup(ref);
		if (blob_path(dg, path, sizeof(path), err))
			goto fail;
		if (!p->digest)
			p->digest = xstrdup(dg);
		json_t *next = meta_json(meta, ctx, path, err);
		if (!next)
			goto fail;
		json_decref(doc);
		doc = next;
	}
fail:
	json_decref(doc);
	return -1;
}

int image_plan(image_meta_fn meta, void *ctx, const char *select, struct image_plan *p,
	       struct vg_buf *err)
{
	size_t len;
	int rc;

	memset(p, 0, sizeof(*p));
	if (meta(ctx, "manifest.json", &len)) {
		json_t *m = meta_json(meta, ctx, "manifest.json", err);
		if (!m)
			return -1;
		rc = plan_docker(m, meta, ctx, select, p, err);
		json_decref(m);
	} else if (meta(ctx, "index.json", &len)) {
		rc = plan_oci(meta, ctx, select, p, err);
	} else {
		buf_printf(err, "not an image: no manifest.json or index.json");
		return -1;
	}
	if (rc)
		image_plan_free(p);
	return rc;
}
