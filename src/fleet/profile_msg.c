/* SPDX-License-Identifier: Apache-2.0 */
/* Profiles across a fleet: the message and the bucket's value (profile_msg.h). */
#include "fleet/profile_msg.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "profile/profile_yaml.h"

#define STR_MAX 511

void profile_share_init(struct profile_share *ps)
{
	memset(ps, 0, sizeof(*ps));
	ps->mode = -1;
}

void profile_share_free(struct profile_share *ps)
{
	free(ps->key);
	free(ps->image);
	free(ps->digest);
	free(ps->owner);
	free(ps->ns);
	free(ps->mode_by);
	for (int k = 0; k < PROF_NKINDS; k++) {
		for (size_t i = 0; i < ps->nitems[k]; i++)
			free(ps->items[k][i]);
		free(ps->items[k]);
	}
	profile_share_init(ps);
}

void profile_share_set(char **field, const char *v)
{
	char *c = strdup(v ? v : "");
	if (!c)
		abort();
	free(*field);
	*field = c;
}

int profile_share_add(struct profile_share *ps, enum profile_kind k, const char *value)
{
	if (ps->total >= PROFILE_DOC_MAX_ITEMS || (unsigned)k >= PROF_NKINDS)
		return -1;
	if (ps->nitems[k] == ps->cap[k]) {
		size_t c = ps->cap[k] ? ps->cap[k] * 2 : 16;
		char **n = realloc(ps->items[k], c * sizeof(*n));
		if (!n)
			abort();
		ps->items[k] = n;
		ps->cap[k] = c;
	}
	char *v = strdup(value);
	if (!v)
		abort();
	ps->items[k][ps->nitems[k]++] = v;
	ps->total++;
	return 0;
}

bool profile_share_has(const struct profile_share *ps, enum profile_kind k, const char *value)
{
	for (size_t i = 0; i < ps->nitems[k]; i++)
		if (!strcmp(ps->items[k][i], value))
			return true;
	return false;
}

static bool printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

/* An optional string field: absent is "", present must be a string of at most max printable bytes. */
static int str_field(json_t *o, const char *name, size_t max, bool required, char **out, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, name);
	if (!v) {
		if (required) {
			snprintf(err, errlen, "no \"%s\"", name);
			return -1;
		}
		profile_share_set(out, "");
		return 0;
	}
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	if (!s || n > max || strlen(s) != n || !printable(s, n) || (required && !n)) {
		snprintf(err, errlen, "\"%s\" must be a string of %s%zu printable bytes", name, required ? "1 to " : "at most ",
			 max);
		return -1;
	}
	profile_share_set(out, s);
	return 0;
}

static int int_field(json_t *o, const char *name, int64_t *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, name);
	if (!v) {
		*out = 0;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		snprintf(err, errlen, "\"%s\" must be a non-negative integer", name);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

int profile_share_decode(enum profile_doc d, const char *buf, size_t len, struct profile_share *ps, char *err,
			 size_t errlen)
{
	json_error_t je;
	profile_share_init(ps);
	if (len > PROFILE_DOC_MAX_BYTES) {
		snprintf(err, errlen, "%zu bytes: more than a profile document may hold (%u)", len, PROFILE_DOC_MAX_BYTES);
		return -1;
	}
	if (memchr(buf, 0, len)) {
		snprintf(err, errlen, "a NUL byte in the document");
		return -1;
	}
	json_t *o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(o)) {
		snprintf(err, errlen, "not one JSON object: %s", o ? "another value" : je.text);
		json_decref(o);
		return -1;
	}
	if (str_field(o, "key", STR_MAX, true, &ps->key, err, errlen) ||
	    str_field(o, "image", STR_MAX, false, &ps->image, err, errlen) ||
	    str_field(o, "digest", STR_MAX, false, &ps->digest, err, errlen) ||
	    str_field(o, "owner", STR_MAX, false, &ps->owner, err, errlen) ||
	    str_field(o, "namespace", STR_MAX, false, &ps->ns, err, errlen) ||
	    str_field(o, "mode_set_by", 64, false, &ps->mode_by, err, errlen) ||
	    int_field(o, "learn_started", &ps->learn_started, err, errlen) ||
	    int_field(o, "mode_set_at", &ps->mode_at_ns, err, errlen))
		goto bad;
	if (d == PROFILE_DOC_KV) {
		json_t *v = json_object_get(o, "version");
		if (!json_is_integer(v) || json_integer_value(v) != 1) {
			snprintf(err, errlen, "\"version\" must be 1");
			goto bad;
		}
	} else {
		const char *u = json_string_value(json_object_get(o, "uuid"));
		size_t n = u ? strlen(u) : 0;
		bool ok = n >= 8 && n <= 64;
		for (size_t i = 0; ok && i < n; i++)
			ok = (u[i] >= '0' && u[i] <= '9') || (u[i] >= 'a' && u[i] <= 'z') || (u[i] >= 'A' && u[i] <= 'Z') ||
			     u[i] == '-' || u[i] == '_';
		if (!ok) {
			snprintf(err, errlen, "no \"uuid\" of 8 to 64 [A-Za-z0-9_-]");
			goto bad;
		}
		memcpy(ps->uuid, u, n + 1);
	}
	json_t *m = json_object_get(o, "mode");
	if (m && !json_is_null(m)) {
		const char *s = json_string_value(m);
		if (!s || (ps->mode = profile_mode_from_name(s)) < 0) {
			snprintf(err, errlen, "\"mode\" must be learning, monitoring or protecting");
			goto bad;
		}
	} else if (d == PROFILE_DOC_MSG) {
		snprintf(err, errlen, "no \"mode\"");
		goto bad;
	}
	json_t *items = json_object_get(o, "items");
	if (items && !json_is_object(items)) {
		snprintf(err, errlen, "\"items\" must be an object of kinds");
		goto bad;
	}
	const char *kname;
	json_t *arr;
	json_object_foreach(items, kname, arr) {
		int k = profile_kind_from_name(kname);
		if (k < 0) {
			snprintf(err, errlen, "items: unknown kind '%.32s'", kname);
			goto bad;
		}
		if (!json_is_array(arr)) {
			snprintf(err, errlen, "items: %s must be an array of strings", kname);
			goto bad;
		}
		for (size_t i = 0; i < json_array_size(arr); i++) {
			json_t *it = json_array_get(arr, i);
			const char *s = json_string_value(it);
			const char *why;
			if (!s || strlen(s) != json_string_length(it) || json_string_length(it) >= PROF_VALUE_MAX) {
				snprintf(err, errlen, "items: %s[%zu] must be a string of at most %d bytes", kname, i,
					 PROF_VALUE_MAX - 1);
				goto bad;
			}
			if ((why = profile_item_invalid((enum profile_kind)k, s))) {
				snprintf(err, errlen, "items: %s[%zu]: %s", kname, i, why);
				goto bad;
			}
			if (profile_share_add(ps, (enum profile_kind)k, s)) {
				snprintf(err, errlen, "items: more than %d", PROFILE_DOC_MAX_ITEMS);
				goto bad;
			}
		}
	}
	json_decref(o);
	return 0;
bad:
	json_decref(o);
	profile_share_free(ps);
	return -1;
}

char *profile_share_encode(enum profile_doc d, const struct profile_share *ps, size_t *len)
{
	struct vg_buf b = { 0 };
	struct vg_json j;
	jw_init(&j, &b);
	jw_obj_begin(&j, NULL);
	if (d == PROFILE_DOC_KV)
		jw_int(&j, "version", 1);
	else
		jw_str(&j, "uuid", ps->uuid);
	jw_str(&j, "key", ps->key ? ps->key : "");
	jw_str(&j, "image", ps->image ? ps->image : "");
	jw_str(&j, "digest", ps->digest ? ps->digest : "");
	jw_str(&j, "owner", ps->owner ? ps->owner : "");
	jw_str(&j, "namespace", ps->ns ? ps->ns : "");
	if (ps->mode >= 0 && ps->mode < PROF_NMODES)
		jw_str(&j, "mode", profile_mode_name((enum profile_mode)ps->mode));
	else
		jw_null(&j, "mode");
	if (d == PROFILE_DOC_KV) {
		jw_str(&j, "mode_set_by", ps->mode_by ? ps->mode_by : "");
		jw_int(&j, "mode_set_at", ps->mode_at_ns);
	} else {
		jw_int(&j, "learn_started", ps->learn_started);
	}
	jw_obj_begin(&j, "items");
	for (int k = 0; k < PROF_NKINDS; k++) {
		if (!ps->nitems[k])
			continue;
		jw_arr_begin(&j, profile_kind_name((enum profile_kind)k));
		for (size_t i = 0; i < ps->nitems[k]; i++)
			jw_str(&j, NULL, ps->items[k][i]);
		jw_arr_end(&j);
	}
	jw_obj_end(&j);
	jw_obj_end(&j);
	buf_addc(&b, '\0');
	*len = b.len - 1;
	return b.data;
}

void profile_kv_key(const char *key, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_Digest(key, strlen(key), md, &n, EVP_sha256(), NULL);
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	out[64] = 0;
}
