/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The JSON form of struct vg_container_meta, as stored inside capture files;
 * contracts in container_meta.h. Reading is strict (types, sizes, id shape)
 * because capture files are untrusted input (fuzzed by fuzz_proc_json).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "state/container_runtime.h"

static const struct container_runtime_key container_meta_codec_strings[] = {
	{ "name", CRT_FIELD(name) },
	{ "image", CRT_FIELD(image) },
	{ "image_id", CRT_FIELD(image_id) },
	{ "k8s_pod_name", CRT_FIELD(k8s_pod_name) },
	{ "k8s_namespace", CRT_FIELD(k8s_namespace) },
	{ "k8s_pod_uid", CRT_FIELD(k8s_pod_uid) },
	{ "k8s_container_name", CRT_FIELD(k8s_container_name) },
	{ "rootfs", CRT_FIELD(rootfs) },
};

/* A JSON string of s; invalid UTF-8 (which jansson refuses) is written with
 * every non-ASCII byte as '?', so output is always valid JSON. NULL on
 * allocation failure. */
static json_t *container_meta_codec_string(const char *s, size_t n)
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

static int container_meta_codec_add(json_t *o, const char *key, json_t *v)
{
	return v ? json_object_set_new(o, key, v) : -1;
}

char *container_meta_to_json(const struct vg_container_meta *meta)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	bool ok = !container_meta_codec_add(o, "id", container_meta_codec_string(meta->id, strnlen(meta->id, 64))) &&
		  !container_meta_codec_add(o, "runtime", json_string(container_meta_runtime_name(meta->runtime)));
	for (size_t i = 0; ok && i < CRT_N(container_meta_codec_strings); i++) {
		const char *s = *(char *const *)((const char *)meta + container_meta_codec_strings[i].off);
		if (s)
			ok = !container_meta_codec_add(o, container_meta_codec_strings[i].key,
						      container_meta_codec_string(s, strlen(s)));
	}
	ok = ok && !container_meta_codec_add(o, "privileged", json_integer(meta->privileged)) &&
	     !container_meta_codec_add(o, "metadata_found", json_integer(meta->metadata_found ? 1 : 0));
	if (ok && meta->nmounts) {
		json_t *arr = json_array();
		ok = arr && !container_meta_codec_add(o, "mounts", arr);
		for (size_t i = 0; ok && i < meta->nmounts; i++) {
			json_t *e = json_object();
			ok = e && !json_array_append_new(arr, e) &&
			     !container_meta_codec_add(e, "source", container_meta_codec_string(meta->mounts[i].source, strlen(meta->mounts[i].source))) &&
			     !container_meta_codec_add(e, "dest", container_meta_codec_string(meta->mounts[i].dest, strlen(meta->mounts[i].dest))) &&
			     !container_meta_codec_add(e, "ro", json_boolean(meta->mounts[i].ro));
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
static int container_meta_codec_get_str(json_t *o, const char *key, char **dst)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -EINVAL;
	size_t n = json_string_length(v);
	const char *s = json_string_value(v);
	if (n > CRT_MAX_STR || strlen(s) != n)
		return -EINVAL;
	*dst = strdup(s);
	return *dst ? 0 : -ENOMEM;
}

/* An optional integer member in [lo, hi] (booleans read as 0/1). */
static int container_meta_codec_get_int(json_t *o, const char *key, int lo, int hi, int *dst)
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
		if (!s || n > 64 || (n > 0 && !container_runtime_is_hex(s, n)))
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
	for (size_t i = 0; i < CRT_N(container_meta_codec_strings); i++) {
		char **dst = (char **)((char *)meta + container_meta_codec_strings[i].off);
		r = container_meta_codec_get_str(o, container_meta_codec_strings[i].key, dst);
		if (r)
			goto out;
	}
	r = container_meta_codec_get_int(o, "privileged", -1, 1, &meta->privileged);
	if (!r)
		r = container_meta_codec_get_int(o, "metadata_found", 0, 1, &meta->metadata_found);
	if (!r)
		r = container_runtime_apply_mounts(meta, json_object_get(o, "mounts"));
out:
	json_decref(o);
	if (r)
		container_meta_free(meta);
	return r;
}
