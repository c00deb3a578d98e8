/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Language runtimes installed outside a package manager (the official
 * python, node, openjdk and golang images put them under /usr/local or
 * /opt), found by file name and read for their version:
 *
 * - Python: bin/pythonX.Y and libpythonX.Y*.so*: the version string
 *   PY_VERSION, NUL-terminated in the read-only data ("\0" "3.11.4" "\0"),
 *   the major.minor taken from the file name. Reported as generic "python".
 * - Node.js: bin/node: "node.js/vX.Y.Z" (the release URL compiled in).
 *   Reported as generic "node".
 * - Java: a JDK's or JRE's `release` file (JAVA_VERSION="17.0.7") under a
 *   directory named for Java (jvm, jdk, jre, java, openjdk). Reported as
 *   generic "java".
 * - Go: GOROOT's VERSION file (first line go1.21.5): the toolchain's
 *   standard library, golang "stdlib" 1.21.5 as Go binaries report it. The
 *   go and gofmt binaries themselves are Go binaries (cat_go.h).
 *
 * Distribution packages of the same runtimes are listed by their package
 * databases; these entries say which runtime the image itself carries.
 * Generic packages have no OSV ecosystem.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "scan/catalogers/cat_text.h"
#include "scan/catalogers/catalog.h"

/* "3.11" of python3.11 / libpython3.11.so.1.0 / libpython3.11m.so, or false. */
static bool python_mm(const char *path, char *mm, size_t n)
{
	const char *b = cat_text_base(path), *p;
	if (!strncmp(b, "libpython", 9))
		p = b + 9;
	else if (!strncmp(b, "python", 6) && strstr(path, "bin/"))
		p = b + 6;
	else
		return false;
	size_t i = 0;
	while (isdigit((unsigned char)p[i]))
		i++;
	if (!i || p[i] != '.' || !isdigit((unsigned char)p[i + 1]))
		return false;
	i++;
	while (isdigit((unsigned char)p[i]))
		i++;
	if (i + 1 > n || (b[0] == 'l' ? !strstr(p + i, ".so") : p[i] != 0))
		return false;
	memcpy(mm, p, i);
	mm[i] = 0;
	return true;
}

/* The first "\0" prefix DIGITS [abc|rc DIGITS] ["+"] "\0" in data: its text, or NULL. */
static char *find_version(const char *data, size_t len, const char *prefix)
{
	size_t pn = strlen(prefix);
	for (const char *s = data, *end = data + len; s + pn + 2 < end;) {
		const char *hit = memchr(s, prefix[0], (size_t)(end - s));
		if (!hit || hit + pn + 2 >= end)
			break;
		s = hit + 1;
		if (hit == data || hit[-1] != 0 || memcmp(hit, prefix, pn))
			continue;
		const char *q = hit + pn;
		const char *d = q;
		while (q < end && isdigit((unsigned char)*q))
			q++;
		if (q == d)
			continue;
		if (q < end && (*q == 'a' || *q == 'b' || *q == 'r')) {
			q += *q == 'r' && q + 1 < end && q[1] == 'c' ? 2 : 1;
			const char *e = q;
			while (q < end && isdigit((unsigned char)*q))
				q++;
			if (q == e)
				continue;
		}
		if (q < end && *q == '+')
			q++;
		if (q < end && *q == 0)
			return xstrndup(hit, (size_t)(q - hit));
	}
	return NULL;
}

static void python_rt(const char *data, size_t len, const char *path, struct scan_result *r)
{
	char mm[16], prefix[20];
	if (!python_mm(path, mm, sizeof(mm)))
		return;
	snprintf(prefix, sizeof(prefix), "%s.", mm);
	char *v = find_version(data, len, prefix);
	if (v)
		scan_add_pkg(r, "generic", "python", v, path);
	free(v);
}

static void node_rt(const char *data, size_t len, const char *path, struct scan_result *r)
{
	static const char tag[] = "node.js/v";
	const char *end = data + len;

	for (const char *s = data; s + sizeof(tag) < end;) {
		const char *hit = memchr(s, 'n', (size_t)(end - s));
		if (!hit || hit + sizeof(tag) >= end)
			return;
		s = hit + 1;
		if (memcmp(hit, tag, sizeof(tag) - 1))
			continue;
		const char *v = hit + sizeof(tag) - 1, *q = v;
		int dots = 0;
		while (q < end && (isdigit((unsigned char)*q) || (*q == '.' && ++dots)))
			q++;
		if (dots == 2 && q[-1] != '.') {
			char *ver = xstrndup(v, (size_t)(q - v));
			scan_add_pkg(r, "generic", "node", ver, path);
			free(ver);
			return;
		}
	}
}

static void java_rt(const char *data, size_t len, const char *path, struct scan_result *r)
{
	size_t pos = 0, n;
	const char *line;

	while (cat_text_line(data, len, &pos, &line, &n)) {
		if (n < 15 || memcmp(line, "JAVA_VERSION=", 13))
			continue;
		const char *v = line + 13, *end = line + n;
		if (*v == '"')
			v++;
		if (end > v && end[-1] == '"')
			end--;
		if (end > v && end - v < 64) {
			char *ver = xstrndup(v, (size_t)(end - v));
			scan_add_pkg(r, "generic", "java", ver, path);
			free(ver);
		}
		return;
	}
}

static void go_rt(const char *data, size_t len, const char *path, struct scan_result *r)
{
	size_t pos = 0, n;
	const char *line;

	if (!cat_text_line(data, len, &pos, &line, &n) || n < 5 || n > 64 ||
	    memcmp(line, "go1", 3))
		return;
	for (size_t i = 2; i < n; i++)
		if (!(isalnum((unsigned char)line[i]) || line[i] == '.'))
			return;
	char *ver = xstrndup(line + 2, n - 2);
	scan_add_pkg(r, "golang", "stdlib", ver, path);
	free(ver);
}

static bool java_dir(const char *path)
{
	return strstr(path, "jvm/") || strstr(path, "jdk") || strstr(path, "jre") ||
	       strstr(path, "java") || strstr(path, "openjdk");
}

static bool runtime_match(const char *path)
{
	char mm[16];
	const char *b = cat_text_base(path);
	return python_mm(path, mm, sizeof(mm)) || (!strcmp(b, "node") && strstr(path, "bin/")) ||
	       (!strcmp(b, "release") && java_dir(path)) ||
	       (!strcmp(b, "VERSION") && cat_text_ends_with(path, "go/VERSION"));
}

static void runtime_parse(const char *data, size_t len, const char *path, struct scan_result *r)
{
	const char *b = cat_text_base(path);
	if (!strcmp(b, "node"))
		node_rt(data, len, path, r);
	else if (!strcmp(b, "release"))
		java_rt(data, len, path, r);
	else if (!strcmp(b, "VERSION"))
		go_rt(data, len, path, r);
	else
		python_rt(data, len, path, r);
}

const struct cataloger cat_runtime = { "runtime", runtime_match, runtime_parse };
