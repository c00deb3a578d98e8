/* SPDX-License-Identifier: Apache-2.0 */
/*
 * String operations of the condition evaluator, kept apart so they can be
 * tested on their own: an exact-match string set for `in` over long lists,
 * a case-insensitive substring search for `icontains`, and pmatch prefixes
 * with globs compiled into components.
 *
 * Strings are (pointer, length): they may hold NUL bytes and need not be
 * NUL-terminated. Case folding is ASCII, as strncasecmp in the C locale
 * (Vigil never calls setlocale), which is what Falco's icontains does.
 */
#ifndef VIGIL_ENGINE_STROPS_H
#define VIGIL_ENGINE_STROPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A hash of s[0..n) for probe tables (not for anything an attacker must not collide). */
uint64_t strops_hash(const char *s, size_t n);

/* Open-addressing hash set of byte strings; it points at the strings, never copies them. */
struct strset {
	size_t cap; /* a power of two, at least twice the count; 0 when empty */
	struct strset_slot {
		const char *s;
		size_t len;
	} *slots;
};

/* Build the set of n strings (duplicates are stored once). */
void strset_build(struct strset *set, const char *const *s, const size_t *len, size_t n);
bool strset_has(const struct strset *set, const char *s, size_t len);
void strset_free(struct strset *set);

/* Whether needle occurs in hay (memmem's answer; an empty needle occurs in everything). */
bool strops_contains(const char *hay, size_t n, const char *needle, size_t m);

struct strops_needle {
	const char *s;
	size_t len;
};
/*
 * Which of the k needles (at most 64) occur in hay: bit j for nd[j], each as
 * strops_contains answers it. A short value is read once for all of them.
 */
uint64_t strops_contains_set(const char *hay, size_t n, const struct strops_needle *nd, size_t k);

/* Lower-case s[0..n) in place (ASCII only). */
void strops_lower(char *s, size_t n);
/*
 * Whether needle (already lower-case, see strops_lower) occurs in hay with
 * ASCII case ignored. An empty needle occurs in everything.
 */
bool strops_icontains(const char *hay, size_t n, const char *lneedle, size_t m);

/*
 * A pmatch prefix holding globs (a component such as "*" or "key_?"),
 * split into its components once: the path's leading components must match them one by one (fnmatch
 * without flags for a component with * ? or [, exact otherwise); repeated
 * slashes are ignored on both sides; a path component of 256 bytes or more
 * never matches, nor does a pattern with such a component.
 */
struct pathpat {
	size_t n;
	struct pathpat_comp {
		char *s; /* NUL-terminated */
		size_t len;
		bool glob;
	} *comp;
	bool never;
};

void pathpat_compile(struct pathpat *p, const char *prefix);
bool pathpat_match(const struct pathpat *p, const char *path, size_t len);
void pathpat_free(struct pathpat *p);

/*
 * The values of one pmatch: true when any matches the path. A value without
 * glob characters is a byte prefix ending at a component boundary (trailing
 * slashes of the value ignored; "/" matches every absolute path); a value
 * with globs is a pathpat. When every value starts with a literal component
 * (etc, home, root...), the path's first component is looked up in a set of
 * those first: most paths match none and cost one hash lookup instead of a
 * comparison per value.
 */
struct pmlist {
	size_t n;
	struct pmlist_item {
		const char *s; /* the value (the caller's string, kept alive by it) */
		size_t len;    /* without trailing slashes (at least 1 unless the value is empty) */
		bool glob;
		struct pathpat pat;
	} *item;
	struct strset first; /* first components, or empty when some value has none literal */
	bool prefilter;
};

void pmlist_build(struct pmlist *l, const char *const *values, size_t n);
/* One value without globs against a path (as in a pmlist; for val(field) on the right). */
bool strops_pmatch_prefix(const char *path, size_t len, const char *value, size_t vlen);
bool pmlist_match(const struct pmlist *l, const char *path, size_t len);
/*
 * The path's first component as the prefilter reads it (after leading
 * slashes, up to the next slash or NUL): with l->prefilter, a path matches
 * only if this is in l->first.
 */
const char *pmlist_first_key(const char *path, size_t len, size_t *n);
void pmlist_free(struct pmlist *l);

#endif
