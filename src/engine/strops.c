/* SPDX-License-Identifier: Apache-2.0 */
/*
 * String set and case-insensitive search for the condition evaluator.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "common/buf.h"
#include "engine/strops.h"

/* FNV-1a: short strings (names, paths), no allocation, good enough spread for a probe table. */
static uint64_t hash_bytes(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
	return h;
}

void strset_build(struct strset *set, const char *const *s, const size_t *len, size_t n)
{
	set->cap = 16;
	while (set->cap < n * 2)
		set->cap <<= 1;
	set->slots = xcalloc(set->cap, sizeof(*set->slots));
	for (size_t i = 0; i < n; i++) {
		size_t k = hash_bytes(s[i], len[i]) & (set->cap - 1);
		while (set->slots[k].s) {
			if (set->slots[k].len == len[i] && !memcmp(set->slots[k].s, s[i], len[i]))
				break;
			k = (k + 1) & (set->cap - 1);
		}
		set->slots[k].s = s[i];
		set->slots[k].len = len[i];
	}
}

bool strset_has(const struct strset *set, const char *s, size_t len)
{
	if (!set->cap)
		return false;
	size_t k = hash_bytes(s, len) & (set->cap - 1);
	/* the table is at most half full, so a probe always reaches an empty slot */
	while (set->slots[k].s) {
		if (set->slots[k].len == len && !memcmp(set->slots[k].s, s, len))
			return true;
		k = (k + 1) & (set->cap - 1);
	}
	return false;
}

void strset_free(struct strset *set)
{
	free(set->slots);
	set->slots = NULL;
	set->cap = 0;
}

static inline unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

void strops_lower(char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		s[i] = (char)lower((unsigned char)s[i]);
}

bool strops_icontains(const char *hay, size_t n, const char *lneedle, size_t m)
{
	/* strncasecmp at every position cost a libc call per byte of a long value
	 * (proc.env of every exec); here a candidate needs its first byte to match */
	if (!m)
		return true;
	if (m > n)
		return false;
	const unsigned char *h = (const unsigned char *)hay, *q = (const unsigned char *)lneedle;
	for (size_t i = 0; i + m <= n; i++) {
		if (lower(h[i]) != q[0])
			continue;
		size_t j = 1;
		while (j < m && lower(h[i + j]) == q[j])
			j++;
		if (j == m)
			return true;
	}
	return false;
}
