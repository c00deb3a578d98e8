/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Compiled conditions: macros expanded, lists inlined, fields resolved to
 * accessors, literals converted to the field's type once, regexes compiled.
 * Evaluation walks the tree with short-circuit and/or.
 */
#ifndef VIGIL_ENGINE_FILTER_H
#define VIGIL_ENGINE_FILTER_H

#include <stdbool.h>
#include <stdint.h>
#include "engine/fields.h"
#include "engine/ruleset.h"

/* A set of event types (VG_EVT_*), one bit each. */
struct evtset {
	uint64_t w[2];
};

struct cnode;

struct filter;

/* A macro body specialised for one event type: constant or a node (see filter_specialise). */
struct spec_memo {
	struct cnode *node;
	uint8_t state; /* 0 not done yet, else enum spec_kind + 1 */
};

/* Everything compiling needs besides the text: the rule set, field slots. */
struct filter_ctx {
	const struct ruleset *rs;
	int nslots;               /* grows as fields are resolved */
	struct fslot {
		const struct fdef *def;
		char *arg;
		enum cond_xform xf[4];
		int nxf;
	} *slots;
	char *uncaptured;         /* event types named but not captured by the sensor ("a, b") */
	/* macros compiled once and shared by every rule that uses them; their result is
	 * memoised per event (memo index), so a macro used by 40 rules runs once */
	/* compiled nodes, allocated in compile order from large chunks: a rule's nodes sit
	 * together in memory, which matters when each event walks dozens of rules */
	char **pool;
	size_t npool, pool_used;
	struct macro_memo {
		struct cnode *node;
		struct evtset *types;
		bool exact;
		char *uncaptured;
		struct spec_memo *spec; /* per event type: the body specialised (filter_specialise) */
	} *macros;
	size_t nmacros;
	uint32_t *memo_of;        /* per macro of the rule set: its memo index + 1, 0 not compiled yet */
};

/*
 * Compile a condition text. Returns the filter or NULL with
 * "file:line:col: message" in err. `types` receives the event types the
 * condition can match (all types when it does not say).
 */
struct filter *filter_compile(struct filter_ctx *fc, const struct rs_text *text, struct evtset *types,
			      char *err, size_t errlen);
/* The same for a text already parsed: ast is cond_parse of text->s, left to the caller. */
struct filter *filter_compile_parsed(struct filter_ctx *fc, const struct rs_text *text, const struct cond_node *ast,
				     struct evtset *types, char *err, size_t errlen);
/* Compile `extra` (an exception's generated text) and join: cond and not extra. */
bool filter_eval(const struct filter *f, struct ectx *c);
void filter_free(struct filter *f);

/*
 * A condition specialised for one event type: every event-type test becomes
 * true or false and is folded away (`spawned_process and ...` vanishes from an
 * openat rule); operands keep their written order (rule authors put the
 * decisive tests first, and a cost model did worse in measurement). The result is
 * SPEC_FALSE (the condition cannot match events of this type), SPEC_TRUE, or
 * SPEC_NODE with the tree in *out. Specialised trees share the unchanged
 * parts of the original and live as long as the context. Evaluating the
 * specialised tree on an event of that type gives exactly the original's
 * result: operands have no side effects, so folding is exact.
 */
enum spec_kind { SPEC_FALSE, SPEC_TRUE, SPEC_NODE };
enum spec_kind filter_specialise(struct filter_ctx *fc, const struct filter *f, unsigned int type,
				 const struct cnode **out);
bool filter_eval_node(const struct cnode *n, struct ectx *c);
/*
 * Split a specialised tree into gates -- its top-level shared macros, up to
 * max -- and the rest of the conjunction: n is true exactly when every gate
 * and the rest are. The engine evaluates a type's gates once per event
 * (memoised) for all the rules behind them, and a rule's rest only when its
 * gates hold. Returns SPEC_TRUE when nothing but gates remains (*rest NULL),
 * else SPEC_NODE.
 */
enum spec_kind filter_split_gates(struct filter_ctx *fc, const struct cnode *n, const struct cnode **gates,
				  int *ngates, int max, const struct cnode **rest);
void filter_ctx_free(struct filter_ctx *fc);

/* Resolve a field for outputs, sharing the per-event cache slots. */
int filter_field(struct filter_ctx *fc, const struct cond_field *cf, struct fref *out, char *err, size_t errlen);

static inline bool evtset_has(const struct evtset *s, unsigned int t)
{
	return t < 128 && (s->w[t >> 6] >> (t & 63)) & 1;
}
/* Whether a name is a syscall or event Falco knows (captured by Vigil or not). */
bool event_name_known(const char *name);

#endif
