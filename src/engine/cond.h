/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Falco condition syntax: lexer and parser into a syntax tree.
 *
 *   expr    := or
 *   or      := and ("or" and)*
 *   and     := not ("and" not)*
 *   not     := "not" not | primary
 *   primary := "(" expr ")" | check | MACRO-NAME
 *   check   := lhs [unary-op | binary-op rhs]
 *   lhs     := field | transformer "(" lhs ")"
 *   field   := name ["[" arg "]"]      (evt.arg.flags, proc.aname[2], proc.env[HOME])
 *   rhs     := value | "(" value ("," value)* ")" | "val(" field ")" | transformer(...)
 *
 * A bare word with no operator after it is a macro reference. A value in a
 * parenthesised list may name a list, expanded by the compiler. Offsets are
 * byte positions in the condition text, for error messages.
 */
#ifndef VIGIL_ENGINE_COND_H
#define VIGIL_ENGINE_COND_H

#include <stdbool.h>
#include <stddef.h>

enum cond_kind {
	COND_AND,
	COND_OR,
	COND_NOT,
	COND_CHECK, /* lhs op [rhs] */
	COND_MACRO, /* a bare identifier */
};

enum cond_op {
	OP_NONE = 0,
	OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE,
	OP_CONTAINS, OP_ICONTAINS, OP_BCONTAINS, OP_STARTSWITH, OP_BSTARTSWITH, OP_ENDSWITH,
	OP_IN, OP_INTERSECTS, OP_PMATCH, OP_GLOB, OP_REGEX, OP_EXISTS,
};

enum cond_xform { XF_NONE = 0, XF_TOLOWER, XF_TOUPPER, XF_B64, XF_BASENAME, XF_LEN };

/* A field reference with its transformers, innermost last applied first. */
struct cond_field {
	char *name;      /* "proc.aname" */
	char *arg;       /* "2", "HOME", "flags" for evt.arg.flags (NULL: none) */
	bool dotted_arg; /* evt.arg.flags form rather than evt.arg[flags] */
	enum cond_xform xf[4];
	int nxf;         /* xf[0] applied first */
	size_t off;
};

struct cond_value {
	char *text;
	bool quoted;
	size_t off;
};

struct cond_node {
	enum cond_kind kind;
	size_t off;
	struct cond_node *a, *b;     /* AND/OR: a, b; NOT: a */
	char *macro;                 /* MACRO */
	struct cond_field lhs;       /* CHECK */
	enum cond_op op;
	bool rhs_list;               /* rhs is a parenthesised list */
	struct cond_value *vals;     /* literal values */
	size_t nvals;
	struct cond_field *rhs_field; /* val(field) or a transformer on the right */
};

/*
 * Parse a condition. Returns the tree (caller frees with cond_free) or NULL
 * with a message in err and the byte offset of the problem in *err_off.
 */
struct cond_node *cond_parse(const char *text, char *err, size_t errlen, size_t *err_off);
void cond_free(struct cond_node *n);

const char *cond_op_name(enum cond_op op);

#endif
