/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Go build information in ELF binaries, found while the file streams by.
 * Since Go 1.18 the linker writes a 32-byte header starting with the magic
 * "\xff Go buildinf:", then pointer size and flags; with flag 2 set the Go
 * version and the module information follow inline as uvarint-prefixed
 * strings. Module information lines are "path", "mod", "dep" and "=>"
 * (replacement of the previous dep), tab-separated.
 *
 * Before Go 1.18 the header's byte 15 is the byte order (1: big-endian) and
 * two pointers follow at offset 16: the addresses of the runtime.buildVersion
 * and runtime.modinfo string headers ({data pointer, length}, pointer-sized),
 * whose bytes are in the read-only data, earlier in the file. Streaming cannot
 * go back for them, so the walk holds the file of a Go binary (one with a Go
 * build ID note, ELF note "Go" of type 4, in its first bytes) up to the end of
 * its data segments, and cat_go_parse_elf resolves the pointers through the
 * PT_LOAD segments when the streamed search found the old format.
 */
#ifndef VIGIL_SCAN_CAT_GO_H
#define VIGIL_SCAN_CAT_GO_H

#include "scan/scan.h"

struct gobi_scan {
	int state;            /* 0 searching, 1 collecting, 2 done */
	unsigned char tail[16];
	size_t ntail;
	struct vg_buf info;   /* from the magic on */
};

/*
 * Where build info can be in an ELF file: the file ranges of its writable,
 * non-executable PT_LOAD segments (Go's debug/buildinfo looks there), read
 * from the ELF and program headers at the start of the file (hdr, n bytes).
 * Returns the number of ranges (at most max); 0 for anything else.
 */
size_t gobi_elf_ranges(const void *hdr, size_t n, uint64_t *start, uint64_t *end, size_t max);
void gobi_init(struct gobi_scan *g);
void gobi_feed(struct gobi_scan *g, const void *chunk, size_t n);
/* Add the stdlib and module packages found (layer `blob`, entry `seq`). */
void gobi_finish(struct gobi_scan *g, struct scan_result *r, const char *path, size_t blob,
		 uint64_t seq);
void gobi_free(struct gobi_scan *g);
/* Parse a whole buffer (fuzzing, tests). */
void cat_go_parse(const char *data, size_t len, const char *path, struct scan_result *r);
/* Whether an ELF file's first n bytes carry a Go build ID note. */
bool gobi_elf_is_go(const void *hdr, size_t n);
/* Whether the streamed search found a Go 1.18+ (inline) header and read it. */
bool gobi_found(const struct gobi_scan *g);
/*
 * Build info from an ELF file held in memory (the whole file, or a prefix
 * reaching past its data segments), both formats: the header is searched at
 * 16-byte alignment in the writable PT_LOAD segments and pointers are mapped
 * to file offsets through the PT_LOAD segments. Can't fail; finds nothing in
 * anything else.
 */
void cat_go_parse_elf(const char *data, size_t len, const char *path, struct scan_result *r);

#endif
