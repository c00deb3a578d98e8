/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/buf.h"
#include "scan/catalogers/cat_xml.h"

#define XML_DEPTH 256
#define XML_NODES (1u << 20)

struct xp {
	const char *d;
	size_t len, pos;
	char *err;
	size_t errn;
};

static void xp_err(struct xp *x, const char *why)
{
	size_t line = 1, col = 1;
	for (size_t i = 0; i < x->pos && i < x->len; i++) {
		if (x->d[i] == '\n')
			line++, col = 1;
		else
			col++;
	}
	snprintf(x->err, x->errn, "%zu:%zu: %s", line, col, why);
}

/* Whether the text at pos starts with s. */
static int xp_at(const struct xp *x, const char *s)
{
	size_t n = strlen(s);
	return x->len - x->pos >= n && !memcmp(x->d + x->pos, s, n);
}

/* Move past the first occurrence of end; -1 when there is none. */
static int xp_skip_past(struct xp *x, const char *end)
{
	size_t n = strlen(end);
	for (size_t i = x->pos; i + n <= x->len; i++)
		if (!memcmp(x->d + i, end, n)) {
			x->pos = i + n;
			return 0;
		}
	return -1;
}

static void utf8_put(struct vg_buf *b, unsigned long c)
{
	if (c < 0x80) {
		buf_addc(b, (char)c);
	} else if (c < 0x800) {
		buf_addc(b, (char)(0xc0 | c >> 6));
		buf_addc(b, (char)(0x80 | (c & 0x3f)));
	} else if (c < 0x10000) {
		buf_addc(b, (char)(0xe0 | c >> 12));
		buf_addc(b, (char)(0x80 | (c >> 6 & 0x3f)));
		buf_addc(b, (char)(0x80 | (c & 0x3f)));
	} else {
		buf_addc(b, (char)(0xf0 | c >> 18));
		buf_addc(b, (char)(0x80 | (c >> 12 & 0x3f)));
		buf_addc(b, (char)(0x80 | (c >> 6 & 0x3f)));
		buf_addc(b, (char)(0x80 | (c & 0x3f)));
	}
}

/* Text up to the next '<', entities decoded, appended to b. */
static int xp_text(struct xp *x, struct vg_buf *b)
{
	static const struct { const char *e; char c; } ents[] = {
		{ "&lt;", '<' }, { "&gt;", '>' }, { "&amp;", '&' }, { "&quot;", '"' }, { "&apos;", '\'' },
	};
	while (x->pos < x->len && x->d[x->pos] != '<') {
		char c = x->d[x->pos];
		if (c != '&') {
			buf_addc(b, c);
			x->pos++;
			continue;
		}
		size_t i;
		for (i = 0; i < sizeof(ents) / sizeof(ents[0]); i++)
			if (xp_at(x, ents[i].e)) {
				buf_addc(b, ents[i].c);
				x->pos += strlen(ents[i].e);
				break;
			}
		if (i < sizeof(ents) / sizeof(ents[0]))
			continue;
		if (xp_at(x, "&#")) {
			size_t p = x->pos + 2;
			int hex = p < x->len && x->d[p] == 'x';
			unsigned long v = 0;
			size_t digits = 0;
			p += (size_t)hex;
			for (; p < x->len && digits < 8; p++, digits++) {
				char h = x->d[p];
				int dv = h >= '0' && h <= '9' ? h - '0' :
					 hex && h >= 'a' && h <= 'f' ? h - 'a' + 10 :
					 hex && h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
				if (dv < 0)
					break;
				v = v * (hex ? 16 : 10) + (unsigned long)dv;
			}
			if (digits && p < x->len && x->d[p] == ';' && v && v < 0x110000) {
				utf8_put(b, v);
				x->pos = p + 1;
				continue;
			}
		}
		xp_err(x, "unknown entity or reference");
		return -1;
	}
	return 0;
}

static int name_char(char c)
{
	return c && !strchr(" \t\r\n/>=\"'<", c);
}

static char *trim_copy(const struct vg_buf *b)
{
	const char *s = b->data ? b->data : "";
	size_t n = b->len;
	while (n && strchr(" \t\r\n", *s))
		s++, n--;
	while (n && strchr(" \t\r\n", s[n - 1]))
		n--;
	return xstrndup(s, n);
}

void xml_free(struct xml_node *n)
{
	while (n) {
		struct xml_node *next = n->next;
		/* children by iteration over siblings; depth is bounded by the parser */
		xml_free(n->kids);
		free(n->name);
		free(n->text);
		free(n);
		n = next;
	}
}

struct xml_node *xml_parse(const char *data, size_t len, char *err, size_t errn)
{
	struct xp x = { data, len, 0, err, errn };
	struct xml_node *root = NULL, *cur = NULL;
	struct vg_buf texts[XML_DEPTH + 1];
	size_t depth = 0, nodes = 0;

	memset(texts, 0, sizeof(texts));
	if (len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3))
		x.pos = 3;
	while (x.pos < x.len) {
		if (x.d[x.pos] != '<') {
			struct vg_buf junk = { 0 };
			int rc = xp_text(&x, cur ? &texts[depth] : &junk);
			if (!cur) {
				for (size_t i = 0; i < junk.len; i++)
					if (!strchr(" \t\r\n", junk.data[i])) {
						buf_free(&junk);
						xp_err(&x, root ? "text after the root element" :
								  "text before the root element");
						goto fail;
					}
			}
			buf_free(&junk);
			if (rc)
				goto fail;
			continue;
		}
		if (xp_at(&x, "<!--")) {
			if (xp_skip_past(&x, "-->")) {
				xp_err(&x, "unterminated comment");
				goto fail;
			}
		} else if (xp_at(&x, "<![CDATA[")) {
			size_t start = x.pos + 9;
			x.pos = start;
			if (xp_skip_past(&x, "]]>") || !cur) {
				xp_err(&x, "unterminated or misplaced CDATA");
				goto fail;
			}
			buf_add(&texts[depth], x.d + start, x.pos - 3 - start);
		} else if (xp_at(&x, "<?")) {
			if (xp_skip_past(&x, "?>")) {
				xp_err(&x, "unterminated processing instruction");
				goto fail;
			}
		} else if (xp_at(&x, "<!")) {
			/* DOCTYPE: skipped with its internal subset, never processed */
			int br = 0;
			for (; x.pos < x.len; x.pos++) {
				char c = x.d[x.pos];
				if (c == '[')
					br++;
				else if (c == ']')
					br--;
				else if (c == '>' && br <= 0)
					break;
			}
			if (x.pos >= x.len) {
				xp_err(&x, "unterminated declaration");
				goto fail;
			}
			x.pos++;
		} else if (xp_at(&x, "</")) {
			size_t s = x.pos + 2, e = s;
			while (e < x.len && name_char(x.d[e]))
				e++;
			const char *colon = memchr(x.d + s, ':', e - s);
			if (colon)
				s = (size_t)(colon - x.d) + 1;
			if (!cur || strlen(cur->name) != e - s || memcmp(cur->name, x.d + s, e - s)) {
				xp_err(&x, "closing tag does not match the open element");
				goto fail;
			}
			while (e < x.len && strchr(" \t\r\n", x.d[e]))
				e++;
			if (e >= x.len || x.d[e] != '>') {
				x.pos = e;
				xp_err(&x, "expected '>'");
				goto fail;
			}
			x.pos = e + 1;
			cur->text = trim_copy(&texts[depth]);
			buf_reset(&texts[depth]);
			cur = cur->parent;
			depth--;
		} else {
			size_t s = x.pos + 1, e = s;
			while (e < x.len && name_char(x.d[e]))
				e++;
			if (e == s) {
				x.pos = s;
				xp_err(&x, "expected an element name");
				goto fail;
			}
			if (root && !cur) {
				xp_err(&x, "a second root element");
				goto fail;
			}
			if (depth >= XML_DEPTH || ++nodes > XML_NODES) {
				xp_err(&x, "too deep or too many elements");
				goto fail;
			}
			const char *colon = memchr(x.d + s, ':', e - s);
			size_t ns = colon ? (size_t)(colon - x.d) + 1 : s;
			struct xml_node *n = xcalloc(1, sizeof(*n));
			n->name = xstrndup(x.d + ns, e - ns);
			n->parent = cur;
			if (cur) {
				if (cur->last)
					cur->last->next = n;
				else
					cur->kids = n;
				cur->last = n;
			} else {
				root = n;
			}
			/* attributes: skipped, quotes respected */
			char q = 0;
			for (; e < x.len; e++) {
				char c = x.d[e];
				if (q) {
					if (c == q)
						q = 0;
				} else if (c == '"' || c == '\'') {
					q = c;
				} else if (c == '>' || c == '<') {
					break;
				}
			}
			if (e >= x.len || x.d[e] != '>') {
				x.pos = e;
				xp_err(&x, "unterminated start tag");
				goto fail;
			}
			x.pos = e + 1;
			if (x.d[e - 1] == '/' && !q) {
				n->text = xstrdup("");
			} else {
				cur = n;
				depth++;
			}
		}
	}
	if (!root || cur) {
		xp_err(&x, root ? "unclosed element at the end" : "no root element");
		goto fail;
	}
	for (size_t i = 0; i <= XML_DEPTH; i++)
		buf_free(&texts[i]);
	return root;
fail:
	for (size_t i = 0; i <= XML_DEPTH; i++)
		buf_free(&texts[i]);
	/* open elements have no text yet: give them one so xml_free is uniform */
	xml_free(root);
	return NULL;
}

const struct xml_node *xml_child(const struct xml_node *parent, const char *name)
{
	for (const struct xml_node *k = parent ? parent->kids : NULL; k; k = k->next)
		if (!strcmp(k->name, name))
			return k;
	return NULL;
}

const char *xml_child_text(const struct xml_node *parent, const char *name)
{
	const struct xml_node *k = xml_child(parent, name);
	return k && k->text ? k->text : NULL;
}
