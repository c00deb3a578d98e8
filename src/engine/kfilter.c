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
	/* keep filters only (kfilter_compile_keep): opens' access mode, flags and path */
	uint8_t acc;                  /* 1 << (flags & O_ACCMODE) allowed; 0: any */
	uint32_t flags_all;
	bool has_path;
	struct strv pexact, pprefix;
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
	bool keep;       /* a keep filter: what cannot be tested is true (a weaker condition) */
	size_t max;      /* terms of one rule */
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
	strv_free(&t->pexact);
	strv_free(&t->pprefix);
}

static void term_copy(struct kterm *dst, const struct kterm *src)
{
	*dst = *src;
	strv_copy(&dst->names_in, &src->names_in);
	strv_copy(&dst->names_out, &src->names_out);
	strv_copy(&dst->pexact, &src->pexact);
	strv_copy(&dst->pprefix, &src->pprefix);
}

/* Whether the term constrains nothing (always true). */
static bool term_is_true(const struct kterm *t)
{
	return !t->dead && t->types.w[0] == ~0ull && t->types.w[1] == ~0ull && t->lo == INT64_MIN &&
	       t->hi == INT64_MAX && t->res_in.any && t->uid_in.any && !t->res_out.n && !t->uid_out.n && !t->where &&
	       !t->families && !t->exe_set && !t->exe_clear && !t->has_names_in && !t->names_out.n && !t->acc &&
	       !t->flags_all && !t->has_path;
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
	if (b->acc) {
		a->acc = a->acc ? a->acc & b->acc : b->acc;
		if (!a->acc)
			a->dead = true;
	}
	a->flags_all |= b->flags_all;
	if (b->has_path && !a->has_path) { /* both: one of them is enough (a weaker condition) */
		strv_copy(&a->pexact, &b->pexact);
		strv_copy(&a->pprefix, &b->pprefix);
		a->has_path = true;
	}
	if (c->keep && !a->types.w[0] && !a->types.w[1])
		a->dead = true;
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

/* ---- keep filters (kfilter_compile_keep): a weaker condition the kernel can test ---- */

static void types_only(struct kterm *t, const int *v, size_t n)
{
	t->types.w[0] = t->types.w[1] = 0;
	for (size_t i = 0; i < n; i++)
		t->types.w[v[i] >> 6] |= 1ull << (v[i] & 63);
}

static const int open_types[] = { VG_EVT_OPEN, VG_EVT_OPENAT, VG_EVT_OPENAT2, VG_EVT_CREAT };

/* A term for the open types (the last n of them without creat when !creat), and one true for every other type. */
static struct kterm *open_term(struct dnf *out, bool creat)
{
	struct kterm *rest = dnf_add(out);
	types_only(rest, open_types, 4);
	rest->types.w[0] = ~rest->types.w[0];
	rest->types.w[1] = ~rest->types.w[1];
	if (!creat) /* creat has no flags argument: the test is false there, but true is weaker */
		rest->types.w[VG_EVT_CREAT >> 6] |= 1ull << (VG_EVT_CREAT & 63);
	struct kterm *t = dnf_add(out);
	types_only(t, open_types, creat ? 4 : 3);
	return t;
}

/* The literal head of a glob pattern: what every match starts with. */
static size_t glob_head(const char *v)
{
	return strcspn(v, "*?[\\");
}

static void add_prefix(struct kterm *t, const char *v, size_t n)
{
	char buf[4096];
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	memcpy(buf, v, n);
	buf[n] = 0;
	if (!strv_has(&t->pprefix, buf))
		strv_add(&t->pprefix, buf);
}

static const struct {
	const char *name;
	uint32_t bit;
} open_flag_names[] = {
	{ "O_CREAT", 0100 }, { "O_EXCL", 0200 }, { "O_TRUNC", 01000 }, { "O_APPEND", 02000 }, { "O_DIRECTORY", 0200000 },
};

/*
 * The tests a keep filter makes beyond the kill filter's: an open's path, access mode,
 * flags and result, and what vigil.tamper means for an open. Every other test is true,
 * so that the result is implied by the condition. Returns false to leave the test to
 * check_dnf (the kill filter's exact ones).
 */
static bool keep_atom(struct kc *c, const struct cond_node *n, bool neg, struct dnf *out)
{
	const char *f = n->lhs.name, *arg = n->lhs.arg;
	static const char *const exact[] = { "evt.type", "evt.rawres", "evt.failed", "container.id", "proc.name",
					     "user.uid" };
	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		if (!strcmp(f, exact[i]) && !arg && !n->lhs.nxf && !n->rhs_field)
			return false;
	if (neg || n->lhs.nxf || n->rhs_field) {
		dnf_add(out);
		return true;
	}
	struct strv vals = { 0 };
	for (size_t i = 0; i < n->nvals; i++)
		ruleset_expand_value(c->rs, n->vals[i].text, n->vals[i].quoted, add_value, &vals);
	/* evt.arg.X is parsed as the field "evt.arg.X", evt.arg[X] as "evt.arg" with an argument */
	const char *earg = !strncmp(f, "evt.arg.", 8) && !arg ? f + 8 : !strcmp(f, "evt.arg") ? arg : NULL;
	bool path = (!strcmp(f, "fd.name") && !arg) || (earg && !strcmp(earg, "path"));
	bool dir = !strcmp(f, "fd.directory") && !arg;
	enum cond_op op = n->op;

	if ((path && (op == OP_EQ || op == OP_IN || op == OP_STARTSWITH || op == OP_PMATCH || op == OP_GLOB)) ||
	    (dir && (op == OP_EQ || op == OP_IN))) {
		struct kterm *t = open_term(out, true);
		t->has_path = true;
		for (size_t i = 0; i < vals.n && t->has_path; i++) {
			const char *v = vals.v[i];
			size_t h = op == OP_PMATCH || op == OP_GLOB ? glob_head(v) : strlen(v);
			if (dir)
				h = strlen(v);
			if ((op == OP_EQ || op == OP_IN || op == OP_GLOB) && !dir && !v[h]) {
				if (!strv_has(&t->pexact, v))
					strv_add(&t->pexact, v);
			} else if (dir) {
				char buf[4096];
				snprintf(buf, sizeof(buf), "%s%s", v, h && v[h - 1] == '/' ? "" : "/");
				add_prefix(t, buf, strlen(buf));
			} else if (h) {
				add_prefix(t, v, h);
			} else { /* a pattern starting with a wildcard: any path */
				t->has_path = false;
			}
		}
		if (!t->has_path || (!t->pexact.n && !t->pprefix.n)) {
			strv_free(&t->pexact);
			strv_free(&t->pprefix);
			if (t->has_path) /* `in ()`: nothing matches on an open */
				t->dead = true;
			t->has_path = false;
		}
	} else if (!strcmp(f, "evt.is_io_uring") && op == OP_EQ && vals.n == 1) {
		/* the filter sees syscalls only (io_uring records come from other programs, kept) */
		bool v;
		struct kterm *t = dnf_add(out);
		if (parse_bool(vals.v[0], &v) && v)
			t->dead = true;
	} else if ((!strcmp(f, "evt.is_open_write") || !strcmp(f, "evt.is_open_read")) && op == OP_EQ && vals.n == 1) {
		bool v;
		if (parse_bool(vals.v[0], &v) && v) {
			/* modes O_RDONLY 0, O_WRONLY 1, O_RDWR 2: read is 0 or 2, write 1 or 2 */
			struct kterm *t = dnf_add(out);
			types_only(t, open_types, 4);
			t->acc = f[12] == 'w' ? (1 << 1 | 1 << 2) : (1 << 0 | 1 << 2);
		} else {
			dnf_add(out);
		}
	} else if (earg && !strcmp(earg, "flags") && op == OP_CONTAINS && vals.n == 1) {
		uint32_t bit = 0;
		for (size_t i = 0; i < sizeof(open_flag_names) / sizeof(open_flag_names[0]); i++)
			if (!strcmp(vals.v[0], open_flag_names[i].name))
				bit = open_flag_names[i].bit;
		if (bit)
			open_term(out, false)->flags_all = bit;
		else
			dnf_add(out);
	} else if (!strcmp(f, "fd.num") && ((op == OP_GE && vals.n == 1 && !strcmp(vals.v[0], "0")) ||
					    (op == OP_GT && vals.n == 1 && !strcmp(vals.v[0], "-1")))) {
		open_term(out, true)->lo = 0; /* an open's fd is its result */
	} else if (!strcmp(f, "vigil.tamper") && !arg && (op == OP_EQ || op == OP_IN)) {
		/* on an open (src/state/agent_self.c): "memory" is a path below /proc/, the agent's
		 * files and pins are opened for writing (a write mode, O_CREAT or O_TRUNC) */
		bool mem = false, write = false;
		for (size_t i = 0; i < vals.n; i++) {
			const char *v = vals.v[i];
			mem |= !strcmp(v, "memory");
			write |= !strcmp(v, "binary") || !strcmp(v, "rules") || !strcmp(v, "config") ||
				 !strcmp(v, "store") || !strcmp(v, "bpf");
		}
		struct kterm *t = open_term(out, true);
		t->dead = true; /* replaced by the alternatives below */
		if (mem) {
			t = dnf_add(out);
			types_only(t, open_types, 4);
			t->has_path = true;
			strv_add(&t->pprefix, "/proc/");
		}
		if (write) {
			static const uint32_t wbits[] = { 0, 0100, 01000 };
			for (size_t i = 0; i < 3; i++) {
				t = dnf_add(out);
				types_only(t, open_types, 4);
				if (wbits[i])
					t->flags_all = wbits[i];
				else
					t->acc = 1 << 1 | 1 << 2 | 1 << 3;
			}
		}
	} else {
		dnf_add(out);
	}
	strv_free(&vals);
	return true;
}

/* A test in a keep filter: a weaker one where the kernel cannot make it exactly. */
static void keep_check_dnf(struct kc *c, const struct cond_node *n, bool neg, struct dnf *out)
{
	struct dnf d = { 0 };

	if (!keep_atom(c, n, neg, &d))
		check_dnf(c, n, neg, &d);
	if (c->reason) { /* what the kill filter refuses is true here */
		free(c->reason);
		c->reason = NULL;
		dnf_free(&d);
		dnf_add(&d);
	}
	for (size_t i = 0; i < d.n; i++) {
		if (d.t[i].dead) {
			term_free(&d.t[i]);
			continue;
		}
		out->t = xrealloc(out->t, (out->n + 1) * sizeof(*out->t));
		out->t[out->n++] = d.t[i];
	}
	free(d.t);
}

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
			if (out->n == c->max) {
				term_free(&t);
				refuse(c, "more than %zu alternatives", c->max);
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
				if (c->keep && term_is_true(src)) {
					/* true or anything: true */
					dnf_free(out);
					dnf_add(out);
					break;
				}
				if (out->n == c->max) {
					refuse(c, "more than %zu alternatives", c->max);
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
		if (c->keep)
			keep_check_dnf(c, n, neg, out);
		else
			check_dnf(c, n, neg, out);
		return;
	}
}

static struct kfilter *compile(const struct ruleset *rs, const struct rs_rule *r, const char *text,
			       const struct cond_node *cond, bool keep)
{
	struct kfilter *k = xcalloc(1, sizeof(*k));
	struct kc c = { .rs = rs, .keep = keep, .max = keep ? KFILTER_KEEP_TERMS_MAX : KFILTER_TERMS_MAX };
	struct dnf d = { 0 };
	char err[256];
	size_t off;

	if (r && r->nsteps && keep) {
		/* an event a sequence can use matches one of its steps: the or of them */
		for (size_t i = 0; i < r->nsteps && !c.reason; i++) {
			struct cond_node *step = cond_parse(r->steps[i].s, err, sizeof(err), &off);
			struct dnf sd = { 0 };
			if (!step) {
				refuse(&c, "%s", err);
				break;
			}
			to_dnf(&c, step, false, &sd);
			cond_free(step);
			for (size_t j = 0; j < sd.n && !c.reason; j++) {
				if (d.n == c.max) {
					refuse(&c, "more than %zu alternatives", c.max);
					break;
				}
				d.t = xrealloc(d.t, (d.n + 1) * sizeof(*d.t));
				term_copy(&d.t[d.n++], &sd.t[j]);
			}
			dnf_free(&sd);
		}
		cond = NULL;
	} else if (r && (r->nsteps || r->thr_count) && !keep) {
		refuse(&c, "sequences and thresholds are evaluated in userspace");
	} else if (r && !keep) { /* a keep filter may leave the exceptions out: weaker */
		for (size_t i = 0; i < r->nexc; i++)
			if (r->exc[i].nvalues)
				refuse(&c, "exceptions are evaluated in userspace");
	}
	struct cond_node *parsed = NULL;
	if (!c.reason && !cond && !(r && r->nsteps)) {
		cond = parsed = cond_parse(r ? r->cond.s : text, err, sizeof(err), &off);
		if (!cond)
			refuse(&c, "%s", err);
	}
	if (!c.reason && cond)
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

struct kfilter *kfilter_compile(const struct ruleset *rs, const struct rs_rule *r, const struct cond_node *cond)
{
	return compile(rs, r, NULL, cond, false);
}

struct kfilter *kfilter_compile_keep(const struct ruleset *rs, const struct rs_rule *r, const struct cond_node *cond)
{
	return compile(rs, r, NULL, cond, true);
}

struct kfilter *kfilter_compile_keep_text(const struct ruleset *rs, const char *cond)
{
	return compile(rs, NULL, cond, NULL, true);
}

void kfilter_keep_term(const struct kfilter *k, size_t i, struct kfilter_keep *out)
{
	const struct kterm *t = &k->t[i];
	struct vg_kill_term kt;

	memset(out, 0, sizeof(*out));
	kfilter_term(k, i, &kt, &out->names_in, &out->nin, &out->names_out, &out->nout);
	out->types = t->types;
	out->t.res_lo = kt.res_lo;
	out->t.res_hi = kt.res_hi;
	/* a set of results is weakened to its range: the kernel's keep term has none */
	if (t->res_in.n) {
		int64_t lo = t->res_in.v[0], hi = t->res_in.v[0];
		for (int j = 1; j < t->res_in.n; j++) {
			lo = t->res_in.v[j] < lo ? t->res_in.v[j] : lo;
			hi = t->res_in.v[j] > hi ? t->res_in.v[j] : hi;
		}
		out->t.res_lo = lo > out->t.res_lo ? lo : out->t.res_lo;
		out->t.res_hi = hi < out->t.res_hi ? hi : out->t.res_hi;
	}
	memcpy(out->t.uid_in, kt.uid_in, sizeof(out->t.uid_in));
	memcpy(out->t.uid_out, kt.uid_out, sizeof(out->t.uid_out));
	out->t.n_uid_in = kt.n_uid_in;
	out->t.n_uid_out = kt.n_uid_out;
	out->t.where = kt.where;
	out->t.names = kt.names;
	out->t.acc = t->acc;
	out->t.flags_all = t->flags_all;
	out->t.path = t->has_path;
	out->exact = (const char *const *)t->pexact.v;
	out->nexact = t->pexact.n;
	out->prefix = (const char *const *)t->pprefix.v;
	out->nprefix = t->pprefix.n;
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
