/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Condition compiler and evaluator.
 *
 * Falco's semantics kept here: a field with no value makes every comparison
 * false (so `not fd.name = x` is true on an event without a file); a field
 * with several values (proc.aname without index, fd.ip) matches when any
 * value does; `in` with strings is an exact-match set; `pmatch` matches path
 * prefixes at component boundaries, with globs; `glob` is fnmatch(3) without
 * FNM_PATHNAME; `regex` must match the whole value.
 *
 * Specialising a compiled tree for one event type, and splitting out its
 * gates, is filter_spec.c.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <fnmatch.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "engine/cnode.h"
#include "engine/filter.h"
#include "engine/strops.h"
#include "sensor/event_table.h"
#include "syscall_names.h"

_Static_assert(VG_EVT_MAX <= 128, "evtset holds 128 event types");

#define MAX_MACRO_DEPTH 64
#define SET_MIN 8 /* `in` lists longer than this use a hash set */

static void cn_free(struct cnode *n);

/* ---- event names ---- */

static const char *const pseudo_events[] = { "procexit", "container", "switch", "signaldeliver",
					     "pluginevent", "asyncevent", "execve", NULL };

bool event_name_known(const char *name)
{
	if (event_table_find(name) >= 0)
		return true;
	for (size_t i = 0; i < sizeof(syscall_names) / sizeof(syscall_names[0]); i++)
		if (!strcmp(syscall_names[i], name))
			return true;
	for (const char *const *p = pseudo_events; *p; p++)
		if (!strcmp(*p, name))
			return true;
	return false;
}

static void evtset_all(struct evtset *s)
{
	memset(s, 0, sizeof(*s));
	for (unsigned int t = 1; t < VG_EVT_MAX; t++) {
		const struct vg_event_info *in = event_table_get(t);
		if (in && in->category != VG_CAT_INTERNAL)
			s->w[t >> 6] |= 1ull << (t & 63);
	}
}

static void evtset_add(struct evtset *s, unsigned int t)
{
	s->w[t >> 6] |= 1ull << (t & 63);
}

/* ---- compile context ---- */

struct cc {
	struct filter_ctx *fc;
	const struct rs_text *text; /* text being compiled, for positions */
	char *err;
	size_t errlen;
	bool failed;
	const struct rs_macro *macro_stack[MAX_MACRO_DEPTH];
	int nmacros;
	struct evtset all; /* every captured type: evtset_all once, not for each check */
	/* the literals of the check being compiled (add_literal), until lits_take gives
	 * them their arrays: a list's values are only known once it is expanded */
	struct lit {
		struct fval v;
		uint8_t plen;
		bool str;       /* v.s is the text */
		size_t off;     /* the text in lit_text (NUL-terminated; binary for b-operators) */
	} *lits;
	size_t nlits;
	struct vg_buf lit_text;
};

static void cfail(struct cc *c, size_t off, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void cfail(struct cc *c, size_t off, const char *fmt, ...)
{
	char where[512], msg[512];
	va_list ap;
	if (c->failed)
		return;
	c->failed = true;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ruleset_where(c->fc->rs, c->text, off, where, sizeof(where));
	snprintf(c->err, c->errlen, "%s: %s", where, msg);
}

/* A short excerpt of the text at off, for messages. */
static const char *excerpt(const struct cc *c, size_t off, char *buf, size_t size)
{
	const char *s = c->text->s + off;
	size_t n = 0;
	while (s[n] && s[n] != '\n' && n < 40)
		n++;
	snprintf(buf, size, "%.*s%s", (int)n, s, s[n] && s[n] != '\n' ? "..." : "");
	return buf;
}

static int slot_for(struct filter_ctx *fc, const struct fref *r)
{
	for (int i = 0; i < fc->nslots; i++) {
		struct fslot *s = &fc->slots[i];
		if (s->def == r->def && s->nxf == r->nxf && !memcmp(s->xf, r->xf, sizeof(s->xf)) &&
		    ((!s->arg && !r->arg) || (s->arg && r->arg && !strcmp(s->arg, r->arg))))
			return i;
	}
	fc->slots = xrealloc(fc->slots, (fc->nslots + 1) * sizeof(*fc->slots));
	struct fslot *s = &fc->slots[fc->nslots];
	memset(s, 0, sizeof(*s));
	s->def = r->def;
	s->arg = r->arg ? xstrdup(r->arg) : NULL;
	memcpy(s->xf, r->xf, sizeof(s->xf));
	s->nxf = r->nxf;
	return fc->nslots++;
}

int filter_field(struct filter_ctx *fc, const struct cond_field *cf, struct fref *out, char *err, size_t errlen)
{
	if (fref_resolve(out, cf, err, errlen))
		return -1;
	out->slot = slot_for(fc, out);
	return 0;
}

void filter_ctx_free(struct filter_ctx *fc)
{
	for (int i = 0; i < fc->nslots; i++)
		free(fc->slots[i].arg);
	free(fc->slots);
	free(fc->uncaptured);
	for (size_t i = 0; i < fc->nmacros; i++) {
		free(fc->macros[i].spec);
		cn_free(fc->macros[i].node);
		free(fc->macros[i].types);
		free(fc->macros[i].uncaptured);
	}
	free(fc->macros);
	free(fc->memo_of);
	for (size_t i = 0; i < fc->npool; i++)
		free(fc->pool[i]);
	free(fc->pool);
	memset(fc, 0, sizeof(*fc));
}

/* ---- nodes ---- */

#define POOL_CHUNK (256u << 10)

void *cnode_alloc(struct filter_ctx *fc, size_t size)
{
	size = (size + 63) & ~(size_t)63;
	if (size > POOL_CHUNK / 4) {
		/* a large block (the operands of a long or) gets its own allocation, listed
		 * before the current chunk so that small ones keep filling that */
		void *big = xcalloc(1, size);
		fc->pool = xrealloc(fc->pool, (fc->npool + 1) * sizeof(*fc->pool));
		if (fc->npool) {
			fc->pool[fc->npool] = fc->pool[fc->npool - 1];
			fc->pool[fc->npool - 1] = big;
		} else {
			fc->pool[0] = big;
			fc->pool_used = POOL_CHUNK; /* no current chunk yet */
		}
		fc->npool++;
		return big;
	}
	if (!fc->npool || fc->pool_used + size > POOL_CHUNK) {
		fc->pool = xrealloc(fc->pool, (fc->npool + 1) * sizeof(*fc->pool));
		fc->pool[fc->npool++] = xmalloc(POOL_CHUNK);
		fc->pool_used = 0;
	}
	void *p = fc->pool[fc->npool - 1] + fc->pool_used;
	fc->pool_used += size;
	memset(p, 0, size);
	return p;
}

struct cnode *cnode_new(struct filter_ctx *fc, enum cn_kind k)
{
	struct cnode *n = cnode_alloc(fc, sizeof(*n));
	n->kind = k;
	return n;
}

#define cn_new(k) cnode_new(c->fc, (k))

static void cn_add(struct cnode *n, struct cnode *kid)
{
	/* flatten nested and/or of the same kind: a flat loop evaluates faster than recursion */
	if (kid->kind == n->kind && (n->kind == CN_AND || n->kind == CN_OR)) {
		for (size_t i = 0; i < kid->nkids; i++)
			cn_add(n, kid->kids[i]);
		free(kid->kids);
		/* the node stays in the pool */
		return;
	}
	n->kids = xgrow(n->kids, n->nkids, sizeof(*n->kids));
	n->kids[n->nkids++] = kid;
}

/*
 * Event-type tests first among the operands of an and/or: a bit test decides
 * most events before any field is read. Operands have no side effects, so
 * their order does not change the result.
 */
static void cn_types_first(struct cnode *n)
{
	size_t k = 0;
	for (size_t i = 0; i < n->nkids; i++) {
		if (n->kids[i]->kind != CN_TYPES)
			continue;
		struct cnode *t = n->kids[i];
		memmove(&n->kids[k + 1], &n->kids[k], (i - k) * sizeof(*n->kids));
		n->kids[k++] = t;
	}
}

static void cn_free(struct cnode *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->nkids && n->kind != CN_MACRO; i++)
		cn_free(n->kids[i]);
	pmlist_free(&n->pm);
	free(n->kids);
	fref_free(&n->lhs);
	if (n->rhs) {
		fref_free(n->rhs);
		free(n->rhs);
	}
	/* vals, texts and plen are in the pool (lits_take) */
	strset_free(&n->set);
	if (n->md)
		pcre2_match_data_free(n->md);
	if (n->re)
		pcre2_code_free(n->re);
	/* the node itself belongs to the context's pool */
}

/* ---- compiling ---- */

static struct cnode *compile_node(struct cc *c, const struct cond_node *n, struct evtset *types, bool *exact);

static bool op_allowed(enum ftype t, enum cond_op op)
{
	switch (op) {
	case OP_EQ: case OP_NE: case OP_IN: case OP_INTERSECTS: case OP_EXISTS:
		return true;
	case OP_LT: case OP_LE: case OP_GT: case OP_GE:
		return t == FT_INT || t == FT_PORT || t == FT_STR;
	default:
		return t == FT_STR;
	}
}

static const char *type_name(enum ftype t)
{
	static const char *n[] = { "string", "number", "boolean", "IP address", "IP network", "port" };
	return n[t];
}

/* Values of a list, with nested list references expanded. */
static void add_literal(struct cc *c, struct cnode *n, const char *text, size_t off);

struct literal_ctx {
	struct cc *c;
	struct cnode *n;
	size_t off;
};

static void add_expanded(void *ctx, const char *value)
{
	struct literal_ctx *l = ctx;
	if (!l->c->failed)
		add_literal(l->c, l->n, value, l->off);
}

static void add_list_or_literal(struct cc *c, struct cnode *n, const char *text, bool quoted, size_t off)
{
	struct literal_ctx l = { c, n, off };
	ruleset_expand_value(c->fc->rs, text, quoted, add_expanded, &l);
}

/* s as bytes (two hexadecimal digits each) appended to b; false if it is not that. */
static bool hex_decode(const char *s, struct vg_buf *b)
{
	size_t n = strlen(s);
	if (n % 2)
		return false;
	for (size_t i = 0; i < n; i += 2) {
		if (!isxdigit((unsigned char)s[i]) || !isxdigit((unsigned char)s[i + 1]))
			return false;
		char h[3] = { s[i], s[i + 1], 0 };
		buf_addc(b, (char)strtol(h, NULL, 16));
	}
	return true;
}

static void add_literal(struct cc *c, struct cnode *n, const char *text, size_t off)
{
	struct lit l = { .off = c->lit_text.len };
	enum ftype t = n->lhs.type;
	char ex[64];

	if (n->op == OP_BCONTAINS || n->op == OP_BSTARTSWITH) {
		if (!hex_decode(text, &c->lit_text)) {
			cfail(c, off, "'%s' needs hexadecimal bytes, not '%s'", cond_op_name(n->op), text);
			return;
		}
		l.v.len = c->lit_text.len - l.off;
		l.str = true;
		buf_addc(&c->lit_text, 0);
	} else {
		buf_add(&c->lit_text, text, strlen(text) + 1);
		if (fval_parse(t, c->lit_text.data + l.off, &l.v, &l.plen)) {
			cfail(c, off, "'%s' is not a valid %s for field '%s' (near '%s')", text, type_name(t),
			      n->lhs.def->name, excerpt(c, off, ex, sizeof(ex)));
			return;
		}
		l.str = t == FT_STR;
	}
	c->lits = xgrow(c->lits, c->nlits, sizeof(*c->lits));
	c->lits[c->nlits++] = l;
}

/*
 * The gathered literals become n's values, texts and prefix lengths: one
 * block of the context's pool holds the three arrays and the texts, instead
 * of three growing arrays and a copy of each text from malloc.
 */
static void lits_take(struct cc *c, struct cnode *n)
{
	size_t k = c->nlits, bytes = c->lit_text.len;
	if (!k)
		return;
	char *p = cnode_alloc(c->fc, k * (sizeof(*n->vals) + sizeof(*n->texts) + sizeof(*n->plen)) + bytes);
	n->vals = (struct fval *)p;
	n->texts = (char **)(p + k * sizeof(*n->vals));
	char *text = (char *)(n->texts + k);
	n->plen = (uint8_t *)(text + bytes);
	memcpy(text, c->lit_text.data, bytes);
	for (size_t i = 0; i < k; i++) {
		n->vals[i] = c->lits[i].v;
		n->texts[i] = text + c->lits[i].off;
		if (c->lits[i].str)
			n->vals[i].s = n->texts[i];
		n->plen[i] = c->lits[i].plen;
	}
	n->nvals = k;
}

/* Remember event types a condition names that the sensor does not capture: "dup, write". */
static void note_uncaptured(struct filter_ctx *fc, const char *name)
{
	size_t old = fc->uncaptured ? strlen(fc->uncaptured) : 0, n = strlen(name);
	for (const char *p = fc->uncaptured; p && (p = strstr(p, name)); p += n)
		if ((p == fc->uncaptured || p[-1] == ' ') && (p[n] == ',' || !p[n]))
			return;
	fc->uncaptured = xrealloc(fc->uncaptured, old + n + 3);
	snprintf(fc->uncaptured + old, n + 3, "%s%s", old ? ", " : "", name);
}

/* evt.type = x / in (...): the event types it names; unknown names are errors. */
static void evt_types(struct cc *c, const struct cnode *n, const struct cond_node *src, struct evtset *types,
		      bool *exact)
{
	struct evtset named = { { 0, 0 } };
	for (size_t i = 0; i < n->nvals; i++) {
		const char *name = n->texts[i];
		int t = event_table_find(name);
		if (t < 0 || event_table_get(t)->category == VG_CAT_INTERNAL) {
			if (!event_name_known(name)) {
				cfail(c, src->nvals ? src->vals[0].off : src->off, "unknown event type '%s'", name);
				return;
			}
			note_uncaptured(c->fc, name);
			continue;
		}
		evtset_add(&named, t);
	}
	*exact = true;
	if (n->op == OP_EQ || n->op == OP_IN) {
		*types = named;
	} else if (n->op == OP_NE) {
		*types = c->all;
		types->w[0] &= ~named.w[0];
		types->w[1] &= ~named.w[1];
	} else {
		*types = c->all;
		*exact = false;
	}
}

static struct cnode *compile_check(struct cc *c, const struct cond_node *src, struct evtset *types, bool *exact)
{
	struct cnode *n = cn_new(CN_CHECK);
	char msg[256];

	*types = c->all;
	*exact = false;
	if (fref_resolve(&n->lhs, &src->lhs, msg, sizeof(msg))) {
		cfail(c, src->lhs.off, "%s", msg);
		goto bad;
	}
	n->lhs.slot = slot_for(c->fc, &n->lhs);
	n->op = src->op;
	if (!op_allowed(n->lhs.type, n->op)) {
		cfail(c, src->off, "operator '%s' cannot be used with field '%s' (a %s)", cond_op_name(n->op),
		      n->lhs.def->name, type_name(n->lhs.type));
		goto bad;
	}
	if (src->rhs_field) {
		n->rhs = xcalloc(1, sizeof(*n->rhs));
		if (fref_resolve(n->rhs, src->rhs_field, msg, sizeof(msg))) {
			cfail(c, src->rhs_field->off, "%s", msg);
			goto bad;
		}
		n->rhs->slot = slot_for(c->fc, n->rhs);
		if (n->rhs->type != n->lhs.type && !(n->lhs.type == FT_STR || n->rhs->type == FT_STR)) {
			cfail(c, src->rhs_field->off, "cannot compare %s field '%s' with %s field '%s'",
			      type_name(n->lhs.type), n->lhs.def->name, type_name(n->rhs->type), n->rhs->def->name);
			goto bad;
		}
		return n;
	}
	c->nlits = 0;
	buf_reset(&c->lit_text);
	for (size_t i = 0; i < src->nvals && !c->failed; i++) {
		if (src->rhs_list)
			add_list_or_literal(c, n, src->vals[i].text, src->vals[i].quoted, src->vals[i].off);
		else
			add_literal(c, n, src->vals[i].text, src->vals[i].off);
	}
	if (c->failed)
		goto bad;
	lits_take(c, n);
	if (n->op == OP_REGEX) {
		int ec;
		PCRE2_SIZE eo;
		n->re = pcre2_compile((PCRE2_SPTR)n->texts[0], PCRE2_ZERO_TERMINATED,
				      PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_UTF | PCRE2_MATCH_INVALID_UTF,
				      &ec, &eo, NULL);
		if (!n->re) {
			char e[128];
			pcre2_get_error_message(ec, (PCRE2_UCHAR *)e, sizeof(e));
			cfail(c, src->vals[0].off, "bad regular expression '%s': %s at offset %zu", n->texts[0], e,
			      (size_t)eo);
			goto bad;
		}
		pcre2_jit_compile(n->re, PCRE2_JIT_COMPLETE); /* best effort: the interpreter is used otherwise */
		n->md = pcre2_match_data_create_from_pattern(n->re, NULL);
	}
	if ((n->op == OP_IN || n->op == OP_INTERSECTS) && n->lhs.type == FT_STR && n->nvals > SET_MIN) {
		const char **strs = xmalloc(n->nvals * sizeof(*strs));
		size_t *lens = xmalloc(n->nvals * sizeof(*lens));
		for (size_t i = 0; i < n->nvals; i++) {
			strs[i] = n->vals[i].s;
			lens[i] = n->vals[i].len;
		}
		strset_build(&n->set, strs, lens, n->nvals);
		free(strs);
		free(lens);
	}
	if (n->op == OP_ICONTAINS) /* compared lower-case (strops_icontains): fold the literal once */
		for (size_t i = 0; i < n->nvals; i++)
			strops_lower(n->texts[i], n->vals[i].len);
	if (!strcmp(n->lhs.def->name, "evt.type") && n->lhs.nxf == 0) {
		evt_types(c, n, src, types, exact);
		if (c->failed)
			goto bad;
		if (*exact) {
			/* the check is its set of types: test one bit instead of comparing names */
			struct cnode *t = cn_new(CN_TYPES);
			t->types = *types;
			cn_free(n);
			return t;
		}
	}
	if (c->failed)
		goto bad;
	if (n->op == OP_GLOB && n->nvals)
		n->glob_head = (unsigned int)strcspn(n->texts[0], "*?[\\");
	if (n->op == OP_PMATCH)
		pmlist_build(&n->pm, (const char *const *)n->texts, n->nvals);
	return n;
bad:
	cn_free(n);
	return NULL;
}

/* Add the event types a macro names but the sensor does not capture to the ones being collected. */
static void note_uncaptured_list(struct filter_ctx *fc, const char *names)
{
	char *list = xstrdup(names), *save, *tok;
	for (tok = strtok_r(list, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save))
		note_uncaptured(fc, tok);
	free(list);
}

static struct cnode *compile_macro(struct cc *c, const struct cond_node *src, struct evtset *types, bool *exact)
{
	struct rs_macro *m = ruleset_macro(c->fc->rs, src->macro);
	char msg[256];
	size_t off;

	if (!m) {
		if (ruleset_list(c->fc->rs, src->macro))
			cfail(c, src->off, "'%s' is a list, not a macro: use it inside (...) after in/pmatch", src->macro);
		else
			cfail(c, src->off, "undefined macro '%s'", src->macro);
		return NULL;
	}
	for (int i = 0; i < c->nmacros; i++) {
		if (c->macro_stack[i] == m) { /* one entry per name: the same entry is the same macro */
			cfail(c, src->off, "macro '%s' refers to itself", m->name);
			return NULL;
		}
	}
	if (c->nmacros == MAX_MACRO_DEPTH) {
		cfail(c, src->off, "macros nested deeper than %d levels", MAX_MACRO_DEPTH);
		return NULL;
	}
	m->used = true;
	struct filter_ctx *fc = c->fc;
	size_t pos = (size_t)(m - fc->rs->macros);
	if (!fc->memo_of)
		fc->memo_of = xcalloc(fc->rs->nmacros ? fc->rs->nmacros : 1, sizeof(*fc->memo_of));
	if (fc->memo_of[pos]) {
		struct macro_memo *mm = &fc->macros[fc->memo_of[pos] - 1];
		struct cnode *r = cn_new(CN_MACRO);
		r->memo = (int)(fc->memo_of[pos] - 1);
		cn_add(r, mm->node);
		*types = *mm->types;
		*exact = mm->exact;
		if (mm->uncaptured)
			note_uncaptured_list(fc, mm->uncaptured);
		return r;
	}
	const struct cond_node *ast = ruleset_macro_ast(m, msg, sizeof(msg), &off);
	const struct rs_text *saved = c->text;
	c->text = &m->cond;
	if (!ast) {
		cfail(c, off, "%s", msg);
		c->text = saved;
		return NULL;
	}
	/* compile with a fresh list of uncaptured types, so the macro knows its own */
	char *outer_uncaptured = fc->uncaptured;
	fc->uncaptured = NULL;
	c->macro_stack[c->nmacros++] = m;
	struct cnode *n = compile_node(c, ast, types, exact);
	c->nmacros--;
	c->text = saved;
	char *mine = fc->uncaptured;
	fc->uncaptured = outer_uncaptured;
	if (!n) {
		free(mine);
		return NULL;
	}
	fc->macros = xgrow(fc->macros, fc->nmacros, sizeof(*fc->macros));
	struct macro_memo *mm = &fc->macros[fc->nmacros];
	mm->node = n;
	mm->types = xmalloc(sizeof(*mm->types));
	*mm->types = *types;
	mm->exact = *exact;
	mm->uncaptured = mine;
	mm->spec = NULL;
	if (mine)
		note_uncaptured_list(fc, mine);
	fc->memo_of[pos] = (uint32_t)fc->nmacros + 1;
	struct cnode *r = cn_new(CN_MACRO);
	r->memo = (int)fc->nmacros++;
	cn_add(r, n);
	return r;
}

static struct cnode *compile_node(struct cc *c, const struct cond_node *n, struct evtset *types, bool *exact)
{
	struct evtset ta;
	bool ea;
	struct cnode *a, *r;

	switch (n->kind) {
	case COND_CHECK:
		return compile_check(c, n, types, exact);
	case COND_MACRO:
		return compile_macro(c, n, types, exact);
	case COND_NOT:
		a = compile_node(c, n->a, &ta, &ea);
		if (!a)
			return NULL;
		r = cn_new(CN_NOT);
		cn_add(r, a);
		if (ea) { /* a condition on the event type alone inverts exactly */
			types->w[0] = c->all.w[0] & ~ta.w[0];
			types->w[1] = c->all.w[1] & ~ta.w[1];
			*exact = true;
		} else {
			*types = c->all;
			*exact = false;
		}
		return r;
	case COND_AND:
	case COND_OR: {
		/* `a or b or c ...` parses into a left-deep chain as long as the text: walk
		 * its spine in a loop (recursing down 40000 operands overflowed the stack) */
		size_t nops = 0, cap = 16;
		const struct cond_node **ops = xmalloc(cap * sizeof(*ops)), *x;
		for (x = n; x->kind == n->kind; x = x->a) {
			if (nops + 1 == cap)
				ops = xrealloc(ops, (cap *= 2) * sizeof(*ops));
			ops[nops++] = x->b;
		}
		ops[nops++] = x; /* the leftmost operand; ops runs right to left */
		r = cn_new(n->kind == COND_AND ? CN_AND : CN_OR);
		for (size_t k = nops; k-- > 0;) {
			a = compile_node(c, ops[k], &ta, &ea);
			if (!a) {
				cn_free(r);
				free(ops);
				return NULL;
			}
			cn_add(r, a);
			bool first = k == nops - 1;
			for (int i = 0; i < 2 && !first; i++) /* and: types both allow; or: either */
				ta.w[i] = n->kind == COND_AND ? ta.w[i] & types->w[i] : ta.w[i] | types->w[i];
			*types = ta;
			*exact = (first || *exact) && ea;
		}
		free(ops);
		cn_types_first(r); /* once for the whole chain: the same order as per pair */
		return r;
	}
	}
	return NULL;
}

struct filter *filter_compile_parsed(struct filter_ctx *fc, const struct rs_text *text, const struct cond_node *ast,
				     struct evtset *types, char *err, size_t errlen)
{
	struct cc c = { .fc = fc, .text = text, .err = err, .errlen = errlen };
	bool exact;

	evtset_all(&c.all);
	struct cnode *root = compile_node(&c, ast, types, &exact);
	free(c.lits);
	buf_free(&c.lit_text);
	if (!root || c.failed) {
		cn_free(root);
		return NULL;
	}
	struct filter *f = xcalloc(1, sizeof(*f));
	f->root = root;
	return f;
}

struct filter *filter_compile(struct filter_ctx *fc, const struct rs_text *text, struct evtset *types,
			      char *err, size_t errlen)
{
	char msg[256];
	size_t off;

	struct cond_node *ast = cond_parse(text->s, msg, sizeof(msg), &off);
	if (!ast) {
		struct cc c = { .fc = fc, .text = text, .err = err, .errlen = errlen };
		cfail(&c, off, "%s", msg);
		return NULL;
	}
	struct filter *f = filter_compile_parsed(fc, text, ast, types, err, errlen);
	cond_free(ast);
	return f;
}

void filter_free(struct filter *f)
{
	if (!f)
		return;
	cn_free(f->root);
	free(f);
}

/* ---- evaluation ---- */

static bool str_cmp_op(const struct cnode *n, const struct fval *v, const struct fval *lit, struct ectx *c)
{
	switch (n->op) {
	case OP_EQ:
		return v->len == lit->len && !memcmp(v->s, lit->s, v->len);
	case OP_NE:
		return !(v->len == lit->len && !memcmp(v->s, lit->s, v->len));
	case OP_LT: case OP_LE: case OP_GT: case OP_GE: {
		size_t m = v->len < lit->len ? v->len : lit->len;
		int r = memcmp(v->s, lit->s, m);
		if (!r)
			r = v->len < lit->len ? -1 : v->len > lit->len;
		return n->op == OP_LT ? r < 0 : n->op == OP_LE ? r <= 0 : n->op == OP_GT ? r > 0 : r >= 0;
	}
	case OP_CONTAINS:
	case OP_BCONTAINS:
		return strops_contains(v->s, v->len, lit->s, lit->len);
	case OP_ICONTAINS:
		return strops_icontains(v->s, v->len, lit->s, lit->len);
	case OP_STARTSWITH:
	case OP_BSTARTSWITH:
		return v->len >= lit->len && !memcmp(v->s, lit->s, lit->len);
	case OP_ENDSWITH:
		return v->len >= lit->len && !memcmp(v->s + v->len - lit->len, lit->s, lit->len);
	case OP_GLOB: {
		/* the pattern's literal head must match as it is: most values fail there,
		 * without a copy and an fnmatch call */
		if (n->glob_head && (v->len < n->glob_head || memcmp(v->s, lit->s, n->glob_head)))
			return false;
		char *s = arena_dup(&c->arena, v->s, v->len);
		return fnmatch(lit->s, s, 0) == 0;
	}
	default: /* pmatch, in, regex: check_value */
		return false;
	}
}

static bool ip_in_net(const struct fval *v, const struct fval *net, uint8_t plen)
{
	if (v->fam != net->fam)
		return false;
	size_t full = plen / 8;
	if (memcmp(v->ip, net->ip, full))
		return false;
	if (plen % 8) {
		uint8_t mask = (uint8_t)(0xff << (8 - plen % 8));
		return (v->ip[full] & mask) == (net->ip[full] & mask);
	}
	return true;
}

static bool value_eq(const struct cnode *n, const struct fval *v, size_t i)
{
	const struct fval *lit = &n->vals[i];
	switch (n->lhs.type) {
	case FT_STR:
		return v->len == lit->len && !memcmp(v->s, lit->s, v->len);
	case FT_INT: case FT_PORT: case FT_BOOL:
		return v->i == lit->i;
	case FT_IP:
		return v->fam == lit->fam && !memcmp(v->ip, lit->ip, v->fam == 4 ? 4 : 16);
	case FT_NET:
		return ip_in_net(v, lit, n->plen[i]);
	}
	return false;
}

/* One extracted value against the literal(s). */
static bool check_value(const struct cnode *n, const struct fval *v, struct ectx *c)
{
	switch (n->op) {
	case OP_IN:
	case OP_INTERSECTS:
		if (n->set.slots)
			return strset_has(&n->set, v->s, v->len);
		for (size_t i = 0; i < n->nvals; i++)
			if (value_eq(n, v, i))
				return true;
		return false;
	case OP_PMATCH:
		if (!n->pm.n) /* val(field): the other field's value, compared as a plain prefix */
			return n->nvals && strops_pmatch_prefix(v->s, v->len, n->vals[0].s, n->vals[0].len);
		return pmlist_match(&n->pm, v->s, v->len);
	case OP_REGEX: {
		int rc = pcre2_match(n->re, (PCRE2_SPTR)v->s, v->len, 0, 0, n->md, NULL);
		return rc >= 0;
	}
	default:
		break;
	}
	if (!n->nvals)
		return false;
	if (n->lhs.type == FT_STR)
		return str_cmp_op(n, v, &n->vals[0], c);
	if (n->op == OP_EQ)
		return value_eq(n, v, 0);
	if (n->op == OP_NE)
		return !value_eq(n, v, 0);
	int64_t a = v->i, b = n->vals[0].i;
	switch (n->op) {
	case OP_LT: return a < b;
	case OP_LE: return a <= b;
	case OP_GT: return a > b;
	case OP_GE: return a >= b;
	default: return false;
	}
}

/* val(field): compare with another field's first value, as that field's text when types differ. */
static bool check_rhs_field(const struct cnode *n, const struct fval *lv, int ln, struct ectx *c)
{
	const struct fval *rv;
	int rn = fref_extract(c, n->rhs, &rv);
	if (!rn)
		return false;
	struct cnode tmp = *n;
	struct fval lit = rv[0];
	uint8_t pl = lit.fam == 4 ? 32 : 128;
	tmp.vals = &lit;
	tmp.plen = &pl;
	tmp.nvals = 1;
	tmp.set.slots = NULL;
	tmp.set.cap = 0;
	tmp.glob_head = 0; /* the pattern is the other field's value */
	char *low = NULL;
	if (n->op == OP_ICONTAINS && lit.s) { /* the literal side must be lower-case */
		low = xmalloc(lit.len + 1);
		memcpy(low, lit.s, lit.len);
		strops_lower(low, lit.len);
		lit.s = low;
	}
	if (n->op == OP_IN || n->op == OP_INTERSECTS)
		tmp.op = OP_EQ;
	bool hit = false;
	for (int i = 0; i < ln && !hit; i++)
		hit = check_value(&tmp, &lv[i], c);
	free(low);
	return hit;
}

static bool eval(const struct cnode *n, struct ectx *c)
{
	switch (n->kind) {
	case CN_AND:
		for (size_t i = 0; i < n->nkids; i++)
			if (!eval(n->kids[i], c))
				return false;
		return true;
	case CN_OR:
		for (size_t i = 0; i < n->nkids; i++)
			if (eval(n->kids[i], c))
				return true;
		return false;
	case CN_NOT:
		return !eval(n->kids[0], c);
	case CN_TYPES:
		return evtset_has(&n->types, c->ev->hdr.type);
	case CN_MACRO: {
		struct ectx_memo *m = &c->memo[n->memo];
		if (m->gen == c->gen)
			return m->val;
		bool v = eval(n->kids[0], c);
		m->gen = c->gen;
		m->val = v;
		return v;
	}
	case CN_CHECK: {
		const struct fval *v;
		int k = fref_extract(c, &n->lhs, &v);
		if (n->op == OP_EXISTS)
			return k > 0;
		if (n->rhs)
			return check_rhs_field(n, v, k, c);
		for (int i = 0; i < k; i++)
			if (check_value(n, &v[i], c))
				return true;
		return false;
	}
	}
	return false;
}

bool filter_eval(const struct filter *f, struct ectx *c)
{
	return eval(f->root, c);
}

bool filter_eval_node(const struct cnode *n, struct ectx *c)
{
	return eval(n, c);
}

bool filter_check_value(const struct cnode *n, const struct fval *v, struct ectx *c)
{
	return check_value(n, v, c);
}
