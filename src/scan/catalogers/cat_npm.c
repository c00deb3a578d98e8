/* SPDX-License-Identifier: Apache-2.0 */
/*
 * npm: an installed package's node_modules/<name>/package.json (name and
 * version), and package-lock.json: lockfileVersion 2/3 list every installed
 * package under "packages" (keys "node_modules/a/node_modules/b"), version 1
 * nests them under "dependencies".
 *
 * What is reported, as Trivy and Syft do: packages from the registry.
 * Development dependencies ("dev": true) only when r->include_dev; the
 * project's own root package ("" in "packages") never; local ones ("link",
 * file: and link: versions) and git or tarball URLs never (no registry
 * version to match advisories against). An alias ("case-alias" installed as
 * "npm:case@1.6.3") is the real package: name case, version 1.6.3.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "scan/catalogers/cat_text.h"
#include "scan/catalogers/catalog.h"

static json_t *npm_load(const char *data, size_t len, const char *path, struct scan_result *r)
{
	json_error_t e;
	json_t *root = json_loadb(data, len, 0, &e);

	if (!root) {
		scan_warn(r, "cannot parse %s:%d:%d: %s", path, e.line, e.column, e.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		scan_warn(r, "cannot parse %s: not a JSON object", path);
		json_decref(root);
		return NULL;
	}
	return root;
}

static void npm_parse_package(const char *data, size_t len, const char *path,
			   struct scan_result *r)
{
	json_t *root = npm_load(data, len, path, r);

	if (!root)
		return;
	const char *name = json_string_value(json_object_get(root, "name"));
	const char *version = json_string_value(json_object_get(root, "version"));
	if (name && version && name[0] && version[0]) {
		struct scan_pkg *p = scan_add_pkg(r, "npm", name, version, path);
		const char *lic = json_string_value(json_object_get(root, "license"));
		if (lic)
			p->license = xstrdup(lic);
	}
	json_decref(root);
}

/*
 * Adds name at version unless the version is not a registry version (file:,
 * link:, git, URLs); "npm:real@1.2.3" aliases become real at 1.2.3.
 */
static void npm_add(struct scan_result *r, const char *name, const char *version,
		    const char *path)
{
	char *real = NULL;

	if (!strncmp(version, "npm:", 4)) {
		const char *spec = version + 4;
		const char *at = strrchr(spec + (spec[0] == '@'), '@');
		if (!at || at == spec)
			return;
		real = xstrndup(spec, (size_t)(at - spec));
		name = real;
		version = at + 1;
	}
	if (name[0] && version[0] && !strchr(version, ':') && !strchr(version, '/'))
		scan_add_pkg(r, "npm", name, version, path);
	free(real);
}

static bool npm_dev_skipped(json_t *p, const struct scan_result *r)
{
	return !r->include_dev && json_is_true(json_object_get(p, "dev"));
}

static void npm_lock_v1(json_t *deps, const char *path, struct scan_result *r, int depth)
{
	const char *name;
	json_t *d;

	if (!json_is_object(deps) || depth > 64)
		return;
	json_object_foreach(deps, name, d) {
		const char *version = json_string_value(json_object_get(d, "version"));
		if (version && !json_is_true(json_object_get(d, "bundled")) &&
		    !npm_dev_skipped(d, r))
			npm_add(r, name, version, path);
		npm_lock_v1(json_object_get(d, "dependencies"), path, r, depth + 1);
	}
}

static void npm_parse_lock(const char *data, size_t len, const char *path, struct scan_result *r)
{
	json_t *root = npm_load(data, len, path, r);
	json_t *pkgs, *p;
	const char *key;

	if (!root)
		return;
	pkgs = json_object_get(root, "packages");
	if (json_is_object(pkgs)) {
		json_object_foreach(pkgs, key, p) {
			const char *nm = NULL;
			for (const char *s = key; (s = strstr(s, "node_modules/")); s++)
				if (s == key || s[-1] == '/')
					nm = s + strlen("node_modules/");
			if (!nm || json_is_true(json_object_get(p, "link")) || npm_dev_skipped(p, r))
				continue; /* the root project, or a symlinked workspace */
			const char *res = json_string_value(json_object_get(p, "resolved"));
			if (res && (!strncmp(res, "git", 3) || !strncmp(res, "file:", 5)))
				continue; /* a git or local dependency */
			const char *name = json_string_value(json_object_get(p, "name"));
			const char *version = json_string_value(json_object_get(p, "version"));
			if (!name)
				name = nm;
			if (version)
				npm_add(r, name, version, path);
		}
	} else {
		npm_lock_v1(json_object_get(root, "dependencies"), path, r, 0);
	}
	json_decref(root);
}

/* node_modules/<name>/package.json or node_modules/@scope/<name>/package.json */
static bool npm_package_match(const char *path)
{
	const char *nm = NULL;

	if (strcmp(cat_text_base(path), "package.json"))
		return false;
	for (const char *p = path; (p = strstr(p, "node_modules/")); p++)
		if (p == path || p[-1] == '/')
			nm = p;
	if (!nm)
		return false;
	const char *rest = nm + strlen("node_modules/");
	const char *slash = strchr(rest, '/');
	if (!slash)
		return false;
	if (rest[0] == '@') {
		slash = strchr(slash + 1, '/');
		if (!slash)
			return false;
	}
	return !strcmp(slash + 1, "package.json");
}

/* an application's lock file, not one shipped inside an installed package */
static bool npm_lock_match(const char *path)
{
	return !strcmp(cat_text_base(path), "package-lock.json") && !strstr(path, "node_modules/");
}

const struct cataloger cat_npm_package = { "npm-package", npm_package_match, npm_parse_package };
const struct cataloger cat_npm_lock = { "npm-lock", npm_lock_match, npm_parse_lock };
