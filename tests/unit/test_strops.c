/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The condition evaluator's string set and case-insensitive search
 * (src/engine/strops.c), against plain loops over the same inputs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fnmatch.h>
#include <strings.h>
#include <cmocka.h>
#include "engine/strops.h"

static void set_basic(void **state)
{
	(void)state;
	const char *s[] = { "bash", "sh", "", "zsh", "bash" /* duplicate */, "a\0b" };
	size_t len[] = { 4, 2, 0, 3, 4, 3 };
	struct strset set = { 0 };
	strset_build(&set, s, len, 6);
	assert_true(strset_has(&set, "bash", 4));
	assert_true(strset_has(&set, "sh", 2));
	assert_true(strset_has(&set, "zsh", 3));
	assert_true(strset_has(&set, "", 0));        /* the empty string is a member like any other */
	assert_true(strset_has(&set, "a\0b", 3));    /* lengths, not NULs, end strings */
	assert_false(strset_has(&set, "a", 1));
	assert_false(strset_has(&set, "a\0c", 3));
	assert_false(strset_has(&set, "Bash", 4));   /* exact match: case counts */
	assert_false(strset_has(&set, "bas", 3));
	assert_false(strset_has(&set, "bashh", 5));
	strset_free(&set);
	assert_false(strset_has(&set, "bash", 4)); /* a freed (or never built) set is empty */
}

static void set_empty_and_large(void **state)
{
	(void)state;
	struct strset set = { 0 };
	strset_build(&set, NULL, NULL, 0);
	assert_false(strset_has(&set, "", 0));
	assert_false(strset_has(&set, "x", 1));
	strset_free(&set);

	/* many members, probe chains, every member found and near misses not */
	enum { N = 3000 };
	static char buf[N][16];
	const char *s[N];
	size_t len[N];
	for (int i = 0; i < N; i++) {
		len[i] = (size_t)snprintf(buf[i], sizeof(buf[i]), "/usr/bin/%d", i * 7);
		s[i] = buf[i];
	}
	strset_build(&set, s, len, N);
	assert_true(set.cap >= 2 * N);
	for (int i = 0; i < N; i++)
		assert_true(strset_has(&set, s[i], len[i]));
	char miss[32];
	for (int i = 0; i < N; i++) {
		int n = snprintf(miss, sizeof(miss), "/usr/bin/%d", i * 7 + 1);
		bool member = (i * 7 + 1) % 7 == 0 && (i * 7 + 1) / 7 < N;
		assert_int_equal(strset_has(&set, miss, (size_t)n), member);
	}
	strset_free(&set);
}

static bool contains(const char *h, size_t n, const char *q, size_t m)
{
	bool r = strops_contains(h, n, q, m);
	assert_int_equal(r, m == 0 || memmem(h, n, q, m) != NULL);
	return r;
}

static void contains_cases(void **state)
{
	(void)state;
	assert_true(contains("/home/a/.ssh/id", 15, "/.ssh/", 6));
	assert_false(contains("/home/a/.sshx", 13, "/.ssh/", 6));
	assert_true(contains("O_RDWR|O_TRUNC", 14, "O_TRUNC", 7));  /* at the very end */
	assert_true(contains("O_TRUNC", 7, "O_TRUNC", 7));          /* the whole value */
	assert_false(contains("O_TRUN", 6, "O_TRUNC", 7));          /* needle longer */
	assert_true(contains("", 0, "", 0));
	assert_false(contains("", 0, "a", 1));
	assert_true(contains("a\0b\0c", 5, "b\0c", 3));             /* bytes, NULs included (bcontains) */
	assert_false(contains("a\0b", 3, "a\0c", 3));
	assert_true(contains("aaab", 4, "aab", 3));                  /* a false start */
	/* long values (memmem) and the 256-byte boundary */
	char big[1000];
	memset(big, 'x', sizeof(big));
	memcpy(big + 990, "needle", 6);
	assert_true(contains(big, sizeof(big), "needle", 6));
	assert_false(contains(big, 256, "needle", 6));
	memcpy(big + 250, "needle", 6);
	assert_true(contains(big, 256, "needle", 6));
	assert_false(contains(big, 255, "needle", 6));
	unsigned int seed = 99;
	for (int round = 0; round < 20000; round++) {
		char h[300], q[6];
		size_t n = ((seed = seed * 1103515245 + 12345) >> 16) % 300;
		size_t m = ((seed = seed * 1103515245 + 12345) >> 16) % 6;
		for (size_t i = 0; i < n; i++)
			h[i] = "ab\0"[((seed = seed * 1103515245 + 12345) >> 16) % 3];
		for (size_t i = 0; i < m; i++)
			q[i] = "ab\0"[((seed = seed * 1103515245 + 12345) >> 16) % 3];
		contains(h, n, q, m);
	}	/* bytes one apart and with the high bit set, where eight positions are tested at once */
	const char alpha[] = "ab`c\x80\x81";
	for (int round = 0; round < 20000; round++) {
		char h[64], q[6];
		size_t n = ((seed = seed * 1103515245 + 12345) >> 16) % 64;
		size_t m = ((seed = seed * 1103515245 + 12345) >> 16) % 6;
		for (size_t i = 0; i < n; i++)
			h[i] = alpha[((seed = seed * 1103515245 + 12345) >> 16) % 6];
		for (size_t i = 0; i < m; i++)
			q[i] = alpha[((seed = seed * 1103515245 + 12345) >> 16) % 6];
		contains(h, n, q, m);
	}
}

/*
 * Values full of near matches (first and last bytes in place, the middle
 * wrong): past a few of them the search hands over to a linear one, and
 * still finds a match anywhere, in either case for icontains.
 */
static bool icontains(const char *h, size_t n, const char *needle);

static void near_matches(void **state)
{
	(void)state;
	static char h[20000];
	for (size_t i = 0; i < sizeof(h); i += 4)
		memcpy(h + i, "aXYb", 4);
	const size_t cut[] = { 40, 300, 5000, sizeof(h) };
	for (size_t c = 0; c < sizeof(cut) / sizeof(cut[0]); c++) {
		size_t n = cut[c];
		assert_false(contains(h, n, "aXZb", 4));
		assert_false(icontains(h, n, "axzb"));
		memcpy(h + n - 8, "aXZb", 4); /* a match near the end */
		assert_true(contains(h, n, "aXZb", 4));
		assert_true(icontains(h, n, "AxZb"));
		memcpy(h + n - 8, "aXYb", 4);
		memcpy(h + n / 2, "AxzB", 4); /* in the middle, other case */
		assert_false(contains(h, n, "aXZb", 4));
		assert_true(icontains(h, n, "axzb"));
		memcpy(h + n / 2, "aXYb", 4);
	}
}

/* strops_contains_set: each needle's bit is memmem's answer, whatever the lengths. */
static void contains_set_random(void **state)
{
	(void)state;
	unsigned int seed = 7;
	const char alpha[] = "ab/.\0\x80";
	for (int round = 0; round < 20000; round++) {
		char h[300], q[8][40];
		struct strops_needle nd[8];
		size_t n = ((seed = seed * 1103515245 + 12345) >> 16) % 300;
		size_t k = ((seed = seed * 1103515245 + 12345) >> 16) % 9;
		for (size_t i = 0; i < n; i++)
			h[i] = alpha[((seed = seed * 1103515245 + 12345) >> 16) % 6];
		for (size_t j = 0; j < k; j++) {
			size_t m = ((seed = seed * 1103515245 + 12345) >> 16) % (j & 1 ? 40 : 5);
			for (size_t i = 0; i < m; i++)
				q[j][i] = alpha[((seed = seed * 1103515245 + 12345) >> 16) % 6];
			if (m && (((seed = seed * 1103515245 + 12345) >> 16) % 4) == 0 && n >= m) /* often: a real match */
				memcpy(q[j], h + (((seed = seed * 1103515245 + 12345) >> 16) % (n - m + 1)), m);
			nd[j].s = q[j];
			nd[j].len = m;
		}
		uint64_t got = strops_contains_set(h, n, nd, k);
		for (size_t j = 0; j < k; j++) {
			bool want = !nd[j].len || memmem(h, n, nd[j].s, nd[j].len) != NULL;
			assert_int_equal((got >> j) & 1, want);
		}
		assert_int_equal(got >> k, 0);
	}
}

/* What icontains meant before: strncasecmp at every position. */
static bool naive_icontains(const char *h, size_t n, const char *q, size_t m)
{
	if (!m)
		return true;
	for (size_t i = 0; i + m <= n; i++)
		if (!strncasecmp(h + i, q, m))
			return true;
	return false;
}

static bool icontains(const char *h, size_t n, const char *needle)
{
	size_t m = strlen(needle);
	char *low = strdup(needle);
	strops_lower(low, m);
	bool r = strops_icontains(h, n, low, m);
	assert_int_equal(r, naive_icontains(h, n, needle, m));
	free(low);
	return r;
}

static void icontains_cases(void **state)
{
	(void)state;
	assert_true(icontains("HTTP_PROXY=x", 12, "http_proxy"));
	assert_true(icontains("http_proxy=x", 12, "HTTP_Proxy"));
	assert_true(icontains("xxAAABC", 7, "aabc"));  /* a false start just before the match */
	assert_false(icontains("AABABC", 6, "aabc"));
	assert_true(icontains("abc", 3, "ABC"));       /* whole value */
	assert_true(icontains("zzabc", 5, "abc"));     /* at the very end */
	assert_false(icontains("ab", 2, "abc"));       /* needle longer than the value */
	assert_true(icontains("", 0, ""));             /* empty needle: always */
	assert_true(icontains("abc", 3, ""));
	assert_false(icontains("", 0, "a"));
	assert_false(icontains("a\0bc", 4, "abc"));     /* a NUL in the value is a byte, not an end */
	assert_true(icontains("a\0BC", 4, "bc"));
	assert_false(icontains("[\\]", 3, "{|}"));    /* ASCII letters only: [ is not { */
	assert_false(icontains("\xc3\x89t\xc3\xa9", 5, "\xc3\xa9t")); /* bytes beyond ASCII are not folded */
	assert_true(icontains("@AZ[", 4, "@az["));
	/* past eight bytes, where positions are tested eight at a time */
	assert_true(icontains("PATH=/usr/bin HOME=/root GLIBC_TUNABLES=x", 41, "glibc_tunables"));
	assert_false(icontains("PATH=/usr/bin HOME=/root GLIBC_TUNABLEZ=x", 41, "glibc_tunables"));
	assert_true(icontains("@@@@@@@@@@@@@@@@@@`AB", 21, "`ab"));  /* '`' is not a letter: memchr */
	assert_false(icontains("@@@@@@@@@@@@@@@@@@@AB", 21, "`ab")); /* '@' | 0x20 is '`', yet no match */
	assert_true(icontains("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxAb", 42, "ab"));   /* the last position */
}

static void icontains_random(void **state)
{
	(void)state;
	/* random short strings over a small alphabet (many near matches) against the naive search */
	unsigned int seed = 12345;
	const char alpha[] = "aAbB@`\0";
	for (int round = 0; round < 20000; round++) {
		char h[48], q[8];
		size_t n = ((seed = seed * 1103515245 + 12345) >> 16) % 48; /* past the 8-byte steps */
		size_t m = ((seed = seed * 1103515245 + 12345) >> 16) % 5;
		for (size_t i = 0; i < n; i++)
			h[i] = alpha[((seed = seed * 1103515245 + 12345) >> 16) % 7];
		for (size_t i = 0; i < m; i++)
			q[i] = alpha[((seed = seed * 1103515245 + 12345) >> 16) % 6]; /* no NUL in literals */
		q[m] = 0;
		icontains(h, n, q);
	}
}

/* The evaluator's component-by-component prefix match before pathpat (filter.c), the reference. */
static bool ref_path_prefix(const char *path, size_t plen, const char *prefix)
{
	/* component-wise: each prefix component (may hold a glob) must match the path's */
	const char *p = path, *end = path + plen, *q = prefix;
	while (*q) {
		while (*q == '/')
			q++;
		while (p < end && *p == '/')
			p++;
		if (!*q)
			break;
		const char *qe = strchr(q, '/');
		size_t ql = qe ? (size_t)(qe - q) : strlen(q);
		const char *pe = memchr(p, '/', end - p);
		size_t pl = pe ? (size_t)(pe - p) : (size_t)(end - p);
		if (!pl)
			return false;
		char qc[256], pc[256];
		if (ql >= sizeof(qc) || pl >= sizeof(pc))
			return false;
		memcpy(qc, q, ql);
		qc[ql] = 0;
		memcpy(pc, p, pl);
		pc[pl] = 0;
		if (strpbrk(qc, "*?[") ? fnmatch(qc, pc, 0) != 0 : strcmp(qc, pc) != 0)
			return false;
		q += ql;
		p += pl;
	}
	return true;
}

static bool pm(const char *pattern, const char *path, size_t len)
{
	struct pathpat p;
	pathpat_compile(&p, pattern);
	bool r = pathpat_match(&p, path, len);
	if (r != ref_path_prefix(path, len, pattern))
		fail_msg("pmatch '%s' on '%.*s': %d, the reference says %d", pattern, (int)len, path, r, !r);
	pathpat_free(&p);
	return r;
}
#define PM(pat, path) pm((pat), (path), strlen(path))

static void pathpat_cases(void **state)
{
	(void)state;
	assert_true(PM("/home/*/.ssh", "/home/ann/.ssh"));
	assert_true(PM("/home/*/.ssh", "/home/ann/.ssh/id_rsa"));
	assert_false(PM("/home/*/.ssh", "/home/ann/.sshx"));    /* at a component boundary */
	assert_false(PM("/home/*/.ssh", "/home/ann"));          /* the path is shorter */
	assert_false(PM("/home/*/.ssh", "/root/.ssh"));
	assert_true(PM("/home/*/.ssh", "//home//ann///.ssh/")); /* repeated slashes on the path's side */
	assert_true(PM("//home/*//.ssh/", "/home/ann/.ssh"));    /* and on the pattern's */
	assert_true(PM("/etc/ssh/ssh_host_*_key", "/etc/ssh/ssh_host_rsa_key"));
	assert_false(PM("/etc/ssh/ssh_host_*_key", "/etc/ssh/ssh_host_rsa_key.pub"));
	assert_true(PM("/dev/sd[a-z]", "/dev/sdb"));
	assert_true(PM("/dev/sd?", "/dev/sdb/x"));
	assert_false(PM("/dev/sd?", "/dev/sdbb"));
	assert_true(PM("/a/*", "/a/b"));
	assert_true(PM("/a/*", "/a/.hidden"));                  /* no FNM_PERIOD: * matches a leading dot */
	assert_false(PM("/a/*", "/a"));
	assert_false(PM("/a/*", "/a/"));
	assert_true(PM("", "/anything"));                        /* no components: every path */
	assert_true(PM("/", "/anything"));
	assert_true(PM("", ""));
	assert_false(PM("/a", ""));
	assert_true(PM("a/*", "/a/b"));                          /* a relative pattern is read the same way */
	assert_true(PM("/a/*", "a/b"));
	assert_true(pm("/a/b", "/a/b\0c", 6));                   /* a NUL ends a component, as in C strings */
	assert_true(pm("/a/b", "/a/b\0/c", 7));
	char longc[600];
	memset(longc, 'x', sizeof(longc));
	longc[0] = '/';
	longc[599] = 0;
	assert_false(pm("/*", longc, 599));                      /* a component of 256+ bytes never matches */
	assert_false(pm("/x*", longc, 599));
	char longp[300] = "/";
	memset(longp + 1, 'y', 280);
	longp[281] = '*';
	longp[282] = 0;
	assert_false(PM(longp, "/yyy"));                         /* nor does a pattern with one */
	longc[260] = '/';
	assert_false(pm("/*/x", longc, 599));
}

static void pathpat_random(void **state)
{
	(void)state;
	/* random patterns and paths over a small alphabet of components, against the reference */
	const char *comps[] = { "a", "b", "ab", "*", "a*", "?", "[ab]", "", ".", ".." };
	unsigned int seed = 777;
	for (int round = 0; round < 20000; round++) {
		char pat[64] = "", path[64] = "";
		int np = (int)(((seed = seed * 1103515245 + 12345) >> 16) % 4);
		int nq = (int)(((seed = seed * 1103515245 + 12345) >> 16) % 5);
		for (int i = 0; i < np; i++) {
			strcat(pat, "/");
			strcat(pat, comps[((seed = seed * 1103515245 + 12345) >> 16) % 10]);
		}
		for (int i = 0; i < nq; i++) {
			strcat(path, "/");
			strcat(path, comps[((seed = seed * 1103515245 + 12345) >> 16) % 10]);
		}
		PM(pat, path);
	}
}

/* The evaluator's pmatch loop before pmlist (filter.c), the reference (values not empty). */
static bool ref_pmatch(const char *const *vals, size_t n, const char *path, size_t len)
{
	for (size_t i = 0; i < n; i++) {
		if (!strpbrk(vals[i], "*?[")) {
			size_t pl = strlen(vals[i]);
			while (pl > 1 && vals[i][pl - 1] == '/')
				pl--;
			if (len >= pl && !memcmp(path, vals[i], pl) &&
			    (len == pl || path[pl] == '/' || vals[i][pl - 1] == '/'))
				return true;
		} else if (ref_path_prefix(path, len, vals[i])) {
			return true;
		}
	}
	return false;
}

static bool pml(const char *const *vals, size_t n, const char *path, size_t len)
{
	struct pmlist l;
	pmlist_build(&l, vals, n);
	bool r = pmlist_match(&l, path, len);
	if (r != ref_pmatch(vals, n, path, len))
		fail_msg("pmatch list of %zu on '%.*s': %d, the reference says %d", n, (int)len, path, r, !r);
	pmlist_free(&l);
	return r;
}
#define PML(path, ...) pml((const char *const[]){ __VA_ARGS__ }, sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(char *), (path), strlen(path))

static void pmlist_cases(void **state)
{
	(void)state;
	/* every value has a literal first component: the prefilter is on */
	assert_true(PML("/root/.ssh/id_rsa", "/etc/kubernetes/pki", "/root/.ssh", "/home/*/.ssh"));
	assert_true(PML("/home/ann/.ssh/x", "/etc/kubernetes/pki", "/root/.ssh", "/home/*/.ssh"));
	assert_false(PML("/tmp/storm-file", "/etc/kubernetes/pki", "/root/.ssh", "/home/*/.ssh"));
	assert_false(PML("/etc/kubernetes", "/etc/kubernetes/pki", "/root/.ssh", "/home/*/.ssh"));
	assert_true(PML("/etc/kubernetes/pki", "/etc/kubernetes/pki/", "/root"));  /* trailing slash of a value */
	assert_false(PML("/etc/kubernetes/pkix", "/etc/kubernetes/pki"));         /* a boundary is needed */
	assert_true(PML("//home/a/.ssh", "/home/*/.ssh"));                        /* globs skip repeated slashes */
	assert_false(PML("//root/.ssh", "/root/.ssh"));                           /* plain values compare bytes */
	assert_true(PML("etc/x", "etc", "/root"));                                /* relative values and paths */
	assert_false(PML("", "/etc"));
	assert_false(pml((const char *const[]){ "/etc" }, 1, "/etc\0/x", 6));     /* a NUL is no boundary */
	/* a value without a literal first component: no prefilter, same answers */
	assert_true(PML("/tmp/x", "/etc", "/"));
	assert_true(PML("/tmp/x", "/etc", "/*/x"));
	assert_false(PML("/tmp/y", "/etc", "/*/x"));
	assert_true(PML("/anything", "//"));
	/* no values */
	struct pmlist l;
	pmlist_build(&l, NULL, 0);
	assert_false(pmlist_match(&l, "/x", 2));
	pmlist_free(&l);
	/* an empty value: an empty or absolute path (the reference read before the string here) */
	pmlist_build(&l, (const char *const[]){ "" }, 1);
	assert_true(pmlist_match(&l, "/x", 2));
	assert_true(pmlist_match(&l, "", 0));
	assert_false(pmlist_match(&l, "x", 1));
	pmlist_free(&l);
	/* val(field) on the right: one plain value */
	assert_true(strops_pmatch_prefix("/a/b/c", 6, "/a/b/", 5));
	assert_false(strops_pmatch_prefix("/a/bc", 5, "/a/b", 4));
	assert_true(strops_pmatch_prefix("/a", 2, "/", 1));
}

static void pmlist_random(void **state)
{
	(void)state;
	const char *comps[] = { "a", "b", "ab", "*", "a*", "?", "[ab]", "", ".", "etc" };
	unsigned int seed = 4242;
	static char vbuf[6][64];
	for (int round = 0; round < 20000; round++) {
		const char *vals[6];
		size_t nv = 1 + ((seed = seed * 1103515245 + 12345) >> 16) % 5;
		for (size_t v = 0; v < nv; v++) {
			int nc = 1 + (int)(((seed = seed * 1103515245 + 12345) >> 16) % 3);
			vbuf[v][0] = 0;
			for (int i = 0; i < nc; i++) {
				if (i || ((seed = seed * 1103515245 + 12345) >> 16) % 4)
					strcat(vbuf[v], "/");
				strcat(vbuf[v], comps[((seed = seed * 1103515245 + 12345) >> 16) % 10]);
			}
			if (!vbuf[v][0])
				strcpy(vbuf[v], "a"); /* the reference cannot take an empty value */
			vals[v] = vbuf[v];
		}
		char path[64] = "";
		int np = (int)(((seed = seed * 1103515245 + 12345) >> 16) % 5);
		for (int i = 0; i < np; i++) {
			if (i || ((seed = seed * 1103515245 + 12345) >> 16) % 4)
				strcat(path, "/");
			strcat(path, comps[((seed = seed * 1103515245 + 12345) >> 16) % 10]);
		}
		pml(vals, nv, path, strlen(path));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(set_basic),
		cmocka_unit_test(set_empty_and_large),
		cmocka_unit_test(contains_cases),
		cmocka_unit_test(contains_set_random),
		cmocka_unit_test(near_matches),
		cmocka_unit_test(icontains_cases),
		cmocka_unit_test(icontains_random),
		cmocka_unit_test(pathpat_cases),
		cmocka_unit_test(pathpat_random),
		cmocka_unit_test(pmlist_cases),
		cmocka_unit_test(pmlist_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
