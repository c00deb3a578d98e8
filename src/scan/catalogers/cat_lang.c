/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small language lock files and manifests:
 *  - Rust Cargo.lock: [[package]] tables with name, version and a source
 *    (packages without one are the workspace's own crates);
 *  - Ruby gemspecs of installed gems (specifications/NAME-VERSION.gemspec):
 *    the s.name = "..." and s.version = "..." assignments.
 */
#include <stdlib.h>
#include <string.h>
#include "scan/catalogers/cat_text.h"
#include "scan/catalogers/catalog.h"

/* The quoted value of `key = "value"` on a TOML line, or NULL. */
static char *toml_str(const char *line, size_t n, const char *key)
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
	if (p >= end || *p != '"')
		return NULL;
	const char *q = memchr(p + 1, '"', (size_t)(end - p - 1));
	return q ? xstrndup(p + 1, (size_t)(q - p - 1)) : NULL;
}

static void cargo_emit(char **name, char **version, char **source, const char *path,
		       struct scan_result *r)
{
	if (*name && *version && *source)
		scan_add_pkg(r, "cargo", *name, *version, path);
	free(*name);
	free(*version);
	free(*source);
	*name = *version = *source = NULL;
}

static void cargo_parse(const char *data, size_t len, const char *path, struct scan_result *r)
{
	char *name = NULL, *version = NULL, *source = NULL, *v;
	size_t pos = 0;
	const char *line;
	size_t n;
	bool in_pkg = false;

	while (cat_text_line(data, len, &pos, &line, &n)) {
		if (n && line[0] == '[') {
			cargo_emit(&name, &version, &source, path, r);
			in_pkg = n >= 11 && !memcmp(line, "[[package]]", 11);
			continue;
		}
		if (!in_pkg)
			continue;
		if ((v = toml_str(line, n, "name"))) {
			free(name);
			name = v;
		} else if ((v = toml_str(line, n, "version"))) {
			free(version);
			version = v;
		} else if ((v = toml_str(line, n, "source"))) {
			free(source);
			source = v;
		}
	}
	cargo_emit(&name, &version, &source, path, r);
}

/* The string assigned to `<var>.<field> =` on a gemspec line ("x".freeze allowed). */
static char *gem_field(const char *line, size_t n, const char *field)
{
	const char *end = line + n, *p = line;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	const char *dot = memchr(p, '.', (size_t)(end - p));
	size_t f = strlen(field);
	if (!dot || (size_t)(end - dot) <= f + 1 || memcmp(dot + 1, field, f))
		return NULL;
	for (const char *q = p; q < dot; q++)
		if (!(*q == '_' || (*q >= 'a' && *q <= 'z')))
			return NULL;
	p = dot + 1 + f;
	while (p < end && *p == ' ')
		p++;
	if (p >= end || *p++ != '=')
		return NULL;
	while (p < end && *p == ' ')
		p++;
	if (p >= end || (*p != '"' && *p != '\''))
		return NULL;
	const char *q = memchr(p + 1, *p, (size_t)(end - p - 1));
	return q ? xstrndup(p + 1, (size_t)(q - p - 1)) : NULL;
}

static void gem_parse(const char *data, size_t len, const char *path, struct scan_result *r)
{
	char *name = NULL, *version = NULL, *v;
	size_t pos = 0;
	const char *line;
	size_t n;

	while (cat_text_line(data, len, &pos, &line, &n)) {
		if (!name && (v = gem_field(line, n, "name")))
			name = v;
		else if (!version && (v = gem_field(line, n, "version")))
			version = v;
	}
	if (name && version && name[0] && version[0])
		scan_add_pkg(r, "gem", name, version, path);
	else
		scan_warn(r, "cannot parse %s: gemspec without name or version", path);
	free(name);
	free(version);
}

static bool cargo_match(const char *path)
{
	return !strcmp(cat_text_base(path), "Cargo.lock");
}

static bool gem_match(const char *path)
{
	return cat_text_ends_with(path, ".gemspec") && strstr(path, "/specifications/");
}

const struct cataloger cat_cargo = { "cargo", cargo_match, cargo_parse };
const struct cataloger cat_gem = { "gem", gem_match, gem_parse };
