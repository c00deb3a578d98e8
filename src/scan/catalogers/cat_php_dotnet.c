/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON lock files of PHP and .NET:
 *
 * - composer.lock: "packages" (and, as development dependencies,
 *   "packages-dev") [{"name": "vendor/pkg", "version": "v1.2.3"}]; packages
 *   installed from a path repository ("dist": {"type": "path"}) are not
 *   reported. Purl type composer, ecosystem Packagist.
 * - vendor/composer/installed.json: what Composer installed; Composer 1
 *   writes the list, Composer 2 {"packages": [...], "dev-package-names":
 *   [...]} (those names are development dependencies).
 * - *.deps.json (.NET): "libraries" {"Name/1.2.3": {"type": "package"}};
 *   "project" (the application and its projects) and runtime packs are not
 *   NuGet packages. Purl type nuget, ecosystem NuGet.
 * - packages.lock.json (NuGet): "dependencies" per target framework
 *   {"Name": {"type": "Direct"|"Transitive"|"CentralTransitive",
 *   "resolved": "1.2.3"}}; "Project" entries are the solution's own.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "scan/catalogers/cat_text.h"
#include "scan/catalogers/catalog.h"

static json_t *load(const char *data, size_t len, const char *path, struct scan_result *r,
		    bool array_ok)
{
	json_error_t e;
	json_t *root = json_loadb(data, len, 0, &e);

	if (!root) {
		scan_warn(r, "cannot parse %s:%d:%d: %s", path, e.line, e.column, e.text);
		return NULL;
	}
	if (!json_is_object(root) && !(array_ok && json_is_array(root))) {
		scan_warn(r, "cannot parse %s: not a JSON object", path);
		json_decref(root);
		return NULL;
	}
	return root;
}

static void composer_list(json_t *pkgs, json_t *dev_names, const char *path,
			  struct scan_result *r)
{
	size_t i, k;
	json_t *p, *d;

	json_array_foreach(pkgs, i, p) {
		const char *name = json_string_value(json_object_get(p, "name"));
		const char *ver = json_string_value(json_object_get(p, "version"));
		const char *dist = json_string_value(json_object_get(json_object_get(p, "dist"), "type"));
		if (!name || !ver || !name[0] || !ver[0] || (dist && !strcmp(dist, "path")))
			continue;
		bool dev = false;
		json_array_foreach(dev_names, k, d)
			if (json_is_string(d) && !strcmp(json_string_value(d), name))
				dev = true;
		if (dev && !r->include_dev)
			continue;
		scan_add_pkg(r, "composer", name, ver, path);
	}
}

static void composer_parse(const char *data, size_t len, const char *path, struct scan_result *r)
{
	bool installed = cat_text_ends_with(path, "installed.json");
	json_t *root = load(data, len, path, r, installed);

	if (!root)
		return;
	if (json_is_array(root)) {
		composer_list(root, NULL, path, r); /* Composer 1's installed.json */
	} else {
		composer_list(json_object_get(root, "packages"),
			      json_object_get(root, "dev-package-names"), path, r);
		if (!installed && r->include_dev)
			composer_list(json_object_get(root, "packages-dev"), NULL, path, r);
	}
	json_decref(root);
}

static void deps_json_parse(const char *data, size_t len, const char *path, struct scan_result *r)
{
	json_t *root = load(data, len, path, r, false);
	const char *key;
	json_t *lib;

	if (!root)
		return;
	json_object_foreach(json_object_get(root, "libraries"), key, lib) {
		const char *type = json_string_value(json_object_get(lib, "type"));
		const char *slash = strchr(key, '/');
		if (!type || strcmp(type, "package") || !slash || slash == key || !slash[1])
			continue;
		char *name = xstrndup(key, (size_t)(slash - key));
		scan_add_pkg(r, "nuget", name, slash + 1, path);
		free(name);
	}
	json_decref(root);
}

static void nuget_lock_parse(const char *data, size_t len, const char *path, struct scan_result *r)
{
	json_t *root = load(data, len, path, r, false);
	struct cat_set seen = { 0 };
	const char *fw, *name;
	json_t *deps, *d;

	if (!root)
		return;
	json_object_foreach(json_object_get(root, "dependencies"), fw, deps) {
		json_object_foreach(deps, name, d) {
			const char *type = json_string_value(json_object_get(d, "type"));
			const char *ver = json_string_value(json_object_get(d, "resolved"));
			if (!type || !ver || !strcmp(type, "Project") || !name[0] || !ver[0])
				continue;
			char key[1024];
			snprintf(key, sizeof(key), "%s/%s", name, ver);
			if (cat_set_add(&seen, key))
				scan_add_pkg(r, "nuget", name, ver, path);
		}
	}
	cat_set_free(&seen);
	json_decref(root);
}

static bool composer_match(const char *path)
{
	return (!strcmp(cat_text_base(path), "composer.lock") && !strstr(path, "vendor/")) ||
	       cat_text_ends_with(path, "vendor/composer/installed.json") ||
	       !strcmp(path, "composer/installed.json");
}

static bool deps_json_match(const char *path)
{
	return cat_text_ends_with(path, ".deps.json");
}

static bool nuget_lock_match(const char *path)
{
	return !strcmp(cat_text_base(path), "packages.lock.json");
}

const struct cataloger cat_composer = { "composer", composer_match, composer_parse };
const struct cataloger cat_dotnet_deps = { "dotnet-deps", deps_json_match, deps_json_parse };
const struct cataloger cat_nuget_lock = { "nuget-lock", nuget_lock_match, nuget_lock_parse };
