/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Necessary-condition prefilters (see prefilter.h).
 *
 * Deriving clauses: a check is its own clause {check}; an `and` has the
 * clauses of all its operands; an `or` has one clause, the union of one
 * clause of each operand (the best), and none when an operand has none; a
 * macro has its body's; a `not` has none. Every clause so derived is implied
 * by the condition: if the condition is true, some atom of each clause is.
 *
 * One file of ~1,150 lines for one job, on purpose: the clauses derived at
 * compile time become the groups that the per-event part (prefilter_pass,
 * group_run, memo_slot) walks for every event, the engine's hottest loop.
 * Compiling and running share the group layout (structs private to this
 * file) and its helpers; split, that layout would move into a header for two
 * files that are one module.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "common/buf.h"
#include "common/log.h"
#include "engine/cnode.h"
#include "engine/prefilter.h"

#define PF_WORDS 3
#define PF_MAX_ATOMS (PF_WORDS * 64)
#define CLAUSE_ATOMS 24 /* an `or` of more checks is no filter worth its cost */
#define RULE_CLAUSES 4  /* clauses kept per rule, best first */
#define NEC_MAX 8       /* clauses kept per subtree while deriving */
#define NEC_DEPTH 48    /* deeper nesting contributes no clauses (fewer clauses are still exact) */

struct pf_mask {
	uint64_t w[PF_WORDS];
};

/*
 * How good an atom is at rejecting cheaply, best first: looked up in its
 * group's tables (an exact literal, a prefix or suffix), a substring search
 * (contains), another check of a string, a check of a number or flag. A
 * primary clause has atoms of the first two classes only.
 */
enum atom_class { AC_INDEX, AC_SCAN, AC_STRING, AC_OTHER, AC_NONE };

struct pf_atom {
	const struct cnode *check;
	int group; /* -1: evaluated alone */
};

/* An exact literal of a group (hash table slot; s NULL when empty) and the atoms it makes true. */
struct pf_exact {
	const char *s;
	size_t len;
	struct pf_mask m;
};

/*
 * A prefix (or suffix) of a group, in a table sorted by bytes (read from the
 * end for suffixes). parent: the longest other entry that is a prefix of
 * this one (-1 none), so the entries a value starts with are one entry and
 * its parent chain.
 */
struct pf_affix {
	const char *s;
	size_t len;
	int parent;
	struct pf_mask any;      /* startswith / endswith atoms: true */
	struct pf_mask boundary; /* pmatch atoms: true at a path component boundary */
	struct pf_mask verify;   /* glob atoms: the head matched, the check decides */
};

struct pf_table {
	struct pf_affix *e;
	uint64_t *key;  /* per entry: its first eight bytes (last eight, reversed, for suffixes) as a number */
	size_t n;
	bool rev; /* suffixes */
};

/*
 * The atoms of one field that one pass computes: lookups, and, in a group
 * with a memo (below), the field's substrings too, whose answers the memo
 * then keeps with the rest.
 */
struct pf_group {
	const struct fref *ref; /* the field: any atom's, all share the slot */
	struct pf_mask members;
	struct pf_exact *exact;
	size_t ecap;            /* power of two, 0 when no exact literal */
	uint64_t lens;          /* bit i: an exact literal of length i (63: of 63 or more) */
	struct pf_table pre, suf;
	struct pf_exact *first; /* pmatch with globs: the path's first component, then the check decides */
	size_t fcap;
	struct pf_memo *memo;   /* groups with more than a hash lookup to do, or NULL */
	bool memoised;          /* gets a memo: prefix, suffix or first-component atoms, riders, or a source key */
	bool source_keyed;      /* a memo also keyed by the record's bytes the value comes from (below) */
	int host;               /* a rider: the group whose memo keeps its answers (below), else -1 */
	int *rider;             /* a host: its riders */
	size_t nrider;
	struct pf_mask all;     /* members, the riders' included: what one run makes known */
	struct strops_needle *needle; /* `contains` literals (at most 64: more stay ungrouped), searched in one pass */
	struct pf_mask *needle_m;     /* and the atoms each makes true */
	size_t nneedle;
};

/*
 * What a group's atoms give for one value is a function of the value alone
 * (the literals are fixed, globs and pmatch read nothing else), so a group
 * that does more than one lookup keeps recent answers keyed by the whole
 * value: an event whose fd.name was seen lately costs a hash and a compare.
 *
 * A group on a field that is a function of this group's field and of one
 * byte more (fref_derived_from: fd.directory and fd.filename of fd.name) is
 * its rider: the host's memo is then keyed by the value and that byte, and
 * keeps the riders' answers too, so a path seen lately costs neither their
 * extraction nor their lookups.
 *
 * Where the value itself is a function of record bytes that are cheaper to
 * read (fref_source_key: an open's fd.name is its path argument resolved),
 * the memo is keyed by those bytes instead, marked apart (bit 7 of the extra
 * byte): a path opened lately is not even resolved again. Nothing else is
 * keyed, nothing goes stale.
 */
#define MEMO_WAYS 4     /* entries a key may be in; the least recently used one of them gives way */
#define MEMO_SETS 1024  /* a power of two: 4096 entries, 512 KiB, pages touched as they fill */
#define MEMO_KEY 96     /* longer keys are not kept (a 128-byte entry) */
struct pf_memo_entry {
	uint32_t len;
	char extra;       /* fref_derived_key's byte when the group has riders; bit 7: keyed by the source */
	struct pf_mask m; /* the group's atoms and its riders' that are true */
	char key[MEMO_KEY];
};
_Static_assert(sizeof(struct pf_memo_entry) == 128, "a memo entry is two cache lines");

/* A set's keys' hashes side by side (one read to find a key) and its pseudo-LRU order. */
struct pf_memo_set {
	uint64_t hash[MEMO_WAYS]; /* top bit set; 0: empty */
	uint8_t plru;             /* bit 0: the older pair is ways 2-3; bit 1: way 1 older than 0; bit 2: way 3 older than 2 */
};

/*
 * Set-associative rather than direct-mapped: on the build capture (76k opens
 * of 5k paths) four ways of 1024 sets miss 6.6k times where 4096 single
 * slots missed 15k, in the same memory.
 */
struct pf_memo {
	struct pf_memo_entry e[MEMO_SETS * MEMO_WAYS];
	struct pf_memo_set set[MEMO_SETS];
};

/*
 * A rule's clauses: the primary one (the best of those whose atoms are
 * lookups of groups or substrings of cheap fields) is computed for all rules
 * at once (prefilter_candidates); the others are checked one by one for the
 * rules that remain (prefilter_pass).
 */
struct pf_rule {
	struct pf_mask primary;
	bool has_primary;
	bool always; /* a candidate on every event (a sequence: its other steps have no clauses here) */
	struct pf_mask c[RULE_CLAUSES];
	int n;
};

struct prefilter {
	struct pf_atom atom[PF_MAX_ATOMS];
	size_t natoms;
	struct pf_group *group;
	size_t ngroups;
	struct pf_rule *rule;
	size_t nrules;
	/* built by prefilter_build */
	size_t rwords;            /* words of a mask over the rules */
	uint64_t *always;         /* rules without a primary clause, and `always` ones */
	uint64_t *rules_of;       /* per atom (rwords each): the rules whose primary clause has it */
	struct pf_mask primary;   /* the atoms of all primary clauses */
	int *eager;               /* the groups those atoms belong to, run first on every event */
	size_t neager;
	uint16_t *eager_atom;     /* and the atoms of primary clauses computed alone (substrings) */
	size_t neager_atom;
	/* per event */
	struct pf_mask known, truth;
	uint64_t *cand;
};

static void mask_set(struct pf_mask *m, size_t b)
{
	m->w[b >> 6] |= 1ull << (b & 63);
}

static void mask_or(struct pf_mask *m, const struct pf_mask *o)
{
	for (int i = 0; i < PF_WORDS; i++)
		m->w[i] |= o->w[i];
}

/* ---- atoms ---- */

/*
 * Whether a check can be computed in its field's group: an exact literal, a
 * prefix or suffix, a glob with a literal head (the head is looked up, then
 * the glob decides), a pmatch (by prefix, or by first component and then
 * the check decides).
 */
static bool groupable(const struct cnode *n)
{
	if (n->kind != CN_CHECK || n->rhs || n->lhs.type != FT_STR)
		return false;
	switch (n->op) {
	case OP_EQ: case OP_IN: case OP_INTERSECTS: case OP_STARTSWITH: case OP_BSTARTSWITH: case OP_ENDSWITH:
		return true;
	case OP_GLOB:
		return n->nvals && n->glob_head > 0;
	case OP_PMATCH:
		if (n->pm.n != n->nvals)
			return false;
		for (size_t i = 0; i < n->pm.n; i++)
			if (n->pm.item[i].glob)
				return n->pm.prefilter; /* by first component (pmlist_first_key) */
		return true;
	default:
		return false;
	}
}

/* A pmatch of the kind looked up by the path's first component. */
static bool pmatch_by_first(const struct cnode *n)
{
	for (size_t i = 0; i < n->pm.n; i++)
		if (n->pm.item[i].glob)
			return true;
	return false;
}

/*
 * Fields whose text is built per event (a rendered argument, a command line,
 * the environment, capability names) or found by walking the process's
 * ancestors: too dear to extract on every event for a primary clause.
 */
static bool field_dear(const struct cnode *n)
{
	static const char *const dear[] = { "evt.arg", "evt.args", "evt.info", "proc.cmdline", "proc.pcmdline",
					    "proc.acmdline", "proc.args", "proc.env", "proc.aname", "proc.aexe",
					    "proc.aexepath", "proc.apid", "thread.cap_permitted", "thread.cap_effective",
					    "thread.cap_inheritable", NULL };
	for (const char *const *d = dear; *d; d++)
		if (!strcmp(n->lhs.def->name, *d))
			return true;
	return false;
}

/*
 * Fields of a few values each (a file's type letter, the event's direction):
 * a test of them rejects few events whatever its literal.
 */
static bool field_few(const struct cnode *n)
{
	static const char *const few[] = { "fd.typechar", "fd.type", "evt.dir", "evt.category", "fd.l4proto",
					   "fd.sockfamily", NULL };
	for (const char *const *f = few; *f; f++)
		if (!strcmp(n->lhs.def->name, *f))
			return true;
	return false;
}

static enum atom_class atom_class(const struct cnode *n)
{
	if (n->kind != CN_CHECK || n->rhs || n->op == OP_REGEX)
		return AC_NONE; /* a regex is too dear to run ahead of the tree */
	if (n->lhs.type != FT_STR)
		return AC_OTHER;
	if (field_dear(n))
		return AC_STRING;
	if (groupable(n))
		return AC_INDEX;
	return n->op == OP_CONTAINS || n->op == OP_BCONTAINS ? AC_SCAN : AC_STRING;
}

/* Whether two checks always give the same result: same field slot, operator and literals. */
static bool same_check(const struct cnode *a, const struct cnode *b)
{
	if (a == b)
		return true;
	if (a->lhs.slot < 0 || a->lhs.slot != b->lhs.slot || a->op != b->op || a->rhs || b->rhs ||
	    a->nvals != b->nvals || a->glob_head != b->glob_head)
		return false;
	for (size_t i = 0; i < a->nvals; i++) {
		if (a->lhs.type == FT_STR) {
			if (a->vals[i].len != b->vals[i].len || memcmp(a->vals[i].s, b->vals[i].s, a->vals[i].len))
				return false;
		} else if (strcmp(a->texts[i], b->texts[i])) {
			return false;
		}
	}
	return true;
}

static int atom_id(struct prefilter *p, const struct cnode *n)
{
	for (size_t i = 0; i < p->natoms; i++)
		if (same_check(p->atom[i].check, n))
			return (int)i;
	if (p->natoms == PF_MAX_ATOMS)
		return -1;
	p->atom[p->natoms].check = n;
	p->atom[p->natoms].group = -1;
	return (int)p->natoms++;
}

/* ---- deriving clauses ---- */

/*
 * The shortest literal an atom compares with (0 for non-strings): a check
 * against a long literal (`fd.name startswith /etc/cron`) rejects more
 * events than one against a short one (`fd.typechar = f`, `fd.directory =
 * /`) -- the rule literal prefilters choose literals by.
 */
static size_t atom_lit(const struct cnode *n)
{
	if (n->lhs.type != FT_STR || !n->nvals || field_few(n))
		return 0;
	if (n->op == OP_GLOB)
		return n->glob_head;
	size_t m = SIZE_MAX;
	if (n->op == OP_PMATCH) {
		for (size_t i = 0; i < n->pm.n; i++)
			if (n->pm.item[i].len < m)
				m = n->pm.item[i].len;
		return m == SIZE_MAX ? 0 : m;
	}
	size_t k = n->op == OP_IN || n->op == OP_INTERSECTS ? n->nvals : 1;
	for (size_t i = 0; i < k; i++)
		if (n->vals[i].len < m)
			m = n->vals[i].len;
	return m;
}

struct nclause {
	const struct cnode *a[CLAUSE_ATOMS];
	int n;
	enum atom_class cls; /* the worst of its atoms */
	size_t lit;          /* the shortest literal of its atoms, at most LIT_ENOUGH */
};

#define LIT_ENOUGH 4 /* literals this long or longer count as equally selective */

static bool nclause_better(const struct nclause *x, const struct nclause *y)
{
	/* a clause of long literals first: of short ones only when there is nothing else */
	if ((x->lit >= 2) != (y->lit >= 2))
		return x->lit >= 2;
	if (x->cls != y->cls)
		return x->cls < y->cls;
	if (x->lit != y->lit)
		return x->lit > y->lit;
	return x->n < y->n;
}

/* Insert c into out[0..*n) kept best first and at most NEC_MAX long. */
static void nclause_add(struct nclause *out, int *n, const struct nclause *c)
{
	int i = *n;
	if (i == NEC_MAX) {
		if (!nclause_better(c, &out[NEC_MAX - 1]))
			return;
		i--;
	} else {
		(*n)++;
	}
	while (i > 0 && nclause_better(c, &out[i - 1])) {
		out[i] = out[i - 1];
		i--;
	}
	out[i] = *c;
}

static int nec(const struct cnode *n, struct nclause *out, int depth)
{
	if (depth > NEC_DEPTH)
		return 0;
	switch (n->kind) {
	case CN_CHECK: {
		enum atom_class k = atom_class(n);
		if (k == AC_NONE)
			return 0;
		out[0].a[0] = n;
		out[0].n = 1;
		out[0].cls = k;
		out[0].lit = atom_lit(n) < LIT_ENOUGH ? atom_lit(n) : LIT_ENOUGH;
		return 1;
	}
	case CN_MACRO:
		return nec(n->kids[0], out, depth + 1);
	case CN_AND: {
		struct nclause *tmp = xmalloc(NEC_MAX * sizeof(*tmp));
		int m = 0;
		for (size_t i = 0; i < n->nkids; i++) {
			int k = nec(n->kids[i], tmp, depth + 1);
			for (int j = 0; j < k; j++)
				nclause_add(out, &m, &tmp[j]);
		}
		free(tmp);
		return m;
	}
	case CN_OR: {
		struct nclause *tmp = xmalloc(NEC_MAX * sizeof(*tmp)), acc = { .n = 0, .cls = AC_INDEX, .lit = LIT_ENOUGH };
		int ok = 1;
		for (size_t i = 0; i < n->nkids && ok; i++) {
			if (!nec(n->kids[i], tmp, depth + 1)) {
				ok = 0;
				break;
			}
			/* tmp[0] is the operand's best clause: its atoms join the union */
			for (int j = 0; j < tmp[0].n && ok; j++) {
				int seen = 0;
				for (int k = 0; k < acc.n && !seen; k++)
					seen = acc.a[k] == tmp[0].a[j];
				if (seen)
					continue;
				if (acc.n == CLAUSE_ATOMS)
					ok = 0;
				else
					acc.a[acc.n++] = tmp[0].a[j];
			}
			if (tmp[0].cls > acc.cls)
				acc.cls = tmp[0].cls;
			if (tmp[0].lit < acc.lit)
				acc.lit = tmp[0].lit;
		}
		free(tmp);
		if (!ok || !acc.n)
			return 0;
		out[0] = acc;
		return 1;
	}
	default:
		return 0;
	}
}

struct prefilter *prefilter_new(void)
{
	return xcalloc(1, sizeof(struct prefilter));
}

/*
 * What computing a clause's atoms costs, roughly: a field built per event or
 * found by walking ancestors counts four, a substring search two more, any
 * other check one. The clauses after the primary one are checked cheapest
 * first (all must hold, so the order changes only the cost): a rule's three
 * ancestor-name lookups before its ten searches of the command line.
 */
static int nclause_cost(const struct nclause *c)
{
	int cost = 0;
	for (int j = 0; j < c->n; j++) {
		const struct cnode *a = c->a[j];
		cost += field_dear(a) ? 4 : 1;
		if (a->op == OP_CONTAINS || a->op == OP_BCONTAINS || a->op == OP_ICONTAINS)
			cost += 2;
	}
	return cost;
}

size_t prefilter_add(struct prefilter *p, const struct cnode *n, bool always)
{
	struct nclause *cl = xmalloc(NEC_MAX * sizeof(*cl));
	int k = n ? nec(n, cl, 0) : 0;
	struct pf_rule r;
	int cost[RULE_CLAUSES];
	memset(&r, 0, sizeof(r));
	for (int i = 0; i < k && r.n < RULE_CLAUSES; i++) {
		struct pf_mask m;
		bool ok = true;
		memset(&m, 0, sizeof(m));
		for (int j = 0; j < cl[i].n && ok; j++) {
			int id = atom_id(p, cl[i].a[j]);
			if (id < 0)
				ok = false; /* the table is full: drop the clause (fewer clauses are still exact) */
			else
				mask_set(&m, (size_t)id);
		}
		if (!ok)
			continue;
		if (!r.has_primary && cl[i].cls <= AC_SCAN) { /* the best clause of grouped atoms */
			r.primary = m;
			r.has_primary = true;
			continue;
		}
		/* cheapest first; equal costs keep the order of nclause_better */
		int at = r.n++, c = nclause_cost(&cl[i]);
		for (; at > 0 && cost[at - 1] > c; at--) {
			r.c[at] = r.c[at - 1];
			cost[at] = cost[at - 1];
		}
		r.c[at] = m;
		cost[at] = c;
	}
	free(cl);
	r.always = always;
	p->rule = xgrow(p->rule, p->nrules, sizeof(*p->rule));
	p->rule[p->nrules] = r;
	return p->nrules++;
}

/* ---- groups ---- */

/* Byte i of an affix or value, from the end for suffixes. */
static inline unsigned char affix_at(const char *s, size_t len, size_t i, bool rev)
{
	return (unsigned char)(rev ? s[len - 1 - i] : s[i]);
}

/* Compare a with b (as the table orders them) over their common length, then by length. */
static int affix_cmp(const char *a, size_t alen, const char *b, size_t blen, bool rev)
{
	size_t m = alen < blen ? alen : blen;
	if (!rev) {
		int r = memcmp(a, b, m);
		if (r)
			return r;
	} else {
		for (size_t i = 0; i < m; i++) {
			int d = affix_at(a, alen, i, true) - affix_at(b, blen, i, true);
			if (d)
				return d;
		}
	}
	return (alen > blen) - (alen < blen);
}

static int cmp_fwd(const void *x, const void *y)
{
	const struct pf_affix *a = x, *b = y;
	return affix_cmp(a->s, a->len, b->s, b->len, false);
}

static int cmp_rev(const void *x, const void *y)
{
	const struct pf_affix *a = x, *b = y;
	return affix_cmp(a->s, a->len, b->s, b->len, true);
}

enum affix_role { AR_ANY, AR_BOUNDARY, AR_VERIFY };

static void affix_add(struct pf_table *t, const char *s, size_t len, size_t atom, enum affix_role role)
{
	size_t i = 0;
	while (i < t->n && !(t->e[i].len == len && !memcmp(t->e[i].s, s, len)))
		i++;
	if (i == t->n) {
		t->e = xrealloc(t->e, (t->n + 1) * sizeof(*t->e));
		memset(&t->e[t->n], 0, sizeof(t->e[t->n]));
		t->e[t->n].s = s;
		t->e[t->n].len = len;
		t->n++;
	}
	mask_set(role == AR_ANY ? &t->e[i].any : role == AR_BOUNDARY ? &t->e[i].boundary : &t->e[i].verify, atom);
}

/*
 * The first eight bytes of s (the last eight from the end, for suffixes) as
 * a big-endian number, zeros past the end: keys compare as the strings do
 * over those bytes, so most comparisons and common prefixes need no loop.
 */
static uint64_t affix_key(const char *s, size_t len, bool rev)
{
	uint64_t k;
	if (len >= 8) {
		memcpy(&k, rev ? s + len - 8 : s, 8);
		return rev ? k : __builtin_bswap64(k); /* little-endian: the last byte is already the top one */
	}
	k = 0;
	for (size_t i = 0; i < 8; i++)
		k = k << 8 | (i < len ? affix_at(s, len, i, rev) : 0);
	return k;
}

static void affix_sort(struct pf_table *t)
{
	if (t->n)
		qsort(t->e, t->n, sizeof(*t->e), t->rev ? cmp_rev : cmp_fwd);
	t->key = xcalloc(t->n + 1, sizeof(*t->key));
	for (size_t i = 0; i < t->n; i++)
		t->key[i] = affix_key(t->e[i].s, t->e[i].len, t->rev);
	for (size_t i = 0; i < t->n; i++) {
		struct pf_affix *e = &t->e[i];
		e->parent = -1;
		for (size_t j = i; j-- > 0;) { /* an entry's prefixes sort before it; the nearest is the longest */
			const struct pf_affix *q = &t->e[j];
			size_t k = 0;
			while (k < q->len && k < e->len && affix_at(q->s, q->len, k, t->rev) == affix_at(e->s, e->len, k, t->rev))
				k++;
			if (q->len < e->len && k == q->len) {
				e->parent = (int)j;
				break;
			}
		}
	}
}

static void table_add(struct pf_exact *tab, size_t cap, const char *s, size_t len, size_t atom)
{
	size_t k = strops_hash(s, len) & (cap - 1);
	while (tab[k].s && !(tab[k].len == len && !memcmp(tab[k].s, s, len)))
		k = (k + 1) & (cap - 1);
	tab[k].s = s;
	tab[k].len = len;
	mask_set(&tab[k].m, atom);
}

static const struct pf_exact *table_get(const struct pf_exact *tab, size_t cap, const char *s, size_t len)
{
	for (size_t k = strops_hash(s, len) & (cap - 1); tab[k].s; k = (k + 1) & (cap - 1))
		if (tab[k].len == len && !memcmp(tab[k].s, s, len))
			return &tab[k];
	return NULL;
}

static void exact_add(struct pf_group *g, const char *s, size_t len, size_t atom)
{
	table_add(g->exact, g->ecap, s, len, atom);
	g->lens |= 1ull << (len < 63 ? len : 63);
}

static size_t table_cap(size_t n)
{
	size_t cap = 8;
	while (cap < n * 2)
		cap <<= 1;
	return cap;
}


static void needle_add(struct pf_group *g, const char *s, size_t len, size_t atom)
{
	size_t i = 0;
	while (i < g->nneedle && !(g->needle[i].len == len && !memcmp(g->needle[i].s, s, len)))
		i++;
	if (i == g->nneedle) {
		g->needle = xrealloc(g->needle, (g->nneedle + 1) * sizeof(*g->needle));
		g->needle_m = xrealloc(g->needle_m, (g->nneedle + 1) * sizeof(*g->needle_m));
		memset(&g->needle_m[i], 0, sizeof(g->needle_m[i]));
		g->needle[i].s = s;
		g->needle[i].len = len;
		g->nneedle++;
	}
	mask_set(&g->needle_m[i], atom);
}

/*
 * A memo's 552 KiB are mapped, not calloc'ed: calloc may clear every page of
 * it (it did: a fifth of loading the rules went to clearing memos), mapped
 * pages are only touched as slots fill. NULL (no memo, still exact) if the
 * mapping fails.
 */
static struct pf_memo *memo_new(void)
{
	void *m = mmap(NULL, sizeof(struct pf_memo), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	return m == MAP_FAILED ? NULL : m;
}

static void group_build(struct prefilter *p, struct pf_group *g)
{
	size_t nexact = 0, nfirst = 0;
	for (size_t i = 0; i < p->natoms; i++) {
		const struct cnode *n = p->atom[i].check;
		if (p->atom[i].group != g - p->group)
			continue;
		if (n->op == OP_IN || n->op == OP_INTERSECTS)
			nexact += n->nvals;
		else if (n->op == OP_EQ)
			nexact++;
		else if (n->op == OP_PMATCH && pmatch_by_first(n))
			nfirst += n->pm.n;
	}
	if (nexact) {
		g->ecap = table_cap(nexact);
		g->exact = xcalloc(g->ecap, sizeof(*g->exact));
	}
	if (nfirst) {
		g->fcap = table_cap(nfirst);
		g->first = xcalloc(g->fcap, sizeof(*g->first));
	}
	g->suf.rev = true;
	for (size_t i = 0; i < p->natoms; i++) {
		const struct cnode *n = p->atom[i].check;
		if (p->atom[i].group != g - p->group)
			continue;
		/* as check_value: `in` compares with every literal, the others with the first */
		if (n->op == OP_IN || n->op == OP_INTERSECTS) {
			for (size_t k = 0; k < n->nvals; k++)
				exact_add(g, n->vals[k].s, n->vals[k].len, i);
			continue;
		}
		if (n->op == OP_PMATCH && pmatch_by_first(n)) {
			for (size_t k = 0; k < n->pm.first.cap; k++)
				if (n->pm.first.slots[k].s)
					table_add(g->first, g->fcap, n->pm.first.slots[k].s, n->pm.first.slots[k].len, i);
			continue;
		}
		if (n->op == OP_PMATCH) {
			for (size_t k = 0; k < n->pm.n; k++)
				affix_add(&g->pre, n->pm.item[k].s, n->pm.item[k].len, i, AR_BOUNDARY);
			continue;
		}
		if (!n->nvals)
			continue; /* no literal: never true */
		const struct fval *lit = &n->vals[0];
		switch (n->op) {
		case OP_EQ:
			exact_add(g, lit->s, lit->len, i);
			break;
		case OP_STARTSWITH: case OP_BSTARTSWITH:
			affix_add(&g->pre, lit->s, lit->len, i, AR_ANY);
			break;
		case OP_ENDSWITH:
			affix_add(&g->suf, lit->s, lit->len, i, AR_ANY);
			break;
		case OP_GLOB:
			affix_add(&g->pre, lit->s, n->glob_head, i, AR_VERIFY);
			break;
		case OP_CONTAINS: case OP_BCONTAINS:
			needle_add(g, lit->s, lit->len, i);
			break;
		default:
			break;
		}
	}
	affix_sort(&g->pre);
	affix_sort(&g->suf);
	if (g->memoised && g->host < 0) /* a rider's answers are in its host's memo */
		g->memo = memo_new();
}

void prefilter_build(struct prefilter *p)
{
	for (size_t i = 0; i < p->natoms; i++) {
		const struct cnode *n = p->atom[i].check;
		if (!groupable(n))
			continue;
		size_t g = 0;
		while (g < p->ngroups && p->group[g].ref->slot != n->lhs.slot)
			g++;
		if (g == p->ngroups) {
			p->group = xrealloc(p->group, (p->ngroups + 1) * sizeof(*p->group));
			memset(&p->group[g], 0, sizeof(p->group[g]));
			p->group[g].ref = &n->lhs;
			p->ngroups++;
		}
		p->atom[i].group = (int)g;
		mask_set(&p->group[g].members, i);
		if (n->op != OP_EQ && n->op != OP_IN && n->op != OP_INTERSECTS)
			p->group[g].memoised = true;
	}
	/* riders: a group on a field derived from another group's (which then gets a memo) */
	for (size_t g = 0; g < p->ngroups; g++) {
		struct pf_group *r = &p->group[g];
		r->host = -1;
		for (size_t h = 0; h < p->ngroups && r->host < 0; h++) {
			struct pf_group *host = &p->group[h];
			if (h != g && fref_derived_from(r->ref, host->ref)) {
				r->host = (int)h;
				host->rider = xrealloc(host->rider, (host->nrider + 1) * sizeof(*host->rider));
				host->rider[host->nrider++] = (int)g;
				host->memoised = true;
			}
		}
	}
	for (size_t g = 0; g < p->ngroups; g++) {
		p->group[g].source_keyed = fref_source_keyed(p->group[g].ref);
		if (p->group[g].source_keyed)
			p->group[g].memoised = true;
	}
	/* substrings join a group that will have a memo: searched once per value
	 * seen, all of a group's in one pass (strops_contains_set: 64 at most) */
	size_t *joined = xcalloc(p->ngroups + 1, sizeof(*joined));
	for (size_t i = 0; i < p->natoms; i++) {
		const struct cnode *n = p->atom[i].check;
		if (n->rhs || n->lhs.type != FT_STR || (n->op != OP_CONTAINS && n->op != OP_BCONTAINS))
			continue;
		for (size_t g = 0; g < p->ngroups; g++) {
			const struct pf_group *gr = &p->group[g];
			if (gr->memoised && gr->host < 0 && gr->ref->slot == n->lhs.slot && joined[g] < 64) {
				joined[g]++;
				p->atom[i].group = (int)g;
				mask_set(&p->group[g].members, i);
				break;
			}
		}
	}
	free(joined);
	for (size_t g = 0; g < p->ngroups; g++) {
		p->group[g].all = p->group[g].members;
		for (size_t k = 0; k < p->group[g].nrider; k++)
			mask_or(&p->group[g].all, &p->group[p->group[g].rider[k]].members);
	}
	for (size_t g = 0; g < p->ngroups; g++)
		group_build(p, &p->group[g]);

	p->rwords = (p->nrules + 63) / 64;
	p->always = xcalloc(p->rwords ? p->rwords : 1, sizeof(uint64_t));
	p->cand = xcalloc(p->rwords ? p->rwords : 1, sizeof(uint64_t));
	p->rules_of = xcalloc(p->natoms * p->rwords + 1, sizeof(uint64_t));
	for (size_t r = 0; r < p->nrules; r++) {
		const struct pf_rule *pr = &p->rule[r];
		if (!pr->has_primary || pr->always)
			p->always[r >> 6] |= 1ull << (r & 63);
		if (!pr->has_primary)
			continue;
		mask_or(&p->primary, &pr->primary);
		for (size_t b = 0; b < p->natoms; b++)
			if (pr->primary.w[b >> 6] >> (b & 63) & 1)
				p->rules_of[b * p->rwords + (r >> 6)] |= 1ull << (r & 63);
	}
	p->eager = xcalloc(p->ngroups + 1, sizeof(*p->eager));
	for (size_t g = 0; g < p->ngroups; g++) {
		bool used = false;
		for (int w = 0; w < PF_WORDS; w++)
			used |= (p->group[g].all.w[w] & p->primary.w[w]) != 0;
		if (used && p->group[g].host < 0) /* a rider is run by its host */
			p->eager[p->neager++] = (int)g;
	}
	p->eager_atom = xcalloc(p->natoms + 1, sizeof(*p->eager_atom));
	for (size_t b = 0; b < p->natoms; b++)
		if (p->atom[b].group < 0 && (p->primary.w[b >> 6] >> (b & 63) & 1))
			p->eager_atom[p->neager_atom++] = (uint16_t)b;
}

void prefilter_free(struct prefilter *p)
{
	if (!p)
		return;
	for (size_t g = 0; g < p->ngroups; g++) {
		free(p->group[g].exact);
		free(p->group[g].first);
		if (p->group[g].memo)
			munmap(p->group[g].memo, sizeof(struct pf_memo));
		free(p->group[g].needle);
		free(p->group[g].needle_m);
		free(p->group[g].rider);
		free(p->group[g].pre.e);
		free(p->group[g].suf.e);
		free(p->group[g].pre.key);
		free(p->group[g].suf.key);
	}
	free(p->group);
	free(p->rule);
	free(p->always);
	free(p->rules_of);
	free(p->eager);
	free(p->eager_atom);
	free(p->cand);
	free(p);
}

/* ---- per event ---- */

void prefilter_reset(struct prefilter *p)
{
	memset(&p->known, 0, sizeof(p->known));
	memset(&p->truth, 0, sizeof(p->truth));
}

/* The atoms of which (not yet in m) that the value makes true, by their own checks, into m. */
static void verify(const struct prefilter *p, const struct pf_mask *which, const struct fval *v, struct pf_mask *m,
		   struct ectx *c)
{
	for (int w = 0; w < PF_WORDS; w++) {
		for (uint64_t b = which->w[w] & ~m->w[w]; b; b &= b - 1) {
			size_t a = (size_t)w * 64 + (size_t)__builtin_ctzll(b);
			if (filter_check_value(p->atom[a].check, v, c))
				m->w[w] |= 1ull << (a & 63);
		}
	}
}

/* The entries of t that v starts with (ends with, for suffixes): their atoms into m. */
static void affix_match(const struct pf_table *t, const struct fval *v, struct pf_mask *m, struct ectx *c,
			const struct prefilter *p)
{
	const char *s = v->s;
	size_t len = v->len;
	bool rev = t->rev;
	uint64_t vk = affix_key(s, len, rev);
	/* the last entry <= the value; the longest entry the value starts with is it or on its parent chain */
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct pf_affix *e = &t->e[mid];
		bool le = t->key[mid] != vk ? t->key[mid] < vk : affix_cmp(e->s, e->len, s, len, rev) <= 0;
		if (le)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return;
	const struct pf_affix *e = &t->e[lo - 1];
	size_t lcp, k = e->len < len ? e->len : len;
	uint64_t x = t->key[lo - 1] ^ vk;
	if (x) { /* they differ within eight bytes: the first differing byte, or where one ends */
		lcp = (size_t)__builtin_clzll(x) / 8;
		if (lcp > k)
			lcp = k;
	} else {
		lcp = k < 8 ? k : 8;
		while (lcp < k && affix_at(e->s, e->len, lcp, rev) == affix_at(s, len, lcp, rev))
			lcp++;
	}
	int i = (int)lo - 1;
	while (i >= 0 && t->e[i].len > lcp)
		i = t->e[i].parent;
	for (; i >= 0; i = t->e[i].parent) {
		const struct pf_affix *a = &t->e[i];
		mask_or(m, &a->any);
		/* pmatch (prefixes only): at a component boundary (strops_pmatch_prefix) */
		if (!rev && (len == a->len || s[a->len] == '/' || (a->len && a->s[a->len - 1] == '/')))
			mask_or(m, &a->boundary);
		verify(p, &a->verify, v, m, c);
	}
}

/* The atoms of g one value makes true, into m. */
static void group_value(const struct prefilter *p, const struct pf_group *g, const struct fval *v,
			struct pf_mask *m, struct ectx *c)
{
	size_t len = v->len;
	if (g->ecap && (g->lens >> (len < 63 ? len : 63) & 1)) {
		const struct pf_exact *x = table_get(g->exact, g->ecap, v->s, len);
		if (x)
			mask_or(m, &x->m);
	}
	if (g->fcap) {
		size_t n;
		const char *k = pmlist_first_key(v->s, len, &n);
		const struct pf_exact *x = table_get(g->first, g->fcap, k, n);
		if (x)
			verify(p, &x->m, v, m, c);
	}
	if (g->pre.n)
		affix_match(&g->pre, v, m, c, p);
	if (g->suf.n)
		affix_match(&g->suf, v, m, c, p);
	if (g->nneedle)
		for (uint64_t b = strops_contains_set(v->s, len, g->needle, g->nneedle); b; b &= b - 1)
			mask_or(m, &g->needle_m[__builtin_ctzll(b)]);
}

/* The atoms of g (not a host) its values make true, into m. */
static void group_values(const struct prefilter *p, const struct pf_group *g, struct pf_mask *m, struct ectx *c)
{
	const struct fval *v;
	int n = fref_extract(c, g->ref, &v);
	for (int i = 0; i < n; i++)
		group_value(p, g, &v[i], m, c);
}

/* The atoms of host g and of its riders that the event makes true, into m. */
static void group_and_riders(const struct prefilter *p, const struct pf_group *g, const struct fval *v, int n,
			     struct pf_mask *m, struct ectx *c)
{
	for (int i = 0; i < n; i++)
		group_value(p, g, &v[i], m, c);
	for (size_t k = 0; k < g->nrider; k++)
		group_values(p, &p->group[g->rider[k]], m, c);
}

/* The way of a set that gives way next: the older pair, then its older way. */
static inline int plru_victim(uint8_t b)
{
	return b & 1 ? (b & 4 ? 3 : 2) : (b & 2 ? 1 : 0);
}

/* The set's order after a use of way w: the other pair, and w's pair partner, are older. */
static inline uint8_t plru_touch(uint8_t b, int w)
{
	if (w < 2)
		return (uint8_t)(((b | 1) & ~2) | (w == 0 ? 2 : 0));
	return (uint8_t)((b & ~(1 | 4)) | (w == 2 ? 4 : 0));
}

/*
 * The memo entry of a key (a value or its source) and extra byte, claimed
 * for it; *hit: whether it already holds the key's answers (else its mask is
 * cleared). len is at most MEMO_KEY.
 */
static struct pf_memo_entry *memo_slot(const struct pf_group *g, const char *key, size_t len, char extra, bool *hit)
{
	uint64_t h = (strops_hash(key, len) ^ (uint8_t)extra) | 1ull << 63;
	size_t k = h & (MEMO_SETS - 1);
	struct pf_memo_set *s = &g->memo->set[k];
	struct pf_memo_entry *e = &g->memo->e[k * MEMO_WAYS];
	int w = 0;
	while (w < MEMO_WAYS && !(s->hash[w] == h && e[w].len == len && e[w].extra == extra &&
				   !memcmp(e[w].key, key, len)))
		w++;
	*hit = w < MEMO_WAYS;
	if (!*hit) {
		w = plru_victim(s->plru);
		s->hash[w] = h;
		memset(&e[w].m, 0, sizeof(e[w].m));
		e[w].len = (uint32_t)len;
		e[w].extra = extra;
		memcpy(e[w].key, key, len);
	}
	s->plru = plru_touch(s->plru, w);
	return &e[w];
}

/* The answers of g and its riders, into t (zeroed), through the memo where it can. */
static void group_answers(struct prefilter *p, const struct pf_group *g, struct pf_mask *t, struct ectx *c)
{
	const struct fval *v;
	const char *key;
	size_t len;
	char extra;
	bool hit;
	if (g->memo && g->source_keyed && fref_source_key(c, g->ref, &key, &len, &extra) && len <= MEMO_KEY) {
		struct pf_memo_entry *e = memo_slot(g, key, len, (char)(extra | 0x80), &hit);
		if (!hit) {
			int n = fref_extract(c, g->ref, &v);
			group_and_riders(p, g, v, n, &e->m, c);
		}
		*t = e->m;
		return;
	}
	int n = fref_extract(c, g->ref, &v);
	if (g->memo && g->nrider && n == 1 && v->len <= MEMO_KEY) {
		/* the riders' answers are kept with a single value's */
		struct pf_memo_entry *e = memo_slot(g, v->s, v->len, fref_derived_key(c, g->ref) & 0x7f, &hit);
		if (!hit)
			group_and_riders(p, g, v, n, &e->m, c);
		*t = e->m;
	} else if (g->memo && !g->nrider) {
		for (int i = 0; i < n; i++) {
			if (v[i].len > MEMO_KEY) {
				group_value(p, g, &v[i], t, c);
				continue;
			}
			struct pf_memo_entry *e = memo_slot(g, v[i].s, v[i].len, 0, &hit);
			if (!hit)
				group_value(p, g, &v[i], &e->m, c);
			mask_or(t, &e->m);
		}
	} else {
		group_and_riders(p, g, v, n, t, c);
	}
}

static void group_run(struct prefilter *p, const struct pf_group *g, struct ectx *c)
{
	struct pf_mask t;
	memset(&t, 0, sizeof(t));
	group_answers(p, g, &t, c);
	for (int w = 0; w < PF_WORDS; w++) {
		p->known.w[w] |= g->all.w[w];
		p->truth.w[w] |= t.w[w] & g->all.w[w];
	}
}

static void atom_run(struct prefilter *p, size_t b, struct ectx *c)
{
	const struct pf_atom *a = &p->atom[b];
	if (a->group >= 0) {
		const struct pf_group *g = &p->group[a->group];
		group_run(p, g->host >= 0 ? &p->group[g->host] : g, c);
		return;
	}
	bool v = filter_eval_node(a->check, c);
	p->known.w[b >> 6] |= 1ull << (b & 63);
	p->truth.w[b >> 6] |= (uint64_t)v << (b & 63);
}

/* Whether some atom of m is true, computing unknown ones until one is. */
static bool clause_true(struct prefilter *p, const struct pf_mask *m, struct ectx *c)
{
	for (int w = 0; w < PF_WORDS; w++)
		if (m->w[w] & p->truth.w[w])
			return true;
	for (int w = 0; w < PF_WORDS; w++) {
		uint64_t todo = m->w[w] & ~p->known.w[w];
		while (todo) {
			size_t b = (size_t)w * 64 + (size_t)__builtin_ctzll(todo);
			atom_run(p, b, c);
			for (int x = 0; x < PF_WORDS; x++)
				if (m->w[x] & p->truth.w[x])
					return true;
			todo &= ~p->known.w[w];
		}
	}
	return false;
}

const uint64_t *prefilter_candidates(struct prefilter *p, struct ectx *c)
{
	prefilter_reset(p);
	for (size_t i = 0; i < p->neager; i++)
		group_run(p, &p->group[p->eager[i]], c);
	for (size_t i = 0; i < p->neager_atom; i++)
		atom_run(p, p->eager_atom[i], c);
	memcpy(p->cand, p->always, p->rwords * sizeof(uint64_t));
	for (int w = 0; w < PF_WORDS; w++) {
		uint64_t bits = p->truth.w[w] & p->primary.w[w];
		while (bits) {
			size_t b = (size_t)w * 64 + (size_t)__builtin_ctzll(bits);
			bits &= bits - 1;
			const uint64_t *r = &p->rules_of[b * p->rwords];
			for (size_t k = 0; k < p->rwords; k++)
				p->cand[k] |= r[k];
		}
	}
	return p->cand;
}

bool prefilter_pass(struct prefilter *p, size_t h, struct ectx *c)
{
	const struct pf_rule *r = &p->rule[h];
	if (r->has_primary) { /* its atoms are known: prefilter_candidates computed them */
		uint64_t any = 0;
		for (int w = 0; w < PF_WORDS; w++)
			any |= r->primary.w[w] & p->truth.w[w];
		if (!any)
			return false;
	}
	for (int i = 0; i < r->n; i++)
		if (!clause_true(p, &r->c[i], c))
			return false;
	return true;
}

size_t prefilter_selfcheck(struct prefilter *p, struct ectx *c)
{
	size_t bad = 0;
	prefilter_reset(p);
	for (size_t b = 0; b < p->natoms; b++)
		if (!(p->known.w[b >> 6] >> (b & 63) & 1))
			atom_run(p, b, c);
	for (size_t b = 0; b < p->natoms; b++) {
		bool grouped = p->truth.w[b >> 6] >> (b & 63) & 1;
		bool alone = filter_eval_node(p->atom[b].check, c);
		if (grouped != alone) {
			const struct cnode *n = p->atom[b].check;
			vg_err("prefilter self-check: %s %s%s%s: grouped %d, alone %d", n->lhs.def->name,
			       cond_op_name(n->op), n->nvals ? " " : "", n->nvals ? n->texts[0] : "", grouped, alone);
			bad++;
		}
	}
	prefilter_reset(p);
	return bad;
}
