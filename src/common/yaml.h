/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A YAML (and JSON) document tree with source positions, built on libyaml.
 *
 * Rules, Kubernetes manifests and policy files are all YAML whose errors must
 * name file:line:column, so every node keeps where it started. A stream holds
 * one or more documents. Aliases are expanded into copies; the whole tree is
 * bounded (YAML_MAX_NODES, YAML_MAX_DEPTH) so an alias bomb or a deeply
 * nested input is an error, not an exhausted machine.
 */
#ifndef VIGIL_YAML_H
#define VIGIL_YAML_H

#include <stdbool.h>
#include <stddef.h>

#define YAML_MAX_NODES (4u << 20)
#define YAML_MAX_DEPTH 256

enum yaml_kind { YAML_SCALAR, YAML_SEQ, YAML_MAP };

struct yaml_node {
	enum yaml_kind kind;
	unsigned int line, col; /* 1-based, where the node starts */
	bool plain;             /* scalar written without quotes (so `true` is a boolean) */
	char *str;              /* scalar text, NUL-terminated (may hold NULs: use len) */
	size_t len;
	/* sequences: n items; mappings: n pairs stored as items[2i] key, items[2i+1] value */
	struct yaml_node **items;
	size_t n;
};

struct yaml_chunk;

struct yaml_stream {
	struct yaml_node **docs; /* one root per document (NULL root for an empty document) */
	size_t ndocs;
	size_t nodes;            /* total nodes, for the bound */
	struct yaml_chunk *mem;  /* every node, item array and string: freed together */
};

/*
 * Parses buf[0..len) into out. Returns 0, or -1 with a message
 * "LINE:COL: problem" in err (the caller prefixes the file name).
 * On error out is left empty. Free with yaml_stream_free either way.
 */
int yaml_parse(const char *buf, size_t len, struct yaml_stream *out, char *err, size_t errlen);
/*
 * The same with a tighter node bound: a server parsing untrusted JSON can
 * allow about one node per two input bytes, so no alias expansion can make
 * the tree much larger than the body.
 */
int yaml_parse_bounded(const char *buf, size_t len, size_t max_nodes, struct yaml_stream *out,
		       char *err, size_t errlen);
/*
 * The same through libyaml alone, without the reader for the part of YAML
 * rule files use (yaml.c, "rule files without libyaml"): fuzz_yaml holds the
 * two to the same trees and errors.
 */
int yaml_parse_libyaml(const char *buf, size_t len, size_t max_nodes, struct yaml_stream *out,
		       char *err, size_t errlen);
void yaml_stream_free(struct yaml_stream *s);

/*
 * Read a regular file of at most max bytes and parse it. Returns 0, or -1
 * with "path:line:col: problem" (or "cannot open path: ...") in err.
 */
int yaml_parse_file(const char *path, size_t max, struct yaml_stream *out, char *err, size_t errlen);
/* Format "path:line:col: message" at node n (1:1 when NULL) into err; returns -1. */
int yaml_errorf(char *err, size_t errlen, const char *path, const struct yaml_node *n, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

struct strv;
/*
 * Append the items of a YAML list of strings (key names it in messages) to out,
 * each copied. n NULL (the key is absent): nothing, 0. max: the most items the
 * list may hold (0: any number). 0, or -1 with "path:line:col: problem" in err
 * ("line:col: problem" when path is NULL), the problem one of: 'KEY' must be a
 * list; 'KEY' has more than MAX items; items of 'KEY' must be non-empty strings
 * (a mapping, a list, "" or a string holding a NUL). On error out keeps the
 * items appended so far (the caller frees it).
 */
int yaml_strings(const char *path, const struct yaml_node *n, const char *key, size_t max, struct strv *out,
		 char *err, size_t errlen);

/* Mapping lookup by key (NULL when node is not a mapping or has no such key). */
struct yaml_node *yaml_get(const struct yaml_node *map, const char *key);
/* Whether a scalar is exactly `s`. */
bool yaml_is(const struct yaml_node *n, const char *s);
/* Boolean per YAML 1.1/1.2 core schema (true/false/yes/no/on/off, any case); -1 if not one. */
int yaml_bool(const struct yaml_node *n);
/* Whether a scalar is a YAML null (empty plain, `~`, `null`). */
bool yaml_is_null(const struct yaml_node *n);

#endif
