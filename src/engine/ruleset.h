/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Rule files: the Falco YAML format read into lists, macros and rules, with
 * `append` and `override` applied in file order. Nothing is compiled here;
 * engine_compile turns a loaded set into something that runs.
 *
 * Every definition remembers where its text came from, so that an error found
 * later (an unknown field at offset 40 of an appended condition) still names
 * file:line:column.
 */
#ifndef VIGIL_ENGINE_RULESET_H
#define VIGIL_ENGINE_RULESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/buf.h"

#define RS_MAX_FILES 64
#define RS_ENGINE_VERSION "0.57.0" /* the Falco engine version whose language we speak */

enum rs_priority {
	PRIO_EMERGENCY = 0, PRIO_ALERT, PRIO_CRITICAL, PRIO_ERROR,
	PRIO_WARNING, PRIO_NOTICE, PRIO_INFO, PRIO_DEBUG,
};

/* A piece of a condition or value and where it came from in which file. */
struct rs_src {
	int file;               /* index into ruleset.files, -1: made by us */
	unsigned int line, col; /* of the YAML scalar */
	size_t start;           /* offset of this piece in the joined text */
};

struct rs_text {
	char *s;                /* joined text, never NULL once set */
	struct rs_src *src;     /* pieces, in order of start */
	size_t nsrc;
};

struct rs_list {
	char *name;
	char **items;
	bool *quoted;           /* item was a quoted YAML scalar */
	size_t n;
	struct rs_src where;
	bool used;
};

struct cond_node;

struct rs_macro {
	char *name;
	struct rs_text cond;
	struct rs_src where;
	bool used;
	struct cond_node *ast;  /* cond parsed, once for every compiler (ruleset_macro_ast) */
};

struct rs_exception {
	char *name;
	char **fields;          /* one or more */
	size_t nfields;
	bool fields_is_list;    /* `fields: [a, b]` rather than `fields: a` */
	char **comps;           /* one per field; default "=" (or "in" for a single field) */
	/* values: rows of nfields values (fields_is_list), or a flat list for a single field */
	char ***values;
	bool **vquoted;
	size_t nvalues;
	struct rs_src where;
};

struct rs_rule {
	char *name;
	struct rs_text cond;
	struct rs_text output;
	char *desc;
	enum rs_priority priority;
	char **tags;
	size_t ntags;
	bool enabled;
	char *source;           /* "syscall" unless said otherwise */
	bool warn_evttypes;
	bool skip_if_unknown_filter;
	struct rs_exception *exc;
	size_t nexc;
	char **actions;         /* Vigil extension: response actions (docs/rules.md) */
	size_t nactions;
	/* Vigil extension (docs/rules.md): a sequence of conditions met in order by one
	 * container, process or session within a window */
	struct rs_text *steps;
	size_t nsteps;
	char *seq_by;           /* "container", "process", "session" */
	uint64_t seq_within_ns;
	/* Vigil extension: alert when the condition matches `count` times within a window */
	uint32_t thr_count;
	uint64_t thr_within_ns;
	char *thr_by;
	struct rs_src where;
	bool has_cond, has_output, has_desc, has_priority;
};

struct rs_file {
	char *path;
	char *text;             /* the whole file, kept for positions */
	size_t len;
};

/* Name -> position in one of the ruleset's arrays (open addressing; slots hold position + 1). */
struct rs_index {
	uint32_t *slots;
	size_t cap;             /* a power of two, or 0 */
	size_t n;
};

struct ruleset {
	struct rs_file files[RS_MAX_FILES];
	size_t nfiles;
	struct rs_list *lists;
	size_t nlists;
	struct rs_macro *macros;
	size_t nmacros;
	struct rs_rule *rules;
	size_t nrules;
	/* lookups by name (ruleset_list/macro/rule): the compiler asks for each
	 * macro and list use, and a scan of ~300 names each time was a tenth of loading */
	struct rs_index list_idx, macro_idx, rule_idx;
	size_t skipped_source;  /* rules of another source, skipped */
	struct vg_buf warnings; /* "file:line:col: warning: ...\n" lines */
};

void ruleset_init(struct ruleset *rs);
void ruleset_free(struct ruleset *rs);

/*
 * Load one rules file (after those already loaded: later definitions append
 * to or replace earlier ones). Returns 0, or -1 with "file:line:col: message"
 * in err; the set is unusable after an error.
 */
int ruleset_load_file(struct ruleset *rs, const char *path, char *err, size_t errlen);
/* The same, from memory (tests and fuzzing); `name` is used in messages. */
int ruleset_load_buf(struct ruleset *rs, const char *name, const char *buf, size_t len,
		     char *err, size_t errlen);

/* Position of byte `off` of a joined text: "file:line:col" into out. */
void ruleset_where(const struct ruleset *rs, const struct rs_text *t, size_t off, char *out, size_t size);
void ruleset_where_src(const struct ruleset *rs, const struct rs_src *s, char *out, size_t size);

struct rs_list *ruleset_list(const struct ruleset *rs, const char *name);
/*
 * The values a condition literal stands for, each passed to fn: an unquoted
 * list name expands to its items (lists naming lists too, to a bounded depth;
 * an item written with quotes is a quoted value), anything else is itself.
 * Marks the lists used. The one place the compiler and kfilter expand lists.
 */
void ruleset_expand_value(const struct ruleset *rs, const char *text, bool quoted,
			  void (*fn)(void *ctx, const char *value), void *ctx);
struct rs_macro *ruleset_macro(const struct ruleset *rs, const char *name);
struct rs_rule *ruleset_rule(const struct ruleset *rs, const char *name);
/*
 * A macro's condition parsed (cond_parse), kept with the macro: the filter
 * and kernel-filter compilers both walk every macro a rule uses, and parsing
 * the same bodies again for each rule was a fifth of compiling. The tree is
 * owned by the rule set. NULL with cond_parse's message and offset when the
 * text does not parse (nothing is kept then).
 */
const struct cond_node *ruleset_macro_ast(struct rs_macro *m, char *err, size_t errlen, size_t *err_off);

const char *priority_name(enum rs_priority p);      /* "Warning" (Falco's JSON spelling) */
int priority_parse(const char *s);                  /* -1 if not a priority */

#endif
