/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/buf.h"
#include "common/strv.h"
#include "engine/kdrop.h"
#include "engine/kfilter.h"
#include "engine/ruleset.h"
#include "sensor/decode.h"

/* One term of one type: term i of filter f. */
struct kref {
	const struct kfilter *f;
	size_t i;
};

struct kdrop {
	const char *all[VG_EVT_MAX]; /* non-NULL: keep every event of the type, and why */
	struct kref *refs[VG_EVT_MAX];
	size_t nrefs[VG_EVT_MAX];
	struct kfilter **own; /* from kdrop_keep_when */
	size_t nown;
	struct ruleset empty;
};

static const char WHY_NEED[] = "a need keeps every event of it";
static const char WHY_RULE[] = "a rule's condition has no test the kernel can make";
static const char WHY_TERMS[] = "more alternatives than the kernel holds for one type";
static const char WHY_PATHS[] = "more path literals than the kernel holds";

static bool is_open_type(unsigned int t)
{
	return t == VG_EVT_OPEN || t == VG_EVT_OPENAT || t == VG_EVT_OPENAT2 || t == VG_EVT_CREAT;
}

struct kdrop *kdrop_new(void)
{
	struct kdrop *k = xcalloc(1, sizeof(*k));
	ruleset_init(&k->empty);
	return k;
}

void kdrop_free(struct kdrop *k)
{
	if (!k)
		return;
	for (unsigned int t = 0; t < VG_EVT_MAX; t++)
		free(k->refs[t]);
	for (size_t i = 0; i < k->nown; i++)
		kfilter_free(k->own[i]);
	free(k->own);
	ruleset_free(&k->empty);
	free(k);
}

static void keep_all_why(struct kdrop *k, unsigned int t, const char *why)
{
	if (t > 0 && t < VG_EVT_MAX && !k->all[t])
		k->all[t] = why;
}

void kdrop_keep_all(struct kdrop *k, unsigned int t)
{
	keep_all_why(k, t, WHY_NEED);
}

void kdrop_keep_types(struct kdrop *k, const struct evtset *types)
{
	for (unsigned int t = 1; t < VG_EVT_MAX; t++)
		if (evtset_has(types, t))
			kdrop_keep_all(k, t);
}

/* The terms of f for the types in `within` (NULL: every type the terms name). */
static void add_filter(struct kdrop *k, const struct kfilter *f, const struct evtset *within, const char *why)
{
	if (kfilter_reason(f)) {
		for (unsigned int t = 1; t < VG_EVT_MAX; t++)
			if (!within || evtset_has(within, t))
				keep_all_why(k, t, why);
		return;
	}
	for (size_t i = 0; i < kfilter_nterms(f); i++) {
		struct kfilter_keep kk;
		kfilter_keep_term(f, i, &kk);
		for (unsigned int t = 1; t < VG_EVT_MAX; t++) {
			if (!evtset_has(&kk.types, t) || (within && !evtset_has(within, t)))
				continue;
			k->refs[t] = xrealloc(k->refs[t], (k->nrefs[t] + 1) * sizeof(*k->refs[t]));
			k->refs[t][k->nrefs[t]++] = (struct kref){ f, i };
		}
	}
}

int kdrop_keep_when(struct kdrop *k, const char *cond, char *err, size_t errlen)
{
	char msg[256];
	size_t off;
	struct cond_node *n = cond_parse(cond, msg, sizeof(msg), &off);
	if (!n) {
		snprintf(err, errlen, "keep condition, column %zu: %s", off + 1, msg);
		return -1;
	}
	cond_free(n);
	struct kfilter *f = kfilter_compile_keep_text(&k->empty, cond);
	k->own = xrealloc(k->own, (k->nown + 1) * sizeof(*k->own));
	k->own[k->nown++] = f;
	add_filter(k, f, NULL, WHY_NEED);
	return 0;
}

void kdrop_add_engine(struct kdrop *k, const struct engine *e)
{
	for (size_t i = 0; i < engine_rule_count(e); i++) {
		struct engine_rule_info ri;
		engine_rule_info(e, i, &ri);
		if (!ri.enabled || !strcmp(ri.source, "flow"))
			continue;
		if (!ri.keep) {
			for (unsigned int t = 1; t < VG_EVT_MAX; t++)
				if (evtset_has(&ri.types, t))
					keep_all_why(k, t, WHY_RULE);
			continue;
		}
		add_filter(k, ri.keep, &ri.types, WHY_RULE);
	}
}

void kdrop_add_state(struct kdrop *k)
{
	static const int state[] = {
		VG_EVT_CLONE, VG_EVT_CLONE3, VG_EVT_FORK, VG_EVT_VFORK, VG_EVT_EXECVE, VG_EVT_EXECVEAT,
		VG_EVT_PROCEXIT, VG_EVT_CHDIR, VG_EVT_FCHDIR, VG_EVT_SETUID, VG_EVT_SETGID, VG_EVT_SETREUID,
		VG_EVT_SETREGID, VG_EVT_SETRESUID, VG_EVT_SETRESGID,
	};
	for (size_t i = 0; i < sizeof(state) / sizeof(state[0]); i++)
		kdrop_keep_all(k, (unsigned int)state[i]);
}

/* Whether the kernel term constrains nothing: every event of its type matches it. */
static bool term_true(const struct vg_kdrop_term *t, size_t nin, size_t nout)
{
	return t->res_lo == INT64_MIN && t->res_hi == INT64_MAX && !t->n_uid_in && !t->n_uid_out && !t->where &&
	       !nin && !nout && !t->acc && !t->flags_all && !t->path;
}

/* A path literal of one term: exact or a prefix (len: its length as a key, 0 for exact). */
struct lit {
	unsigned int type;
	unsigned int bit;
	size_t len; /* 0: exact */
	char s[VG_KDROP_PATH];
};

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* Add mask to key (type, len, s[0..n)). */
static void put_key(struct kdrop_tables *o, unsigned int type, size_t len, const char *s, size_t n, uint64_t mask)
{
	struct vg_kdrop_path key;
	memset(&key, 0, sizeof(key));
	key.type = (uint16_t)type;
	key.len = (uint16_t)len;
	memcpy(key.s, s, n < sizeof(key.s) ? n : sizeof(key.s));
	for (size_t i = 0; i < o->npaths; i++) {
		if (!memcmp(&o->paths[i], &key, sizeof(key))) {
			o->masks[i] |= mask;
			return;
		}
	}
	o->paths = xrealloc(o->paths, (o->npaths + 1) * sizeof(*o->paths));
	o->masks = xrealloc(o->masks, (o->npaths + 1) * sizeof(*o->masks));
	o->paths[o->npaths] = key;
	o->masks[o->npaths++] = mask;
}

/* One term of one type on its way to the kernel: the kernel's form and its sets. */
struct cand {
	struct vg_kdrop_term t;
	struct strv in, out, exact, prefix;
	bool dead; /* merged into another */
};

static bool same_set(const struct strv *a, const struct strv *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (!strv_has(b, a->v[i]))
			return false;
	return true;
}

/* Whether two terms differ only in their path literals (then one term takes both sets). */
static bool mergeable(const struct cand *a, const struct cand *b)
{
	struct vg_kdrop_term x = a->t, y = b->t;
	return x.path && y.path && !memcmp(&x, &y, sizeof(x)) && same_set(&a->in, &b->in) && same_set(&a->out, &b->out);
}

/* Whether every event b keeps, a keeps too (a tests no path, names or uids: a subset of b's tests). */
static bool subsumes(const struct cand *a, const struct cand *b)
{
	const struct vg_kdrop_term *x = &a->t, *y = &b->t;
	if (x->path || a->in.n || a->out.n || x->n_uid_in || x->n_uid_out)
		return false;
	if (x->acc && (!y->acc || (y->acc & ~x->acc)))
		return false;
	if ((x->flags_all & y->flags_all) != x->flags_all)
		return false;
	if (x->res_lo > y->res_lo || x->res_hi < y->res_hi)
		return false;
	if (x->where && x->where != y->where)
		return false;
	/* equal terms: only the first of them stays */
	if (!memcmp(x, y, sizeof(*x)) && !b->in.n && !b->out.n && !b->t.n_uid_in && !b->t.n_uid_out)
		return a < b;
	return true;
}

static void cand_free(struct cand *c)
{
	strv_free(&c->in);
	strv_free(&c->out);
	strv_free(&c->exact);
	strv_free(&c->prefix);
}

static void add_all(struct strv *dst, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strv_has(dst, v[i]))
			strv_add(dst, v[i]);
}

/* Add the type's term `bit` to the IN or OUT mask of key (type, comm: NUL-padded, 16 bytes). */
static void put_comm(struct kdrop_tables *o, unsigned int type, const char comm[16], uint32_t set, unsigned int bit)
{
	struct vg_kdrop_comm key;
	memset(&key, 0, sizeof(key));
	key.type = (uint16_t)type;
	memcpy(key.comm, comm, sizeof(key.comm) - 1);
	size_t i = 0;
	while (i < o->ncomms && memcmp(&o->comms[i], &key, sizeof(key)))
		i++;
	if (i == o->ncomms) {
		o->comms = xrealloc(o->comms, (o->ncomms + 1) * sizeof(*o->comms));
		o->cvals = xrealloc(o->cvals, (o->ncomms + 1) * sizeof(*o->cvals));
		o->comms[i] = key;
		memset(&o->cvals[i], 0, sizeof(o->cvals[i]));
		o->ncomms++;
	}
	if (set == VG_KDROP_NAMES_IN)
		o->cvals[i].in |= 1ull << bit;
	else
		o->cvals[i].out |= 1ull << bit;
}

/* The first min(plen, 8) bytes of s (NUL-padded to 8 at least), as the kernel loads them. */
static uint64_t bloom_word(const char *s, size_t plen)
{
	uint64_t w = 0;
	memcpy(&w, s, 8);
	if (plen < 8)
		w &= (1ull << (8 * plen)) - 1;
	return w;
}

/*
 * The cheap tests of one type's n terms as masks (include/vigil/kdrop.h): the
 * same tests as the per-term one, so the kernel keeps exactly what it kept.
 */
static void fast_build(const struct vg_kdrop_term *terms, size_t n, struct vg_kdrop_fast *f)
{
	memset(f, 0, sizeof(*f));
	for (size_t j = 0; j < n && j < 64; j++) {
		const struct vg_kdrop_term *x = &terms[j];
		uint64_t bit = 1ull << j;
		bool pos = x->res_hi >= 0, neg = x->res_lo < 0;
		f->side[0] |= bit;
		for (int w = 1; w <= 2; w++)
			if (!x->where || x->where == w)
				f->side[w] |= bit;
		f->side[3] |= bit;
		if (pos)
			f->sign[0] |= bit;
		if (neg)
			f->sign[1] |= bit;
		if ((pos && (x->res_lo > 0 || x->res_hi < INT64_MAX)) || (neg && (x->res_lo > INT64_MIN || x->res_hi < -1)))
			f->exact |= bit; /* a narrower range than the sign: tested exactly */
		if (x->n_uid_in || x->n_uid_out)
			f->exact |= bit;
		if (x->names & VG_KDROP_NAMES_IN)
			f->names_in |= bit;
		if (x->names & VG_KDROP_NAMES_OUT)
			f->names_out |= bit;
		for (unsigned int a = 0; a < 4; a++)
			if (!x->acc || (x->acc & (1u << a)))
				f->acc[a] |= bit;
		for (unsigned int b = 0; b < 32; b++) {
			uint32_t v = 1u << b;
			if (!(x->flags_all & v))
				continue;
			int k = 0;
			while (k < VG_KDROP_FBITS && f->fbit[k] && f->fbit[k] != v)
				k++;
			if (k == VG_KDROP_FBITS) {
				f->exact |= bit; /* no slot left: its flag test is made term by term */
				continue;
			}
			f->fbit[k] = v;
			f->noreq[k] |= bit; /* marked: inverted below */
		}
		if (x->path)
			f->path |= bit;
	}
	uint64_t all = n >= 64 ? ~0ull : (1ull << n) - 1;
	for (unsigned int j = 0; j < 64; j++)
		if (f->exact & (1ull << j)) {
			if (!f->exact_hi)
				f->exact_lo = (uint8_t)j;
			f->exact_hi = (uint8_t)(j + 1);
		}
	for (int k = 0; k < VG_KDROP_FBITS; k++)
		f->noreq[k] = f->fbit[k] ? all & ~f->noreq[k] : all;
}

void kdrop_build(struct kdrop *k, struct kdrop_tables *o)
{
	struct lit *lits = NULL;
	size_t nlits = 0;

	memset(o, 0, sizeof(*o));
	for (unsigned int t = 1; t < VG_EVT_MAX; t++) {
		size_t nr = k->nrefs[t];
		if (k->all[t] || !nr) {
			o->why[t] = k->all[t];
			continue;
		}
		/* the type's terms in the kernel's form; a term whose path literals cannot all be
		 * tested tests no path (weaker) */
		struct cand *cs = xcalloc(nr, sizeof(*cs));
		bool every = false;
		for (size_t j = 0; j < nr; j++) {
			struct kfilter_keep kk;
			struct cand *c = &cs[j];
			kfilter_keep_term(k->refs[t][j].f, k->refs[t][j].i, &kk);
			c->t = kk.t;
			if (!is_open_type(t)) { /* the kernel reads flags and paths of opens only */
				c->t.acc = 0;
				c->t.flags_all = 0;
				c->t.path = 0;
			}
			add_all(&c->in, kk.names_in, kk.nin);
			add_all(&c->out, kk.names_out, kk.nout);
			for (size_t p = 0; c->t.path && p < kk.nexact + kk.nprefix; p++) {
				const char *v = p < kk.nexact ? kk.exact[p] : kk.prefix[p - kk.nexact];
				if (!*v)
					c->t.path = 0; /* "": any path */
				else if (p < kk.nexact && strlen(v) < VG_KDROP_PATH)
					strv_add(&c->exact, v);
				else
					strv_add(&c->prefix, v); /* a long literal: its first bytes (weaker) */
			}
			if (!c->t.path) {
				strv_free(&c->exact);
				strv_free(&c->prefix);
			} else { /* the kernel tests no names on a path term (the path decides): none to merge apart */
				strv_free(&c->in);
				strv_free(&c->out);
			}
			every |= term_true(&c->t, c->in.n, c->out.n);
		}
		/* terms that differ only in their paths become one: fewer for the kernel to walk */
		size_t n = 0;
		for (size_t j = 0; j < nr && !every; j++) {
			if (cs[j].dead)
				continue;
			for (size_t m = j + 1; m < nr; m++) {
				if (cs[m].dead || !mergeable(&cs[j], &cs[m]))
					continue;
				add_all(&cs[j].exact, (const char *const *)cs[m].exact.v, cs[m].exact.n);
				add_all(&cs[j].prefix, (const char *const *)cs[m].prefix.v, cs[m].prefix.n);
				cs[m].dead = true;
			}
			n++;
		}
		/* a term implied by a weaker one is left out: the weaker one keeps its events */
		for (size_t j = 0; j < nr && !every; j++) {
			if (cs[j].dead)
				continue;
			for (size_t m = 0; m < nr; m++) {
				if (m != j && !cs[m].dead && subsumes(&cs[j], &cs[m])) {
					cs[m].dead = true;
					n--;
				}
			}
		}
		size_t nnames = 0;
		for (size_t j = 0; j < nr; j++)
			nnames += cs[j].dead ? 0 : cs[j].in.n + cs[j].out.n;
		if (every || n > VG_KDROP_TYPE_TERMS || o->nterms + n > VG_KDROP_TERMS ||
		    o->nnames + nnames > VG_KDROP_NAMES) {
			o->why[t] = every ? WHY_RULE : WHY_TERMS;
			for (size_t j = 0; j < nr; j++)
				cand_free(&cs[j]);
			free(cs);
			continue;
		}
		size_t first = o->nterms, bit = 0;
		o->terms = xrealloc(o->terms, (first + n) * sizeof(*o->terms));
		for (size_t j = 0; j < nr; j++) {
			struct cand *c = &cs[j];
			if (c->dead) {
				cand_free(c);
				continue;
			}
			uint32_t idx = (uint32_t)(first + bit);
			o->terms[idx] = c->t;
			o->terms[idx].names = (c->in.n ? VG_KDROP_NAMES_IN : 0) | (c->out.n ? VG_KDROP_NAMES_OUT : 0);
			for (size_t m = 0; m < c->in.n + c->out.n; m++) {
				struct vg_kdrop_name nm;
				memset(&nm, 0, sizeof(nm));
				nm.term = idx;
				nm.set = m < c->in.n ? VG_KDROP_NAMES_IN : VG_KDROP_NAMES_OUT;
				strncpy(nm.comm, m < c->in.n ? c->in.v[m] : c->out.v[m - c->in.n], sizeof(nm.comm) - 1);
				o->names = xrealloc(o->names, (o->nnames + 1) * sizeof(*o->names));
				o->names[o->nnames++] = nm;
				put_comm(o, t, nm.comm, nm.set, (unsigned int)bit);
			}
			for (size_t p = 0; c->t.path && p < c->exact.n + c->prefix.n; p++) {
				bool exact = p < c->exact.n;
				const char *v = exact ? c->exact.v[p] : c->prefix.v[p - c->exact.n];
				size_t len = strlen(v);
				if (len >= VG_KDROP_PATH)
					len = VG_KDROP_PATH - 1;
				lits = xrealloc(lits, (nlits + 1) * sizeof(*lits));
				struct lit *l = &lits[nlits++];
				memset(l, 0, sizeof(*l));
				l->type = t;
				l->bit = (unsigned int)bit;
				l->len = exact ? 0 : len;
				memcpy(l->s, v, len);
			}
			cand_free(c);
			bit++;
		}
		free(cs);
		o->mode[t] = VG_KDROP_FILTER;
		o->first[t] = (uint16_t)first;
		o->count[t] = (uint8_t)n;
		o->nterms = first + n;
		fast_build(&o->terms[first], n, &o->fast[t]);
	}

	/* prefix lengths: the VG_KDROP_PLENS shortest; a longer prefix is cut to the longest kept below it */
	uint16_t lens[VG_KDROP_TERMS * 8];
	size_t nlens = 0;
	for (size_t i = 0; i < nlits && nlens < sizeof(lens) / sizeof(lens[0]); i++)
		if (lits[i].len)
			lens[nlens++] = (uint16_t)lits[i].len;
	qsort(lens, nlens, sizeof(lens[0]), cmp_u16);
	for (size_t i = 0; i < nlens; i++)
		if (!o->nplens || o->plens[o->nplens - 1] != lens[i]) {
			if (o->nplens == VG_KDROP_PLENS)
				break;
			o->plens[o->nplens++] = lens[i];
		}
	for (size_t i = 0; i < nlits; i++) {
		struct lit *l = &lits[i];
		if (!l->len) {
			size_t sl = strlen(l->s);
			put_key(o, l->type, 0, l->s, sl, 1ull << l->bit);
			/* the prefixes leading to it too: a miss on a prefix then also rules the
			 * exact literals out, and the kernel skips their lookup */
			for (size_t p = 0; p < o->nplens && o->plens[p] <= sl; p++)
				put_key(o, l->type, o->plens[p], l->s, o->plens[p], 0);
			continue;
		}
		size_t len = 0;
		for (size_t p = 0; p < o->nplens && o->plens[p] <= l->len; p++)
			len = o->plens[p];
		put_key(o, l->type, len, l->s, len, 1ull << l->bit);
		/* the shorter keys leading to it, so that a miss ends the kernel's walk */
		for (size_t p = 0; p < o->nplens && o->plens[p] < len; p++)
			put_key(o, l->type, o->plens[p], l->s, o->plens[p], 0);
	}
	free(lits);
	for (size_t i = 0; i < o->ncomms; i++) {
		uint64_t c[2];
		memcpy(c, o->comms[i].comm, sizeof(c));
		uint32_t b = vg_kdrop_comm_bit(o->comms[i].type, c[0], c[1]);
		o->bloom[b / 64] |= 1ull << (b % 64);
	}
	for (size_t i = 0; o->nplens && i < o->npaths; i++)
		if (o->paths[i].len == o->plens[0]) {
			uint32_t b = vg_kdrop_bloom_bit(o->paths[i].type, bloom_word(o->paths[i].s, o->plens[0]));
			o->bloom[b / 64] |= 1ull << (b % 64);
		}
	if (o->npaths > VG_KDROP_PATHS) {
		/* too many: keep the open types whole rather than test half a set */
		for (unsigned int t = 1; t < VG_EVT_MAX; t++) {
			if (is_open_type(t) && o->mode[t] == VG_KDROP_FILTER) {
				o->mode[t] = VG_KDROP_KEEP_ALL;
				o->why[t] = WHY_PATHS;
			}
		}
		free(o->paths);
		free(o->masks);
		o->paths = NULL;
		o->masks = NULL;
		o->npaths = 0;
	}
}

void kdrop_tables_free(struct kdrop_tables *t)
{
	free(t->terms);
	free(t->names);
	free(t->comms);
	free(t->cvals);
	free(t->paths);
	free(t->masks);
	memset(t, 0, sizeof(*t));
}

size_t kdrop_filtered_types(const struct kdrop_tables *t)
{
	size_t n = 0;
	for (unsigned int i = 0; i < VG_EVT_MAX; i++)
		n += t->mode[i] == VG_KDROP_FILTER;
	return n;
}

/* ---- the kernel's test, in userspace (lib/kdrop.bpf.h): replay's simulation and tests ---- */

static bool in_u32(const uint32_t *set, uint8_t n, uint32_t v)
{
	for (uint8_t i = 0; i < n && i < VG_KDROP_VALS; i++)
		if (set[i] == v)
			return true;
	return false;
}

static bool has_name(const struct kdrop_tables *t, uint32_t term, uint32_t set, const char *comm)
{
	for (size_t i = 0; i < t->nnames; i++)
		if (t->names[i].term == term && t->names[i].set == set && !strncmp(t->names[i].comm, comm, 16))
			return true;
	return false;
}

static bool path_normal(const char *p, size_t len)
{
	if (len > 1 && p[len - 1] == '/')
		return false;
	for (size_t i = 0; i + 1 < len; i++) {
		if (p[i] != '/')
			continue;
		char a = p[i + 1], b = i + 2 < len ? p[i + 2] : 0, c = i + 3 < len ? p[i + 3] : 0;
		if (a == '/' || (a == '.' && (b == '/' || !b)) || (a == '.' && b == '.' && (c == '/' || !c)))
			return false;
	}
	return true;
}

static const uint64_t *find_key(const struct kdrop_tables *t, unsigned int type, size_t len, const char *s, size_t n)
{
	struct vg_kdrop_path key;
	memset(&key, 0, sizeof(key));
	key.type = (uint16_t)type;
	key.len = (uint16_t)len;
	memcpy(key.s, s, n < sizeof(key.s) ? n : sizeof(key.s));
	for (size_t i = 0; i < t->npaths; i++)
		if (!memcmp(&t->paths[i], &key, sizeof(key)))
			return &t->masks[i];
	return NULL;
}

static uint64_t path_mask(const struct kdrop_tables *t, unsigned int type, const char *p)
{
	if (!p)
		return ~0ull;
	size_t len = strlen(p);
	if (!len || len >= VG_KDROP_SCAN || p[0] != '/' || !path_normal(p, len))
		return ~0ull;
	uint64_t mask = 0;
	bool missed = false;
	if (t->nplens && t->plens[0] <= len) {
		/* the kernel's filter in front of the lookups: a clear bit, no key of length plens[0] */
		char w[8] = { 0 };
		memcpy(w, p, len < 8 ? len : 8);
		uint32_t b = vg_kdrop_bloom_bit(type, bloom_word(w, t->plens[0]));
		if (!((t->bloom[b / 64] >> (b % 64)) & 1))
			return 0;
	}
	for (size_t i = 0; i < t->nplens && t->plens[i] <= len; i++) {
		const uint64_t *v = find_key(t, type, t->plens[i], p, t->plens[i]);
		if (!v) {
			missed = true; /* no literal, exact or prefix, continues this prefix */
			break;
		}
		mask |= *v;
	}
	if (len < VG_KDROP_PATH && !missed) {
		const uint64_t *v = find_key(t, type, 0, p, len);
		if (v)
			mask |= *v;
	}
	return mask;
}

/* One term of the kernel's: 0 cannot match, 1 can, 2 can if the open's path is one of its literals. */
static int term_test(const struct kdrop_tables *t, uint32_t i, long ret, uint32_t flags, int side, uint32_t euid,
		     const char *comm)
{
	const struct vg_kdrop_term *k = &t->terms[i];
	if (ret < k->res_lo || ret > k->res_hi)
		return 0;
	if (k->where && side && side != k->where)
		return 0;
	if ((k->n_uid_in && !in_u32(k->uid_in, k->n_uid_in, euid)) || in_u32(k->uid_out, k->n_uid_out, euid))
		return 0;
	if (k->acc && !(k->acc & (1 << (flags & 3))))
		return 0;
	if ((flags & k->flags_all) != k->flags_all)
		return 0;
	if (k->path) /* the kernel does not test a path term's names: the path decides */
		return 2;
	if (!comm) /* the names were tested for every term at once (the masks) */
		return 1;
	if ((k->names & VG_KDROP_NAMES_IN) && !has_name(t, i, VG_KDROP_NAMES_IN, comm))
		return 0;
	if ((k->names & VG_KDROP_NAMES_OUT) && has_name(t, i, VG_KDROP_NAMES_OUT, comm))
		return 0;
	return 1;
}

static bool tables_keep(const struct kdrop_tables *t, const struct vg_event *ev, int side, bool terms_only)
{
	unsigned int type = ev->hdr.type;
	if (type >= VG_EVT_MAX || t->mode[type] != VG_KDROP_FILTER || (ev->hdr.flags & VG_HDR_IO_URING))
		return true;
	uint32_t flags = 0;
	const char *path = NULL;
	if (is_open_type(type)) {
		const struct vg_param_val *pv = event_param(ev, "flags");
		if (type == VG_EVT_CREAT) {
			flags = 0100 | 01 | 01000;
		} else if (pv) {
			for (unsigned int i = 0; i < ev->nparams; i++)
				if (&ev->params[i] == pv)
					flags = (uint32_t)event_param_int(ev, i);
		}
		for (unsigned int i = 0; i < ev->nparams; i++)
			if (ev->params[i].info->kind == VG_CK_PATH)
				path = event_param_str(ev, i);
	}
	long ret = (long)ev->hdr.retval;
	char comm[16] = { 0 };
	memcpy(comm, ev->hdr.comm, sizeof(comm) - 1); /* the kernel's comm: NUL-padded, 15 bytes at most */
	if (terms_only) {
		uint64_t need = 0;
		for (uint32_t j = 0; j < t->count[type]; j++) {
			int r = term_test(t, t->first[type] + j, ret, flags, side, ev->hdr.euid, comm);
			if (r == 1)
				return true;
			if (r == 2)
				need |= 1ull << j;
		}
		return need && path && (path_mask(t, type, path) & need);
	}
	/* the kernel's order (lib/kdrop.bpf.h kdrop_decide): masks, exact terms, path */
	const struct vg_kdrop_fast *f = &t->fast[type];
	uint64_t m = f->sign[ret < 0 ? 1 : 0] & f->acc[flags & 3];
	for (int k = 0; k < VG_KDROP_FBITS; k++)
		if (f->fbit[k] && !(flags & f->fbit[k]))
			m &= f->noreq[k];
	if (m && (m & f->side[VG_KDROP_CONTAINER]) != (m & f->side[VG_KDROP_HOST]))
		m &= f->side[side & 3];
	else
		side = 0; /* not looked up */
	if (m & (f->names_in | f->names_out)) { /* one lookup of the comm for every term's names */
		struct vg_kdrop_comm key;
		uint64_t in = 0, out = 0;
		memset(&key, 0, sizeof(key));
		key.type = (uint16_t)type;
		memcpy(key.comm, comm, sizeof(key.comm));
		uint64_t c[2];
		memcpy(c, key.comm, sizeof(c));
		uint32_t b = vg_kdrop_comm_bit(type, c[0], c[1]);
		bool maybe = (t->bloom[b / 64] >> (b % 64)) & 1; /* clear: in no set (the kernel's shortcut) */
		for (size_t i = 0; maybe && i < t->ncomms; i++)
			if (!memcmp(&t->comms[i], &key, sizeof(key))) {
				in = t->cvals[i].in;
				out = t->cvals[i].out;
				break;
			}
		m &= ~(f->names_in & ~in) & ~(f->names_out & out);
	}
	if (!m)
		return false;
	if (m & ~(f->exact | f->path))
		return true;
	uint64_t need = m & f->path & ~f->exact, e = m & f->exact;
	uint32_t hi = f->exact_hi < t->count[type] ? f->exact_hi : t->count[type];
	for (uint32_t j = f->exact_lo; j < hi; j++) {
		if (!((e >> j) & 1))
			continue;
		int r = term_test(t, t->first[type] + j, ret, flags, side, ev->hdr.euid, NULL);
		if (r == 1)
			return true;
		if (r == 2)
			need |= 1ull << j;
	}
	return need && path && (path_mask(t, type, path) & need);
}

bool kdrop_tables_keep(const struct kdrop_tables *t, const struct vg_event *ev, int side)
{
	return tables_keep(t, ev, side, false);
}

bool kdrop_tables_keep_terms(const struct kdrop_tables *t, const struct vg_event *ev, int side)
{
	return tables_keep(t, ev, side, true);
}
