/* SPDX-License-Identifier: Apache-2.0 */
/*
 * YAML tree with positions. libyaml's loader gives each document as an array
 * of nodes where aliases are shared indices; we copy it into our own tree so
 * callers never see libyaml types and every node owns its children.
 */
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

int yaml_parse_bounded(const char *buf, size_t len, size_t max_nodes, struct yaml_stream *out,
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
