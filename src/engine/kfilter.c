/* SPDX-License-Identifier: Apache-2.0 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/buf.h"
#include "common/strv.h"
#include "engine/cond.h"
#include "engine/fields.h"
#include "engine/filter.h"
#include "engine/kfilter.h"
#include "sensor/event_table.h"

#define MACRO_DEPTH 32
/* and/or nesting walked by recursion: a long `a or b or ...` parses into a chain as
 * deep as it is long, and a 50000-operand one overflowed the stack */
#define NEST_MAX 1000

/* A set of integers: either unconstrained (any) or some values. */
struct iset {
	bool any;
	int64_t v[VG_KILL_VALS + 1]; /* one spare: an overflow is detected, then refused */
	int n;
};

/* One conjunction in userspace's form. */
struct kterm {
	struct evtset types;
	int64_t lo, hi;
	struct iset res_in, uid_in;
	struct iset res_out, uid_out; /* .any unused: empty means nothing excluded */
	int where;                    /* enum vg_kill_where */
	uint8_t families;             /* 0: not constrained */
	uint8_t exe_set, exe_clear;
	bool has_names_in;
	struct strv names_in, names_out;
	bool dead;                    /* contradictory: can never match */
};

struct kfilter {
	struct kterm *t;
	size_t n;
	char *reason;
};

/* A DNF: terms joined by or. */
struct dnf {
	struct kterm *t;
	size_t n;
};

struct kc {
	const struct ruleset *rs;
	char *reason; /* the first reason the rule cannot be decided in the kernel */
	int depth;
	int nest; /* and/or levels being walked */
};

static void refuse(struct kc *c, const char *fmt, ...)
{
	if (c->reason)
		return;
	va_list ap;
	va_start(ap, fmt);
	char buf[256];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	c->reason = xstrdup(buf);
}

static bool iset_has(const struct iset *s, int64_t v)
{
	for (int i = 0; i < s->n; i++)
		if (s->v[i] == v)
			return true;
	return false;
}

static void iset_add(struct kc *c, struct iset *s, int64_t v)
{
	if (iset_has(s, v))
		return;
	if (s->n == VG_KILL_VALS) {
		refuse(c, "more than %d values in one test", VG_KILL_VALS);
		return;
	}
	s->v[s->n++] = v;
}

static void term_init(struct kterm *t)
{
	memset(t, 0, sizeof(*t));
	t->types.w[0] = t->types.w[1] = ~0ull;
	t->lo = INT64_MIN;
	t->hi = INT64_MAX;
	t->res_in.any = t->uid_in.any = true;
}

static void term_free(struct kterm *t)
{
	strv_free(&t->names_in);
	strv_free(&t->names_out);
}

static void term_copy(struct kterm *dst, const struct kterm *src)
{
	*dst = *src;
	strv_copy(&dst->names_in, &src->names_in);
	strv_copy(&dst->names_out, &src->names_out);
}

static void dnf_free(struct dnf *d)
{
	for (size_t i = 0; i < d->n; i++)
		term_free(&d->t[i]);
	free(d->t);
	d->t = NULL;
	d->n = 0;
}

static struct kterm *dnf_add(struct dnf *d)
{
	d->t = xrealloc(d->t, (d->n + 1) * sizeof(*d->t));
	term_init(&d->t[d->n]);
	return &d->t[d->n++];
}

static void iset_and(struct kc *c, struct iset *a, const struct iset *b, bool *dead)
{
	if (b->any)
		return;
	if (a->any) {
		*a = *b;
		return;
	}
	struct iset r = { .any = false };
	for (int i = 0; i < a->n; i++)
		if (iset_has(b, a->v[i]))
			iset_add(c, &r, a->v[i]);
	*a = r;
	if (!r.n)
		*dead = true;
}

static void iset_union(struct kc *c, struct iset *a, const struct iset *b)
{
	for (int i = 0; i < b->n; i++)
		iset_add(c, a, b->v[i]);
}

/* a := a and b */
static void term_and(struct kc *c, struct kterm *a, const struct kterm *b)
{
	a->types.w[0] &= b->types.w[0];
	a->types.w[1] &= b->types.w[1];
	if (b->lo > a->lo)
		a->lo = b->lo;
	if (b->hi < a->hi)
		a->hi = b->hi;
	iset_and(c, &a->res_in, &b->res_in, &a->dead);
	iset_and(c, &a->uid_in, &b->uid_in, &a->dead);
	iset_union(c, &a->res_out, &b->res_out);
	iset_union(c, &a->uid_out, &b->uid_out);
	if (b->where) {
		if (a->where && a->where != b->where)
			a->dead = true;
		a->where = b->where;
	}
	if (b->families) {
		a->families = a->families ? a->families & b->families : b->families;
		if (!a->families)
			a->dead = true;
	}
	a->exe_set |= b->exe_set;
	a->exe_clear |= b->exe_clear;
	if (b->has_names_in) {
		if (a->has_names_in) {
			struct strv keep = { 0 };
			for (size_t i = 0; i < a->names_in.n; i++)
				if (strv_has(&b->names_in, a->names_in.v[i]))
					strv_add(&keep, a->names_in.v[i]);
			strv_free(&a->names_in);
			a->names_in = keep;
			if (!keep.n)
				a->dead = true; /* no name is in both sets */
		} else {
			strv_copy(&a->names_in, &b->names_in);
		}
		a->has_names_in = true;
	}
	for (size_t i = 0; i < b->names_out.n; i++)
		if (!strv_has(&a->names_out, b->names_out.v[i]))
			strv_add(&a->names_out, b->names_out.v[i]);
	a->dead |= b->dead;
}

static void add_value(void *ctx, const char *value)
{
	strv_add(ctx, value);
}

static bool parse_int(const char *s, int64_t *v)
{
	struct fval fv;
	if (fval_parse(FT_INT, s, &fv, NULL))
		return false;
	*v = fv.i;
	return true;
}

static bool parse_bool(const char *s, bool *v)
{
	struct fval fv;
	if (fval_parse(FT_BOOL, s, &fv, NULL))
		return false;
	*v = fv.i != 0;
	return true;
}

/* The DNF of one test (negated when neg): at most two terms. */
static void check_dnf(struct kc *c, const struct cond_node *n, bool neg, struct dnf *out)
{
	const char *f = n->lhs.name;
	enum cond_op op = n->op;
	struct strv vals = { 0 };

	static const char *const known[] = { "evt.type", "evt.rawres", "evt.failed", "container.id", "proc.name",
					     "user.uid", "fd.type", "proc.is_exe_upper_layer", "proc.is_exe_from_memfd" };
	bool is_known = false;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		is_known |= !strcmp(f, known[i]);
	if (!is_known) {
		refuse(c, "%s is not known to the kernel", f);
		return;
	}
	if (n->lhs.nxf || n->rhs_field) {
		refuse(c, "%s with a transformer or val() is evaluated in userspace", f);
		return;
	}
	if (n->lhs.arg) {
		refuse(c, "%s[%s] is not known to the kernel", f, n->lhs.arg);
		return;
	}
	if (op == OP_NE) {
		op = OP_EQ;
		neg = !neg;
	}
	/* lists expanded exactly as the filter compiler expands them */
	for (size_t i = 0; i < n->nvals; i++)
		ruleset_expand_value(c->rs, n->vals[i].text, n->vals[i].quoted, add_value, &vals);
	if (op != OP_EQ && op != OP_IN && op != OP_LT && op != OP_LE && op != OP_GT && op != OP_GE) {
		refuse(c, "%s %s %s is evaluated in userspace", f, cond_op_name(n->op), vals.n ? vals.v[0] : "");
		strv_free(&vals);
		return;
	}
	bool ordered = op == OP_LT || op == OP_LE || op == OP_GT || op == OP_GE;
	if (ordered && vals.n != 1) {
		refuse(c, "%s %s takes one value", f, cond_op_name(n->op));
		strv_free(&vals);
		return;
	}
	struct kterm *t = dnf_add(out);

	if (!strcmp(f, "evt.type") && !ordered) {
		struct evtset s = { { 0, 0 } };
		for (size_t i = 0; i < vals.n; i++) {
			int ty = event_table_find(vals.v[i]);
			if (ty > 0 && ty < 128)
				s.w[ty >> 6] |= 1ull << (ty & 63);
		}
		t->types.w[0] = neg ? ~s.w[0] : s.w[0];
		t->types.w[1] = neg ? ~s.w[1] : s.w[1];
	} else if (!strcmp(f, "evt.rawres") || (!strcmp(f, "user.uid") && !ordered)) {
		bool res = f[0] == 'e';
		struct iset set = { .any = false };
		for (size_t i = 0; i < vals.n; i++) {
			int64_t v;
			if (!parse_int(vals.v[i], &v)) {
				refuse(c, "%s: '%s' is not a number", f, vals.v[i]);
				break;
			}
			if (!res && (v < 0 || v > UINT32_MAX))
				continue; /* no uid has that value */
			iset_add(c, &set, v);
		}
		if (ordered) {
			int64_t v = set.n ? set.v[0] : 0;
			if (neg) /* not (x < v) is x >= v, and so on */
				op = op == OP_LT ? OP_GE : op == OP_LE ? OP_GT : op == OP_GT ? OP_LE : OP_LT;
			if (op == OP_LT && v == INT64_MIN)
				t->dead = true;
			else if (op == OP_LT || op == OP_LE)
				t->hi = op == OP_LT ? v - 1 : v;
			if (op == OP_GT && v == INT64_MAX)
				t->dead = true;
			else if (op == OP_GT || op == OP_GE)
				t->lo = op == OP_GT ? v + 1 : v;
		} else if (neg) {
			*(res ? &t->res_out : &t->uid_out) = set;
		} else {
			*(res ? &t->res_in : &t->uid_in) = set;
			if (!set.n)
				t->dead = true;
		}
	} else if (!strcmp(f, "evt.failed") && op == OP_EQ && vals.n == 1) {
		bool v;
		if (!parse_bool(vals.v[0], &v)) {
			refuse(c, "evt.failed: '%s' is not a boolean", vals.v[0]);
		} else if (v != neg) { /* failed: -4095..-1 (procexit excluded below) */
			t->lo = -4095;
			t->hi = -1;
			t->types.w[VG_EVT_PROCEXIT >> 6] &= ~(1ull << (VG_EVT_PROCEXIT & 63));
		} else { /* succeeded: >= 0 or <= -4096, or a procexit */
			t->lo = 0;
			struct kterm *u = dnf_add(out);
			u->hi = -4096;
			u = dnf_add(out);
			memset(u->types.w, 0, sizeof(u->types.w));
			u->types.w[VG_EVT_PROCEXIT >> 6] = 1ull << (VG_EVT_PROCEXIT & 63);
		}
	} else if (!strcmp(f, "container.id") && op == OP_EQ && vals.n == 1 && !strcmp(vals.v[0], "host")) {
		t->where = neg ? VG_KILL_CONTAINER : VG_KILL_HOST;
	} else if (!strcmp(f, "proc.name") && !ordered) {
		/* a comm holds at most 15 bytes: a longer name never equals it */
		struct strv *set = neg ? &t->names_out : &t->names_in;
		for (size_t i = 0; i < vals.n; i++)
			if (strlen(vals.v[i]) < 16 && !strv_has(set, vals.v[i]))
				strv_add(set, vals.v[i]);
		t->has_names_in = !neg;
		if (!neg && !set->n)
			t->dead = true;
	} else if (!strcmp(f, "fd.type") && !ordered && !neg) {
		for (size_t i = 0; i < vals.n; i++) {
			const char *v = vals.v[i];
			uint8_t bit = !strcmp(v, "ipv4") ? VG_KILL_FAM_INET : !strcmp(v, "ipv6") ? VG_KILL_FAM_INET6 :
				      !strcmp(v, "unix") ? VG_KILL_FAM_UNIX : 0;
			if (!bit) {
				refuse(c, "fd.type %s is evaluated in userspace", v);
				break;
			}
			t->families |= bit;
		}
		/* only dup events: there the kernel reads the dup'ed fd's socket as the sensor does */
		t->types.w[0] = t->types.w[1] = 0;
		static const int dups[] = { VG_EVT_DUP, VG_EVT_DUP2, VG_EVT_DUP3 };
		for (size_t i = 0; i < 3; i++)
			t->types.w[dups[i] >> 6] |= 1ull << (dups[i] & 63);
		if (!t->families)
			t->dead = true;
	} else if ((!strcmp(f, "proc.is_exe_upper_layer") || !strcmp(f, "proc.is_exe_from_memfd")) &&
		   op == OP_EQ && vals.n == 1) {
		bool v;
		uint8_t bit = !strcmp(f, "proc.is_exe_upper_layer") ? VG_EXE_UPPER_LAYER : VG_EXE_MEMFD;
		if (!parse_bool(vals.v[0], &v)) {
			refuse(c, "%s: '%s' is not a boolean", f, vals.v[0]);
		} else {
			/* the exe is the one just executed only on a successful execve: elsewhere the
			 * engine's value comes from the process table, which the kernel does not have */
			if (v != neg)
				t->exe_set = bit;
			else
				t->exe_clear = bit;
			t->types.w[0] = t->types.w[1] = 0;
			t->types.w[VG_EVT_EXECVE >> 6] |= 1ull << (VG_EVT_EXECVE & 63);
			t->types.w[VG_EVT_EXECVEAT >> 6] |= 1ull << (VG_EVT_EXECVEAT & 63);
			t->lo = t->hi = 0;
		}
	} else {
		refuse(c, "%s%s %s %s is evaluated in userspace", neg ? "not " : "", f, cond_op_name(n->op),
		       vals.n ? vals.v[0] : "");
	}
	strv_free(&vals);
}

static void to_dnf(struct kc *c, const struct cond_node *n, bool neg, struct dnf *out);

/* a and b, as a DNF: the cross product of the two. */
static void and_dnf(struct kc *c, struct dnf *a, struct dnf *b, struct dnf *out)
{
	for (size_t i = 0; i < a->n && !c->reason; i++) {
		for (size_t j = 0; j < b->n && !c->reason; j++) {
			struct kterm t;
			term_copy(&t, &a->t[i]);
			term_and(c, &t, &b->t[j]);
			if (t.dead) {
				term_free(&t);
				continue;
			}
			if (out->n == KFILTER_TERMS_MAX) {
				term_free(&t);
				refuse(c, "more than %d alternatives", KFILTER_TERMS_MAX);
				break;
			}
			out->t = xrealloc(out->t, (out->n + 1) * sizeof(*out->t));
			out->t[out->n++] = t;
		}
	}
}

static void macro_dnf(struct kc *c, const struct cond_node *n, bool neg, struct dnf *out)
{
	struct rs_macro *m = ruleset_macro(c->rs, n->macro);
	char err[256];
	size_t off;

	if (!m || c->depth >= MACRO_DEPTH) {
		refuse(c, "macro %s cannot be expanded", n->macro);
		return;
	}
	const struct cond_node *body = ruleset_macro_ast(m, err, sizeof(err), &off);
	if (!body) {
		refuse(c, "macro %s: %s", n->macro, err);
		return;
	}
	c->depth++;
	to_dnf(c, body, neg, out);
	c->depth--;
}

static void to_dnf(struct kc *c, const struct cond_node *n, bool neg, struct dnf *out)
{
	if (c->reason)
		return;
	switch (n->kind) {
	case COND_NOT:
		to_dnf(c, n->a, !neg, out);
		return;
	case COND_AND:
	case COND_OR: {
		struct dnf a = { 0 }, b = { 0 };
		if (c->nest >= NEST_MAX) {
			refuse(c, "more than %d nested and/or operands", NEST_MAX);
			return;
		}
		c->nest++;
		to_dnf(c, n->a, neg, &a);
		to_dnf(c, n->b, neg, &b);
		c->nest--;
		/* De Morgan: under a not, and is or and or is and */
		if ((n->kind == COND_AND) != neg) {
			and_dnf(c, &a, &b, out);
		} else {
			for (size_t i = 0; i < a.n + b.n && !c->reason; i++) {
				const struct kterm *src = i < a.n ? &a.t[i] : &b.t[i - a.n];
				if (src->dead)
					continue;
				if (out->n == KFILTER_TERMS_MAX) {
					refuse(c, "more than %d alternatives", KFILTER_TERMS_MAX);
					break;
				}
				out->t = xrealloc(out->t, (out->n + 1) * sizeof(*out->t));
				term_copy(&out->t[out->n++], src);
			}
		}
		dnf_free(&a);
		dnf_free(&b);
		return;
	}
	case COND_MACRO:
		macro_dnf(c, n, neg, out);
		return;
	case COND_CHECK:
		check_dnf(c, n, neg, out);
		return;
	}
}

struct kfilter *kfilter_compile(const struct ruleset *rs, const struct rs_rule *r, const struct cond_node *cond)
{
	struct kfilter *k = xcalloc(1, sizeof(*k));
	struct kc c = { .rs = rs };
	struct dnf d = { 0 };
	char err[256];
	size_t off;

	if (r->nsteps || r->thr_count) {
		refuse(&c, "sequences and thresholds are evaluated in userspace");
	} else {
		for (size_t i = 0; i < r->nexc; i++)
			if (r->exc[i].nvalues)
				refuse(&c, "exceptions are evaluated in userspace");
	}
	struct cond_node *parsed = NULL;
	if (!c.reason && !cond) {
		cond = parsed = cond_parse(r->cond.s, err, sizeof(err), &off);
		if (!cond)
			refuse(&c, "%s", err);
	}
	if (!c.reason)
		to_dnf(&c, cond, false, &d);
	cond_free(parsed);

	for (size_t i = 0; i < d.n && !c.reason; i++) {
		struct kterm *t = &d.t[i];
		t->types.w[1] &= (1ull << (VG_EVT_MAX - 64)) - 1; /* only real event types */
		if (!t->types.w[0] && !t->types.w[1])
			t->dead = true;
		if (t->res_in.any)
			t->res_in.n = 0;
		if (t->uid_in.any)
			t->uid_in.n = 0;
	}
	if (c.reason) {
		k->reason = c.reason;
		dnf_free(&d);
		return k;
	}
	for (size_t i = 0; i < d.n; i++) {
		if (d.t[i].dead) {
			term_free(&d.t[i]);
			continue;
		}
		d.t[k->n++] = d.t[i];
	}
	k->t = d.t;
	if (!k->n) {
		free(k->t);
		k->t = NULL;
	}
	return k;
}

void kfilter_free(struct kfilter *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < k->n; i++)
		term_free(&k->t[i]);
	free(k->t);
	free(k->reason);
	free(k);
}

const char *kfilter_reason(const struct kfilter *k)
{
	return k->reason;
}

size_t kfilter_nterms(const struct kfilter *k)
{
	return k->reason ? 0 : k->n;
}

void kfilter_term(const struct kfilter *k, size_t i, struct vg_kill_term *out, const char *const **names_in,
		  size_t *nin, const char *const **names_out, size_t *nout)
{
	const struct kterm *t = &k->t[i];

	memset(out, 0, sizeof(*out));
	out->types[0] = t->types.w[0];
	out->types[1] = t->types.w[1];
	out->res_lo = t->lo;
	out->res_hi = t->hi;
	for (int j = 0; j < t->res_in.n; j++)
		out->res_in[j] = t->res_in.v[j];
	out->n_res_in = (uint8_t)t->res_in.n;
	for (int j = 0; j < t->res_out.n; j++)
		out->res_out[j] = t->res_out.v[j];
	out->n_res_out = (uint8_t)t->res_out.n;
	for (int j = 0; j < t->uid_in.n; j++)
		out->uid_in[j] = (uint32_t)t->uid_in.v[j];
	out->n_uid_in = (uint8_t)t->uid_in.n;
	for (int j = 0; j < t->uid_out.n; j++)
		out->uid_out[j] = (uint32_t)t->uid_out.v[j];
	out->n_uid_out = (uint8_t)t->uid_out.n;
	out->where = (uint8_t)t->where;
	out->families = t->families;
	out->exe_set = t->exe_set;
	out->exe_clear = t->exe_clear;
	out->names = (t->has_names_in ? VG_KILL_NAMES_IN : 0) | (t->names_out.n ? VG_KILL_NAMES_OUT : 0);
	*names_in = (const char *const *)t->names_in.v;
	*nin = t->names_in.n;
	*names_out = (const char *const *)t->names_out.v;
	*nout = t->names_out.n;
}
