/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Image sources: docker-archive and OCI archive files (tar, optionally
 * compressed) and OCI layout directories. An archive is read twice: once for
 * its metadata (manifest.json, index.json, configs; small JSON files kept in
 * memory, at most META_TOTAL bytes), once to stream the layer blobs, in the
 * order the archive holds them, through a nested libarchive reader into the
 * layer walk. Each blob's sha256 is computed as it streams and checked
 * against the manifest. Nothing is extracted to disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "scan/catalogers/imgconf.h"
#include "scan/sources/image.h"
#include "scan/sources/libarchive.h"
#include "scan/sources/walk.h"

#define META_TOTAL (64u << 20)

/*
 * The compressions layers and archives may use. Only filters libarchive runs
 * in process: its "all" would also accept formats it decodes by starting an
 * external program (lrzip, lzop, grzip), which hostile input must not cause.
 */
static void support_filters(struct archive *a)
{
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_bzip2(a);
}
#define CHUNK 65536

struct meta_file {
	char *name, *data, *link; /* link: symlink target (archives), data NULL then */
	size_t len;
};

struct source {
	const char *path;
	bool dir;
	struct meta_file *files;
	size_t nfiles;
	size_t total;
	const struct scan_opts *o;
	char bad_digest[128]; /* a metadata blob whose sha256 did not match its name */
};

static void sha256_hex(const void *d, size_t n, char out[72])
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	EVP_Digest(d, n, md, &mdlen, EVP_sha256(), NULL);
	strcpy(out, "sha256:");
	for (int i = 0; i < 32; i++)
		sprintf(out + 7 + 2 * i, "%02x", md[i]);
}

static void source_free(struct source *s)
{
	for (size_t i = 0; i < s->nfiles; i++) {
		free(s->files[i].name);
		free(s->files[i].data);
		free(s->files[i].link);
	}
	free(s->files);
}

static struct meta_file *source_add(struct source *s, const char *name)
{
	s->files = xrealloc(s->files, (s->nfiles + 1) * sizeof(*s->files));
	struct meta_file *f = &s->files[s->nfiles++];
	memset(f, 0, sizeof(*f));
	f->name = xstrdup(name);
	return f;
}

/* A name inside an image: no "..", not absolute (for directories, which we open). */
static bool name_safe(const char *name)
{
	if (!name[0] || name[0] == '/')
		return false;
	for (const char *p = name; (p = strstr(p, "..")); p += 2)
		if ((p == name || p[-1] == '/') && (p[2] == 0 || p[2] == '/'))
			return false;
	return true;
}

static const char *strip_dot(const char *n)
{
	while (n[0] == '.' && n[1] == '/')
		n += 2;
	while (n[0] == '/')
		n++;
	return n;
}

/* Metadata getter for image_plan: archive files from memory, layout files from disk. */
static const char *source_meta(void *ctx, const char *name, size_t *len)
{
	struct source *s = ctx;
	struct meta_file *f = NULL;

	name = strip_dot(name);
	for (size_t i = 0; i < s->nfiles; i++)
		if (!strcmp(s->files[i].name, name))
			f = &s->files[i];
	if (!f && s->dir && name_safe(name)) {
		char p[4096];
		snprintf(p, sizeof(p), "%s/%s", s->path, name);
		int fd = open(p, O_RDONLY | O_CLOEXEC);
		struct stat st;
		if (fd < 0)
			return NULL;
		if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
		    (uint64_t)st.st_size > s->o->limits.max_meta_bytes ||
		    s->total + (size_t)st.st_size > META_TOTAL) {
			close(fd);
			return NULL;
		}
		char *d = xmalloc((size_t)st.st_size + 1);
		ssize_t got = read(fd, d, (size_t)st.st_size);
		close(fd);
		if (got != st.st_size) {
			free(d);
			return NULL;
		}
		d[got] = 0;
		f = source_add(s, name);
		f->data = d;
		f->len = (size_t)got;
		s->total += f->len;
	}
	if (!f || !f->data)
		return NULL;
	/* A blob named by its digest must have that digest. */
	if (!strncmp(name, "blobs/sha256/", 13)) {
		char hex[72];
		sha256_hex(f->data, f->len, hex);
		if (strcmp(hex + 7, name + 13)) {
			snprintf(s->bad_digest, sizeof(s->bad_digest), "%s", name);
			return NULL;
		}
	}
	*len = f->len;
	return f->data;
}

static struct archive *outer_open(const char *path, struct vg_buf *err)
{
	const char *why = libarchive_load();
	if (why) {
		buf_printf(err, "%s", why);
		return NULL;
	}
	struct archive *a = archive_read_new();

	support_filters(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, path, CHUNK) != ARCHIVE_OK) {
		buf_printf(err, "cannot open %s: %s", path, archive_error_string(a));
		archive_read_free(a);
		return NULL;
	}
	return a;
}

/* Pass 1 over an archive: keep its JSON files and symlinks. */
static int source_scan_meta(struct source *s, struct vg_buf *err)
{
	struct archive *a = outer_open(s->path, err);
	struct archive_entry *e;
	uint64_t entries = 0;
	int rc;
	char chunk[CHUNK];

	if (!a)
		return -1;
	while ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);
		if (!name)
			continue;
		name = strip_dot(name);
		if (++entries > s->o->limits.max_entries) {
			buf_printf(err, "cannot read %s: more than %llu entries", s->path,
				   (unsigned long long)s->o->limits.max_entries);
			goto fail;
		}
		if (archive_entry_filetype(e) == AE_IFLNK && archive_entry_symlink(e)) {
			source_add(s, name)->link = xstrdup(archive_entry_symlink(e));
			continue;
		}
		int64_t size = archive_entry_size(e);
		if (archive_entry_filetype(e) != AE_IFREG || size <= 0 ||
		    (uint64_t)size > s->o->limits.max_meta_bytes || s->total + (size_t)size > META_TOTAL)
			continue;
		/* Layers are big and binary: only JSON (starting with '{' or '[') is kept. */
		struct vg_buf b = { 0 };
		la_ssize_t n;
		bool json = false, first = true;
		while ((n = archive_read_data(a, chunk, sizeof(chunk))) > 0) {
			if (first) {
				size_t i = 0;
				while (i < (size_t)n && strchr(" \t\r\n", chunk[i]))
					i++;
				json = i < (size_t)n && (chunk[i] == '{' || chunk[i] == '[');
				first = false;
				if (!json && strcmp(name, "oci-layout"))
					break;
			}
			buf_add(&b, chunk, (size_t)n);
			if (b.len > (size_t)size)
				break;
		}
		if (n < 0) {
			buf_printf(err, "cannot read %s: entry '%s': %s", s->path, name,
				   archive_error_string(a));
			buf_free(&b);
			goto fail;
		}
		if (b.len && b.len == (size_t)size) {
			struct meta_file *f = source_add(s, name);
			f->data = b.data;
			f->len = b.len;
			s->total += b.len;
		} else {
			buf_free(&b);
		}
	}
	if (rc != ARCHIVE_EOF) {
		buf_printf(err, "cannot read %s: %s", s->path, archive_error_string(a));
		goto fail;
	}
	archive_read_free(a);
	return 0;
fail:
	archive_read_free(a);
	return -1;
}

/* Follow an archive symlink (docker save links repeated layer.tar files). */
static const char *source_resolve(const struct source *s, const char *name, char *out, size_t n)
{
	snprintf(out, n, "%s", strip_dot(name));
	for (int hops = 0; hops < 8; hops++) {
		const struct meta_file *f = NULL;
		for (size_t i = 0; i < s->nfiles; i++)
			if (s->files[i].link && !strcmp(s->files[i].name, out))
				f = &s->files[i];
		if (!f)
			return out;
		char tmp[4096], norm[4096];
		const char *slash = strrchr(out, '/');
		if (f->link[0] == '/')
			snprintf(tmp, sizeof(tmp), "%s", f->link);
		else
			snprintf(tmp, sizeof(tmp), "%.*s%s", slash ? (int)(slash - out + 1) : 0, out,
				 f->link);
		/* lexical normalisation: a/b/../c -> a/c */
		size_t len = 0;
		for (char *tok = strtok(tmp, "/"); tok; tok = strtok(NULL, "/")) {
			if (!strcmp(tok, "."))
				continue;
			if (!strcmp(tok, "..")) {
				while (len && norm[len - 1] != '/')
					len--;
				if (len)
					len--;
				continue;
			}
			len += (size_t)snprintf(norm + len, sizeof(norm) - len, "%s%s", len ? "/" : "",
						tok);
			if (len >= sizeof(norm))
				return out;
		}
		norm[len] = 0;
		snprintf(out, n, "%s", norm);
	}
	return out;
}

/* A blob stream: bytes from the outer archive's current entry, a file or memory, hashed. */
struct blob {
	const struct scan_opts *o;
	size_t pos, nlayers;
	uint64_t size, reported; /* the blob's size if known; bytes at the last progress call */
	struct archive *outer;
	int fd;
	const char *mem; /* when neither outer nor fd */
	size_t memlen, memoff;
	EVP_MD_CTX *md;
	uint64_t bytes;
	char buf[CHUNK];
};

static la_ssize_t blob_read(struct archive *a, void *ud, const void **out)
{
	struct blob *b = ud;
	la_ssize_t n;

	if (b->outer) {
		n = archive_read_data(b->outer, b->buf, sizeof(b->buf));
	} else if (b->fd >= 0) {
		n = read(b->fd, b->buf, sizeof(b->buf));
	} else {
		n = (la_ssize_t)(b->memlen - b->memoff < sizeof(b->buf) ? b->memlen - b->memoff :
									    sizeof(b->buf));
		memcpy(b->buf, b->mem + b->memoff, (size_t)n);
		b->memoff += (size_t)n;
	}

	if (n < 0) {
		archive_set_error(a, EIO, "%s",
				  b->outer ? archive_error_string(b->outer) : strerror(errno));
		return -1;
	}
	EVP_DigestUpdate(b->md, b->buf, (size_t)n);
	b->bytes += (uint64_t)n;
	if (b->o && b->o->progress && (b->bytes - b->reported >= (4u << 20) || n == 0)) {
		b->reported = b->bytes;
		b->o->progress(b->o->progress_ctx, b->pos, b->nlayers, b->bytes, b->size);
	}
	*out = b->buf;
	return n;
}

static ssize_t inner_read(void *ctx, void *buf, size_t n, struct vg_buf *err)
{
	struct archive *a = ctx;
	static char scratch[65536]; /* a skip still decompresses: read and drop */
	la_ssize_t got = archive_read_data(a, buf ? buf : scratch,
					   buf || n < sizeof(scratch) ? n : sizeof(scratch));

	if (got < 0) {
		buf_printf(err, "%s", archive_error_string(a));
		return -1;
	}
	return got;
}

/* Stream one layer blob through the walk, then check its digest. */
static int blob_walk(struct walk *w, struct blob *b, size_t pos, struct scan_layer_info *li,
		     const char *expect, struct vg_buf *err)
{
	const char *unloaded = libarchive_load();
	if (unloaded) {
		buf_printf(err, "%s", unloaded);
		return -1;
	}
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	struct vg_buf why = { 0 };
	int rc, ret = -1;
	bool compressed = false;

	b->md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(b->md, EVP_sha256(), NULL);
	support_filters(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_empty(a);
	if (archive_read_open(a, b, NULL, blob_read, NULL) != ARCHIVE_OK) {
		buf_printf(err, "cannot read layer %zu (%s): %s", pos + 1, li->path,
			   archive_error_string(a));
		goto out;
	}
	while ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);
		enum walk_type t;
		const char *link = archive_entry_hardlink(e);
		if (!name) {
			buf_printf(err, "cannot read layer %zu (%s): entry with an unreadable name",
				   pos + 1, li->path);
			goto out;
		}
		compressed = archive_filter_code(a, 0) != ARCHIVE_FILTER_NONE;
		li->files++;
		if (link) {
			t = WALK_HARDLINK;
		} else {
			switch (archive_entry_filetype(e)) {
			case AE_IFREG: t = WALK_FILE; break;
			case AE_IFDIR: t = WALK_DIR; break;
			case AE_IFLNK: t = WALK_SYMLINK; link = archive_entry_symlink(e); break;
			default: t = WALK_OTHER; break;
			}
		}
		int64_t size = archive_entry_size(e);
		if (walk_entry(w, name, t, size > 0 ? (uint64_t)size : 0, link, inner_read, a,
			       &why)) {
			buf_printf(err, "cannot read layer %zu (%s): %s", pos + 1, li->path,
				   why.data);
			goto out;
		}
	}
	if (rc != ARCHIVE_EOF) {
		buf_printf(err, "cannot read layer %zu (%s): %s", pos + 1, li->path,
			   archive_error_string(a));
		goto out;
	}
	/* Read what the tar reader left (padding, trailing blocks) so the digest is whole. */
	const void *dummy;
	la_ssize_t n;
	while ((n = blob_read(a, b, &dummy)) > 0)
		;
	unsigned char md[32];
	unsigned int mdlen = 0;
	char hex[72];
	EVP_DigestFinal_ex(b->md, md, &mdlen);
	strcpy(hex, "sha256:");
	for (int i = 0; i < 32; i++)
		sprintf(hex + 7 + 2 * i, "%02x", md[i]);
	li->size = b->bytes;
	free(li->digest);
	li->digest = xstrdup(expect ? expect : hex);
	if (expect && !strcmp(expect, hex)) {
		li->verified = true;
	} else if (expect && compressed && strncmp(li->path, "blobs/", 6)) {
		/* a legacy layer.tar that is compressed: the diff_id is of the plain tar */
		scan_warn(w->r, "layer %zu (%s): compressed legacy layer, digest not verified",
			  pos + 1, li->path);
	} else if (expect) {
		buf_printf(err, "layer %zu (%s): digest mismatch: manifest says %s, content is %s",
			   pos + 1, li->path, expect, hex);
		goto out;
	} else {
		scan_warn(w->r, "layer %zu (%s): no digest to verify against", pos + 1, li->path);
	}
	ret = 0;
out:
	EVP_MD_CTX_free(b->md);
	b->md = NULL;
	buf_free(&why);
	archive_read_free(a);
	return ret;
}

/* The distinct blobs of the plan: blob_of[i] is the blob index of layer i. */
static size_t plan_blobs(const struct source *s, const struct image_plan *p, char ***names,
			 size_t *blob_of)
{
	size_t n = 0;
	char buf[4096];

	*names = xcalloc(p->nlayers ? p->nlayers : 1, sizeof(char *));
	for (size_t i = 0; i < p->nlayers; i++) {
		const char *real = source_resolve(s, p->layer_paths[i], buf, sizeof(buf));
		size_t k;
		for (k = 0; k < n; k++)
			if (!strcmp((*names)[k], real))
				break;
		if (k == n)
			(*names)[n++] = xstrdup(real);
		blob_of[i] = k;
	}
	return n;
}

static int scan_layers(struct source *s, struct image_plan *p, struct scan_result *r,
		       struct vg_buf *err)
{
	struct walk w;
	char **names;
	size_t *blob_of = xcalloc(p->nlayers ? p->nlayers : 1, sizeof(size_t));
	size_t nblobs = plan_blobs(s, p, &names, blob_of);
	bool *done = xcalloc(nblobs ? nblobs : 1, sizeof(bool));
	struct blob *b = xcalloc(1, sizeof(*b));
	int ret = -1;

	r->nlayers = p->nlayers;
	r->layers = xcalloc(p->nlayers ? p->nlayers : 1, sizeof(*r->layers));
	for (size_t i = 0; i < p->nlayers; i++) {
		r->layers[i].path = xstrdup(p->layer_paths[i]);
		r->layers[i].digest = xstrdup(p->layer_digests[i] ? p->layer_digests[i] : "");
	}
	walk_init(&w, r, s->o, nblobs);
	if (s->dir) {
		for (size_t k = 0; k < nblobs; k++) {
			char path[4096];
			size_t pos = 0;
			while (blob_of[pos] != k)
				pos++;
			if (!name_safe(names[k])) {
				buf_printf(err, "layer %zu: unsafe blob path '%s'", pos + 1, names[k]);
				goto out;
			}
			snprintf(path, sizeof(path), "%s/%s", s->path, names[k]);
			b->outer = NULL;
			b->fd = open(path, O_RDONLY | O_CLOEXEC);
			if (b->fd < 0) {
				buf_printf(err, "cannot open layer %zu (%s): %s", pos + 1, path,
					   strerror(errno));
				goto out;
			}
			walk_begin_blob(&w, k);
			struct stat sb;
			*b = (struct blob){ .o = s->o, .pos = pos, .nlayers = p->nlayers, .fd = b->fd,
					    .size = fstat(b->fd, &sb) ? 0 : (uint64_t)sb.st_size };
			int rc = blob_walk(&w, b, pos, &r->layers[pos], p->layer_digests[pos], err);
			close(b->fd);
			if (rc)
				goto out;
			done[k] = true;
		}
	} else {
		struct archive *a = outer_open(s->path, err);
		struct archive_entry *e;
		if (!a)
			goto out;
		int rc;
		while ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
			const char *name = archive_entry_pathname(e);
			if (!name || archive_entry_filetype(e) != AE_IFREG)
				continue;
			name = strip_dot(name);
			for (size_t k = 0; k < nblobs; k++) {
				if (done[k] || strcmp(names[k], name))
					continue;
				size_t pos = 0;
				while (blob_of[pos] != k)
					pos++;
				*b = (struct blob){ .o = s->o, .pos = pos, .nlayers = p->nlayers,
						    .outer = a, .fd = -1,
						    .size = (uint64_t)archive_entry_size(e) };
				walk_begin_blob(&w, k);
				if (blob_walk(&w, b, pos, &r->layers[pos], p->layer_digests[pos], err)) {
					archive_read_free(a);
					goto out;
				}
				done[k] = true;
				break;
			}
		}
		if (rc != ARCHIVE_EOF) {
			buf_printf(err, "cannot read %s: %s", s->path, archive_error_string(a));
			archive_read_free(a);
			goto out;
		}
		archive_read_free(a);
	}
	for (size_t i = 0; i < p->nlayers; i++) {
		if (!done[blob_of[i]]) {
			buf_printf(err, "layer %zu (%s) is missing from the image", i + 1,
				   p->layer_paths[i]);
			goto out;
		}
		size_t first = 0; /* a repeated blob: the first layer that used it was read */
		while (blob_of[first] != blob_of[i])
			first++;
		if (first != i) {
			r->layers[i].size = r->layers[first].size;
			r->layers[i].files = r->layers[first].files;
			r->layers[i].verified = r->layers[first].verified;
		}
	}
	walk_finish(&w, blob_of, p->nlayers);
	ret = 0;
out:
	walk_free(&w);
	for (size_t k = 0; k < nblobs; k++)
		free(names[k]);
	free(names);
	free(blob_of);
	free(done);
	free(b);
	return ret;
}

int scan_image(const char *path, const struct scan_opts *o, struct scan_result *r,
	       struct vg_buf *err)
{
	struct source s = { .path = path, .o = o };
	struct image_plan p = { 0 };
	struct stat st;
	int ret = -1;
	size_t len;

	r->target = xstrdup(path);
	if (stat(path, &st)) {
		buf_printf(err, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		char marker[4096];
		snprintf(marker, sizeof(marker), "%s/oci-layout", path);
		if (access(marker, R_OK)) {
			buf_printf(err, "%s: not an OCI image layout (no oci-layout file); "
					"use 'vigil scan rootfs' for a root file system", path);
			return -1;
		}
		s.dir = true;
	} else if (source_scan_meta(&s, err)) {
		goto out;
	}
	if (image_plan(source_meta, &s, o->select, &p, err)) {
		if (s.bad_digest[0]) {
			buf_reset(err);
			buf_printf(err, "%s: digest mismatch in %s", path, s.bad_digest);
		} else {
			char tmp[1024];
			snprintf(tmp, sizeof(tmp), "%s", err->data ? err->data : "");
			buf_reset(err);
			buf_printf(err, "%s: %s", path, tmp);
		}
		goto out;
	}
	r->kind = xstrdup(!strcmp(p.kind, "oci") ? (s.dir ? "oci-layout" : "oci-archive") :
						  p.kind);
	if (p.tag)
		r->tag = xstrdup(p.tag);
	if (p.digest)
		r->image_digest = xstrdup(p.digest);
	const char *cfg = source_meta(&s, p.config_path, &len);
	if (cfg) {
		r->config_json = xstrndup(cfg, len);
		/* a legacy config is named by its own digest */
		char hex[72];
		const char *base = strrchr(p.config_path, '/');
		base = base ? base + 1 : p.config_path;
		sha256_hex(cfg, len, hex);
		r->image_id = xstrdup(hex);
		if (strlen(base) == 69 && !strcmp(base + 64, ".json") && strncmp(base, hex + 7, 64)) {
			buf_printf(err, "%s: digest mismatch in config %s", path, p.config_path);
			goto out;
		}
	} else if (s.bad_digest[0]) {
		buf_printf(err, "%s: digest mismatch in %s", path, s.bad_digest);
		goto out;
	} else {
		scan_warn(r, "image config %s is missing", p.config_path);
	}
	ret = scan_layers(&s, &p, r, err);
	if (!ret && r->config_json)
		imgconf_check(r->config_json, r);
out:
	image_plan_free(&p);
	source_free(&s);
	return ret;
}

int scan_layer_memory(const void *data, size_t len, const struct scan_opts *o,
		      struct scan_result *r, struct vg_buf *err)
{
	struct walk w;
	struct blob *b = xcalloc(1, sizeof(*b));
	size_t order = 0;

	r->target = xstrdup("<memory>");
	r->kind = xstrdup("layer");
	r->nlayers = 1;
	r->layers = xcalloc(1, sizeof(*r->layers));
	r->layers[0].path = xstrdup("<memory>");
	b->fd = -1;
	b->mem = data;
	b->memlen = len;
	walk_init(&w, r, o, 1);
	walk_begin_blob(&w, 0);
	int rc = blob_walk(&w, b, 0, &r->layers[0], NULL, err);
	if (!rc)
		walk_finish(&w, &order, 1);
	walk_free(&w);
	free(b);
	return rc;
}
