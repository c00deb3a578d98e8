/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A growable byte buffer and a JSON writer on top of it. Allocation failure
 * aborts the program (the agent cannot do anything useful without memory, and
 * checking every append would bury the logic); sizes are bounded by callers.
 */
#ifndef VIGIL_BUF_H
#define VIGIL_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

struct vg_buf {
	char *data; /* always NUL-terminated when len > 0 */
	size_t len, cap;
};

void buf_reset(struct vg_buf *b);            /* len = 0, keeps memory */
void buf_free(struct vg_buf *b);
void buf_add(struct vg_buf *b, const void *p, size_t n);
void buf_addc(struct vg_buf *b, char c);
void buf_adds(struct vg_buf *b, const char *s);
void buf_printf(struct vg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/*
 * The array p of n elements of `size` bytes, with room for one more: arrays
 * appended to one element at a time grow by doubling, and their capacity
 * follows from n (full when n is 0 or a power of two), so no field holds it.
 * Only for arrays that never shrink and are only grown by this function.
 */
void *xgrow(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/*
 * JSON writer. Keys and string values are escaped (control characters,
 * quotes, invalid UTF-8 bytes as \u00XX of the byte, so output is always valid
 * JSON). The caller brackets objects and arrays; commas are automatic.
 */
struct vg_json {
	struct vg_buf *b;
	int depth;
	uint64_t need_comma; /* bit per depth */
};

void jw_init(struct vg_json *j, struct vg_buf *b);
void jw_obj_begin(struct vg_json *j, const char *key); /* key NULL inside an array / at top */
void jw_obj_end(struct vg_json *j);
void jw_arr_begin(struct vg_json *j, const char *key);
void jw_arr_end(struct vg_json *j);
void jw_str(struct vg_json *j, const char *key, const char *s);
void jw_strn(struct vg_json *j, const char *key, const char *s, size_t n);
/* NUL-separated arguments (argv as the kernel keeps it) as one string, each NUL a space. */
void jw_args_line(struct vg_json *j, const char *key, const char *args, size_t n);
void jw_int(struct vg_json *j, const char *key, int64_t v);
void jw_uint(struct vg_json *j, const char *key, uint64_t v);
void jw_bool(struct vg_json *j, const char *key, bool v);
void jw_null(struct vg_json *j, const char *key);
void jw_raw(struct vg_json *j, const char *key, const char *raw); /* already valid JSON */

#endif
