/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Compiled conditions specialised for one event type (filter_specialise):
 * evt.type tests become constants and fold away, macro bodies are
 * specialised once per type and memoised in the compile context; and a
 * specialised tree split into the shared macros that gate it and the rest
 * (filter_split_gates). Runs at compile time only.
 */
#include <stdlib.h>
#include "common/buf.h"
#include "engine/cnode.h"
#include "engine/filter.h"

static enum spec_kind spec_node(struct filter_ctx *fc, struct cnode *n, unsigned int t, struct cnode **out);

static enum spec_kind spec_macro(struct filter_ctx *fc, struct cnode *n, unsigned int t, struct cnode **out)
{
	struct macro_memo *mm = &fc->macros[n->memo];
	if (!mm->spec)
		mm->spec = xcalloc(VG_EVT_MAX, sizeof(*mm->spec));
	struct spec_memo *sm = &mm->spec[t];
	if (!sm->state) {
		struct cnode *body;
		enum spec_kind k = spec_node(fc, n->kids[0], t, &body);
		sm->node = NULL;
		if (k == SPEC_NODE && body == n->kids[0]) {
			sm->node = n; /* nothing folded: the macro as it is */
		} else if (k == SPEC_NODE) {
			/* same memo slot: for an event of type t both bodies give the same value */
			struct cnode *m = cnode_new(fc, CN_MACRO);
			m->memo = n->memo;
			m->kids = cnode_alloc(fc, sizeof(*m->kids));
			m->kids[0] = body;
			m->nkids = 1;
			sm->node = m;
		}
		sm->state = (uint8_t)(k + 1);
	}
	*out = sm->node;
	return (enum spec_kind)(sm->state - 1);
}

static enum spec_kind spec_node(struct filter_ctx *fc, struct cnode *n, unsigned int t, struct cnode **out)
{
	*out = n;
	switch (n->kind) {
	case CN_TYPES:
		return evtset_has(&n->types, t) ? SPEC_TRUE : SPEC_FALSE;
	case CN_CHECK:
		return SPEC_NODE; /* shared as it is */
	case CN_MACRO:
		return spec_macro(fc, n, t, out);
	case CN_NOT: {
		struct cnode *k;
		enum spec_kind r = spec_node(fc, n->kids[0], t, &k);
		if (r != SPEC_NODE)
			return r == SPEC_TRUE ? SPEC_FALSE : SPEC_TRUE;
		if (k != n->kids[0]) {
			*out = cnode_new(fc, CN_NOT);
			(*out)->kids = cnode_alloc(fc, sizeof(*(*out)->kids));
			(*out)->kids[0] = k;
			(*out)->nkids = 1;
		}
		return SPEC_NODE;
	}
	case CN_AND:
	case CN_OR: {
		/* and: a false operand decides, true ones drop out; or: the reverse */
		enum spec_kind decisive = n->kind == CN_AND ? SPEC_FALSE : SPEC_TRUE;
		struct cnode **kids = xmalloc(n->nkids * sizeof(*kids)); /* on the heap: lists can be long */
		size_t nk = 0;
		bool changed = false;
		for (size_t i = 0; i < n->nkids; i++) {
			struct cnode *k;
			enum spec_kind r = spec_node(fc, n->kids[i], t, &k);
			if (r == decisive) {
				free(kids);
				return decisive;
			}
			if (r != SPEC_NODE) {
				changed = true;
				continue;
			}
			changed |= k != n->kids[i];
			kids[nk++] = k;
		}
		if (nk <= 1 || !changed) {
			if (nk == 1)
				*out = kids[0];
			free(kids);
			if (!nk)
				return decisive == SPEC_FALSE ? SPEC_TRUE : SPEC_FALSE;
			return SPEC_NODE;
		}
		/* flatten an operand of the same kind (`a and (b and c)` once `or false` went) */
		size_t total = 0;
		for (size_t i = 0; i < nk; i++)
			total += kids[i]->kind == n->kind ? kids[i]->nkids : 1;
		struct cnode *r = cnode_new(fc, n->kind);
		r->kids = cnode_alloc(fc, total * sizeof(*r->kids));
		for (size_t i = 0; i < nk; i++) {
			if (kids[i]->kind == n->kind)
				for (size_t j = 0; j < kids[i]->nkids; j++)
					r->kids[r->nkids++] = kids[i]->kids[j];
			else
				r->kids[r->nkids++] = kids[i];
		}
		free(kids);
		*out = r;
		return SPEC_NODE;
	}
	}
	return SPEC_NODE;
}

enum spec_kind filter_specialise(struct filter_ctx *fc, const struct filter *f, unsigned int type,
				 const struct cnode **out)
{
	struct cnode *n;
	enum spec_kind k = spec_node(fc, f->root, type, &n);
	*out = k == SPEC_NODE ? n : NULL;
	return k;
}

enum spec_kind filter_split_gates(struct filter_ctx *fc, const struct cnode *n, const struct cnode **gates,
				  int *ngates, int max, const struct cnode **rest)
{
	*ngates = 0;
	*rest = n;
	if (n->kind == CN_MACRO && max > 0) {
		gates[(*ngates)++] = n;
		*rest = NULL;
		return SPEC_TRUE;
	}
	if (n->kind != CN_AND)
		return SPEC_NODE;
	struct cnode *r = cnode_new(fc, CN_AND);
	r->kids = cnode_alloc(fc, n->nkids * sizeof(*r->kids));
	for (size_t i = 0; i < n->nkids; i++) {
		if (n->kids[i]->kind == CN_MACRO && *ngates < max)
			gates[(*ngates)++] = n->kids[i];
		else
			r->kids[r->nkids++] = n->kids[i];
	}
	if (!r->nkids) {
		*rest = NULL;
		return SPEC_TRUE;
	}
	*rest = r->nkids == 1 ? r->kids[0] : r;
	return SPEC_NODE;
}
