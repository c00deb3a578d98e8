/* SPDX-License-Identifier: Apache-2.0 */
#include "fleet/policy.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/buf.h"
#include "engine/engine.h"
#include "respond/egress.h"
#include "respond/file_policy.h"
#include "respond/respond.h"
#include "respond/response_policy.h"

static const char *const kind_names[POLICY_KINDS] = { "rules", "response", "files", "egress" };

const char *policy_kind_name(enum policy_kind k)
{
	return k < POLICY_KINDS ? kind_names[k] : "?";
}

int policy_kind_parse(const char *name)
{
	for (int k = 0; k < POLICY_KINDS; k++)
		if (name && strcmp(name, kind_names[k]) == 0)
			return k;
	return -1;
}

void policy_push_free(struct policy_push *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nfiles; i++) {
		free(p->files[i].name);
		free(p->files[i].content);
	}
	free(p->nodes);
	free(p->pushed_by);
	memset(p, 0, sizeof(*p));
}

static void hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

void policy_digest(const struct policy_file *files, size_t n, bool defaults,
		   char out[POLICY_DIGEST_LEN])
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	/* the default rules change what runs, so they are part of the digest */
	EVP_DigestUpdate(c, defaults ? "defaults\n" : "no-defaults\n", defaults ? 9 : 12);
	for (size_t i = 0; i < n; i++) {
		unsigned char len[8];
		uint64_t l = files[i].len;
		for (int b = 0; b < 8; b++)
			len[b] = (unsigned char)(l >> (8 * b));
		EVP_DigestUpdate(c, files[i].name, strlen(files[i].name) + 1);
		EVP_DigestUpdate(c, len, sizeof(len));
		EVP_DigestUpdate(c, files[i].content, files[i].len);
	}
	EVP_DigestFinal_ex(c, md, &mdlen);
	EVP_MD_CTX_free(c);
	memcpy(out, "sha256:", 7);
	hex(md, 32, out + 7);
}

/* A file name that stays inside the directory it is written to. */
static bool plain_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 128 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '/' || (unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static int read_whole(const char *path, char **out, size_t *len, size_t max, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct vg_buf b = { 0 };
	char chunk[65536];
	ssize_t r;

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((r = read(fd, chunk, sizeof(chunk))) > 0) {
		if (b.len + (size_t)r > max) {
			snprintf(err, errlen, "%s: larger than a push can hold (%zu KiB for all files)", path,
				 max / 1024);
			close(fd);
			buf_free(&b);
			return -1;
		}
		buf_add(&b, chunk, (size_t)r);
	}
	close(fd);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		buf_free(&b);
		return -1;
	}
	buf_addc(&b, '\0');
	*len = b.len - 1;
	*out = b.data;
	return 0;
}

int policy_read_files(struct policy_push *p, const char *const *paths, size_t n, char *err,
		      size_t errlen)
{
	size_t total = 0;

	if (n == 0 || n > POLICY_MAX_FILES) {
		snprintf(err, errlen, "a push holds 1 to %d files", POLICY_MAX_FILES);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const char *base = strrchr(paths[i], '/');
		struct policy_file *f = &p->files[p->nfiles];
		base = base ? base + 1 : paths[i];
		if (!plain_name(base)) {
			snprintf(err, errlen, "%s: not a file name a push can carry", paths[i]);
			return -1;
		}
		for (size_t j = 0; j < p->nfiles; j++)
			if (strcmp(p->files[j].name, base) == 0) {
				snprintf(err, errlen, "%s: two files named %s in one push", paths[i], base);
				return -1;
			}
		if (read_whole(paths[i], &f->content, &f->len, POLICY_MAX_BYTES - total, err, errlen))
			return -1;
		total += f->len;
		f->name = strdup(base);
		p->nfiles++;
	}
	return 0;
}

char *policy_encode(const struct policy_push *p, size_t *len)
{
	json_t *o = json_object(), *files = json_array();
	char *s;

	json_object_set_new(o, "kind", json_string(policy_kind_name(p->kind)));
	json_object_set_new(o, "nodes", json_string(p->nodes ? p->nodes : "*"));
	json_object_set_new(o, "defaults", json_boolean(p->defaults));
	json_object_set_new(o, "digest", json_string(p->digest));
	json_object_set_new(o, "pushed_by", json_string(p->pushed_by ? p->pushed_by : ""));
	json_object_set_new(o, "pushed_at", json_integer(p->pushed_at));
	for (size_t i = 0; i < p->nfiles; i++)
		json_array_append_new(files, json_pack("{s:s, s:s%}", "name", p->files[i].name, "content",
						       p->files[i].content, p->files[i].len));
	json_object_set_new(o, "files", files);
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s && len)
		*len = strlen(s);
	return s;
}

static const char *str_member(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

int policy_decode(const void *data, size_t len, struct policy_push *p, char *err, size_t errlen)
{
	json_error_t je;
	json_t *o, *files, *f;
	const char *kind, *nodes, *digest, *by;
	char check[POLICY_DIGEST_LEN];
	size_t i;
	int k;

	memset(p, 0, sizeof(*p));
	if (len > POLICY_MAX_VALUE) {
		snprintf(err, errlen, "policy envelope of %zu bytes: too large", len);
		return -1;
	}
	o = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
	if (!o || !json_is_object(o)) {
		snprintf(err, errlen, "policy envelope is not a JSON object: %s", o ? "" : je.text);
		json_decref(o);
		return -1;
	}
	kind = str_member(o, "kind");
	nodes = str_member(o, "nodes");
	digest = str_member(o, "digest");
	by = str_member(o, "pushed_by");
	files = json_object_get(o, "files");
	if (!kind || (k = policy_kind_parse(kind)) < 0 || !nodes || !digest || !json_is_array(files) ||
	    json_array_size(files) == 0 || json_array_size(files) > POLICY_MAX_FILES ||
	    !json_is_boolean(json_object_get(o, "defaults"))) {
		snprintf(err, errlen, "policy envelope lacks kind, nodes, defaults, digest or 1 to %d files",
			 POLICY_MAX_FILES);
		json_decref(o);
		return -1;
	}
	p->kind = (enum policy_kind)k;
	p->nodes = strdup(nodes);
	p->pushed_by = strdup(by ? by : "");
	p->pushed_at = json_integer_value(json_object_get(o, "pushed_at"));
	p->defaults = json_is_true(json_object_get(o, "defaults"));
	json_array_foreach(files, i, f) {
		const char *name = str_member(f, "name");
		json_t *content = json_object_get(f, "content");
		if (!name || !plain_name(name) || !json_is_string(content)) {
			snprintf(err, errlen, "policy envelope: file %zu has no plain name or no content", i);
			goto bad;
		}
		for (size_t j = 0; j < p->nfiles; j++)
			if (strcmp(p->files[j].name, name) == 0) {
				snprintf(err, errlen, "policy envelope: two files named %s", name);
				goto bad;
			}
		p->files[p->nfiles].name = strdup(name);
		p->files[p->nfiles].len = json_string_length(content);
		p->files[p->nfiles].content = malloc(p->files[p->nfiles].len + 1);
		memcpy(p->files[p->nfiles].content, json_string_value(content), p->files[p->nfiles].len + 1);
		p->nfiles++;
	}
	/* the digest is recomputed, never trusted: it is what the node reports it runs */
	policy_digest(p->files, p->nfiles, p->defaults, check);
	if (strcmp(check, digest) != 0) {
		snprintf(err, errlen, "policy envelope: digest %s does not match its files (%s)", digest, check);
		goto bad;
	}
	memcpy(p->digest, check, sizeof(check));
	json_decref(o);
	return 0;
bad:
	json_decref(o);
	policy_push_free(p);
	return -1;
}

void policy_key(enum policy_kind k, const char *nodes, char *buf, size_t len)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	char h[65];

	if (!nodes || strcmp(nodes, "*") == 0) {
		snprintf(buf, len, "%s.all", policy_kind_name(k));
		return;
	}
	EVP_Digest(nodes, strlen(nodes), md, &mdlen, EVP_sha256(), NULL);
	hex(md, 8, h);
	snprintf(buf, len, "%s.%s", policy_kind_name(k), h);
}

int policy_validate(enum policy_kind k, const char *const *paths, size_t n, bool defaults,
		    char *err, size_t errlen)
{
	switch (k) {
	case POLICY_RULES: {
		struct engine_opts eo = { 0 };
		struct engine_counts counts;
		struct vg_buf warnings = { 0 };
		struct engine *e = engine_load(paths, n, defaults, &eo, &counts, &warnings, err, errlen);
		buf_free(&warnings);
		if (!e)
			return -1;
		if (respond_check_rules(e, err, errlen)) {
			engine_free(e);
			return -1;
		}
		engine_free(e);
		return 0;
	}
	case POLICY_RESPONSE: {
		struct response_policy *rp;
		if (n != 1) {
			snprintf(err, errlen, "a response policy is one file");
			return -1;
		}
		if (!(rp = response_policy_load(paths[0], err, errlen)))
			return -1;
		int rc = response_policy_check(rp, respond_action_known, err, errlen);
		response_policy_free(rp);
		return rc ? -1 : 0;
	}
	case POLICY_FILES: {
		struct file_policy *fp;
		if (n != 1) {
			snprintf(err, errlen, "a file policy is one file");
			return -1;
		}
		if (!(fp = file_policy_load(paths[0], err, errlen)))
			return -1;
		file_policy_free(fp);
		return 0;
	}
	case POLICY_EGRESS:
		if (n != 1) {
			snprintf(err, errlen, "an egress policy is one file");
			return -1;
		}
		return egress_check(paths[0], err, errlen) ? -1 : 0;
	default:
		snprintf(err, errlen, "unknown policy kind");
		return -1;
	}
}

static int mkdir_private(const char *path, char *err, size_t errlen)
{
	if (mkdir(path, 0700) == 0 || errno == EEXIST)
		return 0;
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return -1;
}

int policy_materialize(const struct policy_push *p, const char *dir, char **paths, char *err,
		       size_t errlen)
{
	char path[4096];
	size_t i;

	snprintf(path, sizeof(path), "%s", dir);
	if (mkdir_private(path, err, errlen))
		return -1;
	snprintf(path, sizeof(path), "%s/%s", dir, policy_kind_name(p->kind));
	if (mkdir_private(path, err, errlen))
		return -1;
	snprintf(path, sizeof(path), "%s/%s/%s", dir, policy_kind_name(p->kind), p->digest + 7);
	if (mkdir_private(path, err, errlen))
		return -1;
	for (i = 0; i < p->nfiles; i++) {
		char tmp[4200];
		int fd;
		snprintf(path, sizeof(path), "%s/%s/%s/%s", dir, policy_kind_name(p->kind), p->digest + 7,
			 p->files[i].name);
		snprintf(tmp, sizeof(tmp), "%s.tmp", path);
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0) {
			snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
			goto fail;
		}
		size_t off = 0;
		while (off < p->files[i].len) {
			ssize_t w = write(fd, p->files[i].content + off, p->files[i].len - off);
			if (w <= 0) {
				snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
				close(fd);
				goto fail;
			}
			off += (size_t)w;
		}
		if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		paths[i] = strdup(path);
	}
	return 0;
fail:
	while (i-- > 0) {
		free(paths[i]);
		paths[i] = NULL;
	}
	return -1;
}

int policy_bucket(struct fleet_conn *c, kvStore **kv, char *err, size_t errlen)
{
	char text[256];
	natsStatus s = js_KeyValue(kv, fleet_js(c), POLICY_BUCKET);

	if (s == NATS_OK)
		return 0;
	if (s == NATS_NOT_FOUND)
		snprintf(err, errlen, "no key-value bucket %s: run 'vigil fleet init' first", POLICY_BUCKET);
	else
		snprintf(err, errlen, "key-value bucket %s: %s", POLICY_BUCKET,
			 fleet_status_text(s, text, sizeof(text)));
	return -1;
}

int policy_publish(struct fleet_conn *c, struct policy_push *p, char *err, size_t errlen)
{
	kvStore *kv = NULL;
	char key[128], text[256];
	size_t len = 0;
	char *value;
	natsStatus s;

	if (policy_bucket(c, &kv, err, errlen))
		return -1;
	policy_key(p->kind, p->nodes, key, sizeof(key));
	value = policy_encode(p, &len);
	if (!value || len > POLICY_MAX_VALUE) {
		snprintf(err, errlen, "the push is %zu bytes: more than a push can hold", len);
		free(value);
		kvStore_Destroy(kv);
		return -1;
	}
	s = kvStore_Put(&p->revision, kv, key, value, (int)len);
	free(value);
	kvStore_Destroy(kv);
	if (s != NATS_OK) {
		snprintf(err, errlen, "publishing %s: %s", key, fleet_status_text(s, text, sizeof(text)));
		return -1;
	}
	return 0;
}

static int by_revision(const void *a, const void *b)
{
	uint64_t x = kvEntry_Revision(*(kvEntry *const *)a), y = kvEntry_Revision(*(kvEntry *const *)b);
	return x < y ? -1 : x > y;
}

long policy_history(struct fleet_conn *c, FILE *f, char *err, size_t errlen)
{
	kvStore *kv = NULL;
	kvWatcher *w = NULL;
	kvWatchOptions wo;
	kvEntry **all = NULL;
	size_t n = 0, cap = 0;
	char text[256];
	long count = 0;
	natsStatus s;

	if (policy_bucket(c, &kv, err, errlen))
		return -1;
	kvWatchOptions_Init(&wo);
	wo.IncludeHistory = true;
	s = kvStore_WatchAll(&w, kv, &wo);
	for (;;) {
		kvEntry *e = NULL;
		if (s != NATS_OK)
			break;
		s = kvWatcher_Next(&e, w, 5000);
		if (s != NATS_OK || !e) /* NULL: the history is all read */
			break;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			all = realloc(all, cap * sizeof(*all));
		}
		all[n++] = e;
	}
	if (s != NATS_OK) {
		snprintf(err, errlen, "reading %s: %s", POLICY_BUCKET, fleet_status_text(s, text, sizeof(text)));
		count = -1;
	} else {
		if (n > 1) /* all is NULL when the bucket is empty */
			qsort(all, n, sizeof(*all), by_revision);
		for (size_t i = 0; i < n; i++) {
			struct policy_push p;
			char why[256];
			json_t *o = json_object(), *names = json_array();
			char *line;
			json_object_set_new(o, "revision", json_integer((json_int_t)kvEntry_Revision(all[i])));
			json_object_set_new(o, "key", json_string(kvEntry_Key(all[i])));
			if (kvEntry_Operation(all[i]) != kvOp_Put) {
				json_object_set_new(o, "deleted", json_true());
			} else if (policy_decode(kvEntry_Value(all[i]), (size_t)kvEntry_ValueLen(all[i]), &p, why,
						 sizeof(why))) {
				json_object_set_new(o, "error", json_string(why));
			} else {
				json_object_set_new(o, "kind", json_string(policy_kind_name(p.kind)));
				json_object_set_new(o, "nodes", json_string(p.nodes));
				json_object_set_new(o, "digest", json_string(p.digest));
				json_object_set_new(o, "pushed_by", json_string(p.pushed_by));
				json_object_set_new(o, "pushed_at", json_integer(p.pushed_at));
				for (size_t j = 0; j < p.nfiles; j++)
					json_array_append_new(names, json_pack("{s:s, s:I}", "name", p.files[j].name,
									       "bytes", (json_int_t)p.files[j].len));
				policy_push_free(&p);
			}
			json_object_set_new(o, "files", names);
			line = json_dumps(o, JSON_COMPACT);
			fprintf(f, "%s\n", line);
			free(line);
			json_decref(o);
			count++;
		}
	}
	for (size_t i = 0; i < n; i++)
		kvEntry_Destroy(all[i]);
	free(all);
	kvWatcher_Destroy(w);
	kvStore_Destroy(kv);
	return count;
}
