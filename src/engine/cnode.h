/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The compiled condition tree, shared by the compiler (filter.c), its
 * specialisation for one event type (filter_spec.c) and the modules that
 * analyse compiled trees (prefilter.c). Nothing outside
 * src/engine/ includes this.
 */
#ifndef VIGIL_ENGINE_CNODE_H
#define VIGIL_ENGINE_CNODE_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include "engine/cond.h"
#include "engine/fields.h"
#include "engine/filter.h"
#include "engine/strops.h"

enum cn_kind {
	CN_AND, CN_OR, CN_NOT, CN_CHECK,
	CN_TYPES, /* evt.type = / in / != : one bit test */
	CN_MACRO, /* a shared macro: kids[0] is not owned, result memoised per event */
};

/*
 * A compiled node. What evaluation reads for and/or/not/macro nodes sits in
 * the first 64 bytes and a check's field reference in the next 64 (nodes are
 * 64-byte aligned): a walk of ~100 nodes per event touched three or four
 * cache lines per node when the memo index was at the end.
 */
struct cnode {
	enum cn_kind kind;
	enum cond_op op;   /* CN_CHECK */
	int memo;          /* CN_MACRO */
	unsigned int glob_head; /* OP_GLOB: bytes before the pattern's first * ? [ or backslash */
	struct cnode **kids;
	size_t nkids;
	/* CN_CHECK */
	size_t nvals;
	struct fval *vals;
	struct strset set; /* `in` over many strings */
	struct fref lhs;
	struct fref *rhs;  /* val(field) */
	uint8_t *plen;     /* FT_NET: prefix length per value */
	char **texts;      /* owned strings behind vals[].s */
	pcre2_code *re;
	pcre2_match_data *md;
	struct pmlist pm;  /* pmatch: the values compiled */
	struct evtset types; /* CN_TYPES */
};

struct filter {
	struct cnode *root;
};

/*
 * One value of a check's field against the check's literals (a check is true
 * when this holds for any of its field's values); checks with val(field) on
 * the right excepted.
 */
bool filter_check_value(const struct cnode *n, const struct fval *v, struct ectx *c);

/* size bytes from the context's pool (64-byte aligned, zeroed), freed with the context. */
void *cnode_alloc(struct filter_ctx *fc, size_t size);
/* A node of kind k from the context's pool, otherwise zeroed. */
struct cnode *cnode_new(struct filter_ctx *fc, enum cn_kind k);

#endif
