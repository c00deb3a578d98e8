/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The YAML tree (src/common/yaml.c). yaml_parse has three paths: its own
 * reader for the part of YAML rule files use (fast_parse), libyaml's events
 * for the rest, and libyaml's loader for anchors, aliases, exceeded bounds
 * and syntax errors. Each case below is a tree or an error as the loader
 * alone produced it before the other paths existed (positions, quoting,
 * folding, alias copies, messages), so every path is held to it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "common/buf.h"
#include "common/yaml.h"

/* A tree as text: line:col, then a scalar (quoted when not plain), [items] or {key=value ...}. */
static void dump(struct vg_buf *b, const struct yaml_node *n)
{
	buf_printf(b, "%u:%u", n->line, n->col);
	if (n->kind == YAML_SCALAR) {
		assert_int_equal(strlen(n->str), n->len);
		buf_printf(b, n->plain ? "%s" : "'%s'", n->str);
		return;
	}
	assert_non_null(n->items);
	buf_addc(b, n->kind == YAML_SEQ ? '[' : '{');
	for (size_t i = 0; i < (n->kind == YAML_MAP ? 2 * n->n : n->n); i++) {
		if (i)
			buf_adds(b, n->kind == YAML_MAP && i % 2 ? "=" : " ");
		dump(b, n->items[i]);
	}
	buf_addc(b, n->kind == YAML_SEQ ? ']' : '}');
}

/* The stream as text: documents joined with " | ", or "error MESSAGE". */
static char *parse_dump(const char *text, size_t max_nodes)
{
	struct yaml_stream s;
	struct vg_buf b = { 0 };
	char err[256] = "";
	int rc = yaml_parse_bounded(text, strlen(text), max_nodes ? max_nodes : YAML_MAX_NODES, &s, err, sizeof(err));
	if (rc) {
		assert_int_equal(s.ndocs, 0);
		buf_printf(&b, "error %s", err);
	}
	for (size_t d = 0; d < s.ndocs; d++) {
		if (d)
			buf_adds(&b, " | ");
		dump(&b, s.docs[d]);
	}
	yaml_stream_free(&s);
	return b.data ? b.data : xstrdup("");
}

static const struct {
	const char *name, *text;
	size_t max_nodes; /* 0: YAML_MAX_NODES */
	const char *want;
} cases[] = {
	{ "rule file",
	  "# comment\n- rule: a rule\n  desc: two\n    lines\n  condition: >\n    evt.type = open\n    and fd.name = x\n  output: \"x=%fd.name\"\n  tags: [a, 'b', \"c\"]\n  enabled: false\n- list: l\n  items: []\n- macro: m\n  condition: |\n    a\n    b\n",
	  0,
	  "2:1[2:3{2:3rule=2:9a rule 3:3desc=3:9two lines 5:3condition=5:14'evt.type = open and fd.name = x\n' 8:3output=8:11'x=%fd.name' 9:3tags=9:9[9:10a 9:13'b' 9:18'c'] 10:3enabled=10:12false} 11:3{11:3list=11:9l 12:3items=12:10[]} 13:3{13:3macro=13:10m 14:3condition=14:14'a\nb\n'}]" },
	{ "chomping indicator",
	  "a: |-\n  x\n  y\n\nb: >+\n  z\n\n",
	  0,
	  "1:1{1:1a=1:4'x\ny' 5:1b=5:4'z\n\n'}" },
	{ "documents and empties",
	  "---\n- {}\n- []\n- ''\n-\n...\n---\nplain\n--- \n",
	  0,
	  "2:1[2:3{} 3:3[] 4:3'' 5:2] | 8:1plain | 10:1" },
	{ "nothing",
	  "",
	  0,
	  "" },
	{ "aliases are copies",
	  "a: &x [1, {k: v}]\nb: *x\nc: [*x, *x]\n",
	  0,
	  "1:1{1:1a=1:4[1:81 1:11{1:12k=1:15v}] 2:1b=1:4[1:81 1:11{1:12k=1:15v}] 3:1c=3:4[1:4[1:81 1:11{1:12k=1:15v}] 1:4[1:81 1:11{1:12k=1:15v}]]}" },
	{ "anchor on a scalar",
	  "a: &s text\nb: *s\n",
	  0,
	  "1:1{1:1a=1:4text 2:1b=1:4text}" },
	{ "undefined alias",
	  "a: 1\nb: *nope\n",
	  0,
	  "error 2:4: found undefined alias" },
	{ "duplicate anchor",
	  "a: &x 1\nb: &x 2\n",
	  0,
	  "error 2:4: second occurrence found duplicate anchor; first occurrence" },
	{ "syntax error after a good document",
	  "a: 1\n---\nb: [1, 2\nc: 3\n",
	  0,
	  "error 4:2: did not find expected ',' or ']' while parsing a flow sequence" },
	{ "bad indentation",
	  "a:\n  b: 1\n c: 2\n",
	  0,
	  "error 3:2: did not find expected key while parsing a block mapping" },
	{ "tab",
	  "a:\n\tb: 1\n",
	  0,
	  "error 2:1: found character that cannot start any token while scanning for the next token" },
	{ "recursive alias",
	  "a: &r [*r]\n",
	  0,
	  "error 1:4: nesting deeper than 256 levels" },
	{ "alias bomb",
	  "a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b]\n",
	  200,
	  "error 1:14: more than 200 nodes (alias expansion?)" },
	{ "node bound",
	  "[1, 2, 3, 4, 5, 6]\n",
	  5,
	  "error 1:14: more than 5 nodes (alias expansion?)" },
	{ "node bound at the last node",
	  "[1, 2, 3, 4, 5]\n",
	  6,
	  "1:1[1:21 1:52 1:83 1:114 1:145]" },
	{ "node bound over two documents",
	  "[1, 2]\n---\n[3, 4]\n",
	  5,
	  "error 3:5: more than 5 nodes (alias expansion?)" },
	{ "complex key left open",
	  "? [a, b]\n: *x\n",
	  0,
	  "error 2:3: found undefined alias" },
	{ "folded with more-indented lines",
	  "- macro: m\n  condition: >\n    (a or\n      b)\n\n    and c\n\n\n    d\n      e\n    f\n  x: y\n",
	  0,
	  "1:1[1:3{1:3macro=1:10m 2:3condition=2:14'(a or\n  b)\n\nand c\n\nd\n  e\nf\n' 12:3x=12:6y}]" },
	{ "literal with blank lines",
	  "k: |\n  one\n\n   two\n  three\n\n\nnext: 1\n",
	  0,
	  "1:1{1:1k=1:4'one\n\n two\nthree\n' 8:1next=8:71}" },
	{ "plain over lines",
	  "- a: first\n    second   line\n\n    third\n  b:\n    WARNING\n  c: x # comment\n  d: a#b c:d\n",
	  0,
	  "1:1[1:3{1:3a=1:6first second   line\nthird 5:3b=6:5WARNING 7:3c=7:6x 8:3d=8:6a#b c:d}]" },
	{ "flow sequences",
	  "- items: [a, \"b c\", 'it''s', [x, [y]], -1]\n- items: [\n    p,\n    q\n  ]\n- items: []\n- e: [  ]\n",
	  0,
	  "1:1[1:3{1:3items=1:10[1:11a 1:14'b c' 1:21'it's' 1:30[1:31x 1:34[1:35y]] 1:40-1]} 2:3{2:3items=2:10[3:5p 4:5q]} 6:3{6:3items=6:10[]} 7:3{7:3e=7:6[]}]" },
	{ "double-quoted escapes",
	  "a: \"q\\\" b\\\\ c\\/ d\\n e\\t\"\nb: '\\n'\n",
	  0,
	  "1:1{1:1a=1:4'q\" b\\ c/ d\n e\t' 2:1b=2:4'\\n'}" },
	{ "nested blocks",
	  "- rule: r\n  exceptions:\n    - name: e\n      fields: [f, g]\n      values:\n        - [x, y]\n  override:\n    condition: append\n",
	  0,
	  "1:1[1:3{1:3rule=1:9r 2:3exceptions=3:5[3:7{3:7name=3:13e 4:7fields=4:15[4:16f 4:19g] 5:7values=6:9[6:11[6:12x 6:15y]]}] 7:3override=8:5{8:5condition=8:16append}}]" },
	{ "comments and blank lines",
	  "# head\n\n- a: 1   # one\n\n  # inside\n  b: 2\n# tail\n",
	  0,
	  "3:1[3:3{3:3a=3:61 6:3b=6:62}]" },
	{ "indentless sequence",
	  "k:\n- a\n- b\n",
	  0,
	  "1:1{1:1k=2:1[2:3a 3:3b]}" },
	{ "empty value",
	  "a:\nb: 1\n",
	  0,
	  "1:1{1:1a=1:3 2:1b=2:41}" },
	{ "block scalar without final line break",
	  "a: >\n  x",
	  0,
	  "1:1{1:1a=1:4'x'}" },
	{ "flow with a comment",
	  "a: [x, # c\n  y]\n",
	  0,
	  "1:1{1:1a=1:4[1:5x 2:3y]}" },
	{ "more-indented mapping line",
	  "a: 1\n  b: 2\n",
	  0,
	  "error 2:4: mapping values are not allowed in this context" },
};

static void test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = parse_dump(cases[i].text, cases[i].max_nodes);
		if (strcmp(got, cases[i].want))
			fail_msg("%s:\n got  %s\n want %s", cases[i].name, got, cases[i].want);
		free(got);
	}
}

/* [[...]] nested n deep: the root is at depth 0, so n = YAML_MAX_DEPTH + 1 is the deepest allowed. */
static char *nested(int n)
{
	char *s = xmalloc(2 * (size_t)n + 2);
	memset(s, '[', n);
	memset(s + n, ']', n);
	s[2 * n] = '\n';
	s[2 * n + 1] = 0;
	return s;
}

static void test_depth(void **state)
{
	(void)state;
	char *ok = nested(YAML_MAX_DEPTH + 1), *deep = nested(YAML_MAX_DEPTH + 2);
	char *got = parse_dump(ok, 0);
	assert_true(strncmp(got, "error", 5) != 0);
	free(got);
	got = parse_dump(deep, 0);
	assert_string_equal(got, "error 1:258: nesting deeper than 256 levels");
	free(got);
	free(ok);
	free(deep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_depth),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
