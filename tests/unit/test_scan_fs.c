/* SPDX-License-Identifier: Apache-2.0 */
/* gitignore rules of `vigil scan fs`: the glob and the rules, with gitignore(5)'s examples. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "scan/scan_fs.h"

static bool glob(const char *p, const char *s)
{
	return fs_glob(p, strlen(p), s, strlen(s));
}

static void test_glob(void **state)
{
	(void)state;
	assert_true(glob("hello.*", "hello.txt"));
	assert_false(glob("hello.*", "hello"));
	assert_true(glob("foo/*", "foo/test.json"));
	assert_false(glob("foo/*", "foo/bar/hello.c")); /* '*' does not cross '/' */
	assert_true(glob("a/**/b", "a/b"));
	assert_true(glob("a/**/b", "a/x/b"));
	assert_true(glob("a/**/b", "a/x/y/b"));
	assert_false(glob("a/**/b", "a/xb"));
	assert_true(glob("**/foo", "foo"));
	assert_true(glob("**/foo", "x/y/foo"));
	assert_true(glob("**/foo/bar", "x/foo/bar"));
	assert_true(glob("abc/**", "abc/x/y"));
	assert_false(glob("abc/**", "abcd/x"));
	assert_true(glob("a**b", "axxb")); /* not a whole component: a plain '*' */
	assert_false(glob("a**b", "ax/xb"));
	assert_true(glob("?.c", "x.c"));
	assert_false(glob("?.c", "/.c"));
	assert_true(glob("[a-c].md", "b.md"));
	assert_false(glob("[a-c].md", "d.md"));
	assert_true(glob("[!a].md", "b.md"));
	assert_false(glob("[!a].md", "a.md"));
	assert_true(glob("[]x].md", "].md"));
	assert_true(glob("\\*.md", "*.md"));
	assert_false(glob("\\*.md", "x.md"));
	assert_true(glob("[", "["));             /* an unclosed class is a literal */
	/* a hostile pattern costs pattern x path, not exponential time */
	char p[1025], s[4001];
	for (int i = 0; i < 1024; i++)
		p[i] = i % 2 ? '*' : 'a';
	p[1024] = 0;
	memset(s, 'a', 4000);
	s[4000] = 0;
	(void)fs_glob(p, 1024, s, 4000); /* returns; the point is that it does so quickly */
}

static bool ign(const char *text, const char *path, bool dir)
{
	struct fs_ignore *ig = fs_ignore_new();
	fs_ignore_add(ig, "", text, strlen(text), NULL);
	bool r = fs_ignore_match(ig, path, dir);
	fs_ignore_free(ig);
	return r;
}

static void test_rules(void **state)
{
	(void)state;
	/* no slash: any level; a slash in the middle or at the start: anchored */
	assert_true(ign("frotz/\n", "frotz", true));
	assert_true(ign("frotz/\n", "a/frotz", true));
	assert_false(ign("frotz/\n", "frotz", false)); /* directories only */
	assert_true(ign("doc/frotz/\n", "doc/frotz", true));
	assert_false(ign("doc/frotz/\n", "a/doc/frotz", true));
	assert_true(ign("/build\n", "build", true));
	assert_false(ign("/build\n", "src/build", true));
	assert_true(ign("*.log\n", "a/b/c.log", false));
	/* later lines win; ! re-includes */
	assert_false(ign("*.txt\n!keep.txt\n", "keep.txt", false));
	assert_true(ign("*.txt\n!keep.txt\n", "other.txt", false));
	assert_true(ign("!keep.txt\n*.txt\n", "keep.txt", false));
	/* gitignore(5): everything but foo/bar */
	const char *only = "/*\n!/foo\n/foo/*\n!/foo/bar\n";
	assert_true(ign(only, "x", true));
	assert_false(ign(only, "foo", true));
	assert_true(ign(only, "foo/baz", false));
	assert_false(ign(only, "foo/bar", true));
	/* comments, blanks, escapes, trailing spaces */
	assert_false(ign("# *.c\n\n", "a.c", false));
	assert_true(ign("\\#file\n", "#file", false));
	assert_true(ign("\\!important\n", "!important", false));
	assert_true(ign("foo   \n", "foo", false));
	assert_true(ign("foo\\ \n", "foo ", false));
	assert_true(ign("foo\r\n", "foo", false));
}

static void test_nested(void **state)
{
	(void)state;
	struct fs_ignore *ig = fs_ignore_new();
	fs_ignore_add(ig, "", "*.tmp\n", 6, NULL);
	size_t mark = fs_ignore_add(ig, "sub", "!keep.tmp\n/local\n", 17, NULL);
	assert_true(fs_ignore_match(ig, "a.tmp", false));
	assert_false(fs_ignore_match(ig, "sub/keep.tmp", false)); /* the deeper file wins */
	assert_true(fs_ignore_match(ig, "keep.tmp", false));      /* its rules stay in sub */
	assert_true(fs_ignore_match(ig, "sub/local", true));
	assert_false(fs_ignore_match(ig, "sub/x/local", true));  /* anchored to sub */
	assert_false(fs_ignore_match(ig, "local", true));
	fs_ignore_pop(ig, mark);
	assert_true(fs_ignore_match(ig, "sub/keep.tmp", false));
	fs_ignore_free(ig);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_glob),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_nested),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
