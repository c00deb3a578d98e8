/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Python distributions: core metadata (RFC 822 style headers) in
 * *.dist-info/METADATA, *.egg-info/PKG-INFO or a single-file *.egg-info
 * (directory suffixes in any case: setuptools wrote FOO.EGG-INFO on some
 * systems). Headers end at the first blank line; Name is required. A
 * distribution without a Version is kept unversioned, with a warning, as
 * Syft and Trivy keep it: it is installed even if no advisory can match it.
 */
#include <stdlib.h>
#include <string.h>
#include "scan/catalogers/cat_text.h"
#include "scan/catalogers/catalog.h"

static void python_parse(const char *data, size_t len, const char *path, struct scan_result *r)
{
	char *name = NULL, *version = NULL, *license = NULL;
	size_t pos = 0;
	const char *line;
	size_t n;

	while (cat_text_line(data, len, &pos, &line, &n) && n) {
		const char *colon = memchr(line, ':', n);
		if (!colon || line[0] == ' ' || line[0] == '\t')
			continue;
		size_t k = (size_t)(colon - line);
		const char *v = colon + 1;
		size_t vn = n - k - 1;
		while (vn && (*v == ' ' || *v == '\t'))
			v++, vn--;
		while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
			vn--;
		char **slot = NULL;
		if (k == 4 && !strncasecmp(line, "Name", 4))
			slot = &name;
		else if (k == 7 && !strncasecmp(line, "Version", 7))
			slot = &version;
		else if (k == 7 && !strncasecmp(line, "License", 7))
			slot = &license;
		if (slot && !*slot)
			*slot = xstrndup(v, vn);
	}
	if (name && name[0]) {
		if (!version || !version[0]) {
			scan_warn(r, "%s: Python package %s has no Version: reported unversioned",
				  path, name);
		}
		struct scan_pkg *p = scan_add_pkg(r, "pypi", name, version ? version : "", path);
		if (license && license[0] && strlen(license) < 200)
			p->license = xstrdup(license);
	} else {
		scan_warn(r, "cannot parse %s: Python metadata without Name", path);
	}
	free(name);
	free(version);
	free(license);
}

static bool python_match(const char *path)
{
	return cat_text_ends_with_ci(path, ".dist-info/METADATA") ||
	       cat_text_ends_with_ci(path, ".egg-info/PKG-INFO") ||
	       cat_text_ends_with_ci(path, ".egg-info");
}

const struct cataloger cat_python = { "python", python_match, python_parse };
