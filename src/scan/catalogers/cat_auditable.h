/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cargo-auditable dependency lists in Rust ELF binaries: a section named
 * ".dep-v0", not loaded (sh_flags 0), holding zlib-compressed JSON:
 *   {"packages": [{"name": "serde", "version": "1.0.130", "source": "crates.io",
 *                  "kind": "runtime", "dependencies": [1], "root": false}, ...]}
 * Non-loaded sections lie after the loaded segments and before the section
 * header table, at the end of the file. A streaming reader cannot know where
 * the section is before the table has passed, so it holds that tail: from
 * the end of the last PT_LOAD segment to the end of the section header table
 * (when that is at most AUDITABLE_TAIL_MAX bytes), then looks the section up.
 */
#ifndef VIGIL_SCAN_CAT_AUDITABLE_H
#define VIGIL_SCAN_CAT_AUDITABLE_H

#include <stdbool.h>
#include <stdint.h>
#include "scan/scan.h"

#define AUDITABLE_TAIL_MAX (16u << 20)
#define AUDITABLE_EHDR 64 /* bytes of the ELF header the parser needs */

/*
 * The file range [*start, *end) to hold, from an ELF file's first n bytes
 * (its header and program headers) and its size. false when the file is not
 * an ELF file, has no section header table after its segments, or the range
 * exceeds AUDITABLE_TAIL_MAX.
 */
bool auditable_tail_range(const void *hdr, size_t n, uint64_t size, uint64_t *start,
			  uint64_t *end);

/*
 * Find .dep-v0 through the section header table in tail (the file's bytes
 * from offset start on) and add its crates.io packages (kind "runtime" or
 * unset) to r as cargo packages. ehdr: the first AUDITABLE_EHDR bytes. A
 * section that does not inflate or parse is a warning naming path; can't fail.
 */
void cat_auditable_parse(const unsigned char *ehdr, const unsigned char *tail, size_t tlen,
			 uint64_t start, const char *path, struct scan_result *r);
/* The same over a whole file in memory (tests, fuzzing). */
void cat_auditable_parse_file(const char *data, size_t len, const char *path,
			      struct scan_result *r);

#endif
