/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Python lock files and pins, all PyPI packages:
 *
 * - poetry.lock (TOML): [[package]] tables with name and version; a
 *   [package.source] of type git, directory, file or url is not a registry
 *   package; `category = "dev"` (lock files of Poetry < 1.5) marks a
 *   development dependency.
 * - uv.lock (TOML): [[package]] with `source = { registry = "..." }`; the
 *   project itself (editable or virtual) and git, path, directory and url
 *   sources are not registry packages. Development dependencies are those
 *   only the projects' [package.dev-dependencies] groups reach: the graph
 *   is walked from the projects' `dependencies` and
 *   [package.optional-dependencies] through every package's `dependencies`
 *   and optional ones (as Trivy does); without a project, all are listed.
 * - Pipfile.lock (JSON): "default" and, as development dependencies,
 *   "develop": {"name": {"version": "==1.2.3"}}; entries without a version
 *   (git, path, editable) are not reported.
 * - requirements*.txt: pinned lines `name==1.2.3` (or ===), extras, markers,
 *   hashes and comments ignored; unpinned lines and options (-r, -e, --...)
 *   name no version and are skipped.
 *
 * The TOML reader here is line-based: `key = value` at the start of a line
 * in the current table; multi-line arrays and strings are skipped by their
 * indentation, which is how Poetry and uv write them.
 */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/strv.h"
#include "scan/catalogers/cat_text.h"
#include "scan/catalogers/catalog.h"

/* The value text of `key = value` on a line, or NULL; *vn its length. */
static const char *toml_val(const char *line, size_t n, const char *key, size_t *vn)
{
	size_t k = strlen(key);
	if (n <= k || memcmp(line, key, k))
		return NULL;
	const char *p = line + k, *end = line + n;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p >= end || *p++ != '=')
		return NULL;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	*vn = (size_t)(end - p);
	return p;
}

/* A basic string value ("...", escapes not decoded: names and versions have none). */
static char *toml_strval(const char *line, size_t n, const char *key)
{
	size_t vn;
	const char *v = toml_val(line, n, key, &vn);
	if (!v || vn < 2 || (v[0] != '"' && v[0] != '\''))
		return NULL;
	const char *q = memchr(v + 1, v[0], vn - 1);
	return q ? xstrndup(v + 1, (size_t)(q - v - 1)) : NULL;
}

struct tpkg {
	char *name, *version;
	bool skip; /* not a registry package, or left out (development) */
};

static void tpkg_emit(struct tpkg *p, const char *path, struct scan_result *r)
{
	if (p->name && p->version && p->name[0] && p->version[0] && !p->skip)
		scan_add_pkg(r, "pypi", p->name, p->version, path);
	free(p->name);
	free(p->version);
	memset(p, 0, sizeof(*p));
}

static void poetry_parse(const char *data, size_t len, const char *path, struct scan_result *r)
{
	struct tpkg p = { 0 };
	size_t pos = 0, n;
	const char *line;
	enum { T_OTHER, T_PKG, T_PKG_SOURCE, T_PKG_SUB } table = T_OTHER;
	char *v;

	while (cat_text_line(data, len, &pos, &line, &n)) {
		if (n && line[0] == '[') {
			if (n >= 11 && !memcmp(line, "[[package]]", 11)) {
				tpkg_emit(&p, path, r);
				table = T_PKG;
			} else if (n >= 16 && !memcmp(line, "[package.source]", 16) && table != T_OTHER) {
				table = T_PKG_SOURCE;
			} else if (n >= 9 && !memcmp(line, "[package.", 9) && table != T_OTHER) {
				table = T_PKG_SUB; /* dependencies, extras, metadata... */
			} else {
				tpkg_emit(&p, path, r);
				table = T_OTHER;
			}
			continue;
		}
		if (table == T_PKG) {
			if (!p.name && (v = toml_strval(line, n, "name")))
				p.name = v;
			else if (!p.version && (v = toml_strval(line, n, "version")))
				p.version = v;
			else if ((v = toml_strval(line, n, "category"))) {
				if (!strcmp(v, "dev") && !r->include_dev)
					p.skip = true;
				free(v);
			}
		} else if (table == T_PKG_SOURCE && (v = toml_strval(line, n, "type"))) {
			if (!strcmp(v, "git") || !strcmp(v, "directory") || !strcmp(v, "file") ||
			    !strcmp(v, "url"))
				p.skip = true;
			free(v);
		}
	}
	tpkg_emit(&p, path, r);
}

struct uvpkg {
	char *name, *version;
	bool registry, project;
	struct strv deps, dev; /* names: runtime (with optional) and development edges */
};

/* Every `name = "X"` of a line of a dependency array, added to out. */
static void uv_names(const char *line, size_t n, struct strv *out)
{
	const char *end = line + n;
	for (const char *p = line; p + 8 < end; p++) {
		if (memcmp(p, "name = \"", 8) || (p > line && p[-1] != ' ' && p[-1] != '{'))
			continue;
		const char *q = memchr(p + 8, '"', (size_t)(end - p - 8));
		if (!q)
			return;
		char *nm = xstrndup(p + 8, (size_t)(q - p - 8));
		strv_take(out, nm);
		p = q;
	}
}

static struct uvpkg *uv_find(struct uvpkg *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].name && !strcmp(v[i].name, name))
			return &v[i];
	return NULL;
}

static void uv_walk(struct uvpkg *v, size_t n, struct uvpkg *p, struct cat_set *seen, int depth)
{
	for (size_t i = 0; i < p->deps.n && depth < 512; i++) {
		struct uvpkg *d = uv_find(v, n, p->deps.v[i]);
		if (d && cat_set_add(seen, d->name))
			uv_walk(v, n, d, seen, depth + 1);
	}
}

static void uv_parse(const char *data, size_t len, const char *path, struct scan_result *r)
{
	struct uvpkg *v = NULL, *cur = NULL;
	size_t nv = 0, pos = 0, n;
	const char *line;
	struct strv *into = NULL; /* the array being read, until its ']' */
	enum { U_OTHER, U_PKG, U_OPT, U_DEV, U_SUB } table = U_OTHER;
	char *s;

	while (cat_text_line(data, len, &pos, &line, &n)) {
		if (into) {
			if (n && line[0] == ']')
				into = NULL;
			else
				uv_names(line, n, into);
			continue;
		}
		if (n && line[0] == '[') {
			if (n >= 11 && !memcmp(line, "[[package]]", 11)) {
				if (nv >= 200000)
					break;
				v = xrealloc(v, (nv + 1) * sizeof(*v));
				cur = &v[nv++];
				memset(cur, 0, sizeof(*cur));
				table = U_PKG;
			} else if (cur && n >= 30 && !memcmp(line, "[package.optional-dependencies]", 30)) {
				table = U_OPT;
			} else if (cur && n >= 25 && !memcmp(line, "[package.dev-dependencies]", 25)) {
				table = U_DEV;
			} else if (cur && n >= 9 && !memcmp(line, "[package.", 9)) {
				table = U_SUB;
			} else {
				table = U_OTHER;
				cur = NULL;
			}
			continue;
		}
		if (!cur || table == U_OTHER || table == U_SUB || !n || line[0] == ' ')
			continue;
		size_t vn = 0;
		const char *raw = NULL;
		struct strv *arr = NULL;
		if (table == U_PKG) {
			if (!cur->name && (s = toml_strval(line, n, "name")))
				cur->name = s;
			else if (!cur->version && (s = toml_strval(line, n, "version")))
				cur->version = s;
			else if ((raw = toml_val(line, n, "source", &vn))) {
				const char *q = raw, *end = raw + vn;
				if (q < end && *q == '{')
					q++;
				while (q < end && *q == ' ')
					q++;
				size_t rest = (size_t)(end - q);
				cur->registry = rest > 9 && !memcmp(q, "registry ", 9);
				cur->project = (rest > 9 && !memcmp(q, "editable ", 9)) ||
					       (rest > 8 && !memcmp(q, "virtual ", 8));
			} else if ((raw = toml_val(line, n, "dependencies", &vn))) {
				arr = &cur->deps;
			}
		} else { /* a group or extra: `name = [` */
			const char *eq = memchr(line, '=', n);
			if (eq) {
				raw = eq + 1;
				vn = (size_t)(line + n - raw);
				while (vn && *raw == ' ')
					raw++, vn--;
				arr = table == U_DEV ? &cur->dev : &cur->deps;
			}
		}
		if (arr && vn && raw[0] == '[') {
			uv_names(raw, vn, arr);
			if (raw[vn - 1] != ']')
				into = arr; /* continued on the next lines */
		}
	}
	/* runtime reach from the projects; everything when there is none */
	struct cat_set prod = { 0 };
	bool any_project = false;
	for (size_t i = 0; i < nv; i++)
		if (v[i].project && v[i].name) {
			any_project = true;
			uv_walk(v, nv, &v[i], &prod, 0);
		}
	for (size_t i = 0; i < nv; i++) {
		struct uvpkg *p = &v[i];
		if (p->name && p->version && p->registry && p->name[0] && p->version[0] &&
		    (r->include_dev || !any_project || cat_set_has(&prod, p->name)))
			scan_add_pkg(r, "pypi", p->name, p->version, path);
		free(p->name);
		free(p->version);
		strv_free(&p->deps);
		strv_free(&p->dev);
	}
	cat_set_free(&prod);
	free(v);
}

static void pipfile_section(json_t *sec, const char *path, struct scan_result *r)
{
	const char *name;
	json_t *d;

	if (!json_is_object(sec))
		return;
	json_object_foreach(sec, name, d) {
		const char *v = json_string_value(json_object_get(d, "version"));
		if (!v || strncmp(v, "==", 2))
			continue; /* git, path or editable: no pinned version */
		v += 2 + (v[2] == '=');
		if (name[0] && v[0])
			scan_add_pkg(r, "pypi", name, v, path);
	}
}

static void pipfile_parse(const char *data, size_t len, const char *path, struct scan_result *r)
{
	json_error_t e;
	json_t *root = json_loadb(data, len, 0, &e);

	if (!json_is_object(root)) {
		if (root)
			scan_warn(r, "cannot parse %s: not a JSON object", path);
		else
			scan_warn(r, "cannot parse %s:%d:%d: %s", path, e.line, e.column, e.text);
		json_decref(root);
		return;
	}
	pipfile_section(json_object_get(root, "default"), path, r);
	if (r->include_dev)
		pipfile_section(json_object_get(root, "develop"), path, r);
	json_decref(root);
}

static bool req_name_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.';
}

static void requirements_parse(const char *data, size_t len, const char *path,
			       struct scan_result *r)
{
	size_t pos = 0, n;
	const char *line;
	bool cont = false;

	while (cat_text_line(data, len, &pos, &line, &n)) {
		bool was_cont = cont;
		cont = n && line[n - 1] == '\\';
		if (was_cont)
			continue; /* the rest of a line continued with '\' (hashes) */
		const char *p = line, *end = line + n;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		const char *nm = p;
		while (p < end && req_name_char(*p))
			p++;
		size_t nlen = (size_t)(p - nm);
		if (!nlen || !isalnum((unsigned char)nm[0]))
			continue; /* a comment, an option or a blank line */
		if (p < end && *p == '[') { /* extras */
			const char *close = memchr(p, ']', (size_t)(end - p));
			if (!close)
				continue;
			p = close + 1;
		}
		while (p < end && *p == ' ')
			p++;
		if (end - p < 3 || memcmp(p, "==", 2))
			continue; /* not pinned */
		p += 2;
		if (p < end && *p == '=')
			p++;
		while (p < end && *p == ' ')
			p++;
		const char *v = p;
		while (p < end && !strchr(" \t;#,\\", *p))
			p++;
		size_t vlen = (size_t)(p - v);
		while (p < end && *p == ' ')
			p++;
		if (p < end && *p == ',')
			continue; /* ==1.0,!=1.0.1: not one version */
		if (!vlen || memchr(v, '*', vlen))
			continue; /* ==1.* is a range */
		char *name = xstrndup(nm, nlen), *ver = xstrndup(v, vlen);
		scan_add_pkg(r, "pypi", name, ver, path);
		free(name);
		free(ver);
	}
}

static bool poetry_match(const char *path)
{
	return !strcmp(cat_text_base(path), "poetry.lock");
}

static bool uv_match(const char *path)
{
	return !strcmp(cat_text_base(path), "uv.lock");
}

static bool pipfile_match(const char *path)
{
	return !strcmp(cat_text_base(path), "Pipfile.lock");
}

/* requirements.txt, requirements-prod.txt, requirements_dev.txt ... */
static bool requirements_match(const char *path)
{
	const char *b = cat_text_base(path);
	return !strncmp(b, "requirements", 12) && cat_text_ends_with(b, ".txt") &&
	       !strstr(path, "site-packages/") && !strstr(path, "dist-packages/") &&
	       !strstr(path, ".dist-info/") && !strstr(path, ".egg-info/");
}

const struct cataloger cat_poetry = { "poetry", poetry_match, poetry_parse };
const struct cataloger cat_uv = { "uv", uv_match, uv_parse };
const struct cataloger cat_pipfile = { "pipfile", pipfile_match, pipfile_parse };
const struct cataloger cat_requirements = { "requirements", requirements_match, requirements_parse };
