/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The rule engine: compiles a rule set (conditions, exceptions, outputs,
 * sequences and thresholds), indexes the rules by event type and runs them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/hmap.h"
#include "common/log.h"
#include "engine/engine.h"
#include "engine/prefilter.h"

#define CORR_MAX_KEYS 4096 /* per rule: containers/processes tracked by a sequence or threshold */

/* An output format: literal text and fields, alternating. */
struct out_seg {
	char *lit;       /* literal text before the field (may be empty) */
	size_t lit_len;
	struct fref ref; /* ref.def NULL: no field (the tail) */
	char *name;      /* "proc.aname[2]" as written */
};

/* Correlation state for one key (a container, process or session). */
struct corr {
	struct hmap_node node; /* key */
	uint64_t first_ts;     /* window start */
	uint32_t progress;     /* sequences: steps done; thresholds: matches counted */
	uint64_t last_ts;
};

struct engine_rule {
	char *name, *desc, *source;
	enum rs_priority priority;
	char **tags;
	size_t ntags;
	char **actions;
	size_t nactions;
	bool enabled;
	struct filter *cond;       /* condition with exceptions, or NULL for sequences */
	struct filter **steps;     /* sequence steps */
	size_t nsteps;
	int corr_by;               /* 0 none, 1 container, 2 process, 3 session */
	uint64_t within_ns;
	uint32_t thr_count;
	struct hmap corr;
	struct evtset types;
	struct kfilter *kernel;    /* the condition in the kernel's form, for in-kernel kill */
	struct kfilter *keep;      /* a weaker condition the kernel tests, for in-kernel dropping */
	struct out_seg *out;
	size_t nout;
	/* rate limit: token bucket in event time */
	double tokens;
	uint64_t last_refill;
	uint64_t suppressed;
	uint64_t matches;
};

/*
 * What the per-type index holds: a rule, its condition (or sequence steps)
 * specialised for that event type, and the shared macros it needs (gates).
 */
#define MAX_GATES 4
struct spec_tree {
	const struct cnode *node; /* SPEC_NODE */
	enum spec_kind kind;
};
struct rule_ref {
	uint32_t rule;
	uint8_t ngates;
	uint64_t gates;          /* bits in the type's gate table, all must be true */
	struct spec_tree cond;   /* what remains of the condition once the gates hold */
	struct spec_tree *steps; /* sequences: one per step (owned) */
};

/*
 * The distinct gates of one event type's rules. An event evaluates each gate
 * at most once and keeps the answers in two bit masks, so the dozen rules
 * behind open_write cost one bit test each when it is false -- instead of a
 * walk to the macro node and its memo entry per rule.
 */
#define MAX_TYPE_GATES 64
struct gate_table {
	const struct cnode *node[MAX_TYPE_GATES];
	unsigned int n;
};

struct engine {
	struct engine_opts opts;
	char *hostname;
	struct filter_ctx fc;
	struct engine_rule *rules;
	size_t nrules;
	struct rule_ref *by_type[VG_EVT_MAX];
	size_t nby_type[VG_EVT_MAX];
	struct gate_table gates[VG_EVT_MAX];
	struct prefilter *pf[VG_EVT_MAX]; /* necessary conditions of the type's rules */
	struct evtset needed;
	struct ectx ctx;
	struct engine_stats stats;
	bool selfcheck;            /* VIGIL_ENGINE_SELFCHECK: engine_selfcheck after every event */
	/* per-alert scratch */
	struct alert_field *fields;
	size_t fields_cap;
	struct vg_buf outbuf;
};

/* ---- exceptions ---- */

static void quote_value(struct vg_buf *b, const char *v, bool force)
{
	bool plain = !force && *v;
	for (const char *p = v; *p && plain; p++)
		if (strchr(" \t\n()\",='<>!", *p))
			plain = false;
	if (plain) {
		buf_adds(b, v);
		return;
	}
	buf_addc(b, '"');
	for (const char *p = v; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_addc(b, '\\');
		buf_addc(b, *p);
	}
	buf_addc(b, '"');
}

static bool comp_takes_list(const char *comp)
{
	return !strcmp(comp, "in") || !strcmp(comp, "intersects") || !strcmp(comp, "pmatch");
}

/* One comparison of an exception: field comp value, with list values parenthesised. */
static void exc_cmp(struct vg_buf *b, const char *field, const char *comp, const char *val, bool quoted)
{
	buf_printf(b, "%s %s ", field, comp);
	if (comp_takes_list(comp)) {
		if (val[0] == '(' && !quoted)
			buf_adds(b, val); /* already a list: "(a, b)" or from a YAML sequence */
		else {
			buf_addc(b, '(');
			quote_value(b, val, quoted);
			buf_addc(b, ')');
		}
	} else {
		quote_value(b, val, quoted);
	}
}

/*
 * The condition text of a rule's exceptions, Falco's way:
 *   fields [a, b], comps [=, in], values [[x, [y, z]]]  ->  (a = x and b in (y, z))
 *   fields a, comps in, values [x, y]                   ->  a in (x, y)
 * joined with `or`. Empty when no exception has values.
 */
static void exceptions_text(const struct rs_rule *r, struct vg_buf *b)
{
	for (size_t i = 0; i < r->nexc; i++) {
		const struct rs_exception *e = &r->exc[i];
		if (!e->nvalues)
			continue;
		if (!e->fields_is_list) {
			if (b->len)
				buf_adds(b, " or ");
			if (comp_takes_list(e->comps[0])) {
				buf_printf(b, "%s %s (", e->fields[0], e->comps[0]);
				for (size_t k = 0; k < e->nvalues; k++) {
					if (k)
						buf_adds(b, ", ");
					quote_value(b, e->values[k][0], e->vquoted[k][0]);
				}
				buf_addc(b, ')');
			} else {
				buf_addc(b, '(');
				for (size_t k = 0; k < e->nvalues; k++) {
					if (k)
						buf_adds(b, " or ");
					exc_cmp(b, e->fields[0], e->comps[0], e->values[k][0], e->vquoted[k][0]);
				}
				buf_addc(b, ')');
			}
			continue;
		}
		for (size_t k = 0; k < e->nvalues; k++) {
			if (b->len)
				buf_adds(b, " or ");
			buf_addc(b, '(');
			for (size_t f = 0; f < e->nfields; f++) {
				if (f)
					buf_adds(b, " and ");
				exc_cmp(b, e->fields[f], e->comps[f], e->values[k][f], e->vquoted[k][f]);
			}
			buf_addc(b, ')');
		}
	}
}

/* ---- outputs ---- */

static bool is_field_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
}

static void out_free(struct out_seg *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(s[i].lit);
		free(s[i].name);
		fref_free(&s[i].ref);
	}
	free(s);
}

static int compile_output(struct engine *e, const struct ruleset *rs, const struct rs_text *t,
			  struct out_seg **out, size_t *nout, char *err, size_t errlen)
{
	const char *s = t->s ? t->s : "";
	struct vg_buf lit = { 0 };
	size_t i = 0;

	*out = NULL;
	*nout = 0;
	for (;;) {
		size_t span = strcspn(s + i, "%"); /* literal text up to the next % in one piece */
		if (span) {
			buf_add(&lit, s + i, span);
			i += span;
		}
		if (s[i] == '%' && s[i + 1] == '%') {
			buf_addc(&lit, '%');
			i += 2;
			continue;
		}
		bool field = s[i] == '%' && is_field_char(s[i + 1]);
		if (s[i] && !field) {
			buf_addc(&lit, s[i++]);
			continue;
		}
		struct out_seg seg = { 0 };
		seg.lit = lit.data ? lit.data : xstrdup("");
		seg.lit_len = lit.len;
		memset(&lit, 0, sizeof(lit));
		if (field) {
			size_t start = ++i;
			while (is_field_char(s[i]))
				i++;
			while (i > start && s[i - 1] == '.') /* "...%proc.name." ends a sentence */
				i--;
			struct cond_field cf = { 0 };
			cf.name = xstrndup(s + start, i - start);
			if (s[i] == '[') {
				const char *end = strchr(s + i, ']');
				if (end) {
					cf.arg = xstrndup(s + i + 1, end - (s + i + 1));
					i = end - s + 1;
				}
			}
			seg.name = xstrndup(s + start - 0, i - start);
			char msg[256];
			if (filter_field(&e->fc, &cf, &seg.ref, msg, sizeof(msg))) {
				char where[512];
				ruleset_where(rs, t, start - 1, where, sizeof(where));
				snprintf(err, errlen, "%s: in output: %s", where, msg);
				free(cf.name);
				free(cf.arg);
				free(seg.lit);
				free(seg.name);
				out_free(*out, *nout);
				*out = NULL;
				*nout = 0;
				return -1;
			}
			free(cf.name);
			free(cf.arg);
		}
		*out = xgrow(*out, *nout, sizeof(**out));
		(*out)[(*nout)++] = seg;
		if (!field)
			break;
	}
	return 0;
}

/* ---- compile ---- */

static char **strv_dup(char *const *v, size_t n)
{
	char **r = xcalloc(n ? n : 1, sizeof(*r));
	for (size_t i = 0; i < n; i++)
		r[i] = xstrdup(v[i]);
	return r;
}

static bool has_tag(char *const *tags, size_t n, const char *const *wanted)
{
	for (; wanted && *wanted; wanted++)
		for (size_t i = 0; i < n; i++)
			if (!strcmp(tags[i], *wanted))
				return true;
	return false;
}

/* The flow source's events (docs/flows.md); every other event type is the syscall source's. */
static bool is_flow_event(unsigned int t)
{
	return t == VG_EVT_FLOW_TCP || t == VG_EVT_FLOW_UDP || t == VG_EVT_FLOW_DNS;
}

static bool evtset_empty(const struct evtset *s)
{
	return !s->w[0] && !s->w[1];
}

static int by_code(const char *by)
{
	if (!by)
		return 0;
	return !strcmp(by, "container") ? 1 : !strcmp(by, "process") ? 2 : 3;
}

/*
 * Compile rule r into er. *cond receives r's condition parsed when it is the
 * whole condition (no exceptions), for kfilter_compile to reuse; the caller
 * frees it, and it may be NULL.
 */
static int compile_rule(struct engine *e, struct ruleset *rs, const struct rs_rule *r, struct engine_rule *er,
			struct cond_node **cond, char *err, size_t errlen)
{
	struct evtset types;
	char where[512];

	er->name = xstrdup(r->name);
	er->desc = xstrdup(r->desc ? r->desc : "");
	er->source = xstrdup(r->source);
	er->priority = r->priority;
	er->tags = strv_dup(r->tags, r->ntags);
	er->ntags = r->ntags;
	er->actions = strv_dup(r->actions, r->nactions);
	er->nactions = r->nactions;
	er->enabled = r->enabled && r->priority <= e->opts.min_priority &&
		      !has_tag(r->tags, r->ntags, e->opts.disabled_tags);
	hmap_init(&er->corr, 16);
	free(e->fc.uncaptured);
	e->fc.uncaptured = NULL;

	if (r->nsteps) {
		memset(&er->types, 0, sizeof(er->types));
		er->steps = xcalloc(r->nsteps, sizeof(*er->steps));
		for (size_t i = 0; i < r->nsteps; i++) {
			er->steps[i] = filter_compile(&e->fc, &r->steps[i], &types, err, errlen);
			if (!er->steps[i])
				return -1;
			er->nsteps++;
			er->types.w[0] |= types.w[0];
			er->types.w[1] |= types.w[1];
		}
		er->corr_by = by_code(r->seq_by);
		er->within_ns = r->seq_within_ns;
	} else {
		struct vg_buf exc = { 0 };
		exceptions_text(r, &exc);
		struct rs_text full = r->cond;
		struct rs_src *src = NULL;
		if (exc.len) {
			/* condition and not (exceptions); the exceptions' text points at the first exception */
			struct vg_buf b = { 0 };
			buf_printf(&b, "(%s) and not (%s)", r->cond.s, exc.data);
			src = xcalloc(r->cond.nsrc + 2, sizeof(*src));
			for (size_t i = 0; i < r->cond.nsrc; i++) {
				src[i] = r->cond.src[i];
				src[i].start += 1;
			}
			src[r->cond.nsrc] = r->exc[0].where;
			src[r->cond.nsrc].start = strlen(r->cond.s) + 1;
			full.s = b.data;
			full.src = src;
			full.nsrc = r->cond.nsrc + 1;
		}
		if (!exc.len) {
			char msg[256];
			size_t off;
			*cond = cond_parse(r->cond.s, msg, sizeof(msg), &off);
		}
		if (*cond) /* parsed once for both compilers */
			er->cond = filter_compile_parsed(&e->fc, &full, *cond, &er->types, err, errlen);
		else /* the parse error, or the exceptions joined in */
			er->cond = filter_compile(&e->fc, &full, &er->types, err, errlen);
		if (exc.len) {
			free(full.s);
			free(src);
		}
		buf_free(&exc);
		if (!er->cond)
			return -1;
		if (r->thr_count) {
			er->thr_count = r->thr_count;
			er->within_ns = r->thr_within_ns;
			er->corr_by = by_code(r->thr_by);
		}
	}
	/* a rule sees the events of its source only: flow records are the flow source's */
	bool flow_rule = !strcmp(r->source, "flow");
	for (unsigned int t = 1; t < VG_EVT_MAX; t++)
		if (evtset_has(&er->types, t) && is_flow_event(t) != flow_rule)
			er->types.w[t >> 6] &= ~(1ull << (t & 63));
	if (evtset_empty(&er->types) && flow_rule && !e->fc.uncaptured) {
		ruleset_where_src(rs, &r->where, where, sizeof(where));
		snprintf(err, errlen, "%s: rule '%s' can never match: a flow rule sees only flow_tcp, flow_udp and "
				      "flow_dns events", where, r->name);
		return -1;
	}
	if (evtset_empty(&er->types)) {
		ruleset_where_src(rs, &r->where, where, sizeof(where));
		if (e->fc.uncaptured)
			snprintf(err, errlen, "%s: rule '%s' cannot be honoured: it only matches event types "
					      "Vigil does not capture (%s)", where, r->name, e->fc.uncaptured);
		else
			snprintf(err, errlen, "%s: rule '%s' can never match: its condition allows no event type",
				 where, r->name);
		return -1;
	}
	if (e->fc.uncaptured) {
		ruleset_where_src(rs, &r->where, where, sizeof(where));
		buf_printf(&rs->warnings, "%s: warning: rule '%s' names event types Vigil does not capture (%s); "
					  "it runs on the others\n", where, r->name, e->fc.uncaptured);
	}
	if (r->warn_evttypes) {
		struct evtset all;
		memset(&all, 0, sizeof(all));
		bool every = true;
		for (unsigned int t = 1; t < VG_EVT_MAX; t++) {
			const struct vg_event_info *in = event_table_get(t);
			if (in && in->category != VG_CAT_INTERNAL && !is_flow_event(t) && !evtset_has(&er->types, t))
				every = false;
		}
		if (every) {
			ruleset_where_src(rs, &r->where, where, sizeof(where));
			buf_printf(&rs->warnings, "%s: warning: rule '%s' matches every event type; "
						  "add an evt.type condition to make it cheaper\n", where, r->name);
		}
	}
	return compile_output(e, rs, &r->output, &er->out, &er->nout, err, errlen);
}

/* Free n strings and the array holding them. */
static void strs_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void rule_free(struct engine_rule *r)
{
	free(r->name);
	free(r->desc);
	free(r->source);
	strs_free(r->tags, r->ntags);
	strs_free(r->actions, r->nactions);
	filter_free(r->cond);
	kfilter_free(r->kernel);
	kfilter_free(r->keep);
	for (size_t i = 0; i < r->nsteps; i++)
		filter_free(r->steps[i]);
	free(r->steps);
	struct hmap_node *n, *tmp;
	size_t i;
	hmap_for_each(&r->corr, n, tmp, i)
		free(hmap_entry(n, struct corr, node));
	hmap_free(&r->corr);
	out_free(r->out, r->nout);
}

/* Take a plain rule's top-level shared macros out of its condition into the type's gate table. */
static void gate_rule(struct engine *e, unsigned int t, struct rule_ref *ref)
{
	struct gate_table *gt = &e->gates[t];
	const struct cnode *g[MAX_GATES], *rest;
	int ng;
	enum spec_kind k = filter_split_gates(&e->fc, ref->cond.node, g, &ng, MAX_GATES, &rest);
	if (gt->n + (unsigned int)ng > MAX_TYPE_GATES)
		return; /* the table may be full: the rule keeps its whole condition, ungated */
	for (int i = 0; i < ng; i++) {
		unsigned int b = 0;
		while (b < gt->n && gt->node[b] != g[i])
			b++;
		if (b == gt->n)
			gt->node[gt->n++] = g[i];
		ref->gates |= 1ull << b;
	}
	ref->ngates = (uint8_t)ng;
	ref->cond.kind = k;
	ref->cond.node = rest;
}

/* Falco's warning for a macro or list (kind) that no rule uses. */
static void warn_unused(struct ruleset *rs, bool used, const struct rs_src *where, const char *kind, const char *name)
{
	char at[512];
	if (used)
		return;
	ruleset_where_src(rs, where, at, sizeof(at));
	buf_printf(&rs->warnings, "%s: warning: %s '%s' is not used by any rule\n", at, kind, name);
}

struct engine *engine_compile(struct ruleset *rs, const struct engine_opts *opts, char *err, size_t errlen)
{
	struct engine *e = xcalloc(1, sizeof(*e));
	e->opts = *opts;
	e->hostname = xstrdup(opts->hostname ? opts->hostname : "");
	e->opts.hostname = e->hostname;
	e->fc.rs = rs;
	e->rules = xcalloc(rs->nrules ? rs->nrules : 1, sizeof(*e->rules));

	for (size_t i = 0; i < rs->nrules; i++) {
		const struct rs_rule *r = &rs->rules[i];
		struct engine_rule *er = &e->rules[e->nrules];
		struct cond_node *cond = NULL;
		int rc = compile_rule(e, rs, r, er, &cond, err, errlen);
		e->nrules++;
		if (rc) {
			cond_free(cond);
			if (r->skip_if_unknown_filter && strstr(err, "unknown field")) {
				buf_printf(&rs->warnings, "%s (rule skipped: skip-if-unknown-filter)\n", err);
				rule_free(er);
				memset(er, 0, sizeof(*er));
				e->nrules--;
				continue;
			}
			engine_free(e);
			return NULL;
		}
		if (er->enabled && strcmp(r->source, "flow")) { /* the kernel kills on syscalls, not on flows */
			er->kernel = kfilter_compile(rs, r, cond);
			er->keep = kfilter_compile_keep(rs, r, cond);
		}
		cond_free(cond);
	}
	/* Falco warns about definitions nothing uses */
	for (size_t i = 0; i < rs->nmacros; i++)
		warn_unused(rs, rs->macros[i].used, &rs->macros[i].where, "macro", rs->macros[i].name);
	for (size_t i = 0; i < rs->nlists; i++)
		warn_unused(rs, rs->lists[i].used, &rs->lists[i].where, "list", rs->lists[i].name);
	for (size_t i = 0; i < e->nrules; i++) {
		struct engine_rule *r = &e->rules[i];
		r->tokens = opts->burst;
		if (!r->enabled)
			continue;
		for (unsigned int t = 0; t < VG_EVT_MAX; t++) {
			if (!evtset_has(&r->types, t))
				continue;
			e->needed.w[t >> 6] |= 1ull << (t & 63);
			/* each event type gets the rule specialised for it: event-type tests folded
			 * away, so e.g. an openat meets neither `spawned_process` nor the rules
			 * that can only match other types once their type tests are known */
			struct rule_ref ref = { .rule = (uint32_t)i };
			const struct cnode *full = NULL; /* the specialised condition (first step), gates included */
			bool later = false; /* a sequence step after the first can match this type */
			if (r->nsteps) {
				ref.steps = xcalloc(r->nsteps, sizeof(*ref.steps));
				for (size_t k = 0; k < r->nsteps; k++) {
					ref.steps[k].kind = filter_specialise(&e->fc, r->steps[k], t, &ref.steps[k].node);
					later |= k > 0 && ref.steps[k].kind != SPEC_FALSE;
				}
				if (!later && ref.steps[0].kind == SPEC_FALSE) { /* no step can match this type */
					free(ref.steps);
					continue;
				}
				if (ref.steps[0].kind == SPEC_NODE)
					full = ref.steps[0].node;
			} else {
				ref.cond.kind = filter_specialise(&e->fc, r->cond, t, &ref.cond.node);
				if (ref.cond.kind == SPEC_FALSE)
					continue;
				full = ref.cond.node;
				if (ref.cond.kind == SPEC_NODE && !r->thr_count)
					gate_rule(e, t, &ref);
			}
			/* the prefilter's rule i is by_type[t][i]: a sequence is a candidate on
			 * every event of a type a later step can match (it may be in progress),
			 * otherwise only when its first step's clauses allow */
			if (!e->pf[t])
				e->pf[t] = prefilter_new();
			prefilter_add(e->pf[t], full, later);
			e->by_type[t] = xgrow(e->by_type[t], e->nby_type[t], sizeof(*e->by_type[t]));
			e->by_type[t][e->nby_type[t]++] = ref;
		}
	}
	for (unsigned int t = 0; t < VG_EVT_MAX; t++)
		if (e->pf[t])
			prefilter_build(e->pf[t]);
	const char *sc = getenv("VIGIL_ENGINE_SELFCHECK");
	e->selfcheck = sc && *sc && strcmp(sc, "0");
	ectx_init(&e->ctx, (size_t)e->fc.nslots, e->fc.nmacros);
	e->ctx.hostname = e->hostname;
	e->ctx.boot_to_realtime = opts->boot_to_realtime;
	e->fc.rs = NULL; /* the rule set may go now */
	return e;
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->nrules; i++)
		rule_free(&e->rules[i]);
	free(e->rules);
	for (unsigned int t = 0; t < VG_EVT_MAX; t++) {
		for (size_t i = 0; i < e->nby_type[t]; i++)
			free(e->by_type[t][i].steps);
		free(e->by_type[t]);
		prefilter_free(e->pf[t]);
	}
	ectx_free(&e->ctx);
	filter_ctx_free(&e->fc);
	free(e->fields);
	buf_free(&e->outbuf);
	free(e->hostname);
	free(e);
}

/* ---- running ---- */

static bool rate_allow(const struct engine *e, struct engine_rule *r, uint64_t ts)
{
	if (e->opts.rate <= 0)
		return true;
	if (ts > r->last_refill) {
		double add = (double)(ts - r->last_refill) / 1e9 * e->opts.rate;
		r->tokens = r->tokens + add > e->opts.burst ? e->opts.burst : r->tokens + add;
		r->last_refill = ts;
	} else if (!r->last_refill) {
		r->last_refill = ts;
	}
	if (r->tokens >= 1) {
		r->tokens -= 1;
		return true;
	}
	return false;
}

static uint64_t corr_key(const struct engine_rule *r, const struct vg_event *ev)
{
	switch (r->corr_by) {
	case 1: return ev->hdr.cgroup_id;
	case 2: return ev->hdr.pid;
	default: return ev->hdr.sid;
	}
}

static struct corr *corr_get(struct engine_rule *r, uint64_t key, uint64_t ts, bool create)
{
	struct hmap_node *n = hmap_get(&r->corr, key);
	if (n)
		return hmap_entry(n, struct corr, node);
	if (!create)
		return NULL;
	if (r->corr.count >= CORR_MAX_KEYS) {
		/* full: drop entries whose window has passed; if none, the oldest first */
		struct hmap_node *it, *tmp, *oldest = NULL;
		size_t i;
		uint64_t oldest_ts = UINT64_MAX;
		hmap_for_each(&r->corr, it, tmp, i) {
			struct corr *c = hmap_entry(it, struct corr, node);
			if (ts > c->first_ts + r->within_ns) {
				hmap_del(&r->corr, it->key);
				free(c);
			} else if (c->first_ts < oldest_ts) {
				oldest_ts = c->first_ts;
				oldest = it;
			}
		}
		if (r->corr.count >= CORR_MAX_KEYS && oldest) {
			struct corr *c = hmap_entry(oldest, struct corr, node);
			hmap_del(&r->corr, oldest->key);
			free(c);
		}
	}
	struct corr *c = xcalloc(1, sizeof(*c));
	c->node.key = key;
	hmap_put(&r->corr, &c->node);
	return c;
}

static void corr_drop(struct engine_rule *r, struct corr *c)
{
	hmap_del(&r->corr, c->node.key);
	free(c);
}

static bool spec_eval(const struct spec_tree *t, struct ectx *c)
{
	return t->kind == SPEC_NODE ? filter_eval_node(t->node, c) : t->kind == SPEC_TRUE;
}

/*
 * Sequences: advance on the next step; restart on the first. True when the
 * last step completes. The first step is tried only when the type's
 * prefilter allows it (rule pfi, whose clauses are the first step's).
 */
static bool sequence_step(struct engine *e, struct engine_rule *r, const struct spec_tree *steps,
			  struct prefilter *pf, size_t pfi)
{
	const struct vg_event *ev = e->ctx.ev;
	if (!r->corr.count && !prefilter_pass(pf, pfi, &e->ctx)) {
		e->stats.evaluated++; /* nothing in progress anywhere, and the first step cannot match */
		return false;
	}
	uint64_t key = corr_key(r, ev), ts = ev->hdr.ts;
	struct corr *c = corr_get(r, key, ts, false);

	if (c && ts > c->first_ts + r->within_ns) {
		corr_drop(r, c);
		c = NULL;
	}
	if (c && c->progress < r->nsteps) {
		e->stats.evaluated++;
		if (spec_eval(&steps[c->progress], &e->ctx)) {
			if (++c->progress == r->nsteps) {
				corr_drop(r, c);
				return true;
			}
			return false;
		}
	}
	e->stats.evaluated++;
	if ((!c || c->progress == 0) && prefilter_pass(pf, pfi, &e->ctx) && spec_eval(&steps[0], &e->ctx)) {
		c = corr_get(r, key, ts, true);
		c->first_ts = ts;
		c->progress = 1;
	}
	return false;
}

/* Thresholds: count matches per key in a window starting at the first. */
static bool threshold_hit(struct engine_rule *r, const struct vg_event *ev)
{
	uint64_t key = corr_key(r, ev), ts = ev->hdr.ts;
	struct corr *c = corr_get(r, key, ts, true);
	if (!c->progress || ts > c->first_ts + r->within_ns) {
		c->first_ts = ts;
		c->progress = 0;
	}
	if (++c->progress >= r->thr_count) {
		corr_drop(r, c);
		return true;
	}
	return false;
}

static void emit(struct engine *e, struct engine_rule *r, engine_alert_fn cb, void *cbctx)
{
	struct alert a = { 0 };
	struct vg_buf *o = &e->outbuf;

	if (e->fields_cap < r->nout) {
		e->fields_cap = r->nout;
		e->fields = xrealloc(e->fields, e->fields_cap * sizeof(*e->fields));
	}
	buf_reset(o);
	size_t nf = 0;
	for (size_t i = 0; i < r->nout; i++) {
		struct out_seg *s = &r->out[i];
		buf_add(o, s->lit, s->lit_len);
		if (!s->ref.def)
			continue;
		struct alert_field *f = &e->fields[nf++];
		f->name = s->name;
		f->ref = &s->ref;
		f->n = fref_extract(&e->ctx, &s->ref, &f->vals);
		fval_text(&e->ctx.arena, &s->ref, f->vals, f->n, &f->text, &f->len);
		buf_add(o, f->text, f->len);
	}
	a.rule = r;
	a.name = r->name;
	a.source = r->source;
	a.priority = r->priority;
	a.tags = r->tags;
	a.ntags = r->ntags;
	a.actions = r->actions;
	a.nactions = r->nactions;
	a.output = o->data ? o->data : "";
	a.output_len = o->len;
	a.fields = e->fields;
	a.nfields = nf;
	a.suppressed = r->suppressed;
	a.ev = e->ctx.ev;
	a.st = e->ctx.st;
	r->suppressed = 0;
	e->stats.alerts++;
	cb(cbctx, &a);
}

void engine_process(struct engine *e, const struct vg_event *ev, const struct vg_state *st,
		    engine_alert_fn cb, void *ctx)
{
	unsigned int t = ev->hdr.type;
	if (t >= VG_EVT_MAX || (!e->nby_type[t] && !e->selfcheck))
		return;
	e->stats.events++;
	ectx_reset(&e->ctx, ev, st);
	bool matched = false;
	const struct gate_table *gt = &e->gates[t];
	struct prefilter *pf = e->pf[t];
	uint64_t known = 0, truth = 0; /* gates evaluated for this event, and which were true */
	size_t nref = e->nby_type[t];
	/* only the rules whose primary clause holds, in load order (bit i: by_type[t][i]) */
	const uint64_t *cand = nref ? prefilter_candidates(pf, &e->ctx) : NULL;
	for (size_t w = 0; w * 64 < nref; w++)
	for (uint64_t bits = cand[w]; bits; bits &= bits - 1) {
		size_t i = w * 64 + (size_t)__builtin_ctzll(bits);
		const struct rule_ref *ref = &e->by_type[t][i];
		if (matched && ref->ngates)
			continue; /* a plain rule after the first match (gated rules are plain) */
		if (ref->gates & known & ~truth)
			continue; /* a gate already known false */
		struct engine_rule *r = &e->rules[ref->rule];
		if (!r->nsteps && !prefilter_pass(pf, i, &e->ctx))
			continue; /* a necessary condition is false */
		uint64_t todo = ref->gates & ~known;
		bool open = true;
		while (todo && open) {
			unsigned int b = (unsigned int)__builtin_ctzll(todo);
			todo &= todo - 1;
			known |= 1ull << b;
			open = filter_eval_node(gt->node[b], &e->ctx);
			truth |= (uint64_t)open << b;
		}
		if (!open)
			continue;
		bool hit;
		/* first match (Falco): later plain rules are skipped, but sequences and
		 * thresholds keep counting, or an earlier rule would blind them */
		if (matched && !r->nsteps && !r->thr_count)
			continue;
		if (r->nsteps) {
			hit = sequence_step(e, r, ref->steps, pf, i);
		} else {
			e->stats.evaluated++;
			hit = spec_eval(&ref->cond, &e->ctx) && (!r->thr_count || threshold_hit(r, ev));
		}
		if (!hit)
			continue;
		r->matches++;
		if (rate_allow(e, r, ev->hdr.ts)) {
			emit(e, r, cb, ctx);
		} else {
			r->suppressed++;
			e->stats.suppressed++;
		}
		if (!e->opts.match_all && !r->nsteps && !r->thr_count)
			matched = true;
	}
	if (e->selfcheck && engine_selfcheck(e, ev, st)) {
		vg_err("engine self-check failed on a %s event (ts %llu): the specialised rules disagree "
		       "with the compiled conditions", ev->info ? ev->info->name : "?", (unsigned long long)ev->hdr.ts);
		abort();
	}
}

size_t engine_selfcheck(struct engine *e, const struct vg_event *ev, const struct vg_state *st)
{
	unsigned int t = ev->hdr.type;
	size_t bad = 0;
	if (t >= VG_EVT_MAX)
		return 0;
	for (size_t i = 0; i < e->nrules; i++) {
		struct engine_rule *r = &e->rules[i];
		if (!r->enabled)
			continue;
		if (is_flow_event(t) != !strcmp(r->source, "flow"))
			continue; /* another source's event: the rule never sees it, whatever its condition */
		/* each side in a fresh generation: a macro's memoised value from one side
		 * must not stand in for the other side's (specialised) body. A sequence:
		 * its first step, as sequence_step tries it */
		ectx_reset(&e->ctx, ev, st);
		bool want = filter_eval(r->nsteps ? r->steps[0] : r->cond, &e->ctx), got = false;
		const struct rule_ref *ref = NULL;
		for (size_t k = 0; k < e->nby_type[t] && !ref; k++)
			if (e->by_type[t][k].rule == i)
				ref = &e->by_type[t][k];
		ectx_reset(&e->ctx, ev, st);
		if (ref) {
			/* as engine_process runs it: the prefilter's clauses, the gates, the rest */
			size_t k = (size_t)(ref - e->by_type[t]);
			const uint64_t *cand = prefilter_candidates(e->pf[t], &e->ctx);
			got = (cand[k >> 6] >> (k & 63) & 1) && prefilter_pass(e->pf[t], k, &e->ctx);
			for (unsigned int b = 0; b < e->gates[t].n && got; b++)
				if (ref->gates >> b & 1)
					got = filter_eval_node(e->gates[t].node[b], &e->ctx);
			got = got && spec_eval(r->nsteps ? &ref->steps[0] : &ref->cond, &e->ctx);
		}
		if (got != want) {
			vg_err("engine self-check: rule '%s' on %s: compiled condition %s, specialised %s", r->name,
			       ev->info ? ev->info->name : "?", want ? "true" : "false", got ? "true" : "false");
			bad++;
		}
	}
	if (e->pf[t]) { /* every atom grouped as the prefilter computes it and alone */
		ectx_reset(&e->ctx, ev, st);
		bad += prefilter_selfcheck(e->pf[t], &e->ctx);
	}
	return bad;
}

void engine_set_source(struct engine *e, const char *hostname, uint64_t boot_to_realtime)
{
	free(e->hostname);
	e->hostname = xstrdup(hostname ? hostname : "");
	e->opts.hostname = e->hostname;
	e->opts.boot_to_realtime = boot_to_realtime;
	e->ctx.hostname = e->hostname;
	e->ctx.boot_to_realtime = boot_to_realtime;
}

struct evtset engine_event_types(const struct engine *e)
{
	return e->needed;
}

void engine_stats(const struct engine *e, struct engine_stats *out)
{
	*out = e->stats;
}

size_t engine_rule_count(const struct engine *e)
{
	return e->nrules;
}

void engine_rule_info(const struct engine *e, size_t i, struct engine_rule_info *out)
{
	const struct engine_rule *r = &e->rules[i];
	*out = (struct engine_rule_info){
		.name = r->name, .desc = r->desc, .source = r->source, .priority = r->priority,
		.enabled = r->enabled, .tags = r->tags, .ntags = r->ntags, .actions = r->actions,
		.nactions = r->nactions, .types = r->types, .matches = r->matches, .kernel = r->kernel,
		.keep = r->keep,
	};
}

/* ---- loading ---- */

struct engine *engine_load(const char *const *paths, size_t n, bool with_defaults, const struct engine_opts *opts,
			   struct engine_counts *counts, struct vg_buf *warnings, char *err, size_t errlen)
{
	struct ruleset rs;
	struct engine *e = NULL;
	int rc = 0;

	ruleset_init(&rs);
	if (n == 0 || with_defaults) {
		for (size_t i = 0; default_rules_names[i] && !rc; i++)
			rc = ruleset_load_buf(&rs, default_rules_names[i], default_rules_texts[i],
					      default_rules_sizes[i], err, errlen);
	}
	for (size_t i = 0; i < n && !rc; i++)
		rc = ruleset_load_file(&rs, paths[i], err, errlen);
	if (!rc)
		e = engine_compile(&rs, opts, err, errlen);
	if (e && counts) {
		counts->rules = rs.nrules;
		counts->macros = rs.nmacros;
		counts->lists = rs.nlists;
		counts->skipped_source = rs.skipped_source;
		counts->enabled = 0;
		for (size_t i = 0; i < e->nrules; i++)
			counts->enabled += e->rules[i].enabled;
	}
	if (warnings && rs.warnings.len)
		buf_add(warnings, rs.warnings.data, rs.warnings.len);
	ruleset_free(&rs);
	return e;
}
