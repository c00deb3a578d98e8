/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>
#include "scan/catalogers/cat_elf.h"

uint64_t cat_elf_word(const void *p, int size, bool be)
{
	const unsigned char *b = p;
	uint64_t v = 0;
	for (int i = 0; i < size; i++)
		v |= (uint64_t)b[be ? size - 1 - i : i] << (8 * i);
	return v;
}

bool cat_elf_header(const void *hdr, size_t n, struct cat_elf *e)
{
	const unsigned char *h = hdr;

	if (n < 64 || memcmp(h, "\177ELF", 4) || (h[4] != 1 && h[4] != 2) || (h[5] != 1 && h[5] != 2))
		return false;
	e->is64 = h[4] == 2;
	e->be = h[5] == 2;
	e->addr = e->is64 ? 8 : 4;
	e->phoff = cat_elf_word(h + (e->is64 ? 32 : 28), e->addr, e->be);
	e->shoff = cat_elf_word(h + (e->is64 ? 40 : 32), e->addr, e->be);
	e->phentsize = cat_elf_word(h + (e->is64 ? 54 : 42), 2, e->be);
	e->phnum = cat_elf_word(h + (e->is64 ? 56 : 44), 2, e->be);
	e->shentsize = cat_elf_word(h + (e->is64 ? 58 : 46), 2, e->be);
	e->shnum = cat_elf_word(h + (e->is64 ? 60 : 48), 2, e->be);
	e->shstrndx = cat_elf_word(h + (e->is64 ? 62 : 50), 2, e->be);
	return true;
}

bool cat_elf_phdrs_sane(const struct cat_elf *e)
{
	return e->phentsize >= (uint64_t)(e->is64 ? 56 : 32) && e->phnum <= 256;
}

const unsigned char *cat_elf_phdr(const void *h, size_t n, const struct cat_elf *e, uint64_t i)
{
	uint64_t off = e->phoff + i * e->phentsize;

	if (off > n || n - off < e->phentsize)
		return NULL;
	return (const unsigned char *)h + off;
}
