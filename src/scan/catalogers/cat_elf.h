/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ELF header and program headers, read from untrusted bytes, for the
 * catalogers that look into binaries (Go build info, cargo-auditable). A
 * leaf: it knows no cataloger. Nothing here reads outside [h, h+n).
 */
#ifndef VIGIL_SCAN_CAT_ELF_H
#define VIGIL_SCAN_CAT_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cat_elf {
	bool is64, be;
	int addr; /* bytes of an address or offset: 8 or 4 */
	uint64_t phoff, phentsize, phnum, shoff, shentsize, shnum, shstrndx;
};

/* An unsigned integer of size bytes at p, big- or little-endian. Can't fail. */
uint64_t cat_elf_word(const void *p, int size, bool be);
/*
 * Reads the ELF header from the first n bytes of h into e; false for anything
 * that is not a 32- or 64-bit ELF of either byte order, or n < 64.
 */
bool cat_elf_header(const void *h, size_t n, struct cat_elf *e);
/* Whether the program header table has entries of a sane size, and at most 256. */
bool cat_elf_phdrs_sane(const struct cat_elf *e);
/* Program header i if it lies within the first n bytes of h, else NULL. */
const unsigned char *cat_elf_phdr(const void *h, size_t n, const struct cat_elf *e, uint64_t i);

#endif
