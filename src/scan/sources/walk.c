/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "scan/catalogers/cat_auditable.h"
#include "scan/catalogers/cat_go.h"
#include "scan/catalogers/catalog.h"
#include "scan/catalogers/osrel.h"
#include "scan/catalogers/secrets.h"
#include "scan/reports/purl.h"
#include "scan/sources/walk.h"

enum op_kind { OP_ADD, OP_WHITEOUT, OP_OPAQUE };

struct walk_op {
	char *path, *link;
	uint64_t seq;
	enum op_kind kind;
	enum fi_type type;
};

struct walk_kept {
	uint64_t seq;
	char *data;
	size_t len;
};

#define KEPT_MAX (64 * 1024)

void walk_init(struct walk *w, struct scan_result *r, const struct scan_opts *o, size_t nblobs)
{
	memset(w, 0, sizeof(*w));
	w->r = r;
	w->o = o;
	w->nblobs = nblobs;
	w->ops = xcalloc(nblobs, sizeof(*w->ops));
	w->nops = xcalloc(nblobs, sizeof(*w->nops));
	w->capops = xcalloc(nblobs, sizeof(*w->capops));
	if (o->secrets)
		w->secrets = secrets_new();
	fileindex_init(&w->index);
}

void walk_free(struct walk *w)
{
	for (size_t b = 0; b < w->nblobs; b++) {
		for (size_t i = 0; i < w->nops[b]; i++) {
			free(w->ops[b][i].path);
			free(w->ops[b][i].link);
		}
		free(w->ops[b]);
	}
	free(w->ops);
	free(w->nops);
	free(w->capops);
	for (size_t i = 0; i < w->nkept; i++)
		free(w->kept[i].data);
	free(w->kept);
	secrets_free(w->secrets);
	fileindex_free(&w->index);
	buf_free(&w->content);
	buf_free(&w->gohold);
	buf_free(&w->audhold);
	memset(w, 0, sizeof(*w));
}

void walk_begin_blob(struct walk *w, size_t blob)
{
	w->blob = blob;
	w->layer_bytes = 0;
}

/*
 * Normalise a layer path into out: leading "/" and "./" dropped, "." and empty
 * components removed, no trailing slash. Returns -1 for a ".." component (a
 * path that would leave the root) or a path too long.
 */
static int walk_norm(const char *raw, char *out, size_t n)
{
	size_t len = 0;
	const char *p = raw;

	while (*p) {
		const char *end = strchr(p, '/');
		size_t c = end ? (size_t)(end - p) : strlen(p);
		if (c == 2 && p[0] == '.' && p[1] == '.')
			return -1;
		if (c && !(c == 1 && p[0] == '.')) {
			if (len + c + 2 > n)
				return -1;
			if (len)
				out[len++] = '/';
			memcpy(out + len, p, c);
			len += c;
		}
		p += c;
		if (*p == '/')
			p++;
	}
	out[len] = 0;
	return 0;
}

static void walk_add_op(struct walk *w, enum op_kind kind, const char *path, enum fi_type type,
			const char *link)
{
	size_t b = w->blob;

	if (w->nops[b] == w->capops[b]) {
		w->capops[b] = w->capops[b] ? w->capops[b] * 2 : 256;
		w->ops[b] = xrealloc(w->ops[b], w->capops[b] * sizeof(**w->ops));
	}
	struct walk_op *op = &w->ops[b][w->nops[b]++];
	op->kind = kind;
	op->path = xstrdup(path);
	op->link = link ? xstrdup(link) : NULL;
	op->type = type;
	op->seq = w->seq;
}

static const enum fi_type fi_of[] = {
	[WALK_FILE] = FI_FILE, [WALK_DIR] = FI_DIR, [WALK_SYMLINK] = FI_SYMLINK,
	[WALK_HARDLINK] = FI_HARDLINK, [WALK_OTHER] = FI_OTHER,
};

#define GO_RANGES 8
/* A Go binary is held in memory up to the end of its data segments only if that
 * is at most this big (pre-1.18 build info needs bytes from before its header). */
#define GO_HOLD_MAX (256ULL << 20)
#define GO_HOLD_KEEP (4u << 20)

/*
 * Consumers of a whole file's contents, asked in this order for every regular
 * file: each says how many of its first bytes it needs held in memory (0: it
 * does not want the file), and gets them once the file is read, if they are
 * the whole file. Go build info and cargo-auditable sections are searched in
 * binaries as they stream by instead (below), as they may be too big to hold.
 */
struct walk_consumer {
	const char *name;
	uint64_t (*want)(struct walk *w, const char *path, uint64_t size, const void **arg);
	void (*take)(struct walk *w, const char *path, const char *data, size_t len,
		     const void *arg);
	/* reads text only: a binary file (a NUL in its first 8 KiB) is not held when
	 * every consumer that wants it reads text only */
	bool text;
};

/* Small OS files (os-release, ...), kept for OS detection after the merge. */
static uint64_t os_want(struct walk *w, const char *path, uint64_t size, const void **arg)
{
	(void)w, (void)size, (void)arg;
	return osrel_wanted(path) ? KEPT_MAX : 0;
}

static void os_take(struct walk *w, const char *path, const char *data, size_t len,
		    const void *arg)
{
	(void)path, (void)arg;
	if (len > KEPT_MAX)
		return;
	if (w->nkept == w->capkept) {
		w->capkept = w->capkept ? w->capkept * 2 : 16;
		w->kept = xrealloc(w->kept, w->capkept * sizeof(*w->kept));
	}
	w->kept[w->nkept].seq = w->seq;
	w->kept[w->nkept].data = xstrndup(data, len);
	w->kept[w->nkept].len = len;
	w->nkept++;
}

/* Package databases and manifests: the cataloger table (catalog.h). */
static uint64_t pkg_want(struct walk *w, const char *path, uint64_t size, const void **arg)
{
	const struct cataloger *c = catalog_find(path);

	if (!c)
		return 0;
	if (size > w->o->limits.max_file_bytes) {
		scan_warn(w->r, "skipping %s in layer %zu: %llu bytes exceeds the %llu-byte limit",
			  path, w->blob + 1, (unsigned long long)size,
			  (unsigned long long)w->o->limits.max_file_bytes);
		return 0;
	}
	*arg = c;
	return w->o->limits.max_file_bytes;
}

static void pkg_take(struct walk *w, const char *path, const char *data, size_t len,
		     const void *arg)
{
	catalog_parse(arg, data, len, path, w->r, w->blob, w->seq);
}

static uint64_t secrets_want(struct walk *w, const char *path, uint64_t size, const void **arg)
{
	(void)path, (void)arg;
	return w->secrets && size <= w->o->limits.max_secret_bytes ? size : 0;
}

static void secrets_take(struct walk *w, const char *path, const char *data, size_t len,
			 const void *arg)
{
	(void)arg;
	secrets_scan(w->secrets, data, len, path, w->r, w->blob, w->seq);
}

static const struct walk_consumer consumers[] = {
	{ "os-release", os_want, os_take, false },
	{ "packages", pkg_want, pkg_take, false },
	{ "secrets", secrets_want, secrets_take, true },
};

#define NCONSUMERS (sizeof(consumers) / sizeof(consumers[0]))

/* Read a regular file's contents through the interested consumers. */
static int walk_read_file(struct walk *w, const char *path, uint64_t size, walk_read_fn read,
			  void *ctx, struct vg_buf *err)
{
	uint64_t want = 0; /* bytes to hold in memory: the most any consumer asked */
	bool wants[NCONSUMERS], any = false, all_text = true;
	const void *arg[NCONSUMERS] = { 0 };
	struct gobi_scan gs;
	/* Go build info: only ELF files, and only their data segments are searched */
	bool go_elf = false, go = size >= 1024;
	uint64_t go_start[GO_RANGES], go_end[GO_RANGES], go_last = 0;
	size_t go_n = 0;
	char chunk[65536];
	uint64_t got = 0;
	/* a Go binary's bytes up to its data segments' end, for the pre-1.18 format */
	bool go_hold = false;
	/* a cargo-auditable section: the file's tail, held from aud_start to aud_end */
	bool aud = false;
	uint64_t aud_start = 0, aud_end = 0;
	unsigned char ehdr[AUDITABLE_EHDR];

	for (size_t i = 0; i < NCONSUMERS; i++) {
		uint64_t n = consumers[i].want(w, path, size, &arg[i]);
		wants[i] = n > 0;
		if (n > want)
			want = n;
		any |= wants[i];
		all_text &= !wants[i] || consumers[i].text;
	}
	bool text_only = any && all_text;
	if (!want && !go)
		return 0;
	buf_reset(&w->content);
	gobi_init(&gs);
	for (;;) {
		/* Nothing to hold and no build info before the next data segment: skip to it. */
		if ((go || aud) && got >= want && gs.state == 0 && !go_hold) {
			uint64_t next = UINT64_MAX;
			for (size_t i = 0; go && i < go_n; i++)
				if (go_end[i] > got && go_start[i] < next)
					next = go_start[i];
			if (aud && aud_start < next)
				next = aud_start;
			if (next != UINT64_MAX && next > got) {
				ssize_t k = read(ctx, NULL, (size_t)(next - got < (1u << 30) ? next - got : 1u << 30), err);
				if (k < 0)
					goto fail;
				if (k == 0)
					break;
				got += (uint64_t)k;
				continue;
			}
		}
		ssize_t n = read(ctx, chunk, sizeof(chunk), err);
		if (n < 0)
			goto fail;
		if (n == 0)
			break;
		if (got == 0 && text_only && memchr(chunk, 0, (size_t)n < 8192 ? (size_t)n : 8192)) {
			want = 0; /* binary: text consumers skip it, so nothing needs holding */
			memset(wants, 0, sizeof(wants));
		}
		if (got == 0 && go) {
			go_n = gobi_elf_ranges(chunk, (size_t)n, go_start, go_end, GO_RANGES);
			go = go_elf = go_n > 0;
			for (size_t i = 0; i < go_n; i++)
				if (go_end[i] > go_last)
					go_last = go_end[i];
			go_hold = go && go_last <= GO_HOLD_MAX && gobi_elf_is_go(chunk, (size_t)n);
			buf_reset(&w->gohold);
			aud = go_elf && (size_t)n >= AUDITABLE_EHDR &&
			      auditable_tail_range(chunk, (size_t)n, size, &aud_start, &aud_end);
			if (aud)
				memcpy(ehdr, chunk, AUDITABLE_EHDR);
			buf_reset(&w->audhold);
		}
		if (aud && got + (uint64_t)n > aud_start && got < aud_end) {
			uint64_t a = got > aud_start ? got : aud_start;
			uint64_t b = got + (uint64_t)n < aud_end ? got + (uint64_t)n : aud_end;
			buf_add(&w->audhold, chunk + (a - got), (size_t)(b - a));
		}
		if (go_hold && got < go_last) {
			size_t take = (size_t)n;
			if (got + take > go_last)
				take = (size_t)(go_last - got);
			buf_add(&w->gohold, chunk, take);
		}
		if (go && gs.state == 1) {
			gobi_feed(&gs, chunk, (size_t)n); /* collecting what follows the magic */
		} else if (go) {
			for (size_t i = 0; i < go_n; i++) {
				uint64_t a = got > go_start[i] ? got : go_start[i];
				uint64_t b = got + (uint64_t)n < go_end[i] ? got + (uint64_t)n : go_end[i];
				if (a < b)
					gobi_feed(&gs, chunk + (a - got), (size_t)(b - a));
			}
		}
		if (got < want) {
			size_t take = (size_t)n;
			if (got + take > want)
				take = (size_t)(want - got);
			buf_add(&w->content, chunk, take);
		}
		got += (uint64_t)n;
		if (got > size) {
			buf_printf(err, "entry '%s': more data than its declared %llu bytes", path,
				   (unsigned long long)size);
			goto fail;
		}
		if (go_hold && gs.state == 2) {
			go_hold = false; /* the 1.18+ format: nothing to go back for */
			buf_reset(&w->gohold);
		}
		if (go && (gs.state == 2 || (gs.state == 0 && got >= go_last)))
			go = false; /* found, or past every data segment */
		if (!go && got >= want && (!aud || got >= aud_end))
			break; /* nobody needs the rest */
	}
	if (go_elf && !gobi_found(&gs) && go_hold && w->gohold.len) {
		size_t first = w->r->npkgs;
		cat_go_parse_elf(w->gohold.data, w->gohold.len, path, w->r);
		for (size_t i = first; i < w->r->npkgs; i++) {
			w->r->pkgs[i].layer = (unsigned)w->blob;
			w->r->pkgs[i].seq = w->seq;
		}
	} else if (go_elf) {
		gobi_finish(&gs, w->r, path, w->blob, w->seq);
	}
	if (aud && w->audhold.len == aud_end - aud_start) {
		size_t first = w->r->npkgs;
		cat_auditable_parse(ehdr, (const unsigned char *)w->audhold.data, w->audhold.len,
				    aud_start, path, w->r);
		for (size_t i = first; i < w->r->npkgs; i++) {
			w->r->pkgs[i].layer = (unsigned)w->blob;
			w->r->pkgs[i].seq = w->seq;
		}
	}
	if (w->audhold.cap > GO_HOLD_KEEP)
		buf_free(&w->audhold);
	else
		buf_reset(&w->audhold);
	if (w->gohold.cap > GO_HOLD_KEEP)
		buf_free(&w->gohold); /* do not keep a big binary's memory between files */
	else
		buf_reset(&w->gohold);
	gobi_free(&gs);
	const char *data = w->content.data ? w->content.data : "";
	size_t len = w->content.len;
	for (size_t i = 0; i < NCONSUMERS && got == len; i++)
		if (wants[i])
			consumers[i].take(w, path, data, len, arg[i]);
	return 0;
fail:
	gobi_free(&gs);
	return -1;
}

int walk_entry(struct walk *w, const char *raw, enum walk_type type, uint64_t size,
	       const char *link, walk_read_fn read, void *ctx, struct vg_buf *err)
{
	char path[4096], target[4096];
	const struct scan_limits *l = &w->o->limits;

	if (walk_norm(raw, path, sizeof(path))) {
		buf_printf(err, "entry '%s': path leaves the image root or is too long", raw);
		return -1;
	}
	if (!path[0])
		return 0; /* the root itself */
	if (++w->entries > l->max_entries) {
		buf_printf(err, "entry '%s': more than %llu entries in the image", raw,
			   (unsigned long long)l->max_entries);
		return -1;
	}
	if (type == WALK_FILE && !w->rootfs) {
		w->layer_bytes += size;
		if (size > l->max_layer_bytes || w->layer_bytes > l->max_layer_bytes) {
			buf_printf(err, "entry '%s': layer expands beyond %llu bytes", raw,
				   (unsigned long long)l->max_layer_bytes);
			return -1;
		}
	}
	w->seq++;
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (!strncmp(base, ".wh.", 4)) {
		char dir[4096];
		size_t dlen = (size_t)(base - path);
		memcpy(dir, path, dlen);
		dir[dlen ? dlen - 1 : 0] = 0;
		if (!strcmp(base, ".wh..wh..opq"))
			walk_add_op(w, OP_OPAQUE, dir, FI_DIR, NULL);
		else if (strncmp(base, ".wh..wh.", 8) && base[4]) {
			char victim[8200];
			snprintf(victim, sizeof(victim), "%s%s%s", dir, dlen ? "/" : "", base + 4);
			walk_add_op(w, OP_WHITEOUT, victim, FI_OTHER, NULL);
		}
		return 0; /* other .wh..wh. entries are AUFS metadata */
	}
	if (type == WALK_HARDLINK || type == WALK_SYMLINK) {
		if (!link || !link[0]) {
			buf_printf(err, "entry '%s': link without a target", raw);
			return -1;
		}
		/*
		 * A hardlink names another entry of the archive: it must stay inside.
		 * A symlink is only recorded; it is resolved inside the image root
		 * (fileindex_resolve), never on the host.
		 */
		if (type == WALK_HARDLINK && walk_norm(link, target, sizeof(target))) {
			buf_printf(err, "entry '%s': hardlink target '%s' leaves the image root",
				   raw, link);
			return -1;
		}
		if (type == WALK_SYMLINK && strlen(link) >= sizeof(target)) {
			buf_printf(err, "entry '%s': symlink target too long", raw);
			return -1;
		}
		if (type == WALK_SYMLINK)
			snprintf(target, sizeof(target), "%s", link);
	}
	walk_add_op(w, OP_ADD, path, fi_of[type],
		    type == WALK_HARDLINK || type == WALK_SYMLINK ? target : NULL);
	if (type == WALK_FILE && read)
		return walk_read_file(w, path, size, read, ctx, err);
	return 0;
}

static const struct walk_kept *walk_kept_find(const struct walk *w, uint64_t seq)
{
	for (size_t i = 0; i < w->nkept; i++)
		if (w->kept[i].seq == seq)
			return &w->kept[i];
	return NULL;
}

/* The contents of a small OS file in the final image, following symlinks; NULL if absent. */
static const char *walk_os_file(void *ctx, const char *path, size_t *len)
{
	const struct walk *w = ctx;
	char real[4096];
	struct fi_entry *e = fileindex_resolve(&w->index, path, real, sizeof(real));
	int hops = 0;

	while (e && e->type == FI_HARDLINK && e->link && hops++ < 8)
		e = fileindex_get(&w->index, e->link);
	if (!e || e->type != FI_FILE)
		return NULL;
	const struct walk_kept *k = walk_kept_find(w, e->seq);
	if (!k)
		return NULL;
	*len = k->len;
	return k->data;
}

/* Report order: by layer, then path, then the order found (seq and index keep it stable). */
static int pkg_cmp(const void *a, const void *b)
{
	const struct scan_pkg *x = a, *y = b;
	int c = (x->layer > y->layer) - (x->layer < y->layer);

	if (!c)
		c = strcmp(x->path, y->path);
	if (!c)
		c = (x->seq > y->seq) - (x->seq < y->seq);
	return c;
}

static int secret_cmp(const void *a, const void *b)
{
	const struct scan_secret *x = a, *y = b;
	int c = (x->layer > y->layer) - (x->layer < y->layer);

	if (!c)
		c = strcmp(x->path, y->path);
	if (!c)
		c = (x->line > y->line) - (x->line < y->line);
	if (!c)
		c = strcmp(x->rule, y->rule);
	return c;
}

void walk_finish(struct walk *w, const size_t *order, size_t n)
{
	struct scan_result *r = w->r;
	size_t *pos_of_blob = xcalloc(w->nblobs ? w->nblobs : 1, sizeof(size_t));

	for (size_t b = 0; b < w->nblobs; b++)
		pos_of_blob[b] = SIZE_MAX;
	for (size_t i = 0; i < n; i++) {
		size_t b = order[i];
		if (pos_of_blob[b] == SIZE_MAX)
			pos_of_blob[b] = i;
		/* Whiteouts hide what lower layers hold, never this layer's own files. */
		for (size_t k = 0; k < w->nops[b]; k++) {
			struct walk_op *op = &w->ops[b][k];
			if (op->kind == OP_WHITEOUT)
				fileindex_remove(&w->index, op->path, 1, 1);
			else if (op->kind == OP_OPAQUE)
				fileindex_remove(&w->index, op->path, 0, 1);
		}
		for (size_t k = 0; k < w->nops[b]; k++) {
			struct walk_op *op = &w->ops[b][k];
			if (op->kind != OP_ADD)
				continue;
			struct fi_entry *old = fileindex_get(&w->index, op->path);
			if (old && old->type == FI_DIR && op->type != FI_DIR)
				fileindex_remove(&w->index, op->path, 0, 1);
			fileindex_put(&w->index, op->path, op->type, op->link, op->seq, (unsigned)i);
		}
	}
	/* Keep the packages whose file entry is the one the final image shows. */
	size_t keep = 0;
	for (size_t i = 0; i < r->npkgs; i++) {
		struct scan_pkg *p = &r->pkgs[i];
		struct fi_entry *e = fileindex_get(&w->index, p->path);
		if (e && e->seq == p->seq) {
			p->layer = e->layer;
			r->pkgs[keep++] = *p;
		} else {
			scan_pkg_free(p);
		}
	}
	r->npkgs = keep;
	for (size_t i = 0; i < r->nsecrets; i++) {
		struct scan_secret *s = &r->secrets[i];
		struct fi_entry *e = fileindex_get(&w->index, s->path);
		s->deleted = !(e && e->seq == s->seq);
		s->layer = s->layer < w->nblobs && pos_of_blob[s->layer] != SIZE_MAX ?
				   (unsigned)pos_of_blob[s->layer] : 0;
	}
	free(pos_of_blob);
	/* seq is not needed any more: it becomes the order found, to keep the sort stable */
	for (size_t i = 0; i < r->npkgs; i++)
		r->pkgs[i].seq = i;
	if (r->npkgs)
		qsort(r->pkgs, r->npkgs, sizeof(*r->pkgs), pkg_cmp);
	if (r->nsecrets)
		qsort(r->secrets, r->nsecrets, sizeof(*r->secrets), secret_cmp);
	osrel_detect(r, walk_os_file, w);
	for (size_t i = 0; i < r->npkgs; i++)
		purl_fill(r, &r->pkgs[i]);
}
