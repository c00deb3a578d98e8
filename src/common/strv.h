/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A growable list of owned strings: the lists of names and patterns that
 * policies and the kernel filter compiler collect. Zero-initialised is empty.
 */
#ifndef VIGIL_STRV_H
#define VIGIL_STRV_H

#include <stdbool.h>
#include <stddef.h>

struct strv {
	char **v;
	size_t n;
};

/* Append a copy of s. Can't fail (allocation failure aborts, as xmalloc). */
void strv_add(struct strv *s, const char *v);
/* Append v itself: the list takes ownership of the heap string. */
void strv_take(struct strv *s, char *v);
/* Whether some item is exactly v. */
bool strv_has(const struct strv *s, const char *v);
/* Make dst a copy of src; what dst held is not freed (it must be empty). */
void strv_copy(struct strv *dst, const struct strv *src);
/* Free the items and the array; s is empty again. */
void strv_free(struct strv *s);

#endif
