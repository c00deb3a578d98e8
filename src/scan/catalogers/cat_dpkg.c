/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dpkg status files (deb822 paragraphs): var/lib/dpkg/status and the
 * one-paragraph files of var/lib/dpkg/status.d/ (distroless images, which
 * have no Status field). A package counts when its Status is absent or its
 * state (the third word) is "installed" or a trigger state of an installed
 * package: unpacked, half-installed or config-files packages are not
 * configured on the system (dpkg-query's "ii" packages are what counts). Source: "name" or "name (version)"; absent means the binary
 * package is its own source.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "scan/catalogers/catalog.h"

struct para {
	char *package, *version, *status, *source, *arch, *license;
	size_t line; /* first line */
};

static void para_clear(struct para *p)
{
	free(p->package);
	free(p->version);
	free(p->status);
	free(p->source);
	free(p->arch);
	free(p->license);
	memset(p, 0, sizeof(*p));
}

static char *trimdup(const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return xstrndup(s, n);
}

static bool installed(const char *status)
{
	/* "want flag state": the state is the third word */
	const char *state = status ? strrchr(status, ' ') : NULL;

	if (!status)
		return true;
	state = state ? state + 1 : status;
	return !strcmp(state, "installed") || !strcmp(state, "triggers-pending") ||
	       !strcmp(state, "triggers-awaited");
}

static void para_emit(struct para *p, const char *path, struct scan_result *r)
{
	if (!p->package && !p->version)
		return;
	if (!p->package || !p->version || !p->package[0] || !p->version[0]) {
		scan_warn(r, "cannot parse %s:%zu: package without %s", path, p->line,
			  p->package ? "Version" : "Package");
		return;
	}
	if (!installed(p->status))
		return;
	struct scan_pkg *pkg = scan_add_pkg(r, "deb", p->package, p->version, path);
	if (p->arch)
		pkg->arch = xstrdup(p->arch);
	if (p->source && p->source[0]) {
		const char *paren = strchr(p->source, '(');
		if (paren) {
			const char *close = strchr(paren, ')');
			pkg->src_name = trimdup(p->source, (size_t)(paren - p->source));
			pkg->src_version = close ? trimdup(paren + 1, (size_t)(close - paren - 1))
						 : xstrdup(p->version);
		} else {
			pkg->src_name = xstrdup(p->source);
			pkg->src_version = xstrdup(p->version);
		}
	} else {
		pkg->src_name = xstrdup(p->package);
		pkg->src_version = xstrdup(p->version);
	}
}

void cat_dpkg_parse(const char *data, size_t len, const char *path, struct scan_result *r)
{
	struct para p = { 0 };
	size_t pos = 0, lineno = 0;
	const char *line;
	size_t n;
	bool warned = false;

	while (cat_next_line(data, len, &pos, &line, &n)) {
		lineno++;
		if (n == 0) {
			para_emit(&p, path, r);
			para_clear(&p);
			continue;
		}
		if (line[0] == ' ' || line[0] == '\t' || line[0] == '#')
			continue; /* continuation of a multi-line field, or a comment */
		const char *colon = memchr(line, ':', n);
		if (!colon) {
			if (!warned)
				scan_warn(r, "cannot parse %s:%zu: line without a field name", path,
					  lineno);
			warned = true;
			continue;
		}
		if (!p.line)
			p.line = lineno;
		size_t klen = (size_t)(colon - line);
		char **slot = NULL;
		if (klen == 7 && !memcmp(line, "Package", 7))
			slot = &p.package;
		else if (klen == 7 && !memcmp(line, "Version", 7))
			slot = &p.version;
		else if (klen == 6 && !memcmp(line, "Status", 6))
			slot = &p.status;
		else if (klen == 6 && !memcmp(line, "Source", 6))
			slot = &p.source;
		else if (klen == 12 && !memcmp(line, "Architecture", 12))
			slot = &p.arch;
		if (slot) {
			free(*slot);
			*slot = trimdup(colon + 1, n - klen - 1);
		}
	}
	para_emit(&p, path, r);
	para_clear(&p);
}
