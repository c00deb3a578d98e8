/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loader of Falco rule files. The YAML tree gives every value its position;
 * this file checks the shape of each top-level item, applies append/override
 * in order and keeps the pieces' origins for later messages.
 *
 * One file of ~1,100 lines for one job, on purpose: every section below
 * (lists, macros, exceptions, Vigil's extensions, rules, versions) is one kind
 * of top-level item, and all of them read values, report errors at
 * positions and look names up through the same static helpers (the name
 * indexes, positions, errors, value readers). Split by item, each file would
 * need those helpers exported through a header that exists only for them.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include "common/yaml.h"
#include "engine/cond.h"
#include "engine/ruleset.h"

#define RS_MAX_FILE_SIZE (64u << 20)

struct loader {
	struct ruleset *rs;
	int file;
	char *err;
	size_t errlen;
};

static const char *prio_names[] = { "Emergency", "Alert", "Critical", "Error",
				    "Warning", "Notice", "Informational", "Debug" };

const char *priority_name(enum rs_priority p)
{
	return (unsigned)p < 8 ? prio_names[p] : "Unknown";
}

int priority_parse(const char *s)
{
	for (int i = 0; i < 8; i++)
		if (!strcasecmp(s, prio_names[i]))
			return i;
	if (!strcasecmp(s, "info"))
		return PRIO_INFO;
	return -1;
}

void ruleset_init(struct ruleset *rs)
{
	memset(rs, 0, sizeof(*rs));
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

static void text_free(struct rs_text *t)
{
	free(t->s);
	free(t->src);
	memset(t, 0, sizeof(*t));
}

static void exception_free(struct rs_exception *e)
{
	free(e->name);
	strv_free(e->fields, e->nfields);
	strv_free(e->comps, e->nfields);
	for (size_t i = 0; i < e->nvalues; i++) {
		strv_free(e->values[i], e->fields_is_list ? e->nfields : 1);
		free(e->vquoted[i]);
	}
	free(e->values);
	free(e->vquoted);
}

static void rule_free(struct rs_rule *r)
{
	free(r->name);
	text_free(&r->cond);
	text_free(&r->output);
	free(r->desc);
	strv_free(r->tags, r->ntags);
	free(r->source);
	for (size_t i = 0; i < r->nexc; i++)
		exception_free(&r->exc[i]);
	free(r->exc);
	strv_free(r->actions, r->nactions);
	for (size_t i = 0; i < r->nsteps; i++)
		text_free(&r->steps[i]);
	free(r->steps);
	free(r->seq_by);
	free(r->thr_by);
}

static void list_free(struct rs_list *l)
{
	free(l->name);
	strv_free(l->items, l->n);
	free(l->quoted);
}

void ruleset_free(struct ruleset *rs)
{
	for (size_t i = 0; i < rs->nfiles; i++) {
		free(rs->files[i].path);
		free(rs->files[i].text);
	}
	for (size_t i = 0; i < rs->nlists; i++)
		list_free(&rs->lists[i]);
	free(rs->lists);
	for (size_t i = 0; i < rs->nmacros; i++) {
		free(rs->macros[i].name);
		text_free(&rs->macros[i].cond);
		cond_free(rs->macros[i].ast);
	}
	free(rs->macros);
	for (size_t i = 0; i < rs->nrules; i++)
		rule_free(&rs->rules[i]);
	free(rs->rules);
	buf_free(&rs->warnings);
	free(rs->list_idx.slots);
	free(rs->macro_idx.slots);
	free(rs->rule_idx.slots);
	memset(rs, 0, sizeof(*rs));
}

/* ---- name indexes ---- */

static size_t name_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (size_t)(h ^ h >> 29);
}

/* The name of entry i of an array of lists, macros or rules (entries `size` bytes apart). */
#define NAME_AT(base, size, i) (*(char *const *)((const char *)(base) + (size_t)(i) * (size)))
_Static_assert(offsetof(struct rs_list, name) == 0 && offsetof(struct rs_macro, name) == 0 &&
		       offsetof(struct rs_rule, name) == 0,
	       "the name indexes read each entry's name at its start");

/* The position of `name` in the indexed array, or -1. */
static long index_find(const struct rs_index *x, const void *base, size_t size, const char *name)
{
	if (!x->cap)
		return -1;
	for (size_t i = name_hash(name) & (x->cap - 1);; i = (i + 1) & (x->cap - 1)) {
		uint32_t s = x->slots[i];
		if (!s)
			return -1;
		if (!strcmp(NAME_AT(base, size, s - 1), name))
			return (long)s - 1;
	}
}

/* Entry `pos` (a name not yet in the index) was appended to the array. */
static void index_add(struct rs_index *x, const void *base, size_t size, size_t pos)
{
	if (2 * (x->n + 1) > x->cap) {
		struct rs_index old = *x;
		x->cap = old.cap ? 2 * old.cap : 64;
		x->slots = xcalloc(x->cap, sizeof(*x->slots));
		x->n = 0;
		for (size_t i = 0; i < old.cap; i++)
			if (old.slots[i])
				index_add(x, base, size, old.slots[i] - 1);
		free(old.slots);
	}
	size_t i = name_hash(NAME_AT(base, size, pos)) & (x->cap - 1);
	while (x->slots[i])
		i = (i + 1) & (x->cap - 1);
	x->slots[i] = (uint32_t)pos + 1;
	x->n++;
}

struct rs_list *ruleset_list(const struct ruleset *rs, const char *name)
{
	long i = index_find(&rs->list_idx, rs->lists, sizeof(*rs->lists), name);
	return i < 0 ? NULL : &rs->lists[i];
}

static void expand_value(const struct ruleset *rs, const char *text, bool quoted,
			 void (*fn)(void *ctx, const char *value), void *ctx, int depth)
{
	struct rs_list *l = quoted ? NULL : ruleset_list(rs, text);

	if (!l || depth >= 32) { /* lists naming lists: bounded */
		fn(ctx, text);
		return;
	}
	l->used = true;
	for (size_t i = 0; i < l->n; i++) {
		/* an item written with quotes inside the YAML value ('"10.0.0.0/8"') is a
		 * quoted condition string: Falco reads list items as condition values */
		const char *it = l->items[i];
		size_t len = strlen(it);
		if (len >= 2 && (it[0] == '"' || it[0] == '\'') && it[len - 1] == it[0]) {
			char *inner = xstrndup(it + 1, len - 2);
			fn(ctx, inner);
			free(inner);
			continue;
		}
		expand_value(rs, it, l->quoted[i], fn, ctx, depth + 1);
	}
}

void ruleset_expand_value(const struct ruleset *rs, const char *text, bool quoted,
			  void (*fn)(void *ctx, const char *value), void *ctx)
{
	expand_value(rs, text, quoted, fn, ctx, 0);
}

struct rs_macro *ruleset_macro(const struct ruleset *rs, const char *name)
{
	long i = index_find(&rs->macro_idx, rs->macros, sizeof(*rs->macros), name);
	return i < 0 ? NULL : &rs->macros[i];
}

struct rs_rule *ruleset_rule(const struct ruleset *rs, const char *name)
{
	long i = index_find(&rs->rule_idx, rs->rules, sizeof(*rs->rules), name);
	return i < 0 ? NULL : &rs->rules[i];
}

const struct cond_node *ruleset_macro_ast(struct rs_macro *m, char *err, size_t errlen, size_t *err_off)
{
	if (!m->ast)
		m->ast = cond_parse(m->cond.s, err, errlen, err_off);
	return m->ast;
}

/* ---- positions ---- */

void ruleset_where_src(const struct ruleset *rs, const struct rs_src *s, char *out, size_t size)
{
	if (s->file < 0 || (size_t)s->file >= rs->nfiles)
		snprintf(out, size, "<built-in>");
	else
		snprintf(out, size, "%s:%u:%u", rs->files[s->file].path, s->line, s->col);
}

/*
 * Map byte `off` of a scalar's value back to the file. The value of a folded
 * or multi-line scalar differs from its source by indentation and line
 * breaks, so walk both: a source line break (and the indentation after it)
 * stands for one value character.
 */
static void scalar_pos(const struct rs_file *f, unsigned int line, unsigned int col,
		       const char *value, size_t off, unsigned int *oline, unsigned int *ocol)
{
	const char *p = f->text, *end = f->text + f->len;
	unsigned int l = 1;

	*oline = line;
	*ocol = col;
	while (p < end && l < line) /* find the scalar's first line */
		if (*p++ == '\n')
			l++;
	p += col - 1 < (size_t)(end - p) ? col - 1 : (size_t)(end - p);
	if (p < end && (*p == '>' || *p == '|')) { /* block scalar: text starts on the next line */
		while (p < end && *p != '\n')
			p++;
		if (p < end) {
			p++;
			l++;
		}
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
	} else if (p < end && (*p == '"' || *p == '\'')) {
		p++;
	}
	for (size_t i = 0; i < off && value[i] && p < end; i++) {
		if (*p == '\n') {
			p++;
			l++;
			while (p < end && (*p == ' ' || *p == '\t'))
				p++;
			continue;
		}
		p++;
	}
	/* column: distance from the start of the current source line */
	const char *ls = p;
	while (ls > f->text && ls[-1] != '\n')
		ls--;
	*oline = l;
	*ocol = (unsigned int)(p - ls) + 1;
}

void ruleset_where(const struct ruleset *rs, const struct rs_text *t, size_t off, char *out, size_t size)
{
	const struct rs_src *s = NULL;
	for (size_t i = 0; i < t->nsrc; i++)
		if (t->src[i].start <= off)
			s = &t->src[i];
	if (!s || s->file < 0 || (size_t)s->file >= rs->nfiles) {
		snprintf(out, size, "<built-in>");
		return;
	}
	unsigned int line, col;
	scalar_pos(&rs->files[s->file], s->line, s->col, t->s + s->start, off - s->start, &line, &col);
	snprintf(out, size, "%s:%u:%u", rs->files[s->file].path, line, col);
}

/* ---- errors ---- */

static int errorf(struct loader *ld, const struct yaml_node *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int errorf(struct loader *ld, const struct yaml_node *n, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(ld->err, ld->errlen, "%s:%u:%u: %s", ld->rs->files[ld->file].path,
		 n ? n->line : 1, n ? n->col : 1, msg);
	return -1;
}

static void warnf(struct loader *ld, const struct yaml_node *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void warnf(struct loader *ld, const struct yaml_node *n, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	buf_printf(&ld->rs->warnings, "%s:%u:%u: warning: %s\n", ld->rs->files[ld->file].path,
		   n ? n->line : 1, n ? n->col : 1, msg);
}

static struct rs_src src_of(struct loader *ld, const struct yaml_node *n, size_t start)
{
	return (struct rs_src){ .file = ld->file, .line = n->line, .col = n->col, .start = start };
}

/* ---- value readers ---- */

static int get_str(struct loader *ld, const struct yaml_node *n, const char *key, char **out)
{
	if (n->kind != YAML_SCALAR)
		return errorf(ld, n, "'%s' must be a string", key);
	free(*out);
	*out = xstrdup(n->str);
	return 0;
}

static int get_bool(struct loader *ld, const struct yaml_node *n, const char *key, bool *out)
{
	int b = yaml_bool(n);
	if (b < 0)
		return errorf(ld, n, "'%s' must be true or false", key);
	*out = b;
	return 0;
}

/* A sequence of scalars appended to *v (a scalar alone counts as one item). */
static int get_strv(struct loader *ld, const struct yaml_node *n, const char *key,
		    char ***v, bool **quoted, size_t *count)
{
	size_t k = n->kind == YAML_SEQ ? n->n : 1;
	if (n->kind == YAML_MAP)
		return errorf(ld, n, "'%s' must be a list", key);
	if (yaml_is_null(n))
		return 0;
	*v = xrealloc(*v, (*count + k) * sizeof(**v));
	if (quoted)
		*quoted = xrealloc(*quoted, (*count + k) * sizeof(**quoted));
	for (size_t i = 0; i < k; i++) {
		const struct yaml_node *it = n->kind == YAML_SEQ ? n->items[i] : n;
		if (it->kind != YAML_SCALAR)
			return errorf(ld, it, "items of '%s' must be strings", key);
		(*v)[*count] = xstrdup(it->str);
		if (quoted)
			(*quoted)[*count] = !it->plain;
		(*count)++;
	}
	return 0;
}

static void text_set(struct loader *ld, struct rs_text *t, const struct yaml_node *n)
{
	text_free(t);
	t->s = xstrdup(n->str);
	t->src = xcalloc(1, sizeof(*t->src));
	t->src[0] = src_of(ld, n, 0);
	t->nsrc = 1;
}

/* Falco joins appended text with one space. */
static void text_append(struct loader *ld, struct rs_text *t, const struct yaml_node *n)
{
	if (!t->s) {
		text_set(ld, t, n);
		return;
	}
	size_t old = strlen(t->s);
	t->s = xrealloc(t->s, old + 1 + n->len + 1);
	t->s[old] = ' ';
	memcpy(t->s + old + 1, n->str, n->len + 1);
	t->src = xrealloc(t->src, (t->nsrc + 1) * sizeof(*t->src));
	t->src[t->nsrc++] = src_of(ld, n, old + 1);
}

/* ---- override ---- */

enum ov_mode { OV_NONE, OV_APPEND, OV_REPLACE };

struct override {
	const char *key;
	enum ov_mode mode;
};

/*
 * Reads `override:` into modes for the keys allowed for this kind of object.
 * append_ok / replace_ok are NULL-terminated key lists.
 */
static int read_override(struct loader *ld, const struct yaml_node *item, const struct yaml_node *ov,
			 const char *const *append_ok, const char *const *replace_ok,
			 struct override *out, size_t *nout)
{
	*nout = 0;
	if (ov->kind != YAML_MAP)
		return errorf(ld, ov, "'override' must be a mapping of key: append|replace");
	for (size_t i = 0; i < ov->n; i++) {
		const struct yaml_node *k = ov->items[2 * i], *v = ov->items[2 * i + 1];
		enum ov_mode m = yaml_is(v, "append") ? OV_APPEND : yaml_is(v, "replace") ? OV_REPLACE : OV_NONE;
		if (m == OV_NONE)
			return errorf(ld, v, "override of '%s' must be 'append' or 'replace'", k->str);
		const char *const *ok = m == OV_APPEND ? append_ok : replace_ok;
		bool found = false;
		for (; *ok; ok++)
			if (yaml_is(k, *ok))
				found = true;
		if (!found)
			return errorf(ld, k, "'%s' cannot be overridden with '%s' here", k->str,
				      m == OV_APPEND ? "append" : "replace");
		if (!yaml_get(item, k->str))
			return errorf(ld, k, "override of '%s' but the item has no '%s' key", k->str, k->str);
		out[(*nout)++] = (struct override){ k->str, m };
		if (*nout == 16)
			break;
	}
	return 0;
}

static enum ov_mode ov_mode_of(const struct override *ov, size_t n, const char *key, bool legacy_append)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(ov[i].key, key))
			return ov[i].mode;
	return legacy_append ? OV_APPEND : OV_NONE;
}

static int check_keys(struct loader *ld, const struct yaml_node *item, const char *const *known)
{
	for (size_t i = 0; i < item->n; i++) {
		const struct yaml_node *k = item->items[2 * i];
		bool ok = false;
		for (const char *const *p = known; *p; p++)
			if (yaml_is(k, *p))
				ok = true;
		if (!ok)
			warnf(ld, k, "unknown key '%s' ignored", k->kind == YAML_SCALAR ? k->str : "?");
	}
	return 0;
}

static int read_append(struct loader *ld, const struct yaml_node *item, bool *append,
		       struct override *ov, size_t *nov, const char *const *aok, const char *const *rok)
{
	const struct yaml_node *a = yaml_get(item, "append"), *o = yaml_get(item, "override");
	*append = false;
	*nov = 0;
	if (a && get_bool(ld, a, "append", append))
		return -1;
	if (o) {
		if (*append)
			return errorf(ld, o, "'append' and 'override' cannot be used together");
		if (read_override(ld, item, o, aok, rok, ov, nov))
			return -1;
	}
	return 0;
}

/* ---- items ---- */

/*
 * What list, macro and rule items begin with: the name under the key `kind`,
 * no unknown key (keys), and append/override read (aok: what an append may
 * extend, rok: what an override may replace). Returns the name node, or NULL
 * after an error.
 */
static const struct yaml_node *item_head(struct loader *ld, const struct yaml_node *item, const char *kind,
					 const char *const *keys, const char *const *aok, const char *const *rok,
					 bool *append, struct override *ov, size_t *nov)
{
	const struct yaml_node *name = yaml_get(item, kind);
	if (name->kind != YAML_SCALAR || !name->len) {
		errorf(ld, name, "a %s needs a name", kind);
		return NULL;
	}
	check_keys(ld, item, keys);
	return read_append(ld, item, append, ov, nov, aok, rok) ? NULL : name;
}

/* ---- lists ---- */

static int load_list(struct loader *ld, const struct yaml_node *item)
{
	static const char *const keys[] = { "list", "items", "append", "override", NULL };
	static const char *const aok[] = { "items", NULL }, *const rok[] = { "items", NULL };
	struct override ov[16];
	size_t nov;
	bool append;
	const struct yaml_node *items = yaml_get(item, "items");
	const struct yaml_node *name = item_head(ld, item, "list", keys, aok, rok, &append, ov, &nov);

	if (!name)
		return -1;
	if (!items)
		return errorf(ld, item, "list '%s' has no 'items'", name->str);
	struct rs_list *l = ruleset_list(ld->rs, name->str);
	enum ov_mode m = ov_mode_of(ov, nov, "items", append);
	if (m == OV_APPEND) {
		if (!l)
			return errorf(ld, name, "list '%s' is appended to but was not defined before", name->str);
		return get_strv(ld, items, "items", &l->items, &l->quoted, &l->n);
	}
	if (m == OV_REPLACE && !l)
		return errorf(ld, name, "list '%s' is overridden but was not defined before", name->str);
	if (!l) {
		ld->rs->lists = xgrow(ld->rs->lists, ld->rs->nlists, sizeof(*l));
		l = &ld->rs->lists[ld->rs->nlists++];
		memset(l, 0, sizeof(*l));
		l->name = xstrdup(name->str);
		index_add(&ld->rs->list_idx, ld->rs->lists, sizeof(*l), ld->rs->nlists - 1);
	} else {
		strv_free(l->items, l->n);
		free(l->quoted);
		l->items = NULL;
		l->quoted = NULL;
		l->n = 0;
	}
	l->where = src_of(ld, name, 0);
	return get_strv(ld, items, "items", &l->items, &l->quoted, &l->n);
}

/* ---- macros ---- */

static int load_macro(struct loader *ld, const struct yaml_node *item)
{
	static const char *const keys[] = { "macro", "condition", "append", "override", NULL };
	static const char *const aok[] = { "condition", NULL }, *const rok[] = { "condition", NULL };
	struct override ov[16];
	size_t nov;
	bool append;
	const struct yaml_node *cond = yaml_get(item, "condition");
	const struct yaml_node *name = item_head(ld, item, "macro", keys, aok, rok, &append, ov, &nov);

	if (!name)
		return -1;
	if (!cond)
		return errorf(ld, item, "macro '%s' has no 'condition'", name->str);
	if (cond->kind != YAML_SCALAR)
		return errorf(ld, cond, "'condition' must be a string");
	struct rs_macro *m = ruleset_macro(ld->rs, name->str);
	enum ov_mode mode = ov_mode_of(ov, nov, "condition", append);
	if (mode != OV_NONE && !m)
		return errorf(ld, name, "macro '%s' is %s but was not defined before", name->str,
			      mode == OV_APPEND ? "appended to" : "overridden");
	if (m) { /* its text changes: a tree parsed from the old one is stale */
		cond_free(m->ast);
		m->ast = NULL;
	}
	if (mode == OV_APPEND) {
		text_append(ld, &m->cond, cond);
		return 0;
	}
	if (!m) {
		ld->rs->macros = xgrow(ld->rs->macros, ld->rs->nmacros, sizeof(*m));
		m = &ld->rs->macros[ld->rs->nmacros++];
		memset(m, 0, sizeof(*m));
		m->name = xstrdup(name->str);
		index_add(&ld->rs->macro_idx, ld->rs->macros, sizeof(*m), ld->rs->nmacros - 1);
	}
	m->where = src_of(ld, name, 0);
	text_set(ld, &m->cond, cond);
	return 0;
}

/* ---- exceptions ---- */

/* `base`: the exception of the same name being appended to, whose fields and comps are reused. */
static int load_exception(struct loader *ld, const struct yaml_node *n, struct rs_exception *e,
			  const struct rs_exception *base)
{
	const struct yaml_node *name = yaml_get(n, "name"), *fields = yaml_get(n, "fields"),
			       *comps = yaml_get(n, "comps"), *values = yaml_get(n, "values");
	memset(e, 0, sizeof(*e));
	if (n->kind != YAML_MAP)
		return errorf(ld, n, "an exception must be a mapping with name, fields, comps, values");
	if (!name || name->kind != YAML_SCALAR)
		return errorf(ld, n, "an exception needs a 'name'");
	e->name = xstrdup(name->str);
	e->where = src_of(ld, name, 0);
	if (!fields && base) {
		e->fields_is_list = base->fields_is_list;
		e->nfields = base->nfields;
		e->fields = xcalloc(e->nfields, sizeof(*e->fields));
		for (size_t i = 0; i < e->nfields; i++)
			e->fields[i] = xstrdup(base->fields[i]);
		if (!comps) {
			e->comps = xcalloc(e->nfields, sizeof(*e->comps));
			for (size_t i = 0; i < e->nfields; i++)
				e->comps[i] = xstrdup(base->comps[i]);
		}
	} else if (!fields) {
		return errorf(ld, n, "exception '%s' has no 'fields'", e->name);
	} else {
		e->fields_is_list = fields->kind == YAML_SEQ;
		if (get_strv(ld, fields, "fields", &e->fields, NULL, &e->nfields))
			return -1;
	}
	if (!e->nfields)
		return errorf(ld, fields, "exception '%s' has no fields", e->name);
	if (!e->comps)
		e->comps = xcalloc(e->nfields, sizeof(*e->comps));
	if (comps) {
		char **cv = NULL;
		size_t nc = 0;
		if (get_strv(ld, comps, "comps", &cv, NULL, &nc)) {
			strv_free(cv, nc);
			return -1;
		}
		if (nc != e->nfields && !(nc == 1 && !e->fields_is_list)) {
			strv_free(cv, nc);
			return errorf(ld, comps, "exception '%s' has %zu fields but %zu comps", e->name,
				      e->nfields, nc);
		}
		for (size_t i = 0; i < e->nfields; i++)
			e->comps[i] = cv[i];
		free(cv);
	} else {
		for (size_t i = 0; i < e->nfields; i++)
			if (!e->comps[i])
				e->comps[i] = xstrdup(e->fields_is_list ? "=" : "in");
	}
	if (!values || yaml_is_null(values))
		return 0;
	if (values->kind != YAML_SEQ)
		return errorf(ld, values, "exception '%s' values must be a list", e->name);
	for (size_t i = 0; i < values->n; i++) {
		const struct yaml_node *row = values->items[i];
		char **v = NULL;
		bool *q = NULL;
		if (e->fields_is_list) {
			if (row->kind != YAML_SEQ)
				return errorf(ld, row, "exception '%s': each value must be a list of %zu items",
					      e->name, e->nfields);
			if (row->n != e->nfields)
				return errorf(ld, row, "exception '%s': %zu values for %zu fields", e->name,
					      row->n, e->nfields);
			v = xcalloc(e->nfields, sizeof(*v));
			q = xcalloc(e->nfields, sizeof(*q));
			for (size_t j = 0; j < row->n; j++) {
				const struct yaml_node *it = row->items[j];
				if (it->kind == YAML_SCALAR) {
					v[j] = xstrdup(it->str);
					q[j] = !it->plain;
				} else if (it->kind == YAML_SEQ) {
					/* a list value for an `in` comparison: kept as "(a, b)" */
					struct vg_buf b = { 0 };
					buf_addc(&b, '(');
					for (size_t k = 0; k < it->n; k++) {
						if (it->items[k]->kind != YAML_SCALAR) {
							buf_free(&b);
							for (size_t z = 0; z < e->nfields; z++)
								free(v[z]);
							free(v);
							free(q);
							return errorf(ld, it->items[k], "exception values must be strings");
						}
						buf_printf(&b, "%s%s", k ? ", " : "", it->items[k]->str);
					}
					buf_addc(&b, ')');
					v[j] = b.data;
					q[j] = false;
				} else {
					for (size_t z = 0; z < e->nfields; z++)
						free(v[z]);
					free(v);
					free(q);
					return errorf(ld, it, "exception values must be strings or lists");
				}
			}
		} else {
			if (row->kind != YAML_SCALAR)
				return errorf(ld, row, "exception '%s' has one field: its values are plain strings",
					      e->name);
			v = xcalloc(1, sizeof(*v));
			q = xcalloc(1, sizeof(*q));
			v[0] = xstrdup(row->str);
			q[0] = !row->plain;
		}
		e->values = xrealloc(e->values, (e->nvalues + 1) * sizeof(*e->values));
		e->vquoted = xrealloc(e->vquoted, (e->nvalues + 1) * sizeof(*e->vquoted));
		e->values[e->nvalues] = v;
		e->vquoted[e->nvalues] = q;
		e->nvalues++;
	}
	return 0;
}

static int load_exceptions(struct loader *ld, const struct yaml_node *n, struct rs_rule *r, bool append)
{
	if (n->kind != YAML_SEQ)
		return errorf(ld, n, "'exceptions' must be a list");
	if (!append) {
		for (size_t i = 0; i < r->nexc; i++)
			exception_free(&r->exc[i]);
		free(r->exc);
		r->exc = NULL;
		r->nexc = 0;
	}
	for (size_t i = 0; i < n->n; i++) {
		struct rs_exception e;
		struct rs_exception *old = NULL;
		const struct yaml_node *en = yaml_get(n->items[i], "name");
		for (size_t j = 0; append && en && en->kind == YAML_SCALAR && j < r->nexc; j++)
			if (!strcmp(r->exc[j].name, en->str))
				old = &r->exc[j];
		if (load_exception(ld, n->items[i], &e, old)) {
			exception_free(&e);
			return -1;
		}
		if (old) {
			/* appending to a known exception adds its values */
			if (old->nfields != e.nfields || old->fields_is_list != e.fields_is_list) {
				exception_free(&e);
				return errorf(ld, n->items[i], "appended exception '%s' has different fields",
					      old->name);
			}
			old->values = xrealloc(old->values, (old->nvalues + e.nvalues) * sizeof(*old->values));
			old->vquoted = xrealloc(old->vquoted, (old->nvalues + e.nvalues) * sizeof(*old->vquoted));
			for (size_t k = 0; k < e.nvalues; k++) {
				old->values[old->nvalues] = e.values[k];
				old->vquoted[old->nvalues++] = e.vquoted[k];
			}
			e.nvalues = 0;
			exception_free(&e);
			continue;
		}
		r->exc = xrealloc(r->exc, (r->nexc + 1) * sizeof(*r->exc));
		r->exc[r->nexc++] = e;
	}
	return 0;
}

/* ---- Vigil extensions: sequences and thresholds ---- */

/* "60s", "500ms", "2m", "1h", or plain seconds. */
static int get_duration(struct loader *ld, const struct yaml_node *n, uint64_t *ns)
{
	char *end;
	if (!n || n->kind != YAML_SCALAR)
		return errorf(ld, n, "'within' needs a duration such as 60s");
	double v = strtod(n->str, &end);
	double mul = 1e9;
	if (!strcmp(end, "ms"))
		mul = 1e6;
	else if (!strcmp(end, "m"))
		mul = 60e9;
	else if (!strcmp(end, "h"))
		mul = 3600e9;
	else if (*end && strcmp(end, "s"))
		end = NULL;
	if (!end || end == n->str || v <= 0 || v * mul > 86400e9 * 7)
		return errorf(ld, n, "invalid duration '%s' (e.g. 500ms, 60s, 5m; at most 7 days)", n->str);
	*ns = (uint64_t)(v * mul);
	return 0;
}

static int get_by(struct loader *ld, const struct yaml_node *n, char **out)
{
	if (!n) {
		free(*out);
		*out = xstrdup("container");
		return 0;
	}
	if (!yaml_is(n, "container") && !yaml_is(n, "process") && !yaml_is(n, "session"))
		return errorf(ld, n, "'by' must be container, process or session");
	free(*out);
	*out = xstrdup(n->str);
	return 0;
}

static int load_sequence(struct loader *ld, const struct yaml_node *n, struct rs_rule *r)
{
	const struct yaml_node *steps = yaml_get(n, "steps");
	if (n->kind != YAML_MAP || !steps || steps->kind != YAML_SEQ || steps->n < 2)
		return errorf(ld, n, "'sequence' needs 'steps': a list of at least two conditions");
	if (steps->n > 16)
		return errorf(ld, steps, "a sequence has at most 16 steps");
	if (get_duration(ld, yaml_get(n, "within"), &r->seq_within_ns) || get_by(ld, yaml_get(n, "by"), &r->seq_by))
		return -1;
	for (size_t i = 0; i < r->nsteps; i++)
		text_free(&r->steps[i]);
	free(r->steps);
	r->steps = xcalloc(steps->n, sizeof(*r->steps));
	r->nsteps = steps->n;
	for (size_t i = 0; i < steps->n; i++) {
		if (steps->items[i]->kind != YAML_SCALAR)
			return errorf(ld, steps->items[i], "each sequence step is a condition string");
		text_set(ld, &r->steps[i], steps->items[i]);
	}
	return 0;
}

static int load_threshold(struct loader *ld, const struct yaml_node *n, struct rs_rule *r)
{
	const struct yaml_node *count = yaml_get(n, "count");
	char *end;
	if (n->kind != YAML_MAP || !count || count->kind != YAML_SCALAR)
		return errorf(ld, n, "'threshold' needs 'count' and 'within'");
	unsigned long c = strtoul(count->str, &end, 10);
	if (*end || c < 2 || c > 1000000)
		return errorf(ld, count, "threshold count must be a number from 2 to 1000000");
	r->thr_count = (uint32_t)c;
	if (get_duration(ld, yaml_get(n, "within"), &r->thr_within_ns) || get_by(ld, yaml_get(n, "by"), &r->thr_by))
		return -1;
	return 0;
}

/* ---- rules ---- */

static int load_rule(struct loader *ld, const struct yaml_node *item)
{
	static const char *const keys[] = { "rule", "condition", "output", "desc", "priority", "tags",
					    "enabled", "source", "exceptions", "warn_evttypes",
					    "skip-if-unknown-filter", "append", "override", "actions",
					    "sequence", "threshold", NULL };
	static const char *const aok[] = { "condition", "output", "desc", "tags", "exceptions", NULL };
	static const char *const rok[] = { "condition", "output", "desc", "priority", "tags",
					   "exceptions", "enabled", "warn_evttypes",
					   "skip-if-unknown-filter", "actions", NULL };
	struct override ov[16];
	size_t nov;
	bool append;
	const struct yaml_node *v;
	const struct yaml_node *name = item_head(ld, item, "rule", keys, aok, rok, &append, ov, &nov);

	if (!name)
		return -1;

	const char *src = "syscall";
	if ((v = yaml_get(item, "source"))) {
		if (v->kind != YAML_SCALAR)
			return errorf(ld, v, "'source' must be a string");
		src = v->str;
	}
	struct rs_rule *r = ruleset_rule(ld->rs, name->str);
	bool modify = append || nov > 0;
	/* a rule item with only `enabled` (and the name) switches an existing rule */
	bool only_enabled = !modify && yaml_get(item, "enabled") && item->n == 2;

	/* the sources this engine reads: syscall events, and network flow records (docs/flows.md) */
	bool flow_src = !strcmp(src, "flow");
	if (strcmp(src, "syscall") && !flow_src) {
		if (!r) {
			ld->rs->skipped_source++;
			warnf(ld, name, "rule '%s' has source '%s', which this engine does not read; skipped",
			      name->str, src);
		}
		return 0;
	}
	if ((modify || only_enabled) && !r)
		return errorf(ld, name, "rule '%s' is %s but was not defined before", name->str,
			      only_enabled ? "enabled/disabled" : append ? "appended to" : "overridden");
	if (only_enabled)
		return get_bool(ld, yaml_get(item, "enabled"), "enabled", &r->enabled);

	if (!modify) {
		bool added = !r;
		if (r) {
			rule_free(r);
		} else {
			ld->rs->rules = xgrow(ld->rs->rules, ld->rs->nrules, sizeof(*r));
			r = &ld->rs->rules[ld->rs->nrules++];
		}
		memset(r, 0, sizeof(*r));
		r->name = xstrdup(name->str);
		if (added)
			index_add(&ld->rs->rule_idx, ld->rs->rules, sizeof(*r), ld->rs->nrules - 1);
		r->enabled = true;
		r->warn_evttypes = true; /* Falco's default */
		r->source = xstrdup(flow_src ? "flow" : "syscall");
		r->priority = PRIO_DEBUG;
		r->where = src_of(ld, name, 0);
	}
	struct {
		const char *key;
		struct rs_text *t;
		bool *has;
	} texts[] = { { "condition", &r->cond, &r->has_cond }, { "output", &r->output, &r->has_output } };
	for (size_t i = 0; i < 2; i++) {
		if (!(v = yaml_get(item, texts[i].key)))
			continue;
		if (v->kind != YAML_SCALAR)
			return errorf(ld, v, "'%s' must be a string", texts[i].key);
		if (ov_mode_of(ov, nov, texts[i].key, append) == OV_APPEND)
			text_append(ld, texts[i].t, v);
		else
			text_set(ld, texts[i].t, v);
		*texts[i].has = true;
	}
	if ((v = yaml_get(item, "desc"))) {
		if (v->kind != YAML_SCALAR)
			return errorf(ld, v, "'desc' must be a string");
		if (ov_mode_of(ov, nov, "desc", append) == OV_APPEND && r->desc) {
			char *d = xmalloc(strlen(r->desc) + v->len + 2);
			sprintf(d, "%s %s", r->desc, v->str);
			free(r->desc);
			r->desc = d;
		} else if (get_str(ld, v, "desc", &r->desc)) {
			return -1;
		}
		r->has_desc = true;
	}
	if ((v = yaml_get(item, "priority"))) {
		int p = v->kind == YAML_SCALAR ? priority_parse(v->str) : -1;
		if (p < 0)
			return errorf(ld, v, "invalid priority '%s' (EMERGENCY, ALERT, CRITICAL, ERROR, "
					     "WARNING, NOTICE, INFORMATIONAL, DEBUG)",
				      v->kind == YAML_SCALAR ? v->str : "?");
		r->priority = p;
		r->has_priority = true;
	}
	if ((v = yaml_get(item, "tags"))) {
		if (ov_mode_of(ov, nov, "tags", append) != OV_APPEND) {
			strv_free(r->tags, r->ntags);
			r->tags = NULL;
			r->ntags = 0;
		}
		if (get_strv(ld, v, "tags", &r->tags, NULL, &r->ntags))
			return -1;
	}
	if ((v = yaml_get(item, "actions"))) {
		strv_free(r->actions, r->nactions);
		r->actions = NULL;
		r->nactions = 0;
		if (get_strv(ld, v, "actions", &r->actions, NULL, &r->nactions))
			return -1;
	}
	if ((v = yaml_get(item, "sequence")) && load_sequence(ld, v, r))
		return -1;
	if ((v = yaml_get(item, "threshold")) && load_threshold(ld, v, r))
		return -1;
	if (r->nsteps && r->has_cond)
		return errorf(ld, name, "rule '%s' has both 'condition' and 'sequence'", r->name);
	if ((v = yaml_get(item, "enabled")) && get_bool(ld, v, "enabled", &r->enabled))
		return -1;
	if ((v = yaml_get(item, "warn_evttypes")) && get_bool(ld, v, "warn_evttypes", &r->warn_evttypes))
		return -1;
	if ((v = yaml_get(item, "skip-if-unknown-filter")) &&
	    get_bool(ld, v, "skip-if-unknown-filter", &r->skip_if_unknown_filter))
		return -1;
	if ((v = yaml_get(item, "exceptions")) &&
	    load_exceptions(ld, v, r, ov_mode_of(ov, nov, "exceptions", append) == OV_APPEND))
		return -1;
	if (!modify) {
		const char *missing = !r->has_cond && !r->nsteps ? "condition" : !r->has_output ? "output"
				    : !r->has_desc ? "desc" : !r->has_priority ? "priority" : NULL;
		if (missing)
			return errorf(ld, name, "rule '%s' has no '%s'", r->name, missing);
	}
	return 0;
}

/* ---- versions ---- */

/* Compare dotted numeric versions; a bare integer N means 0.N.0 (Falco's old engine versions). */
static int version_cmp(const char *a, const char *b)
{
	unsigned long va[3] = { 0 }, vb[3] = { 0 };
	if (!strchr(a, '.'))
		va[1] = strtoul(a, NULL, 10);
	else
		sscanf(a, "%lu.%lu.%lu", &va[0], &va[1], &va[2]);
	sscanf(b, "%lu.%lu.%lu", &vb[0], &vb[1], &vb[2]);
	for (int i = 0; i < 3; i++)
		if (va[i] != vb[i])
			return va[i] < vb[i] ? -1 : 1;
	return 0;
}

static bool version_valid(const char *s)
{
	if (!*s)
		return false;
	for (const char *p = s; *p; p++)
		if (!(*p >= '0' && *p <= '9') && *p != '.')
			return false;
	return true;
}

static int load_engine_version(struct loader *ld, const struct yaml_node *v)
{
	if (v->kind != YAML_SCALAR || !version_valid(v->str))
		return errorf(ld, v, "required_engine_version must be a version like 0.57.0");
	if (version_cmp(v->str, RS_ENGINE_VERSION) > 0)
		return errorf(ld, v, "rules require engine version %s; this engine speaks %s", v->str,
			      RS_ENGINE_VERSION);
	return 0;
}

/*
 * The fields of Falco's `container` plugin are built into Vigil, so a
 * requirement on it is met; any other plugin provides sources or fields we do
 * not have, and its rules are skipped or fail with their own error.
 */
static int load_plugin_versions(struct loader *ld, const struct yaml_node *v)
{
	if (v->kind != YAML_SEQ)
		return errorf(ld, v, "required_plugin_versions must be a list");
	for (size_t i = 0; i < v->n; i++) {
		const struct yaml_node *p = v->items[i], *name = yaml_get(p, "name");
		if (!name || name->kind != YAML_SCALAR || !yaml_get(p, "version"))
			return errorf(ld, p, "a plugin requirement needs 'name' and 'version'");
		if (!yaml_is(name, "container"))
			warnf(ld, name, "plugin '%s' is not available; rules that need it are skipped",
			      name->str);
	}
	return 0;
}

static int load_item(struct loader *ld, const struct yaml_node *item)
{
	const struct yaml_node *v;
	if (item->kind != YAML_MAP)
		return errorf(ld, item, "expected a rule, macro or list mapping");
	if (yaml_get(item, "rule"))
		return load_rule(ld, item);
	if (yaml_get(item, "macro"))
		return load_macro(ld, item);
	if (yaml_get(item, "list"))
		return load_list(ld, item);
	if ((v = yaml_get(item, "required_engine_version")))
		return load_engine_version(ld, v);
	if ((v = yaml_get(item, "required_plugin_versions")))
		return load_plugin_versions(ld, v);
	const struct yaml_node *k = item->n ? item->items[0] : item;
	return errorf(ld, k, "unknown item '%s' (expected rule, macro, list, required_engine_version "
			     "or required_plugin_versions)",
		      k->kind == YAML_SCALAR ? k->str : "?");
}

int ruleset_load_buf(struct ruleset *rs, const char *name, const char *buf, size_t len, char *err,
		     size_t errlen)
{
	struct yaml_stream ys;
	char yerr[256];

	if (rs->nfiles == RS_MAX_FILES) {
		snprintf(err, errlen, "%s: too many rule files (at most %d)", name, RS_MAX_FILES);
		return -1;
	}
	struct rs_file *f = &rs->files[rs->nfiles];
	f->path = xstrdup(name);
	f->text = xmalloc(len + 1);
	memcpy(f->text, buf, len);
	f->text[len] = 0;
	f->len = len;
	struct loader ld = { rs, (int)rs->nfiles++, err, errlen };

	if (yaml_parse(buf, len, &ys, yerr, sizeof(yerr))) {
		snprintf(err, errlen, "%s:%s", name, yerr);
		yaml_stream_free(&ys);
		return -1;
	}
	int rc = 0;
	for (size_t d = 0; d < ys.ndocs && !rc; d++) {
		const struct yaml_node *root = ys.docs[d];
		if (yaml_is_null(root))
			continue;
		if (root->kind != YAML_SEQ) {
			rc = errorf(&ld, root, "a rules file is a list of rule, macro and list items");
			break;
		}
		for (size_t i = 0; i < root->n && !rc; i++)
			rc = load_item(&ld, root->items[i]);
	}
	yaml_stream_free(&ys);
	return rc;
}

int ruleset_load_file(struct ruleset *rs, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	struct stat st;
	if (!f) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode) || st.st_size > RS_MAX_FILE_SIZE) {
		snprintf(err, errlen, "%s: not a regular file of at most %u MiB", path, RS_MAX_FILE_SIZE >> 20);
		fclose(f);
		return -1;
	}
	char *buf = xmalloc(st.st_size + 1);
	size_t n = fread(buf, 1, st.st_size, f);
	fclose(f);
	int rc = ruleset_load_buf(rs, path, buf, n, err, errlen);
	free(buf);
	return rc;
}
