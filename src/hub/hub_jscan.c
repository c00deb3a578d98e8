/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>
#include "hub/hub_jscan.h"

struct scan {
	const unsigned char *p, *end;
	struct hub_jscan_field *f;
	int nf;
	char *buf, *bend;
	const unsigned char *key[HUB_JSCAN_MAX_PATH]; /* the path to the value being read (raw: keys have no escapes) */
	size_t keylen[HUB_JSCAN_MAX_PATH];
};

static void ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

/* The length of the UTF-8 sequence at p, as jansson checks it (no overlong forms, no
 * surrogates, nothing above U+10FFFF), or 0 when it is not one. */
static int utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0], v;
	int n;
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
		v = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		v = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		v = c & 0x07;
	} else
		return 0;
	if (end - p < n)
		return 0;
	for (int i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (p[i] & 0x3F);
	}
	if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF) || (n == 3 && v < 0x800) || (n == 4 && v < 0x10000))
		return 0;
	return n;
}

/* A string at s->p (its '"'): its raw contents [*a, *a + *n), *esc when it holds an escape.
 * -1: malformed, or a \u escape (not decided here). */
static int string(struct scan *s, const unsigned char **a, size_t *n, bool *esc)
{
	const unsigned char *p = s->p + 1;
	*a = p;
	*esc = false;
	while (p < s->end) {
		unsigned c = *p;
		if (c == '"') {
			*n = (size_t)(p - *a);
			s->p = p + 1;
			return 0;
		}
		if (c < 0x20)
			return -1;
		if (c == '\\') {
			if (s->end - p < 2 || !strchr("\"\\/bfnrt", p[1]) || !p[1])
				return -1;
			*esc = true;
			p += 2;
		} else if (c < 0x80)
			p++;
		else {
			int k = utf8_len(p, s->end);
			if (!k)
				return -1;
			p += k;
		}
	}
	return -1;
}

/* Decode a checked string's contents (simple escapes only) into the caller's buffer. */
static const char *decode(struct scan *s, const unsigned char *a, size_t n, size_t *outlen)
{
	if ((size_t)(s->bend - s->buf) < n + 1)
		return NULL;
	char *o = s->buf, *start = o;
	for (size_t i = 0; i < n; i++) {
		if (a[i] != '\\') {
			*o++ = (char)a[i];
			continue;
		}
		switch (a[++i]) {
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		default: *o++ = (char)a[i]; break; /* " \ / */
		}
	}
	*o++ = 0;
	s->buf = o;
	*outlen = (size_t)(o - start - 1);
	return start;
}

/* The wanted field whose path is the current one, depth keys long, or NULL. */
static struct hub_jscan_field *wanted(struct scan *s, int depth)
{
	if (depth < 1 || depth > HUB_JSCAN_MAX_PATH)
		return NULL;
	for (int i = 0; i < s->nf; i++) {
		struct hub_jscan_field *f = &s->f[i];
		int k = 0;
		for (; k < depth && f->path[k]; k++)
			if (strlen(f->path[k]) != s->keylen[k] || memcmp(f->path[k], s->key[k], s->keylen[k]))
				break;
		if (k == depth && !f->path[depth] && f->type == HUB_JT_ABSENT)
			return f;
	}
	return NULL;
}

static int value(struct scan *s, int depth, int nest, bool track);

static int number(struct scan *s, struct hub_jscan_field *f)
{
	const unsigned char *a = s->p, *p = a;
	bool real = false;
	if (p < s->end && *p == '-')
		p++;
	if (p < s->end && *p == '0')
		p++;
	else if (p < s->end && *p >= '1' && *p <= '9')
		while (p < s->end && *p >= '0' && *p <= '9')
			p++;
	else
		return -1;
	if (p < s->end && *p == '.') {
		p++;
		if (p >= s->end || *p < '0' || *p > '9')
			return -1;
		while (p < s->end && *p >= '0' && *p <= '9')
			p++;
		real = true;
	}
	if ((p < s->end && (*p == 'e' || *p == 'E')) || p - a > 15)
		return -1; /* exponents and long numbers: jansson decides (its range checks) */
	s->p = p;
	if (f && real)
		f->type = HUB_JT_OTHER;
	else if (f) {
		int64_t v = 0;
		bool neg = *a == '-';
		for (const unsigned char *q = a + neg; q < p; q++)
			v = v * 10 + (*q - '0');
		f->type = HUB_JT_INTEGER;
		f->integer = neg ? -v : v;
	}
	return 0;
}

static int object(struct scan *s, int depth, int nest, bool track)
{
	const unsigned char *keys[HUB_JSCAN_MAX_KEYS];
	size_t lens[HUB_JSCAN_MAX_KEYS];
	int n = 0;
	s->p++; /* '{' */
	ws(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		return 0;
	}
	for (;;) {
		const unsigned char *k;
		size_t kl;
		bool esc;
		if (s->p >= s->end || *s->p != '"' || string(s, &k, &kl, &esc) || esc || n == HUB_JSCAN_MAX_KEYS)
			return -1;
		for (int i = 0; i < n; i++)
			if (lens[i] == kl && !memcmp(keys[i], k, kl))
				return -1; /* a duplicate key: jansson refuses it */
		keys[n] = k;
		lens[n++] = kl;
		ws(s);
		if (s->p >= s->end || *s->p != ':')
			return -1;
		s->p++;
		bool t = track && depth < HUB_JSCAN_MAX_PATH;
		if (t) {
			s->key[depth] = k;
			s->keylen[depth] = kl;
		}
		if (value(s, depth + 1, nest, t))
			return -1;
		ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			ws(s);
			continue;
		}
		if (s->p < s->end && *s->p == '}') {
			s->p++;
			return 0;
		}
		return -1;
	}
}

static int array(struct scan *s, int nest)
{
	s->p++; /* '[' */
	ws(s);
	if (s->p < s->end && *s->p == ']') {
		s->p++;
		return 0;
	}
	for (;;) {
		if (value(s, 0, nest, false))
			return -1;
		ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		if (s->p < s->end && *s->p == ']') {
			s->p++;
			return 0;
		}
		return -1;
	}
}

static int literal(struct scan *s, const char *lit)
{
	size_t n = strlen(lit);
	if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n))
		return -1;
	s->p += n;
	return 0;
}

/* A value; depth: the keys on the path to it (0 in arrays, where nothing is wanted). */
static int value(struct scan *s, int depth, int nest, bool track)
{
	ws(s);
	if (s->p >= s->end || nest >= HUB_JSCAN_MAX_DEPTH)
		return -1;
	struct hub_jscan_field *f = track ? wanted(s, depth) : NULL;
	switch (*s->p) {
	case '{':
		if (f)
			f->type = HUB_JT_OTHER;
		return object(s, depth, nest + 1, track);
	case '[':
		if (f)
			f->type = HUB_JT_OTHER;
		return array(s, nest + 1);
	case '"': {
		const unsigned char *a;
		size_t n;
		bool esc;
		if (string(s, &a, &n, &esc))
			return -1;
		if (f) {
			f->str = decode(s, a, n, &f->len);
			if (!f->str)
				return -1;
			f->type = HUB_JT_STRING;
		}
		return 0;
	}
	case 't':
	case 'f':
	case 'n':
		if (literal(s, *s->p == 't' ? "true" : *s->p == 'f' ? "false" : "null"))
			return -1;
		if (f)
			f->type = HUB_JT_OTHER;
		return 0;
	default:
		return number(s, f);
	}
}

enum hub_jscan_result hub_jscan(const char *body, size_t len, struct hub_jscan_field *f, int nf, char *buf,
				size_t buflen)
{
	struct scan s = { .p = (const unsigned char *)body, .end = (const unsigned char *)body + len, .f = f,
			  .nf = nf, .buf = buf, .bend = buf + buflen };
	if (!body || nf < 0 || nf > HUB_JSCAN_MAX_FIELDS)
		return HUB_JSCAN_FALLBACK;
	for (int i = 0; i < nf; i++) {
		f[i].type = HUB_JT_ABSENT;
		f[i].str = NULL;
		f[i].len = 0;
		f[i].integer = 0;
	}
	ws(&s);
	if (s.p >= s.end || *s.p != '{' || object(&s, 0, 1, true))
		return HUB_JSCAN_FALLBACK;
	ws(&s);
	return s.p == s.end ? HUB_JSCAN_OK : HUB_JSCAN_FALLBACK;
}
