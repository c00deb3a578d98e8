/* SPDX-License-Identifier: Apache-2.0 */
/*
 * YAML tree with positions, in three ways that give the same tree: our own
 * reader for the part of YAML rule files use (fast_parse), libyaml's parser
 * events for other text (parse_events), and libyaml's loader -- whose
 * documents hold aliases as shared indices, copied here -- for anchors,
 * aliases, exceeded bounds and errors. Callers never see libyaml types; a
 * stream's nodes and strings live in its own chunks (stream_alloc).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <yaml.h>
#include "common/buf.h"
#include "common/strv.h"
#include "common/yaml.h"

struct conv {
	yaml_document_t *doc;
	struct yaml_stream *s;
	char *err;
	size_t errlen;
	size_t max_nodes;
};

/*
 * A stream's nodes, item arrays and strings come from chunks of this size and
 * are freed together: a malloc and a free for each of the ~12,000 nodes of
 * Falco's rule files cost as much as building the tree.
 */
#define CHUNK_SIZE (64u << 10)

struct yaml_chunk {
	struct yaml_chunk *next;
	size_t used, size;
	max_align_t data[];
};

/* n bytes (not zeroed) that live until yaml_stream_free; a block over a quarter chunk gets its own. */
static void *stream_alloc(struct yaml_stream *s, size_t n)
{
	n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	struct yaml_chunk *c = s->mem;
	if (c && c->size - c->used >= n) {
		c->used += n;
		return (char *)c->data + c->used - n;
	}
	bool own = n > CHUNK_SIZE / 4;
	c = xmalloc(sizeof(*c) + (own ? n : CHUNK_SIZE));
	c->size = own ? n : CHUNK_SIZE;
	c->used = n;
	if (own && s->mem) { /* behind the current chunk, which keeps filling */
		c->next = s->mem->next;
		s->mem->next = c;
	} else {
		c->next = s->mem;
		s->mem = c;
	}
	return c->data;
}

static struct yaml_node *node_new(struct yaml_stream *s, enum yaml_kind kind, size_t line, size_t col)
{
	struct yaml_node *n = stream_alloc(s, sizeof(*n));
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->line = (unsigned int)line + 1;
	n->col = (unsigned int)col + 1;
	return n;
}

static void node_set_str(struct yaml_stream *s, struct yaml_node *n, const unsigned char *str, size_t len)
{
	n->len = len;
	n->str = stream_alloc(s, len + 1);
	memcpy(n->str, str, len);
	n->str[len] = 0;
}

static struct yaml_node *convert(struct conv *c, int index, int depth)
{
	yaml_node_t *yn = yaml_document_get_node(c->doc, index);
	if (!yn)
		return NULL;
	if (depth > YAML_MAX_DEPTH) {
		snprintf(c->err, c->errlen, "%zu:%zu: nesting deeper than %d levels",
			 yn->start_mark.line + 1, yn->start_mark.column + 1, YAML_MAX_DEPTH);
		return NULL;
	}
	if (++c->s->nodes > c->max_nodes) {
		snprintf(c->err, c->errlen, "%zu:%zu: more than %zu nodes (alias expansion?)",
			 yn->start_mark.line + 1, yn->start_mark.column + 1, c->max_nodes);
		return NULL;
	}
	enum yaml_kind kind = yn->type == YAML_SEQUENCE_NODE ? YAML_SEQ :
			      yn->type == YAML_MAPPING_NODE ? YAML_MAP : YAML_SCALAR;
	struct yaml_node *n = node_new(c->s, kind, yn->start_mark.line, yn->start_mark.column);
	/* on an error below, what was built stays in the stream's memory until yaml_stream_free */
	switch (yn->type) {
	case YAML_SCALAR_NODE:
		n->plain = yn->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		node_set_str(c->s, n, yn->data.scalar.value, yn->data.scalar.length);
		return n;
	case YAML_SEQUENCE_NODE: {
		size_t cnt = yn->data.sequence.items.top - yn->data.sequence.items.start;
		n->items = stream_alloc(c->s, (cnt ? cnt : 1) * sizeof(*n->items));
		for (size_t i = 0; i < cnt; i++) {
			n->items[i] = convert(c, yn->data.sequence.items.start[i], depth + 1);
			if (!n->items[i])
				return NULL;
			n->n++;
		}
		return n;
	}
	case YAML_MAPPING_NODE: {
		size_t cnt = yn->data.mapping.pairs.top - yn->data.mapping.pairs.start;
		n->items = stream_alloc(c->s, (cnt ? 2 * cnt : 1) * sizeof(*n->items));
		for (size_t i = 0; i < cnt; i++) {
			yaml_node_pair_t *pr = &yn->data.mapping.pairs.start[i];
			struct yaml_node *k = convert(c, pr->key, depth + 1);
			if (!k)
				return NULL;
			struct yaml_node *v = convert(c, pr->value, depth + 1);
			if (!v)
				return NULL;
			n->items[2 * i] = k;
			n->items[2 * i + 1] = v;
			n->n++;
		}
		return n;
	}
	default:
		break;
	}
	snprintf(c->err, c->errlen, "%u:%u: unsupported YAML node", n->line, n->col);
	return NULL;
}

int yaml_parse(const char *buf, size_t len, struct yaml_stream *out, char *err, size_t errlen)
{
	return yaml_parse_bounded(buf, len, YAML_MAX_NODES, out, err, errlen);
}

/*
 * The common case, without libyaml's loader: parser events straight into our
 * tree. The loader first builds a document of its own (every node allocated,
 * copied into ours, then freed), a third of the time Vigil took to read
 * Falco's rule files. Returns 0 with the stream in out, or 1 -- and out
 * empty -- for anything it leaves to the loader: an anchor or alias, a bound
 * exceeded, a syntax error. The loader then parses the text again, so alias
 * copies and every error message, and the order in which they are found,
 * stay exactly the loader's.
 */
static int parse_events(const char *buf, size_t len, size_t max_nodes, struct yaml_stream *out)
{
	/* the items of the open sequences and mappings, innermost last: each
	 * collection's items go to the stream's memory, exactly sized, at its end */
	struct yaml_node **kids = NULL;
	size_t nkids = 0, cap = 0;
	struct frame {
		struct yaml_node *n;
		size_t base; /* its first item in kids */
	} st[YAML_MAX_DEPTH + 1];
	int top = -1; /* the innermost open sequence or mapping */
	struct yaml_node *root = NULL;
	yaml_parser_t parser;
	yaml_event_t ev;
	int rc = 1;

	if (!yaml_parser_initialize(&parser))
		return 1;
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	for (;;) {
		if (!yaml_parser_parse(&parser, &ev))
			break;
		bool done = false, give_up = false;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_END_EVENT:
			out->docs = xrealloc(out->docs, (out->ndocs + 1) * sizeof(*out->docs));
			out->docs[out->ndocs++] = root;
			root = NULL;
			break;
		case YAML_SCALAR_EVENT:
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT: {
			const yaml_char_t *anchor = ev.type == YAML_SCALAR_EVENT ? ev.data.scalar.anchor :
						    ev.type == YAML_SEQUENCE_START_EVENT ? ev.data.sequence_start.anchor :
											   ev.data.mapping_start.anchor;
			/* the loader's bounds: depth from 0 at the root, nodes counted over the stream */
			if (anchor || top + 1 > YAML_MAX_DEPTH || ++out->nodes > max_nodes) {
				give_up = true;
				break;
			}
			enum yaml_kind kind = ev.type == YAML_SCALAR_EVENT ? YAML_SCALAR :
					      ev.type == YAML_SEQUENCE_START_EVENT ? YAML_SEQ : YAML_MAP;
			struct yaml_node *n = node_new(out, kind, ev.start_mark.line, ev.start_mark.column);
			if (kind == YAML_SCALAR) {
				n->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
				node_set_str(out, n, ev.data.scalar.value, ev.data.scalar.length);
			}
			if (top < 0) {
				root = n;
			} else {
				if (nkids == cap)
					kids = xrealloc(kids, (cap = cap ? 2 * cap : 256) * sizeof(*kids));
				kids[nkids++] = n;
			}
			if (kind != YAML_SCALAR)
				st[++top] = (struct frame){ n, nkids };
			break;
		}
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT: {
			struct yaml_node *n = st[top].n;
			size_t cnt = nkids - st[top].base;
			/* an empty collection still has an array, as the loader path gives it */
			n->items = stream_alloc(out, (cnt ? cnt : 1) * sizeof(*n->items));
			memcpy(n->items, kids + st[top].base, cnt * sizeof(*n->items));
			n->n = n->kind == YAML_MAP ? cnt / 2 : cnt;
			nkids = st[top--].base;
			break;
		}
		case YAML_ALIAS_EVENT:
			give_up = true;
			break;
		default: /* stream and document starts */
			break;
		}
		yaml_event_delete(&ev);
		if (done)
			rc = 0;
		if (done || give_up)
			break;
	}
	yaml_parser_delete(&parser);
	free(kids);
	if (rc) /* what was built goes with the stream's memory */
		yaml_stream_free(out);
	return rc;
}

/*
 * ---- rule files without libyaml ----
 *
 * libyaml decodes, scans and tokenises every byte (about 120 instructions a
 * byte): three quarters of the time Vigil took to read Falco's rule files.
 * Those files use a small part of YAML, and fast_parse reads exactly that
 * part: one document of block sequences and mappings (plain keys), plain
 * scalars (folded over lines), '...' and "..." on one line (a few escapes),
 * `>` and `|` block scalars without indicators, and flow sequences of those.
 * It builds the tree libyaml's loader would -- same text, same line:column --
 * or gives up (returns 1, the stream empty) on anything else: a tab, CR or
 * non-ASCII byte, a document marker, an anchor, a flow mapping, an empty
 * value, a comment inside a flow sequence, anything that may be a syntax
 * error. What it gives up on is read by parse_events and the loader as
 * before, so errors and everything unusual stay libyaml's. fuzz_yaml holds
 * yaml_parse to libyaml's result on every input; tests/unit/test_yaml.c to
 * the loader's trees.
 */
struct fast {
	const char *s;
	size_t len;
	size_t pos;        /* the cursor: the start of the line being read */
	unsigned int line; /* 0-based line of pos */
	struct yaml_stream *out;
	size_t max_nodes;
	bool bad;          /* not in the subset */
	struct yaml_node **kids; /* items of the open collections, innermost last */
	size_t nkids;
	struct vg_buf text;      /* the scalar being read */
};

static bool fast_give_up(struct fast *f)
{
	f->bad = true;
	return false;
}

static size_t line_end(const struct fast *f, size_t p)
{
	const char *nl = memchr(f->s + p, '\n', f->len - p);
	return nl ? (size_t)(nl - f->s) : f->len;
}

/* To the start of the next line (or the end). */
static void next_line(struct fast *f)
{
	size_t e = line_end(f, f->pos);
	f->pos = e < f->len ? e + 1 : f->len;
	f->line++;
}

static size_t indent_at(const struct fast *f, size_t bol)
{
	size_t i = bol;
	while (i < f->len && f->s[i] == ' ')
		i++;
	return i - bol;
}

/* A line of spaces only, or a comment line. */
static bool line_skippable(const struct fast *f, size_t bol)
{
	size_t p = bol + indent_at(f, bol);
	return p >= f->len || f->s[p] == '\n' || f->s[p] == '#';
}

/* Past blank and comment lines; false at the end of the text. */
static bool next_content(struct fast *f)
{
	while (f->pos < f->len && line_skippable(f, f->pos))
		next_line(f);
	return f->pos < f->len;
}

/* A node at byte p of the cursor's line (line and column from the cursor: no scan back). */
static struct yaml_node *fast_node(struct fast *f, enum yaml_kind kind, size_t p, int depth)
{
	if (depth > YAML_MAX_DEPTH || ++f->out->nodes > f->max_nodes) {
		fast_give_up(f);
		return NULL;
	}
	return node_new(f->out, kind, f->line, p - f->pos);
}

static void kid_push(struct fast *f, struct yaml_node *n)
{
	f->kids = xgrow(f->kids, f->nkids, sizeof(*f->kids));
	f->kids[f->nkids++] = n;
}

/* The items pushed since base become n's items. */
static void kids_take(struct fast *f, struct yaml_node *n, size_t base)
{
	size_t cnt = f->nkids - base;
	n->items = stream_alloc(f->out, (cnt ? cnt : 1) * sizeof(*n->items));
	memcpy(n->items, f->kids + base, cnt * sizeof(*n->items));
	n->n = n->kind == YAML_MAP ? cnt / 2 : cnt;
	f->nkids = base;
}

static struct yaml_node *fast_scalar(struct fast *f, size_t p, bool plain)
{
	struct yaml_node *n = fast_node(f, YAML_SCALAR, p, 0);
	if (!n)
		return NULL;
	n->plain = plain;
	node_set_str(f->out, n, (const unsigned char *)(f->text.data ? f->text.data : ""), f->text.len);
	return n;
}

/*
 * fast_scalar for a scalar read over several lines, whose node is at byte p
 * of an earlier line (line, starting at byte bol): the cursor stays where
 * reading it left it.
 */
static struct yaml_node *fast_scalar_on(struct fast *f, size_t p, bool plain, unsigned int line, size_t bol)
{
	unsigned int now = f->line;
	size_t pos = f->pos;
	f->line = line;
	f->pos = bol;
	struct yaml_node *n = fast_scalar(f, p, plain);
	f->line = now;
	f->pos = pos;
	return n;
}

/* Only spaces and maybe a comment from p to the end of the line. */
static bool rest_blank(const struct fast *f, size_t p)
{
	while (p < f->len && f->s[p] == ' ')
		p++;
	return p >= f->len || f->s[p] == '\n' || (f->s[p] == '#' && f->s[p - 1] == ' ');
}

/* A quoted scalar on one line at p; *end: the byte after the closing quote. */
static struct yaml_node *fast_quoted(struct fast *f, size_t p, size_t *end)
{
	char q = f->s[p];
	size_t i = p + 1;
	buf_reset(&f->text);
	for (;; i++) {
		if (i >= f->len || f->s[i] == '\n') {
			fast_give_up(f);
			return NULL;
		}
		char c = f->s[i];
		if (q == '\'' && c == '\'') {
			if (i + 1 < f->len && f->s[i + 1] == '\'') {
				buf_addc(&f->text, '\'');
				i++;
				continue;
			}
			break;
		}
		if (q == '"' && c == '"')
			break;
		if (q == '"' && c == '\\') {
			char e = i + 1 < f->len ? f->s[i + 1] : 0;
			c = e == '\\' || e == '"' || e == '/' ? e : e == 'n' ? '\n' : e == 't' ? '\t' : 0;
			if (!c) {
				fast_give_up(f);
				return NULL;
			}
			i++;
		}
		buf_addc(&f->text, c);
	}
	*end = i + 1;
	return fast_scalar(f, p, false);
}

static bool plain_start(const struct fast *f, size_t p)
{
	char c = f->s[p];
	if (strchr("?:,[]{}#&*!|>'\"%@`", c))
		return false;
	/* "-x" is a scalar, "- " an item */
	return c != '-' || (p + 1 < f->len && f->s[p + 1] != ' ' && f->s[p + 1] != '\n' && !strchr(",[]{}", f->s[p + 1]));
}

/*
 * A plain scalar in block context at p, folded over the lines after it that
 * are indented more than `indent` (the enclosing collection's column): a line
 * break is a space, n blank lines are n line breaks.
 */
static struct yaml_node *fast_plain(struct fast *f, size_t p, size_t indent)
{
	size_t start = p, blanks = 0, bol0 = f->pos;
	unsigned int line0 = f->line;
	buf_reset(&f->text);
	for (;;) {
		size_t e = line_end(f, p), q = p;
		for (; q < e; q++) {
			if (f->s[q] == ':' && (q + 1 == e || f->s[q + 1] == ' '))
				return fast_give_up(f), NULL; /* a key: a mapping libyaml may reject */
			if (f->s[q] == '#' && f->s[q - 1] == ' ')
				break; /* a comment ends it */
		}
		size_t t = q;
		while (t > p && f->s[t - 1] == ' ')
			t--;
		if (p != start) {
			if (blanks)
				for (size_t k = 0; k < blanks; k++)
					buf_addc(&f->text, '\n');
			else
				buf_addc(&f->text, ' ');
		}
		buf_add(&f->text, f->s + p, t - p);
		if (q < e) { /* stopped at a comment: the scalar ends on this line */
			next_line(f);
			break;
		}
		/* does it go on? blank lines, then a line indented past `indent` that is no comment */
		next_line(f);
		size_t look = f->pos;
		blanks = 0;
		while (look < f->len) {
			size_t in = indent_at(f, look);
			if (look + in < f->len && f->s[look + in] != '\n')
				break;
			blanks++;
			look = look + in < f->len ? look + in + 1 : f->len;
		}
		if (look >= f->len)
			break;
		size_t in = indent_at(f, look);
		if (in <= indent || f->s[look + in] == '#')
			break;
		if (!plain_start(f, look + in) || f->s[look + in] == '-')
			return fast_give_up(f), NULL;
		f->pos = look;
		f->line += (unsigned int)blanks;
		p = look + in;
	}
	return fast_scalar_on(f, start, true, line0, bol0); /* the node is on its first line */
}

/*
 * A `>` or `|` block scalar whose header is at p: its lines are those
 * indented as much as its first, and blank lines; the final line break is
 * kept (clip), trailing blank lines are not.
 */
static struct yaml_node *fast_block_scalar(struct fast *f, size_t p, size_t indent)
{
	bool folded = f->s[p] == '>';
	unsigned int line0 = f->line;
	size_t bol0 = f->pos;
	size_t bi = 0, blanks = 0, nlines = 0;
	bool prev_more = false;
	buf_reset(&f->text);
	next_line(f);
	for (;;) {
		size_t bol = f->pos;
		if (bol >= f->len)
			break;
		size_t e = line_end(f, bol), in = indent_at(f, bol);
		if (bol + in == e) { /* a blank line, of no more spaces than the block's indentation */
			if (!nlines || in > bi) /* leading blank lines would decide the indentation */
				return fast_give_up(f), NULL;
			blanks++;
			next_line(f);
			continue;
		}
		if (!nlines) {
			bi = in;
			if (bi <= indent)
				return fast_give_up(f), NULL; /* an empty scalar */
		}
		if (in < bi)
			break;
		if (e == f->len)
			return fast_give_up(f), NULL; /* no final line break */
		/* folded: a line break between two lines neither of which is indented
		 * more than the block is a space (none when blank lines follow it) */
		bool more = in > bi;
		if (nlines) {
			if (!folded || prev_more || more)
				buf_addc(&f->text, '\n');
			else if (!blanks)
				buf_addc(&f->text, ' ');
			for (size_t k = 0; k < blanks; k++)
				buf_addc(&f->text, '\n');
		}
		buf_add(&f->text, f->s + bol + bi, e - bol - bi);
		prev_more = more;
		blanks = 0;
		nlines++;
		next_line(f);
	}
	if (!nlines)
		return fast_give_up(f), NULL;
	buf_addc(&f->text, '\n');
	return fast_scalar_on(f, p, false, line0, bol0);
}

/*
 * Spaces and line breaks inside a flow sequence (libyaml checks no
 * indentation there: `]` may close it in any column).
 */
static bool flow_space(struct fast *f, size_t *p)
{
	for (;;) {
		while (*p < f->len && f->s[*p] == ' ')
			(*p)++;
		if (*p >= f->len || f->s[*p] == '#')
			return fast_give_up(f);
		if (f->s[*p] != '\n')
			return true;
		f->pos = ++*p;
		f->line++;
	}
}

/* A flow sequence at p; *end: the byte after its ']'. */
static struct yaml_node *fast_flow_seq(struct fast *f, size_t p, int depth, size_t *end)
{
	struct yaml_node *seq = fast_node(f, YAML_SEQ, p, depth);
	size_t base = f->nkids;
	if (!seq)
		return NULL;
	p++;
	for (size_t k = 0;; k++) {
		if (!flow_space(f, &p))
			return NULL;
		if (f->s[p] == ']' && !k)
			break;
		struct yaml_node *item;
		size_t after;
		if (f->s[p] == '[') {
			item = fast_flow_seq(f, p, depth + 1, &after);
		} else if (f->s[p] == '"' || f->s[p] == '\'') {
			item = fast_quoted(f, p, &after);
		} else if (plain_start(f, p)) {
			after = p;
			while (after < f->len && !strchr(",[]{}:#\n", f->s[after]))
				after++;
			size_t t = after;
			while (t > p && f->s[t - 1] == ' ')
				t--;
			if (after >= f->len || f->s[after] == ':' || f->s[after] == '#' || strchr("[{}", f->s[after]))
				return fast_give_up(f), NULL;
			buf_reset(&f->text);
			buf_add(&f->text, f->s + p, t - p);
			item = fast_scalar(f, p, true);
			if (item && f->s[after] == '\n') { /* a plain item may not go on on the next line */
				if (!flow_space(f, &after) || (f->s[after] != ',' && f->s[after] != ']'))
					return fast_give_up(f), NULL;
			}
		} else {
			return fast_give_up(f), NULL;
		}
		if (!item)
			return NULL;
		if (depth + 1 > YAML_MAX_DEPTH)
			return fast_give_up(f), NULL;
		kid_push(f, item);
		p = after;
		if (!flow_space(f, &p))
			return NULL;
		if (f->s[p] == ']')
			break;
		if (f->s[p] != ',')
			return fast_give_up(f), NULL;
		p++;
	}
	kids_take(f, seq, base);
	*end = p + 1;
	return seq;
}

static struct yaml_node *fast_block(struct fast *f, long indent, int depth);

/* Whether a plain key and ': ' (or ':' at the end of the line) are at p; *colon: the ':'. */
static bool key_at(const struct fast *f, size_t p, size_t *colon)
{
	size_t i = p;
	while (i < f->len && (isalnum((unsigned char)f->s[i]) || f->s[i] == '_' || f->s[i] == '-'))
		i++;
	/* libyaml rejects a key whose ':' is 1024 bytes or more away: leave those to it */
	if (i == p || i >= f->len || f->s[i] != ':' || !isalpha((unsigned char)f->s[p]) || i - p > 1000)
		return false;
	*colon = i;
	return i + 1 == f->len || f->s[i + 1] == ' ' || f->s[i + 1] == '\n';
}

/*
 * The value at p on the cursor's line (a scalar, block scalar or flow
 * sequence), or on the lines below when the line ends there. `indent`: the
 * column of the collection it belongs to. Leaves the cursor on the next line.
 */
static struct yaml_node *fast_value(struct fast *f, size_t p, size_t indent, int depth)
{
	size_t end;
	struct yaml_node *n;
	if (depth > YAML_MAX_DEPTH)
		return fast_give_up(f), NULL;
	while (p < f->len && f->s[p] == ' ')
		p++;
	if (rest_blank(f, p)) { /* on the lines below, indented more */
		next_line(f);
		if (!next_content(f) || indent_at(f, f->pos) <= indent)
			return fast_give_up(f), NULL; /* an empty value, or a sequence not indented */
		return fast_block(f, (long)indent, depth);
	}
	char c = f->s[p];
	if ((c == '>' || c == '|') && p + 1 < f->len && f->s[p + 1] == '\n')
		return fast_block_scalar(f, p, indent);
	if (c == '[' || c == '"' || c == '\'') {
		n = c == '[' ? fast_flow_seq(f, p, depth, &end) : fast_quoted(f, p, &end);
		if (!n)
			return NULL;
		if (!rest_blank(f, end))
			return fast_give_up(f), NULL;
		next_line(f);
		return n;
	}
	if (!plain_start(f, p))
		return fast_give_up(f), NULL;
	return fast_plain(f, p, indent);
}

/* A block mapping whose first key is at p on the cursor's line (column col). */
static struct yaml_node *fast_map(struct fast *f, size_t p, size_t col, int depth)
{
	struct yaml_node *map = fast_node(f, YAML_MAP, p, depth);
	size_t base = f->nkids, colon;
	if (!map)
		return NULL;
	for (;;) {
		if (!key_at(f, p, &colon))
			return fast_give_up(f), NULL;
		buf_reset(&f->text);
		buf_add(&f->text, f->s + p, colon - p);
		struct yaml_node *k = fast_scalar(f, p, true), *v;
		if (!k || depth + 1 > YAML_MAX_DEPTH)
			return fast_give_up(f), NULL;
		kid_push(f, k);
		v = fast_value(f, colon + 1, col, depth + 1);
		if (!v)
			return NULL;
		kid_push(f, v);
		if (!next_content(f))
			break;
		size_t in = indent_at(f, f->pos);
		if (in < col)
			break;
		if (in > col)
			return fast_give_up(f), NULL;
		p = f->pos + in;
	}
	kids_take(f, map, base);
	return map;
}

/* A block sequence whose first '-' is the cursor's line's first byte past `col` spaces. */
static struct yaml_node *fast_seq(struct fast *f, size_t col, int depth)
{
	struct yaml_node *seq = fast_node(f, YAML_SEQ, f->pos + col, depth);
	size_t base = f->nkids;
	if (!seq)
		return NULL;
	for (;;) {
		size_t p = f->pos + col + 1, colon;
		while (p < f->len && f->s[p] == ' ')
			p++;
		struct yaml_node *item;
		if (depth + 1 > YAML_MAX_DEPTH)
			return fast_give_up(f), NULL;
		if (!rest_blank(f, p) && key_at(f, p, &colon)) {
			size_t bol = f->pos;
			item = fast_map(f, p, p - bol, depth + 1);
		} else if (!rest_blank(f, p) && f->s[p] == '-' && p + 1 < f->len &&
			   (f->s[p + 1] == ' ' || f->s[p + 1] == '\n')) {
			return fast_give_up(f), NULL; /* "- - x" */
		} else {
			item = fast_value(f, p, col, depth + 1);
		}
		if (!item)
			return NULL;
		kid_push(f, item);
		if (!next_content(f))
			break;
		size_t in = indent_at(f, f->pos);
		if (in < col)
			break;
		p = f->pos + in;
		if (in > col || f->s[p] != '-' || (p + 1 < f->len && f->s[p + 1] != ' ' && f->s[p + 1] != '\n'))
			return fast_give_up(f), NULL;
	}
	kids_take(f, seq, base);
	return seq;
}

/* The block sequence or mapping starting on the cursor's line, indented more than `indent`. */
static struct yaml_node *fast_block(struct fast *f, long indent, int depth)
{
	size_t in = indent_at(f, f->pos), p = f->pos + in, colon;
	if ((long)in <= indent)
		return fast_give_up(f), NULL;
	if (f->s[p] == '-' && (p + 1 == f->len || f->s[p + 1] == ' ' || f->s[p + 1] == '\n'))
		return fast_seq(f, in, depth);
	if (key_at(f, p, &colon))
		return fast_map(f, p, in, depth);
	if (indent < 0)
		return fast_give_up(f), NULL; /* a document that is a scalar */
	if (!plain_start(f, p) && f->s[p] != '"' && f->s[p] != '\'' && f->s[p] != '[')
		return fast_give_up(f), NULL;
	return fast_value(f, p, (size_t)indent, depth);
}

/* 0 and the stream in out, or 1 (out empty): the text is not in the subset. */
static int fast_parse(const char *buf, size_t len, size_t max_nodes, struct yaml_stream *out)
{
	/* bytes libyaml could read differently: tabs, CR, control and non-ASCII bytes,
	 * document markers and directives */
	for (size_t i = 0; i <= len; i++) {
		if (i == 0 || buf[i - 1] == '\n') { /* a line start */
			if (i < len && (buf[i] == '%' || (len - i >= 3 && (!memcmp(buf + i, "---", 3) ||
									   !memcmp(buf + i, "...", 3)))))
				return 1;
		}
		/* the common byte costs this one test */
		while (i < len && (unsigned char)buf[i] >= 0x20 && (unsigned char)buf[i] < 0x7f)
			i++;
		if (i < len && buf[i] != '\n')
			return 1;
	}
	struct fast f = { .s = buf, .len = len, .out = out, .max_nodes = max_nodes };
	struct yaml_node *root = NULL;
	if (next_content(&f)) {
		root = fast_block(&f, -1, 0);
		if (root && next_content(&f))
			f.bad = true; /* more after the document's node */
	}
	free(f.kids);
	buf_free(&f.text);
	if (!root || f.bad) {
		yaml_stream_free(out);
		return 1;
	}
	out->docs = xmalloc(sizeof(*out->docs));
	out->docs[0] = root;
	out->ndocs = 1;
	return 0;
}

int yaml_parse_bounded(const char *buf, size_t len, size_t max_nodes, struct yaml_stream *out,
		       char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (!fast_parse(buf, len, max_nodes, out))
		return 0;
	return yaml_parse_libyaml(buf, len, max_nodes, out, err, errlen);
}

int yaml_parse_libyaml(const char *buf, size_t len, size_t max_nodes, struct yaml_stream *out,
		       char *err, size_t errlen)
{
	yaml_parser_t parser;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!parse_events(buf, len, max_nodes, out))
		return 0;
	if (!yaml_parser_initialize(&parser)) {
		snprintf(err, errlen, "1:1: cannot initialise the YAML parser");
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	for (;;) {
		yaml_document_t doc;
		if (!yaml_parser_load(&parser, &doc)) {
			const yaml_mark_t *m = parser.problem ? &parser.problem_mark : &parser.context_mark;
			snprintf(err, errlen, "%zu:%zu: %s%s%s", m->line + 1, m->column + 1,
				 parser.problem ? parser.problem : "invalid YAML",
				 parser.context ? " " : "", parser.context ? parser.context : "");
			rc = -1;
			break;
		}
		yaml_node_t *root = yaml_document_get_root_node(&doc);
		if (!root) {
			/* an empty document is how libyaml says the stream ended */
			yaml_document_delete(&doc);
			break;
		}
		struct conv c = { &doc, out, err, errlen, max_nodes };
		struct yaml_node *n = convert(&c, 1, 0);
		yaml_document_delete(&doc);
		if (!n) {
			rc = -1;
			break;
		}
		out->docs = xrealloc(out->docs, (out->ndocs + 1) * sizeof(*out->docs));
		out->docs[out->ndocs++] = n;
	}
	yaml_parser_delete(&parser);
	if (rc)
		yaml_stream_free(out);
	return rc;
}

void yaml_stream_free(struct yaml_stream *s)
{
	while (s->mem) {
		struct yaml_chunk *next = s->mem->next;
		free(s->mem);
		s->mem = next;
	}
	free(s->docs);
	memset(s, 0, sizeof(*s));
}

struct yaml_node *yaml_get(const struct yaml_node *map, const char *key)
{
	if (!map || map->kind != YAML_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++)
		if (yaml_is(map->items[2 * i], key))
			return map->items[2 * i + 1];
	return NULL;
}

bool yaml_is(const struct yaml_node *n, const char *s)
{
	return n && n->kind == YAML_SCALAR && n->len == strlen(s) && !memcmp(n->str, s, n->len);
}

int yaml_bool(const struct yaml_node *n)
{
	static const char *yes[] = { "true", "yes", "on", "y" };
	static const char *no[] = { "false", "no", "off", "n" };
	if (!n || n->kind != YAML_SCALAR || !n->plain)
		return -1;
	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(n->str, yes[i]))
			return 1;
		if (!strcasecmp(n->str, no[i]))
			return 0;
	}
	return -1;
}

bool yaml_is_null(const struct yaml_node *n)
{
	return n && n->kind == YAML_SCALAR && n->plain &&
	       (n->len == 0 || !strcmp(n->str, "~") || !strcasecmp(n->str, "null"));
}

int yaml_parse_file(const char *path, size_t max, struct yaml_stream *out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	struct stat st;
	char yerr[256];

	memset(out, 0, sizeof(*out));
	if (!f) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
		fclose(f);
		snprintf(err, errlen, "%s: not a regular file of at most %zu bytes", path, max);
		return -1;
	}
	char *buf = xmalloc(st.st_size + 1);
	size_t len = fread(buf, 1, st.st_size, f);
	fclose(f);
	int rc = yaml_parse(buf, len, out, yerr, sizeof(yerr));
	free(buf);
	if (rc)
		snprintf(err, errlen, "%s:%s", path, yerr);
	return rc;
}

int yaml_errorf(char *err, size_t errlen, const char *path, const struct yaml_node *n, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s:%u:%u: %s", path, n ? n->line : 1, n ? n->col : 1, msg);
	return -1;
}

/* yaml_errorf, or "line:col: message" for a document that came from no file */
static int list_error(char *err, size_t errlen, const char *path, const struct yaml_node *n, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int list_error(char *err, size_t errlen, const char *path, const struct yaml_node *n, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (path)
		return yaml_errorf(err, errlen, path, n, "%s", msg);
	snprintf(err, errlen, "%u:%u: %s", n->line, n->col, msg);
	return -1;
}

int yaml_strings(const char *path, const struct yaml_node *n, const char *key, size_t max, struct strv *out,
		 char *err, size_t errlen)
{
	if (!n)
		return 0;
	if (n->kind != YAML_SEQ)
		return list_error(err, errlen, path, n, "'%s' must be a list", key);
	if (max && n->n > max)
		return list_error(err, errlen, path, n, "'%s' has more than %zu items", key, max);
	for (size_t i = 0; i < n->n; i++) {
		const struct yaml_node *it = n->items[i];
		if (it->kind != YAML_SCALAR || !it->len || strlen(it->str) != it->len)
			return list_error(err, errlen, path, it, "items of '%s' must be non-empty strings", key);
		strv_add(out, it->str);
	}
	return 0;
}
