/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "scan/reports/purl.h"

/* Percent-encode everything but unreserved characters (and '/' when keep_slash). */
static void purl_enc(struct vg_buf *b, const char *s, bool keep_slash)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c) || c == '.' || c == '-' || c == '_' || c == '~' ||
		    (keep_slash && c == '/'))
			buf_addc(b, (char)c);
		else
			buf_printf(b, "%%%02X", c);
	}
}

char *purl_pypi_name(const char *name)
{
	char *out = xmalloc(strlen(name) + 1);
	size_t o = 0;

	for (const char *s = name; *s; s++) {
		if (*s == '-' || *s == '_' || *s == '.') {
			if (o && out[o - 1] != '-')
				out[o++] = '-';
		} else {
			out[o++] = (char)tolower((unsigned char)*s);
		}
	}
	out[o] = 0;
	return out;
}

void purl_fill(const struct scan_result *r, struct scan_pkg *p)
{
	struct vg_buf b = { 0 };
	const char *t = p->type;
	bool os = !strcmp(t, "deb") || !strcmp(t, "apk") || !strcmp(t, "rpm");

	/* An unversioned package (Python metadata without a Version) is listed but
	 * gets no ecosystem: no advisory can be matched against no version. */
	if (!p->ecosystem && p->version[0]) {
		const char *eco = NULL;
		if (os)
			eco = r->os_ecosystem;
		else if (!strcmp(t, "pypi"))
			eco = "PyPI";
		else if (!strcmp(t, "npm"))
			eco = "npm";
		else if (!strcmp(t, "golang"))
			eco = "Go";
		else if (!strcmp(t, "maven"))
			eco = "Maven";
		else if (!strcmp(t, "cargo"))
			eco = "crates.io";
		else if (!strcmp(t, "gem"))
			eco = "RubyGems";
		else if (!strcmp(t, "composer"))
			eco = "Packagist";
		else if (!strcmp(t, "nuget"))
			eco = "NuGet";
		else if (!strcmp(t, "pub"))
			eco = "Pub";
		else if (!strcmp(t, "hex"))
			eco = "Hex";
		else if (!strcmp(t, "swift"))
			eco = "SwiftURL";
		else if (!strcmp(t, "conan"))
			eco = "ConanCenter";
		/* cocoapods and generic (language runtimes) have no OSV ecosystem */
		if (eco)
			p->ecosystem = xstrdup(eco);
	}
	buf_printf(&b, "pkg:%s/", t);
	if (os) {
		purl_enc(&b, r->os_id ? r->os_id : "unknown", false);
		buf_addc(&b, '/');
		purl_enc(&b, p->name, false);
	} else if (!strcmp(t, "pypi")) {
		char *n = purl_pypi_name(p->name);
		purl_enc(&b, n, false);
		free(n);
	} else if (!strcmp(t, "maven")) {
		/* name is "group:artifact" */
		const char *colon = strchr(p->name, ':');
		if (colon) {
			char *g = xstrndup(p->name, (size_t)(colon - p->name));
			purl_enc(&b, g, false);
			free(g);
			buf_addc(&b, '/');
			purl_enc(&b, colon + 1, false);
		} else {
			purl_enc(&b, p->name, false);
		}
	} else if (!strcmp(t, "golang") || !strcmp(t, "npm") || !strcmp(t, "swift")) {
		/* namespace segments keep their '/'; npm's '@' is encoded */
		purl_enc(&b, p->name, true);
	} else if (!strcmp(t, "composer") || !strcmp(t, "hex") || !strcmp(t, "pub")) {
		/* case-insensitive names: lower-cased, as the purl types say */
		char *n = xstrdup(p->name);
		for (char *c = n; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		purl_enc(&b, n, !strcmp(t, "composer"));
		free(n);
	} else if (!strcmp(t, "cocoapods") && strchr(p->name, '/')) {
		/* a subspec Pod/Sub is the pod's subpath */
		const char *slash = strchr(p->name, '/');
		char *n = xstrndup(p->name, (size_t)(slash - p->name));
		purl_enc(&b, n, false);
		free(n);
		if (p->version[0]) {
			buf_addc(&b, '@');
			purl_enc(&b, p->version, false);
		}
		buf_addc(&b, '#');
		purl_enc(&b, slash + 1, true);
		free(p->purl);
		p->purl = b.data;
		return;
	} else {
		purl_enc(&b, p->name, false);
	}
	if (p->version[0]) {
		buf_addc(&b, '@');
		purl_enc(&b, p->version, false);
	}
	char sep = '?';
	if (p->arch && p->arch[0]) {
		buf_printf(&b, "%carch=", sep);
		purl_enc(&b, p->arch, false);
		sep = '&';
	}
	if (os && r->os_id) {
		buf_printf(&b, "%cdistro=", sep);
		if (strcmp(t, "apk")) {
			purl_enc(&b, r->os_id, false);
			buf_addc(&b, '-');
		}
		purl_enc(&b, r->os_version ? r->os_version : "", false);
	}
	free(p->purl);
	p->purl = b.data ? b.data : xstrdup("");
}
