/* SPDX-License-Identifier: Apache-2.0 */
/*
 * String set and case-insensitive search for the condition evaluator.
 */
#include <fnmatch.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "common/buf.h"
#include "engine/strops.h"

static inline uint64_t hash_mix(uint64_t h, uint64_t w)
{
	h = (h ^ w) * 0xff51afd7ed558ccdull;
	return h ^ (h >> 29);
}

uint64_t strops_hash(const char *s, size_t n)
{
	/* eight bytes per step; of a string longer than 32 bytes only the first and
	 * last 16 and the length (a lookup compares the whole string anyway, and
	 * the tables hold a rule set's literals: a bounded cost per lookup matters
	 * more than spreading long paths that share both ends). The last step reads
	 * the last eight bytes, overlapping the one before; shorter strings are read
	 * in two overlapping halves (no copy of a variable length) */
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n, w;
	uint32_t a, b;
	if (n > 32) {
		for (int k = 0; k < 2; k++) {
			memcpy(&w, s + 8 * k, 8);
			h = hash_mix(h, w);
			memcpy(&w, s + n - 16 + 8 * k, 8);
			h = hash_mix(h, w);
		}
	} else if (n >= 8) {
		for (size_t i = 0; i + 8 < n; i += 8) {
			memcpy(&w, s + i, 8);
			h = hash_mix(h, w);
		}
		memcpy(&w, s + n - 8, 8);
		h = hash_mix(h, w);
	} else if (n >= 4) {
		memcpy(&a, s, 4);
		memcpy(&b, s + n - 4, 4);
		h = hash_mix(h, (uint64_t)a << 32 | b);
	} else if (n) {
		h = hash_mix(h, (uint64_t)(uint8_t)s[0] << 16 | (uint64_t)(uint8_t)s[n / 2] << 8 | (uint8_t)s[n - 1]);
	}
	h ^= h >> 32;
	h *= 0xff51afd7ed558ccdull;
	return h ^ (h >> 29);
}

void strset_build(struct strset *set, const char *const *s, const size_t *len, size_t n)
{
	set->cap = 16;
	while (set->cap < n * 2)
		set->cap <<= 1;
	set->slots = xcalloc(set->cap, sizeof(*set->slots));
	for (size_t i = 0; i < n; i++) {
		size_t k = strops_hash(s[i], len[i]) & (set->cap - 1);
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
	size_t k = strops_hash(s, len) & (set->cap - 1);
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

/* Whether needle occurs at a position from i to n-m, eight positions at a time. 1 <= m <= n. */
static bool contains_from(const char *hay, size_t n, const char *needle, size_t m, size_t i)
{
	/* a match needs the needle's first byte at the position and its last byte
	 * m-1 further (a path has many '/' or 'i', few places where both fit) */
	const uint64_t ones = 0x0101010101010101ull, high = ones * 0x80;
	const uint64_t first = ones * (uint8_t)needle[0], last = ones * (uint8_t)needle[m - 1];
	size_t end = n - m + 1; /* candidate positions: 0 .. end-1 */
	for (; i + 8 <= end; i += 8) {
		uint64_t a, b;
		memcpy(&a, hay + i, 8);
		memcpy(&b, hay + i + m - 1, 8);
		a ^= first;
		b ^= last;
		/* a bit per byte that may be zero in both (no byte that is zero is missed) */
		uint64_t z = (a - ones) & ~a & (b - ones) & ~b & high;
		for (; z; z &= z - 1) {
			size_t k = i + (size_t)__builtin_ctzll(z) / 8;
			if (!memcmp(hay + k, needle, m))
				return true;
		}
	}
	for (; i < end; i++)
		if (hay[i] == needle[0] && !memcmp(hay + i, needle, m))
			return true;
	return false;
}

#ifdef __SSE2__
/*
 * Sixteen positions from i (window a = h[i..i+16)) where a match of needle
 * (first byte f, last l) may start and has been checked: whether one does.
 * Reads h up to i+m+14; only positions below end count.
 */
static inline bool window_has(const char *h, size_t i, size_t end, __m128i a, __m128i f, __m128i l,
			      const char *needle, size_t m)
{
	__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(h + i + m - 1));
	unsigned int z = (unsigned int)_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a, f), _mm_cmpeq_epi8(b, l)));
	if (end - i < 16)
		z &= (1u << (end - i)) - 1;
	for (; z; z &= z - 1)
		if (!memcmp(h + i + (size_t)__builtin_ctz(z), needle, m))
			return true;
	return false;
}

#define PAD_MAX 256 /* values strops_contains_set copies to search them all in one pass */

/*
 * The candidate positions (first and last bytes in place) that may turn out
 * not to be matches before a search hands over to a linear one: a value
 * built to hold thousands of near matches (a command line is the
 * attacker's) costs a bounded number of compares, not one per position.
 */
#define VERIFY_BUDGET 32

/*
 * needle (2 <= m, m + 15 <= n) in a value of any length, sixteen positions
 * at a time; the last window overlaps the one before. memmem finishes past
 * VERIFY_BUDGET false candidates.
 */
static bool contains_windows(const char *hay, size_t n, const char *needle, size_t m)
{
	size_t end = n - m + 1;
	int budget = VERIFY_BUDGET;
	const __m128i f = _mm_set1_epi8(needle[0]), l = _mm_set1_epi8(needle[m - 1]);
	for (size_t i = 0;; i = i + 32 <= end ? i + 16 : end - 16) {
		__m128i a = _mm_loadu_si128((const __m128i *)(const void *)(hay + i));
		__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(hay + i + m - 1));
		unsigned int z =
			(unsigned int)_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a, f), _mm_cmpeq_epi8(b, l)));
		for (; z; z &= z - 1) {
			size_t k = i + (size_t)__builtin_ctz(z);
			if (!memcmp(hay + k, needle, m))
				return true;
			if (--budget == 0)
				return memmem(hay + k + 1, n - k - 1, needle, m) != NULL;
		}
		if (i + 16 >= end)
			return false;
	}
}
#endif

bool strops_contains(const char *hay, size_t n, const char *needle, size_t m)
{
	/* memmem sets up a two-way search per call, which dominated for the short
	 * values and needles of rules (fd.name contains /.ssh/, flags contains
	 * O_TRUNC), and reads long ones (command lines) byte by byte; positions
	 * holding both the needle's first and last bytes are found sixteen at a
	 * time where the CPU has SSE2 (every x86-64), then compared */
	if (!m)
		return true;
	if (m > n)
		return false;
	if (m == 1)
		return memchr(hay, needle[0], n) != NULL;
#ifdef __SSE2__
	if (n - m + 1 >= 16)
		return contains_windows(hay, n, needle, m);
#else
	if (n > 256)
		return memmem(hay, n, needle, m) != NULL;
#endif
	return contains_from(hay, n, needle, m, 0);
}

uint64_t strops_contains_set(const char *hay, size_t n, const struct strops_needle *nd, size_t k)
{
	uint64_t found = 0, left = 0;
	if (k > 64)
		k = 64;
	for (size_t j = 0; j < k; j++) {
		if (!nd[j].len)
			found |= 1ull << j;
		else if (nd[j].len <= n)
			left |= 1ull << j;
	}
#ifdef __SSE2__
	if (n <= PAD_MAX && left) {
		/* one pass for all: the value, copied with zeros after it (windows read
		 * up to 15 bytes past a needle's last position), is loaded sixteen
		 * bytes at a time and each window tried with every needle that can
		 * still start there */
		char h[PAD_MAX + 32];
		memcpy(h, hay, n);
		memset(h + n, 0, 32);
		__m128i f[64], l[64];
		size_t end[64], longest = 0;
		for (uint64_t b = left; b; b &= b - 1) {
			size_t j = (size_t)__builtin_ctzll(b);
			f[j] = _mm_set1_epi8(nd[j].s[0]);
			l[j] = _mm_set1_epi8(nd[j].s[nd[j].len - 1]);
			end[j] = n - nd[j].len + 1;
			longest = end[j] > longest ? end[j] : longest;
		}
		for (size_t i = 0; i < longest && left; i += 16) {
			__m128i a = _mm_loadu_si128((const __m128i *)(const void *)(h + i));
			for (uint64_t b = left; b; b &= b - 1) {
				size_t j = (size_t)__builtin_ctzll(b);
				if (i < end[j] && window_has(h, i, end[j], a, f[j], l[j], nd[j].s, nd[j].len)) {
					found |= 1ull << j;
					left &= ~(1ull << j);
				}
			}
		}
		return found;
	}
#endif
	for (uint64_t b = left; b; b &= b - 1) {
		size_t j = (size_t)__builtin_ctzll(b);
		found |= (uint64_t)strops_contains(hay, n, nd[j].s, nd[j].len) << j;
	}
	return found;
}

static inline unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* Whether h starts with the m bytes of lower-case q, ASCII case ignored (h[0] already checked). */
static inline bool icontains_at(const unsigned char *h, const unsigned char *q, size_t m)
{
	size_t j = 1;
	while (j < m && lower(h[j]) == q[j])
		j++;
	return j == m;
}

void strops_lower(char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		s[i] = (char)lower((unsigned char)s[i]);
}

/* strops_icontains without SIMD: a candidate needs its first byte to match. 1 <= m <= n. */
static bool icontains_scalar(const unsigned char *h, size_t n, const unsigned char *q, size_t m)
{
	size_t end = n - m + 1; /* candidate positions: 0 .. end-1 */
	size_t i = 0;
	if (q[0] >= 'a' && q[0] <= 'z') {
		/* eight positions at a time: a byte can start a match only if it is q[0] or
		 * its capital, and both are q[0] with bit 5 set (more bytes pass; they are checked) */
		const uint64_t ones = 0x0101010101010101ull, pat = ones * q[0];
		for (; i + 8 <= end; i += 8) {
			uint64_t w;
			memcpy(&w, h + i, 8);
			uint64_t x = (w | ones * 0x20) ^ pat;
			if (!((x - ones) & ~x & ones * 0x80))
				continue;
			for (size_t k = i; k < i + 8; k++)
				if (lower(h[k]) == q[0] && icontains_at(h + k, q, m))
					return true;
		}
	} else {
		/* not a letter: only the byte itself starts a match */
		while (i < end) {
			const unsigned char *at = memchr(h + i, q[0], end - i);
			if (!at)
				return false;
			if (icontains_at(at, q, m))
				return true;
			i = (size_t)(at - h) + 1;
		}
		return false;
	}
	for (; i < end; i++)
		if (lower(h[i]) == q[0] && icontains_at(h + i, q, m))
			return true;
	return false;
}

#ifdef __SSE2__
/* The rest of a search from position i, linear whatever the input: that part lower-cased, then memmem. */
static bool icontains_linear(const unsigned char *h, size_t n, const unsigned char *q, size_t m, size_t i)
{
	size_t len = n - i;
	char *low = xmalloc(len ? len : 1);
	for (size_t k = 0; k < len; k++)
		low[k] = (char)lower(h[i + k]);
	bool r = memmem(low, len, q, m) != NULL;
	free(low);
	return r;
}
#endif

bool strops_icontains(const char *hay, size_t n, const char *lneedle, size_t m)
{
	/* strncasecmp at every position cost a libc call per byte of a long value
	 * (proc.env of every exec) */
	if (!m)
		return true;
	if (m > n)
		return false;
	const unsigned char *h = (const unsigned char *)hay, *q = (const unsigned char *)lneedle;
#ifdef __SSE2__
	size_t end = n - m + 1;
	if (m >= 2 && end >= 16) {
		/* sixteen positions at a time whose first and last bytes are q's, a
		 * letter in either case (with bit 5 set a capital is its lower case;
		 * other bytes that pass are compared); the last window overlaps */
		unsigned char f0 = q[0], l0 = q[m - 1];
		const __m128i f = _mm_set1_epi8((char)f0), l = _mm_set1_epi8((char)l0);
		const __m128i fcase = _mm_set1_epi8(f0 >= 'a' && f0 <= 'z' ? 0x20 : 0);
		const __m128i lcase = _mm_set1_epi8(l0 >= 'a' && l0 <= 'z' ? 0x20 : 0);
		int budget = VERIFY_BUDGET;
		for (size_t i = 0;; i = i + 32 <= end ? i + 16 : end - 16) {
			__m128i a = _mm_or_si128(_mm_loadu_si128((const __m128i *)(const void *)(h + i)), fcase);
			__m128i b = _mm_or_si128(_mm_loadu_si128((const __m128i *)(const void *)(h + i + m - 1)), lcase);
			unsigned int z = (unsigned int)_mm_movemask_epi8(
				_mm_and_si128(_mm_cmpeq_epi8(a, f), _mm_cmpeq_epi8(b, l)));
			for (; z; z &= z - 1) {
				size_t k = i + (size_t)__builtin_ctz(z);
				if (icontains_at(h + k, q, m))
					return true;
				if (--budget == 0)
					return icontains_linear(h, n, q, m, k + 1);
			}
			if (i + 16 >= end)
				return false;
		}
	}
#endif
	return icontains_scalar(h, n, q, m);
}

#define PATHPAT_COMP_MAX 256 /* components this long never match (the evaluator's buffer size) */

void pathpat_compile(struct pathpat *p, const char *prefix)
{
	memset(p, 0, sizeof(*p));
	for (const char *q = prefix; *q;) {
		while (*q == '/')
			q++;
		if (!*q)
			break;
		const char *e = strchr(q, '/');
		size_t n = e ? (size_t)(e - q) : strlen(q);
		if (n >= PATHPAT_COMP_MAX)
			p->never = true;
		p->comp = xrealloc(p->comp, (p->n + 1) * sizeof(*p->comp));
		struct pathpat_comp *c = &p->comp[p->n++];
		c->s = xstrndup(q, n);
		c->len = n;
		c->glob = strpbrk(c->s, "*?[") != NULL;
		q += n;
	}
}

bool pathpat_match(const struct pathpat *p, const char *path, size_t len)
{
	/* splitting the pattern and looking for glob characters once, at compile
	 * time, instead of for every path (strpbrk/strchr per component per event) */
	const char *s = path, *end = path + len;
	if (p->never)
		return false;
	for (size_t k = 0; k < p->n; k++) {
		const struct pathpat_comp *c = &p->comp[k];
		while (s < end && *s == '/')
			s++;
		const char *e = memchr(s, '/', (size_t)(end - s));
		size_t n = e ? (size_t)(e - s) : (size_t)(end - s);
		if (!n || n >= PATHPAT_COMP_MAX)
			return false;
		if (c->glob) {
			char comp[PATHPAT_COMP_MAX];
			memcpy(comp, s, n);
			comp[n] = 0;
			if (fnmatch(c->s, comp, 0) != 0)
				return false;
		} else if (strnlen(s, n) != c->len || memcmp(s, c->s, c->len)) {
			return false; /* compared as C strings: a NUL ends the path's component */
		}
		s += n;
	}
	return true;
}

void pathpat_free(struct pathpat *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->comp[i].s);
	free(p->comp);
	memset(p, 0, sizeof(*p));
}

/* path starts with s[0..pl) (slashes trimmed) at a component boundary. */
static bool prefix_at_boundary(const char *path, size_t len, const char *s, size_t pl)
{
	return len >= pl && !memcmp(path, s, pl) && (len == pl || path[pl] == '/' || (pl && s[pl - 1] == '/'));
}

bool strops_pmatch_prefix(const char *path, size_t len, const char *value, size_t vlen)
{
	while (vlen > 1 && value[vlen - 1] == '/')
		vlen--;
	return prefix_at_boundary(path, len, value, vlen);
}

/* The first component of s (after leading slashes): where it starts and its length. */
static const char *first_component(const char *s, size_t len, size_t *n)
{
	const char *end = s + len;
	while (s < end && *s == '/')
		s++;
	const char *e = memchr(s, '/', (size_t)(end - s));
	*n = e ? (size_t)(e - s) : (size_t)(end - s);
	return s;
}

void pmlist_build(struct pmlist *l, const char *const *values, size_t n)
{
	memset(l, 0, sizeof(*l));
	l->n = n;
	l->item = xcalloc(n ? n : 1, sizeof(*l->item));
	const char **firsts = xmalloc((n ? n : 1) * sizeof(*firsts));
	size_t *flen = xmalloc((n ? n : 1) * sizeof(*flen));
	l->prefilter = n > 0;
	for (size_t i = 0; i < n; i++) {
		struct pmlist_item *it = &l->item[i];
		it->s = values[i];
		it->len = strlen(values[i]);
		it->glob = strpbrk(values[i], "*?[") != NULL;
		if (it->glob) {
			pathpat_compile(&it->pat, values[i]);
			/* a glob value's first component is its pattern's, if literal */
			if (!it->pat.n || it->pat.comp[0].glob) {
				l->prefilter = false;
			} else {
				firsts[i] = it->pat.comp[0].s;
				flen[i] = it->pat.comp[0].len;
			}
			continue;
		}
		while (it->len > 1 && it->s[it->len - 1] == '/')
			it->len--;
		firsts[i] = first_component(it->s, it->len, &flen[i]);
		if (!flen[i])
			l->prefilter = false; /* "/" or "": matches paths of any first component */
	}
	if (l->prefilter)
		strset_build(&l->first, firsts, flen, n);
	free(firsts);
	free(flen);
}

const char *pmlist_first_key(const char *path, size_t len, size_t *n)
{
	const char *c = first_component(path, len, n);
	*n = strnlen(c, *n);
	return c;
}

bool pmlist_match(const struct pmlist *l, const char *path, size_t len)
{
	if (l->prefilter) {
		/* a match needs the path's first component (read as a C string, as the
		 * component comparisons do) to be some value's first component */
		size_t n;
		const char *c = pmlist_first_key(path, len, &n);
		if (!strset_has(&l->first, c, n))
			return false;
	}
	for (size_t i = 0; i < l->n; i++) {
		const struct pmlist_item *it = &l->item[i];
		if (it->glob) {
			if (pathpat_match(&it->pat, path, len))
				return true;
			continue;
		}
		if (prefix_at_boundary(path, len, it->s, it->len))
			return true;
	}
	return false;
}

void pmlist_free(struct pmlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->item[i].glob)
			pathpat_free(&l->item[i].pat);
	free(l->item);
	strset_free(&l->first);
	memset(l, 0, sizeof(*l));
}
