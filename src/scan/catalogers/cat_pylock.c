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
 *   sources are not registry packages. Development groups are not told
 *   apart (uv.lock has no flag; all registry packages are reported).
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
	bool seen_source; /* uv: a source = { registry } was found */
};

static void tpkg_emit(struct tpkg *p, bool need_source, const char *path, struct scan_result *r)
{
	if (p->name && p->version && p->name[0] && p->version[0] && !p->skip &&
	    (!need_source || p->seen_source))
		scan_add_pkg(r, "pypi", p->name, p->version, path);
	free(p->name);
	free(p->version);
	memset(p, 0, sizeof(*p));
}

/* poetry.lock and uv.lock: uv's packages need a registry source. */
static void toml_lock_parse(const char *data, size_t len, const char *path, struct scan_result *r,
			    bool uv)
{
	struct tpkg p = { 0 };
	size_t pos = 0, n;
	const char *line;
	enum { T_OTHER, T_PKG, T_PKG_SOURCE } table = T_OTHER;
	char *v;

	while (cat_text_line(data, len, &pos, &line, &n)) {
		if (n && line[0] == '[') {
			if (n >= 11 && !memcmp(line, "[[package]]", 11)) {
				tpkg_emit(&p, uv, path, r);
				table = T_PKG;
			} else if (n >= 16 && !memcmp(line, "[package.source]", 16) && table != T_OTHER) {
				table = T_PKG_SOURCE;
			} else if (n >= 9 && !memcmp(line, "[package.", 9) && table != T_OTHER) {
				table = T_PKG_SOURCE + 1; /* dependencies, extras, metadata... */
			} else {
				tpkg_emit(&p, uv, path, r);
				table = T_OTHER;
			}
			continue;
		}
		if (table == T_PKG) {
			size_t vn;
			const char *raw;
			if (!p.name && (v = toml_strval(line, n, "name")))
				p.name = v;
			else if (!p.version && (v = toml_strval(line, n, "version")))
				p.version = v;
			else if ((v = toml_strval(line, n, "category"))) {
				if (!strcmp(v, "dev") && !r->include_dev)
					p.skip = true;
				free(v);
			} else if (uv && (raw = toml_val(line, n, "source", &vn))) {
				/* source = { registry = "https://pypi.org/simple" } */
				const char *q = raw, *end = raw + vn;
				if (q < end && *q == '{')
					q++;
				while (q < end && *q == ' ')
					q++;
				p.seen_source = (size_t)(end - q) > 8 && !memcmp(q, "registry", 8) &&
						(q[8] == ' ' || q[8] == '=');
			}
		} else if (table == T_PKG_SOURCE && (v = toml_strval(line, n, "type"))) {
			if (!strcmp(v, "git") || !strcmp(v, "directory") || !strcmp(v, "file") ||
			    !strcmp(v, "url"))
				p.skip = true;
			free(v);
		}
	}
	tpkg_emit(&p, uv, path, r);
}

static void poetry_parse(const char *data, size_t len, const char *path, struct scan_result *r)
{
	toml_lock_parse(data, len, path, r, false);
}

static void uv_parse(const char *data, size_t len, const char *path, struct scan_result *r)
{
	toml_lock_parse(data, len, path, r, true);
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
