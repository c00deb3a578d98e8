/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>
#include "scan/catalogers/cat_elf.h"
#include "scan/catalogers/cat_go.h"

#define MAGIC "\xff Go buildinf:"
#define MAGIC_LEN 14
#define INFO_MAX (1 << 20) /* module info of the largest programs is ~100 KB */

/* A loadable segment: file bytes [off, off + filesz) at addresses [vaddr, ...). */
struct go_seg {
	uint64_t vaddr, off, filesz;
	bool rw;
};

/* PT_LOAD segments of an ELF; returns how many (at most max), 0 for non-ELF. */
static size_t go_segments(const unsigned char *h, size_t n, struct go_seg *seg, size_t max,
			  bool *is64, bool *be)
{
	struct cat_elf e;
	size_t k = 0;

	if (!cat_elf_header(h, n, &e) || !cat_elf_phdrs_sane(&e))
		return 0;
	*is64 = e.is64;
	*be = e.be;
	int w = e.addr;
	for (uint64_t i = 0; i < e.phnum && k < max; i++) {
		const unsigned char *ph = cat_elf_phdr(h, n, &e, i);
		if (!ph)
			break;
		if (cat_elf_word(ph, 4, *be) != 1 /* PT_LOAD */)
			continue;
		uint64_t flags = cat_elf_word(ph + (*is64 ? 4 : 24), 4, *be);
		seg[k].off = cat_elf_word(ph + (*is64 ? 8 : 4), w, *be);
		seg[k].vaddr = cat_elf_word(ph + (*is64 ? 16 : 8), w, *be);
		seg[k].filesz = cat_elf_word(ph + (*is64 ? 32 : 16), w, *be);
		seg[k].rw = (flags & 3) == 2;
		if (seg[k].off + seg[k].filesz >= seg[k].off && seg[k].vaddr + seg[k].filesz >= seg[k].vaddr)
			k++;
	}
	return k;
}

size_t gobi_elf_ranges(const void *hdr, size_t n, uint64_t *start, uint64_t *end, size_t max)
{
	struct go_seg seg[32];
	bool is64, be;
	size_t k = 0, nseg = go_segments(hdr, n, seg, 32, &is64, &be);

	for (size_t i = 0; i < nseg && k < max; i++)
		if (seg[i].rw && seg[i].filesz) {
			start[k] = seg[i].off;
			end[k] = seg[i].off + seg[i].filesz;
			k++;
		}
	return k;
}

void gobi_init(struct gobi_scan *g)
{
	memset(g, 0, sizeof(*g));
}

void gobi_free(struct gobi_scan *g)
{
	buf_free(&g->info);
}

/* Decode a uvarint-prefixed string at *p; 0 ok, 1 need more data, -1 invalid. */
static int gobi_string(const unsigned char **p, const unsigned char *end, const char **s,
		       size_t *n)
{
	uint64_t v = 0;
	int shift = 0;
	const unsigned char *q = *p;

	for (;;) {
		if (q >= end)
			return 1;
		if (shift > 63)
			return -1;
		v |= (uint64_t)(*q & 0x7f) << shift;
		shift += 7;
		if (!(*q++ & 0x80))
			break;
	}
	if (v > INFO_MAX)
		return -1;
	if ((uint64_t)(end - q) < v)
		return 1;
	*s = (const char *)q;
	*n = (size_t)v;
	*p = q + v;
	return 0;
}

/* Try to decode the collected header; 0 complete, 1 need more, -1 not build info. */
static int gobi_decode(const unsigned char *d, size_t len, const char **vers, size_t *vn,
		       const char **mod, size_t *mn)
{
	if (len < 32)
		return 1;
	if (d[14] != 4 && d[14] != 8)
		return -1;
	if (!(d[15] & 2))
		return -1; /* pre-1.18 pointer format */
	const unsigned char *p = d + 32, *end = d + len;
	int rc = gobi_string(&p, end, vers, vn);
	if (rc)
		return rc;
	return gobi_string(&p, end, mod, mn);
}

void gobi_feed(struct gobi_scan *g, const void *chunk, size_t n)
{
	const unsigned char *c = chunk;

	if (g->state == 2)
		return;
	if (g->state == 1) {
		size_t room = INFO_MAX - g->info.len;
		buf_add(&g->info, c, n < room ? n : room);
		const char *v, *m;
		size_t vn, mn;
		int rc = gobi_decode((const unsigned char *)g->info.data, g->info.len, &v, &vn, &m,
				     &mn);
		if (rc <= 0 || g->info.len >= INFO_MAX)
			g->state = 2;
		if (rc < 0) { /* a false match: look further */
			buf_reset(&g->info);
			g->state = 0;
		}
		return;
	}
	/* Search the tail of the previous chunk joined to this one. */
	unsigned char joint[2 * MAGIC_LEN];
	size_t head = n < MAGIC_LEN - 1 ? n : MAGIC_LEN - 1;
	memcpy(joint, g->tail, g->ntail);
	memcpy(joint + g->ntail, c, head);
	unsigned char *hit = memmem(joint, g->ntail + head, MAGIC, MAGIC_LEN);
	if (hit && (size_t)(hit - joint) < g->ntail) { /* starts in the previous chunk */
		size_t off = (size_t)(hit - joint);
		buf_add(&g->info, joint + off, g->ntail - off);
		g->ntail = 0;
		g->state = 1;
		gobi_feed(g, c, n);
		return;
	}
	hit = memmem(c, n, MAGIC, MAGIC_LEN);
	if (hit) {
		g->state = 1;
		g->ntail = 0;
		gobi_feed(g, hit, n - (size_t)(hit - c));
		return;
	}
	size_t keep = n < MAGIC_LEN - 1 ? n : MAGIC_LEN - 1;
	if (g->ntail + keep > MAGIC_LEN - 1) {
		size_t drop = g->ntail + keep - (MAGIC_LEN - 1);
		if (drop > g->ntail)
			drop = g->ntail;
		memmove(g->tail, g->tail + drop, g->ntail - drop);
		g->ntail -= drop;
	}
	memcpy(g->tail + g->ntail, c + n - keep, keep);
	g->ntail += keep;
}

static void gobi_add(struct scan_result *r, const char *name, size_t nn, const char *ver,
		     size_t vn, const char *path)
{
	char n[1024], v[256];

	if (!nn || !vn || nn >= sizeof(n) || vn >= sizeof(v))
		return;
	memcpy(n, name, nn);
	n[nn] = 0;
	memcpy(v, ver, vn);
	v[vn] = 0;
	scan_add_pkg(r, "golang", n, v, path);
}

/* Split the tab-separated fields of one module info line. */
static size_t gobi_fields(const char *line, size_t n, const char **f, size_t *fl, size_t max)
{
	size_t k = 0;
	const char *s = line, *end = line + n;

	while (k < max && s <= end) {
		const char *tab = memchr(s, '\t', (size_t)(end - s));
		const char *e = tab ? tab : end;
		f[k] = s;
		fl[k++] = (size_t)(e - s);
		if (!tab)
			break;
		s = tab + 1;
	}
	return k;
}

static void gobi_emit(const char *vers, size_t vn, const char *mod, size_t mn,
		      struct scan_result *r, const char *path)
{
	/* The toolchain: "go1.21.5" or "go1.22.1 X:boringcrypto" gives stdlib 1.21.5. */
	if (vn > 2 && !memcmp(vers, "go", 2)) {
		size_t e = 2;
		while (e < vn && vers[e] != ' ')
			e++;
		gobi_add(r, "stdlib", 6, vers + 2, e - 2, path);
	}
	if (mn >= 33 && mod[mn - 17] == '\n') { /* 16-byte sentinels around the text */
		mod += 16;
		mn -= 32;
	}
	size_t last = (size_t)-1; /* the package a "=>" line replaces */
	for (const char *s = mod, *end = mod + mn; s < end;) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t ln = nl ? (size_t)(nl - s) : (size_t)(end - s);
		const char *f[4];
		size_t fl[4];
		size_t k = gobi_fields(s, ln, f, fl, 4);
		if (k >= 3 && fl[0] == 3 && (!memcmp(f[0], "mod", 3) || !memcmp(f[0], "dep", 3))) {
			size_t before = r->npkgs;
			gobi_add(r, f[1], fl[1], f[2], fl[2], path);
			last = r->npkgs > before ? r->npkgs - 1 : (size_t)-1;
		} else if (k >= 3 && fl[0] == 2 && !memcmp(f[0], "=>", 2) && last != (size_t)-1) {
			/* The replacement module is what the program contains; a
			 * local directory (./x, ../x, /x) is the project's own code,
			 * not a module anyone publishes advisories for: dropped. */
			char n[1024], v[256];
			if (fl[1] && (f[1][0] == '.' || f[1][0] == '/') && last == r->npkgs - 1) {
				scan_pkg_free(&r->pkgs[last]);
				r->npkgs--;
			} else if (fl[1] < sizeof(n) && fl[2] < sizeof(v) && fl[1] && fl[2]) {
				memcpy(n, f[1], fl[1]);
				n[fl[1]] = 0;
				memcpy(v, f[2], fl[2]);
				v[fl[2]] = 0;
				struct scan_pkg *p = &r->pkgs[last];
				free(p->name);
				free(p->version);
				p->name = xstrdup(n);
				p->version = xstrdup(v);
			}
			last = (size_t)-1;
		}
		s += ln + 1;
	}
}

bool gobi_found(const struct gobi_scan *g)
{
	const char *v, *m;
	size_t vn, mn;
	return g->state != 0 && g->info.len &&
	       !gobi_decode((const unsigned char *)g->info.data, g->info.len, &v, &vn, &m, &mn);
}

void gobi_finish(struct gobi_scan *g, struct scan_result *r, const char *path, size_t blob,
		 uint64_t seq)
{
	const char *v, *m;
	size_t vn, mn, first = r->npkgs;

	if (g->state == 0 || !g->info.len)
		return;
	if (gobi_decode((const unsigned char *)g->info.data, g->info.len, &v, &vn, &m, &mn))
		return;
	gobi_emit(v, vn, m, mn, r, path);
	for (size_t i = first; i < r->npkgs; i++) {
		r->pkgs[i].layer = (unsigned)blob;
		r->pkgs[i].seq = seq;
	}
}

void cat_go_parse(const char *data, size_t len, const char *path, struct scan_result *r)
{
	struct gobi_scan g;

	gobi_init(&g);
	gobi_feed(&g, data, len);
	gobi_finish(&g, r, path, 0, 0);
	gobi_free(&g);
}

bool gobi_elf_is_go(const void *hdr, size_t n)
{
	const unsigned char *h = hdr;
	struct cat_elf e;

	if (!cat_elf_header(h, n, &e) || !cat_elf_phdrs_sane(&e))
		return false;
	bool is64 = e.is64, be = e.be;
	int w = e.addr;
	for (uint64_t i = 0; i < e.phnum; i++) {
		const unsigned char *ph = cat_elf_phdr(h, n, &e, i);
		if (!ph)
			break;
		if (cat_elf_word(ph, 4, be) != 4 /* PT_NOTE */)
			continue;
		uint64_t noff = cat_elf_word(ph + (is64 ? 8 : 4), w, be);
		uint64_t nsz = cat_elf_word(ph + (is64 ? 32 : 16), w, be);
		/* notes: u32 namesz, descsz, type; name and desc padded to 4 */
		for (uint64_t p = noff; p + 12 <= noff + nsz && p + 12 <= n;) {
			uint64_t namesz = cat_elf_word(h + p, 4, be), descsz = cat_elf_word(h + p + 4, 4, be);
			uint64_t type = cat_elf_word(h + p + 8, 4, be);
			if (namesz > 256 || descsz > 4096)
				break;
			if (namesz == 4 && type == 4 && p + 16 <= n && !memcmp(h + p + 12, "Go\0\0", 4))
				return true; /* ELF_NOTE_GOBUILDID_TAG */
			p += 12 + ((namesz + 3) & ~3ULL) + ((descsz + 3) & ~3ULL);
		}
	}
	return false;
}

/* The file offset of n bytes at address va, or -1 when they are not in the file data. */
static int64_t go_addr(const struct go_seg *seg, size_t nseg, uint64_t va, uint64_t n, size_t len)
{
	for (size_t i = 0; i < nseg; i++) {
		if (va < seg[i].vaddr || va - seg[i].vaddr > seg[i].filesz ||
		    seg[i].filesz - (va - seg[i].vaddr) < n)
			continue;
		uint64_t off = seg[i].off + (va - seg[i].vaddr);
		if (off > len || len - off < n)
			return -1;
		return (int64_t)off;
	}
	return -1;
}

/* A Go string (a {data pointer, length} header at address va): 0 ok, -1 unreadable. */
static int go_string_at(const unsigned char *d, size_t len, const struct go_seg *seg, size_t nseg,
			uint64_t va, int ps, bool be, const char **s, size_t *n)
{
	int64_t h = go_addr(seg, nseg, va, 2 * (uint64_t)ps, len);
	if (h < 0)
		return -1;
	uint64_t data = cat_elf_word(d + h, ps, be), sl = cat_elf_word(d + h + ps, ps, be);
	if (sl > INFO_MAX)
		return -1;
	int64_t o = go_addr(seg, nseg, data, sl, len);
	if (o < 0)
		return -1;
	*s = (const char *)d + o;
	*n = (size_t)sl;
	return 0;
}

void cat_go_parse_elf(const char *data, size_t len, const char *path, struct scan_result *r)
{
	const unsigned char *d = (const unsigned char *)data;
	struct go_seg seg[16];
	bool is64, be;
	size_t nseg = go_segments(d, len, seg, 16, &is64, &be);

	for (size_t i = 0; i < nseg; i++) {
		if (!seg[i].rw)
			continue;
		uint64_t end = seg[i].off + seg[i].filesz < len ? seg[i].off + seg[i].filesz : len;
		/* the header is 16-byte aligned in its section (debug/buildinfo's search) */
		for (uint64_t o = (seg[i].off + 15) & ~15ULL; o + 32 <= end; o += 16) {
			const unsigned char *h = d + o;
			if (memcmp(h, MAGIC, MAGIC_LEN))
				continue;
			const char *v, *m;
			size_t vn, mn;
			int ps = h[14];
			if (ps != 4 && ps != 8)
				return;
			if (h[15] & 2) { /* Go 1.18+: inline strings */
				if (!gobi_decode(h, (size_t)(end - o), &v, &vn, &m, &mn))
					gobi_emit(v, vn, m, mn, r, path);
				return;
			}
			/* before Go 1.18: pointers to the runtime.buildVersion and
			 * runtime.modinfo string headers; h[15] & 1: big-endian */
			bool pbe = h[15] & 1;
			uint64_t pv = cat_elf_word(h + 16, ps, pbe), pm = cat_elf_word(h + 16 + ps, ps, pbe);
			if (go_string_at(d, len, seg, nseg, pv, ps, pbe, &v, &vn))
				return;
			if (go_string_at(d, len, seg, nseg, pm, ps, pbe, &m, &mn))
				mn = 0; /* built without modules: the toolchain still counts */
			gobi_emit(v, vn, mn ? m : "", mn, r, path);
			return;
		}
	}
}
