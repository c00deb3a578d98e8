/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Falco condition parser (recursive descent over the text, no separate token
 * stream). Depth is bounded so a hostile condition cannot exhaust the stack.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/buf.h"
#include "engine/cond.h"

#define COND_MAX_DEPTH 200
#define COND_MAX_LIST 100000

struct parser {
	const char *s;
	size_t pos;
	int depth;
	char *err;
	size_t errlen;
	size_t err_off;
	bool failed;
};

static const struct {
	const char *name;
	enum cond_op op;
} word_ops[] = {
	{ "contains", OP_CONTAINS },     { "icontains", OP_ICONTAINS },
	{ "bcontains", OP_BCONTAINS },   { "startswith", OP_STARTSWITH },
	{ "bstartswith", OP_BSTARTSWITH }, { "endswith", OP_ENDSWITH },
	{ "in", OP_IN },                 { "intersects", OP_INTERSECTS },
	{ "pmatch", OP_PMATCH },         { "glob", OP_GLOB },
	{ "regex", OP_REGEX },           { "exists", OP_EXISTS },
};

static const struct {
	const char *name;
	enum cond_xform xf;
} xforms[] = {
	{ "tolower", XF_TOLOWER }, { "toupper", XF_TOUPPER }, { "b64", XF_B64 },
	{ "basename", XF_BASENAME }, { "len", XF_LEN },
};

const char *cond_op_name(enum cond_op op)
{
	switch (op) {
	case OP_EQ: return "=";
	case OP_NE: return "!=";
	case OP_LT: return "<";
	case OP_LE: return "<=";
	case OP_GT: return ">";
	case OP_GE: return ">=";
	case OP_EXISTS: return "exists";
	default:
		for (size_t i = 0; i < sizeof(word_ops) / sizeof(word_ops[0]); i++)
			if (word_ops[i].op == op)
				return word_ops[i].name;
	}
	return "?";
}

static void fail(struct parser *p, size_t off, const char *fmt, const char *what)
{
	if (p->failed)
		return;
	p->failed = true;
	p->err_off = off;
	snprintf(p->err, p->errlen, fmt, what);
}

static void skip_ws(struct parser *p)
{
	while (p->s[p->pos] && isspace((unsigned char)p->s[p->pos]))
		p->pos++;
}

static bool is_ident_start(char c)
{
	return isalpha((unsigned char)c) || c == '_';
}

static bool is_ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-';
}

/* Length of a word (identifier with dots) at pos, 0 if none. */
static size_t word_len(const struct parser *p, size_t pos)
{
	size_t n = 0;
	if (!is_ident_start(p->s[pos]))
		return 0;
	while (is_ident_char(p->s[pos + n]))
		n++;
	return n;
}

static bool word_is(const struct parser *p, size_t pos, size_t len, const char *w)
{
	return strlen(w) == len && !memcmp(p->s + pos, w, len);
}

/* The keyword `w` at the cursor, as a whole word. */
static bool at_keyword(struct parser *p, const char *w)
{
	if (p->s[p->pos] != w[0]) /* most calls: the parser tries each operator at every check */
		return false;
	size_t n = strlen(w);
	if (strncmp(p->s + p->pos, w, n))
		return false;
	char c = p->s[p->pos + n];
	return !(isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-' || c == '[');
}

static enum cond_xform xform_at(const struct parser *p, size_t pos, size_t len)
{
	size_t i;
	for (i = 0; i < sizeof(xforms) / sizeof(xforms[0]); i++)
		if (word_is(p, pos, len, xforms[i].name))
			return xforms[i].xf;
	return XF_NONE;
}

static bool parse_field(struct parser *p, struct cond_field *f);

/* A field, optionally wrapped in transformers: tolower(basename(proc.name)). */
static bool parse_lhs(struct parser *p, struct cond_field *f)
{
	enum cond_xform stack[4];
	int n = 0;

	for (;;) {
		skip_ws(p);
		size_t len = word_len(p, p->pos);
		size_t after = p->pos + len;
		enum cond_xform xf = len ? xform_at(p, p->pos, len) : XF_NONE;
		if (xf == XF_NONE || p->s[after] != '(')
			break;
		if (n == 4) {
			fail(p, p->pos, "too many nested transformers at '%s'", "(");
			return false;
		}
		stack[n++] = xf;
		p->pos = after + 1;
	}
	if (!parse_field(p, f))
		return false;
	for (int i = n - 1; i >= 0; i--) {
		skip_ws(p);
		if (p->s[p->pos] != ')') {
			fail(p, p->pos, "expected ')' after the transformer's field%s", "");
			return false;
		}
		p->pos++;
		f->xf[f->nxf++] = stack[i];
	}
	return true;
}

static bool parse_field(struct parser *p, struct cond_field *f)
{
	skip_ws(p);
	size_t start = p->pos, len = word_len(p, p->pos);
	if (!len || !strchr(p->s + start, '.') || !memchr(p->s + start, '.', len)) {
		fail(p, start, "expected a field name%s", "");
		return false;
	}
	f->off = start;
	f->name = xstrndup(p->s + start, len);
	p->pos += len;
	if (p->s[p->pos] == '[') {
		const char *end = strchr(p->s + p->pos + 1, ']');
		if (!end) {
			fail(p, p->pos, "unterminated field argument '%s'", "[");
			return false;
		}
		f->arg = xstrndup(p->s + p->pos + 1, end - (p->s + p->pos + 1));
		p->pos = end - p->s + 1;
	}
	return true;
}

static bool parse_quoted(struct parser *p, struct cond_value *v)
{
	char q = p->s[p->pos];
	struct vg_buf b = { 0 };
	size_t start = p->pos++;

	for (;;) {
		char c = p->s[p->pos];
		if (!c) {
			buf_free(&b);
			fail(p, start, "unterminated string starting with %s", q == '"' ? "\"" : "'");
			return false;
		}
		p->pos++;
		if (c == q)
			break;
		if (c == '\\' && p->s[p->pos]) {
			char e = p->s[p->pos++];
			switch (e) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			default: c = e; break; /* \\ \" \' and anything else: the character itself */
			}
		}
		buf_addc(&b, c);
	}
	v->text = b.data ? b.data : xstrdup("");
	v->quoted = true;
	v->off = start;
	return true;
}

/* A bare value runs to whitespace or one of ( ) , = and quotes. */
static bool parse_value(struct parser *p, struct cond_value *v)
{
	skip_ws(p);
	char c = p->s[p->pos];
	if (c == '"' || c == '\'')
		return parse_quoted(p, v);
	size_t start = p->pos;
	while (p->s[p->pos] && !isspace((unsigned char)p->s[p->pos]) &&
	       !strchr("(),=\"'", p->s[p->pos]))
		p->pos++;
	if (p->pos == start) {
		fail(p, start, "expected a value%s", "");
		return false;
	}
	v->text = xstrndup(p->s + start, p->pos - start);
	v->off = start;
	return true;
}

static void add_value(struct cond_node *n, struct cond_value v)
{
	n->vals = xrealloc(n->vals, (n->nvals + 1) * sizeof(*n->vals));
	n->vals[n->nvals++] = v;
}

static bool parse_rhs(struct parser *p, struct cond_node *n)
{
	skip_ws(p);
	size_t len = word_len(p, p->pos);
	if (len && p->s[p->pos + len] == '(' &&
	    (word_is(p, p->pos, len, "val") || xform_at(p, p->pos, len) != XF_NONE)) {
		n->rhs_field = xcalloc(1, sizeof(*n->rhs_field));
		if (word_is(p, p->pos, len, "val")) {
			p->pos += len + 1;
			if (!parse_lhs(p, n->rhs_field))
				return false;
			skip_ws(p);
			if (p->s[p->pos] != ')') {
				fail(p, p->pos, "expected ')' to close val(%s", "");
				return false;
			}
			p->pos++;
			return true;
		}
		return parse_lhs(p, n->rhs_field);
	}
	if (p->s[p->pos] == '(') {
		n->rhs_list = true;
		p->pos++;
		skip_ws(p);
		if (p->s[p->pos] == ')') {
			p->pos++;
			return true;
		}
		for (;;) {
			struct cond_value v = { 0 };
			if (n->nvals >= COND_MAX_LIST) {
				fail(p, p->pos, "list longer than %s items", "100000");
				return false;
			}
			if (!parse_value(p, &v))
				return false;
			add_value(n, v);
			skip_ws(p);
			if (p->s[p->pos] == ',') {
				p->pos++;
				continue;
			}
			if (p->s[p->pos] == ')') {
				p->pos++;
				return true;
			}
			fail(p, p->pos, "expected ',' or ')' in a list%s", "");
			return false;
		}
	}
	struct cond_value v = { 0 };
	if (!parse_value(p, &v))
		return false;
	add_value(n, v);
	return true;
}

/* The operator at the cursor (consumed), OP_NONE if none. */
static enum cond_op parse_op(struct parser *p)
{
	static const struct {
		const char *s;
		enum cond_op op;
	} sym[] = { { "==", OP_EQ }, { "!=", OP_NE }, { "<=", OP_LE }, { ">=", OP_GE },
		    { "=", OP_EQ },  { "<", OP_LT },  { ">", OP_GT } };
	skip_ws(p);
	for (size_t i = 0; i < sizeof(sym) / sizeof(sym[0]); i++) {
		size_t n = strlen(sym[i].s);
		if (!strncmp(p->s + p->pos, sym[i].s, n)) {
			p->pos += n;
			return sym[i].op;
		}
	}
	for (size_t i = 0; i < sizeof(word_ops) / sizeof(word_ops[0]); i++) {
		if (at_keyword(p, word_ops[i].name)) {
			p->pos += strlen(word_ops[i].name);
			return word_ops[i].op;
		}
	}
	return OP_NONE;
}

static struct cond_node *new_node(enum cond_kind k, size_t off)
{
	struct cond_node *n = xcalloc(1, sizeof(*n));
	n->kind = k;
	n->off = off;
	return n;
}

static struct cond_node *parse_or(struct parser *p);

static struct cond_node *parse_primary(struct parser *p)
{
	skip_ws(p);
	size_t start = p->pos;
	char c = p->s[p->pos];

	if (c == '(') {
		p->pos++;
		struct cond_node *n = parse_or(p);
		if (!n)
			return NULL;
		skip_ws(p);
		if (p->s[p->pos] != ')') {
			fail(p, p->pos, p->s[p->pos] ? "expected ')' or an operator%s" : "missing ')'%s", "");
			cond_free(n);
			return NULL;
		}
		p->pos++;
		return n;
	}
	size_t len = word_len(p, p->pos);
	if (!len) {
		fail(p, start, c ? "unexpected character '%.1s'" : "unexpected end of condition%s",
		     c ? p->s + p->pos : "");
		return NULL;
	}
	/* a word without a dot and not a transformer call is a macro reference */
	if (!memchr(p->s + start, '.', len) &&
	    !(p->s[start + len] == '(' && xform_at(p, start, len) != XF_NONE)) {
		struct cond_node *n = new_node(COND_MACRO, start);
		n->macro = xstrndup(p->s + start, len);
		p->pos += len;
		return n;
	}
	struct cond_node *n = new_node(COND_CHECK, start);
	if (!parse_lhs(p, &n->lhs))
		goto bad;
	size_t op_off = p->pos;
	n->op = parse_op(p);
	if (n->op == OP_NONE) {
		skip_ws(p);
		fail(p, p->pos, "expected an operator after the field%s", "");
		goto bad;
	}
	if (n->op == OP_EXISTS)
		return n;
	if (!parse_rhs(p, n))
		goto bad;
	if (n->rhs_list && n->op != OP_IN && n->op != OP_INTERSECTS && n->op != OP_PMATCH) {
		fail(p, op_off, "operator '%s' takes a single value, not a list", cond_op_name(n->op));
		goto bad;
	}
	if (!n->rhs_list && !n->rhs_field && (n->op == OP_IN || n->op == OP_INTERSECTS || n->op == OP_PMATCH)) {
		fail(p, op_off, "operator '%s' takes a parenthesised list", cond_op_name(n->op));
		goto bad;
	}
	return n;
bad:
	cond_free(n);
	return NULL;
}

static struct cond_node *parse_not(struct parser *p)
{
	skip_ws(p);
	if (at_keyword(p, "not")) {
		size_t off = p->pos;
		p->pos += 3;
		if (++p->depth > COND_MAX_DEPTH) {
			fail(p, off, "condition nested deeper than %s levels", "200");
			return NULL;
		}
		struct cond_node *a = parse_not(p);
		p->depth--;
		if (!a)
			return NULL;
		struct cond_node *n = new_node(COND_NOT, off);
		n->a = a;
		return n;
	}
	if (p->s[p->pos] == '(' && ++p->depth > COND_MAX_DEPTH) {
		fail(p, p->pos, "condition nested deeper than %s levels", "200");
		return NULL;
	}
	bool paren = p->s[p->pos] == '(';
	struct cond_node *n = parse_primary(p);
	if (paren)
		p->depth--;
	return n;
}

static struct cond_node *parse_binary(struct parser *p, const char *kw, enum cond_kind kind,
				      struct cond_node *(*sub)(struct parser *))
{
	struct cond_node *left = sub(p);
	if (!left)
		return NULL;
	for (;;) {
		skip_ws(p);
		if (!at_keyword(p, kw))
			return left;
		size_t off = p->pos;
		p->pos += strlen(kw);
		struct cond_node *right = sub(p);
		if (!right) {
			cond_free(left);
			return NULL;
		}
		struct cond_node *n = new_node(kind, off);
		n->a = left;
		n->b = right;
		left = n;
	}
}

static struct cond_node *parse_and(struct parser *p)
{
	return parse_binary(p, "and", COND_AND, parse_not);
}

static struct cond_node *parse_or(struct parser *p)
{
	return parse_binary(p, "or", COND_OR, parse_and);
}

struct cond_node *cond_parse(const char *text, char *err, size_t errlen, size_t *err_off)
{
	struct parser p = { .s = text, .err = err, .errlen = errlen };
	struct cond_node *n = parse_or(&p);
	if (n) {
		skip_ws(&p);
		if (p.s[p.pos]) {
			char what[64];
			size_t len = word_len(&p, p.pos);
			snprintf(what, sizeof(what), "%.*s", (int)(len ? len : 1), p.s + p.pos);
			fail(&p, p.pos, "unexpected '%s' (expected 'and', 'or' or the end)", what);
			cond_free(n);
			n = NULL;
		}
	}
	if (!n) {
		if (!p.failed)
			fail(&p, p.pos, "invalid condition%s", "");
		*err_off = p.err_off;
	}
	return n;
}

static void field_free(struct cond_field *f)
{
	free(f->name);
	free(f->arg);
}

static void cond_node_free_one(struct cond_node *n)
{
	free(n->macro);
	field_free(&n->lhs);
	for (size_t i = 0; i < n->nvals; i++)
		free(n->vals[i].text);
	free(n->vals);
	if (n->rhs_field) {
		field_free(n->rhs_field);
		free(n->rhs_field);
	}
	free(n);
}

void cond_free(struct cond_node *n)
{
	/* left operands in a loop: a long `a or b or ...` is a left-deep chain */
	while (n) {
		struct cond_node *left = n->a;
		cond_free(n->b);
		cond_node_free_one(n);
		n = left;
	}
}
