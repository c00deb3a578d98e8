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

static void buf_grow(struct vg_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
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

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
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
		} else if (c < 0x80) {
			buf_addc(b, c);
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

void jw_str(struct vg_json *j, const char *key, const char *s)
{
	if (!s) {
		jw_null(j, key);
		return;
	}
	jw_strn(j, key, s, strlen(s));
}

void jw_int(struct vg_json *j, const char *key, int64_t v)
{
	jw_key(j, key);
	buf_printf(j->b, "%lld", (long long)v);
}

void jw_uint(struct vg_json *j, const char *key, uint64_t v)
{
	jw_key(j, key);
	buf_printf(j->b, "%llu", (unsigned long long)v);
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
