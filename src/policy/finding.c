/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>
#include "common/buf.h"
#include "policy/finding.h"

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

struct policy_finding *findings_add(struct policy_findings *f, const char *check,
				    enum vg_severity sev, unsigned line, unsigned col,
				    const char *container, const char *message, const char *hint)
{
	if (f->n == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 16;
		f->v = xrealloc(f->v, f->cap * sizeof(*f->v));
	}
	struct policy_finding *x = &f->v[f->n++];
	memset(x, 0, sizeof(*x));
	x->check = xstrdup(check);
	x->severity = sev;
	x->line = line;
	x->col = col;
	x->container = dup_or_null(container);
	x->message = xstrdup(message);
	x->hint = hint;
	return x;
}

void findings_set_object(struct policy_findings *f, size_t from, const char *file,
			 const char *kind, const char *name, const char *ns)
{
	for (size_t i = from; i < f->n; i++) {
		struct policy_finding *x = &f->v[i];
		if (!x->file)
			x->file = dup_or_null(file);
		if (!x->kind)
			x->kind = dup_or_null(kind);
		if (!x->name)
			x->name = dup_or_null(name);
		if (!x->ns)
			x->ns = dup_or_null(ns);
	}
}

void findings_free(struct policy_findings *f)
{
	for (size_t i = 0; i < f->n; i++) {
		struct policy_finding *x = &f->v[i];
		free(x->check);
		free(x->file);
		free(x->kind);
		free(x->name);
		free(x->ns);
		free(x->container);
		free(x->message);
	}
	free(f->v);
	memset(f, 0, sizeof(*f));
}
