/* SPDX-License-Identifier: Apache-2.0 */
#include <jansson.h>
#include <string.h>
#include <zlib.h>
#include "scan/catalogers/cat_auditable.h"
#include "scan/catalogers/cat_elf.h"

#define JSON_MAX (8u << 20) /* inflated dependency list; real ones are a few KB */

/* The ELF header, with a section header table we can use; false for anything else. */
static bool ehdr_read(const unsigned char *h, size_t n, struct cat_elf *e)
{
	return cat_elf_header(h, n, e) && e->shentsize >= (uint64_t)(e->is64 ? 64 : 40) &&
	       e->shnum && e->shstrndx < e->shnum;
}

bool auditable_tail_range(const void *hdr, size_t n, uint64_t size, uint64_t *start,
			  uint64_t *end)
{
	const unsigned char *h = hdr;
	struct cat_elf e;

	if (!ehdr_read(h, n, &e) || !cat_elf_phdrs_sane(&e))
		return false;
	uint64_t last = 0;
	for (uint64_t i = 0; i < e.phnum; i++) {
		const unsigned char *ph = cat_elf_phdr(h, n, &e, i);
		if (!ph)
			return false; /* program headers beyond the first bytes: give up */
		if (cat_elf_word(ph, 4, e.be) != 1)
			continue;
		uint64_t o = cat_elf_word(ph + (e.is64 ? 8 : 4), e.is64 ? 8 : 4, e.be);
		uint64_t sz = cat_elf_word(ph + (e.is64 ? 32 : 16), e.is64 ? 8 : 4, e.be);
		if (o + sz >= o && o + sz > last)
			last = o + sz;
	}
	uint64_t tab_end = e.shoff + e.shnum * e.shentsize;
	if (!last || e.shoff < last || tab_end < e.shoff || tab_end > size ||
	    tab_end - last > AUDITABLE_TAIL_MAX)
		return false;
	*start = last;
	*end = tab_end;
	return true;
}

/* Inflate a zlib stream into out (at most JSON_MAX bytes); 0 ok. */
static int inflate_all(const unsigned char *in, size_t n, struct vg_buf *out)
{
	z_stream z;
	unsigned char chunk[16384];
	int rc;

	memset(&z, 0, sizeof(z));
	if (inflateInit(&z) != Z_OK)
		return -1;
	z.next_in = (unsigned char *)in;
	z.avail_in = (uInt)n;
	do {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		rc = inflate(&z, Z_NO_FLUSH);
		if (rc != Z_OK && rc != Z_STREAM_END)
			break;
		size_t got = sizeof(chunk) - z.avail_out;
		if (out->len + got > JSON_MAX) {
			rc = Z_MEM_ERROR;
			break;
		}
		buf_add(out, chunk, got);
		if (rc == Z_OK && !got && !z.avail_in)
			break; /* truncated */
	} while (rc != Z_STREAM_END);
	inflateEnd(&z);
	return rc == Z_STREAM_END ? 0 : -1;
}

void cat_auditable_parse(const unsigned char *eh, const unsigned char *tail, size_t tlen,
			 uint64_t start, const char *path, struct scan_result *r)
{
	struct cat_elf e;

	if (!ehdr_read(eh, AUDITABLE_EHDR, &e) || e.shoff < start || e.shoff - start > tlen ||
	    (tlen - (e.shoff - start)) / e.shentsize < e.shnum)
		return;
	const unsigned char *sh = tail + (e.shoff - start);
	int w = e.is64 ? 8 : 4;
	/* section i: name u32 at 0; offset at 24 (64-bit) or 16; size at 32 or 20 */
#define SH_OFF(i) cat_elf_word(sh + (i) * e.shentsize + (e.is64 ? 24 : 16), w, e.be)
#define SH_SIZE(i) cat_elf_word(sh + (i) * e.shentsize + (e.is64 ? 32 : 20), w, e.be)
	uint64_t so = SH_OFF(e.shstrndx), ss = SH_SIZE(e.shstrndx);
	if (so < start || so - start > tlen || tlen - (so - start) < ss)
		return; /* the section names are not in what was held */
	const char *names = (const char *)tail + (so - start);
	for (uint64_t i = 0; i < e.shnum; i++) {
		uint64_t nm = cat_elf_word(sh + i * e.shentsize, 4, e.be);
		if (nm >= ss || ss - nm < 8 || memcmp(names + nm, ".dep-v0", 8))
			continue;
		uint64_t o = SH_OFF(i), sz = SH_SIZE(i);
		if (o < start || o - start > tlen || tlen - (o - start) < sz) {
			scan_warn(r, "cannot read %s: section .dep-v0 is outside the file", path);
			return;
		}
		struct vg_buf js = { 0 };
		json_error_t je;
		json_t *doc = NULL;
		if (inflate_all(tail + (o - start), (size_t)sz, &js) ||
		    !(doc = json_loadb(js.data ? js.data : "", js.len, 0, &je))) {
			scan_warn(r, "cannot parse %s: section .dep-v0 is not zlib-compressed JSON",
				  path);
			buf_free(&js);
			return;
		}
		size_t k;
		json_t *p;
		json_array_foreach(json_object_get(doc, "packages"), k, p) {
			const char *name = json_string_value(json_object_get(p, "name"));
			const char *ver = json_string_value(json_object_get(p, "version"));
			const char *src = json_string_value(json_object_get(p, "source"));
			const char *kind = json_string_value(json_object_get(p, "kind"));
			/* build-time dependencies (build scripts, proc macros) are not in the binary */
			if (name && ver && *name && *ver && src && !strcmp(src, "crates.io") &&
			    (!kind || !strcmp(kind, "runtime")))
				scan_add_pkg(r, "cargo", name, ver, path);
		}
		json_decref(doc);
		buf_free(&js);
		return;
	}
#undef SH_OFF
#undef SH_SIZE
}

void cat_auditable_parse_file(const char *data, size_t len, const char *path,
			      struct scan_result *r)
{
	uint64_t start, end;
	if (len < AUDITABLE_EHDR || !auditable_tail_range(data, len, len, &start, &end))
		return;
	cat_auditable_parse((const unsigned char *)data, (const unsigned char *)data + start,
			    (size_t)(end - start), start, path, r);
}
