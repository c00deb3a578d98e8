/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/buf.h"

static void oom(void)
{
	fputs("vigil: out of memory\n", stderr);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *xgrow(void *p, size_t n, size_t size)
{
	if (n & (n - 1))
		return p;
	return xrealloc(p, (n ? 2 * n : 1) * size);
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

static void buf_realloc(struct vg_buf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

/* Room for `extra` more bytes and the NUL; the check inline, as JSON output appends bytes by the thousand */
static inline void buf_grow(struct vg_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	if (need > b->cap)
		buf_realloc(b, need);
}

void buf_reset(struct vg_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = 0;
}

void buf_free(struct vg_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void buf_add(struct vg_buf *b, const void *p, size_t n)
{
	buf_grow(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
}

void buf_addc(struct vg_buf *b, char c)
{
	buf_grow(b, 1);
	b->data[b->len++] = c;
	b->data[b->len] = 0;
}

void buf_adds(struct vg_buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void buf_printf(struct vg_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	/* one pass when it fits in the room there is, a second after growing when not */
	va_start(ap, fmt);
	n = vsnprintf(b->data ? b->data + b->len : NULL, b->data ? b->cap - b->len : 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		if (b->data)
			b->data[b->len] = 0;
		return;
	}
	if (b->data && (size_t)n < b->cap - b->len) {
		b->len += n;
		return;
	}
	buf_grow(b, n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, n + 1, fmt, ap);
	va_end(ap);
	b->len += n;
}

void jw_init(struct vg_json *j, struct vg_buf *b)
{
	j->b = b;
	j->depth = 0;
	j->need_comma = 0;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned int cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static void jw_escape(struct vg_buf *b, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	buf_addc(b, '"');
	while (i < n) {
		/* a run of characters that stand for themselves, in one copy: byte by
		 * byte, escaping was most of the time `vigil replay --json` took */
		size_t run = i;
		while (run < n && s[run] >= 0x20 && s[run] < 0x7f && s[run] != '"' && s[run] != '\\')
			run++;
		if (run > i) {
			buf_add(b, s + i, run - i);
			i = run;
			continue;
		}
		unsigned char c = s[i];
		if (c == '"' || c == '\\') {
			buf_addc(b, '\\');
			buf_addc(b, c);
			i++;
		} else if (c == '\n') {
			buf_adds(b, "\\n");
			i++;
		} else if (c == '\t') {
			buf_adds(b, "\\t");
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			buf_printf(b, "\\u%04x", c);
			i++;
		} else {
			size_t l = utf8_len(s + i, n - i);
			if (l) {
				buf_add(b, s + i, l);
				i += l;
			} else {
				buf_printf(b, "\\u%04x", c); /* a raw byte, shown as its Latin-1 code point */
				i++;
			}
		}
	}
	buf_addc(b, '"');
}

static void jw_key(struct vg_json *j, const char *key)
{
	uint64_t bit = 1ULL << (j->depth & 63);
	if (j->need_comma & bit)
		buf_addc(j->b, ',');
	j->need_comma |= bit;
	if (key) {
		jw_escape(j->b, key, strlen(key));
		buf_addc(j->b, ':');
	}
}

static void jw_open(struct vg_json *j, const char *key, char c)
{
	jw_key(j, key);
	buf_addc(j->b, c);
	j->depth++;
	j->need_comma &= ~(1ULL << (j->depth & 63));
}

static void jw_close(struct vg_json *j, char c)
{
	buf_addc(j->b, c);
	j->depth--;
}

void jw_obj_begin(struct vg_json *j, const char *key) { jw_open(j, key, '{'); }
void jw_obj_end(struct vg_json *j) { jw_close(j, '}'); }
void jw_arr_begin(struct vg_json *j, const char *key) { jw_open(j, key, '['); }
void jw_arr_end(struct vg_json *j) { jw_close(j, ']'); }

void jw_strn(struct vg_json *j, const char *key, const char *s, size_t n)
{
	jw_key(j, key);
	jw_escape(j->b, s, n);
}

void jw_args_line(struct vg_json *j, const char *key, const char *args, size_t n)
{
	char small[1024];
	char *s = n <= sizeof(small) ? small : xmalloc(n);

	if (n)
		memcpy(s, args, n);
	for (char *z = s; (z = memchr(z, 0, (size_t)(s + n - z))) != NULL; z++)
		*z = ' ';
	jw_strn(j, key, s, n);
	if (s != small)
		free(s);
}

void jw_str(struct vg_json *j, const char *key, const char *s)
{
	if (!s) {
		jw_null(j, key);
		return;
	}
	jw_strn(j, key, s, strlen(s));
}

/* Decimal digits of v, as %llu writes them (printf's machinery was a tenth of JSON output). */
static void add_u64(struct vg_buf *b, uint64_t v, bool minus)
{
	char d[24];
	size_t i = sizeof(d);
	do
		d[--i] = (char)('0' + v % 10);
	while ((v /= 10));
	if (minus)
		d[--i] = '-';
	buf_add(b, d + i, sizeof(d) - i);
}

void jw_int(struct vg_json *j, const char *key, int64_t v)
{
	jw_key(j, key);
	add_u64(j->b, v < 0 ? -(uint64_t)v : (uint64_t)v, v < 0);
}

void jw_uint(struct vg_json *j, const char *key, uint64_t v)
{
	jw_key(j, key);
	add_u64(j->b, v, false);
}

void jw_bool(struct vg_json *j, const char *key, bool v)
{
	jw_key(j, key);
	buf_adds(j->b, v ? "true" : "false");
}

void jw_null(struct vg_json *j, const char *key)
{
	jw_key(j, key);
	buf_adds(j->b, "null");
}

void jw_raw(struct vg_json *j, const char *key, const char *raw)
{
	jw_key(j, key);
	buf_adds(j->b, raw);
}
