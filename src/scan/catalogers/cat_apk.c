/* SPDX-License-Identifier: Apache-2.0 */
/*
 * apk's installed database (lib/apk/db/installed): one "X:value" line per
 * field, a blank line between packages. P name, V version, A arch, o origin
 * (the source package), L license.
 */
#include <stdlib.h>
#include <string.h>
#include "scan/catalogers/catalog.h"

struct apk {
	char *name, *version, *arch, *origin, *license;
	size_t line;
};

static void apk_clear(struct apk *a)
{
	free(a->name);
	free(a->version);
	free(a->arch);
	free(a->origin);
	free(a->license);
	memset(a, 0, sizeof(*a));
}

static void apk_emit(struct apk *a, const char *path, struct scan_result *r)
{
	if (!a->line)
		return;
	if (!a->name || !a->version || !a->name[0] || !a->version[0]) {
		scan_warn(r, "cannot parse %s:%zu: package without %s", path, a->line,
			  a->name ? "V: (version)" : "P: (name)");
		return;
	}
	struct scan_pkg *p = scan_add_pkg(r, "apk", a->name, a->version, path);
	if (a->arch)
		p->arch = xstrdup(a->arch);
	if (a->license)
		p->license = xstrdup(a->license);
	p->src_name = xstrdup(a->origin ? a->origin : a->name);
	p->src_version = xstrdup(a->version);
}

void cat_apk_parse(const char *data, size_t len, const char *path, struct scan_result *r)
{
	struct apk a = { 0 };
	size_t pos = 0, lineno = 0;
	const char *line;
	size_t n;
	bool warned = false;

	while (cat_next_line(data, len, &pos, &line, &n)) {
		lineno++;
		if (n == 0) {
			apk_emit(&a, path, r);
			apk_clear(&a);
			continue;
		}
		if (n < 2 || line[1] != ':') {
			if (!warned)
				scan_warn(r, "cannot parse %s:%zu: expected 'X:value'", path, lineno);
			warned = true;
			continue;
		}
		if (!a.line)
			a.line = lineno;
		char **slot = NULL;
		switch (line[0]) {
		case 'P': slot = &a.name; break;
		case 'V': slot = &a.version; break;
		case 'A': slot = &a.arch; break;
		case 'o': slot = &a.origin; break;
		case 'L': slot = &a.license; break;
		}
		if (slot) {
			free(*slot);
			*slot = xstrndup(line + 2, n - 2);
		}
	}
	apk_emit(&a, path, r);
	apk_clear(&a);
}
