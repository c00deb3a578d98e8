/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JavaScript lock files besides npm's (cat_npm.c), all npm packages:
 *
 * - yarn.lock v1 (yarn classic): blocks headed by a line of comma-separated
 *   specs ("lodash@^4.17.0", "@babel/core@^7.0.0":) with an indented
 *   `version "4.17.21"`. The package is the first spec's name; an alias
 *   spec "alias@npm:real@^1" is the real package.
 * - yarn.lock of yarn 2+ (Berry, YAML with __metadata): each entry's
 *   `resolution: "name@npm:1.2.3"` and `version`.
 * - pnpm-lock.yaml, lockfileVersion 5 (keys /name/1.2.3_peer), 6
 *   (/name@1.2.3(peer)) and 9 (name@1.2.3, with a snapshots graph).
 *
 * Reported as npm's cataloger does: registry packages only (workspace:,
 * link:, file:, portal:, patch:, git and tarball URLs are not), each
 * name@version once. Development dependencies: pnpm marks them (dev: true in
 * v5/v6; in v9 those reachable only from importers' devDependencies) and
 * they are left out unless r->include_dev; yarn.lock does not mark them, so
 * all of its packages are reported.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/yaml.h"
#include "scan/catalogers/cat_text.h"
#include "scan/catalogers/catalog.h"

/* Adds name@version once per file (seen: "name@version" keys). */
static void js_add(struct scan_result *r, struct cat_set *seen, const char *name, size_t nlen,
		   const char *version, size_t vlen, const char *path)
{
	if (!nlen || !vlen || nlen > 512 || vlen > 256)
		return;
	char key[800];
	snprintf(key, sizeof(key), "%.*s@%.*s", (int)nlen, name, (int)vlen, version);
	if (strchr(key + nlen + 1, ':') || strchr(key + nlen + 1, '/'))
		return; /* not a registry version */
	if (!cat_set_add(seen, key))
		return;
	char *n = xstrndup(name, nlen), *v = xstrndup(version, vlen);
	scan_add_pkg(r, "npm", n, v, path);
	free(n);
	free(v);
}

/* The '@' between name and range in a spec ("@scope/x@^1"): NULL when none. */
static const char *spec_at(const char *s, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (s[i] == '@')
			return s + i;
	return NULL;
}

static bool registry_range(const char *r, size_t n)
{
	static const char *const not[] = { "file:", "link:", "portal:", "workspace:", "patch:",
					   "git", "http:", "https:", "github:", "exec:" };
	for (size_t i = 0; i < sizeof(not) / sizeof(not[0]); i++)
		if (n >= strlen(not[i]) && !memcmp(r, not[i], strlen(not[i])))
			return false;
	return true;
}

static void yarn_v1(const char *data, size_t len, const char *path, struct scan_result *r)
{
	struct cat_set seen = { 0 };
	size_t pos = 0, n, lineno = 0;
	const char *line;
	char *name = NULL;
	bool ok = false, warned = false;

	while (cat_text_line(data, len, &pos, &line, &n)) {
		lineno++;
		if (!n || line[0] == '#')
			continue;
		if (line[0] != ' ') {
			free(name);
			name = NULL;
			ok = false;
			if (line[n - 1] != ':') {
				if (!warned)
					scan_warn(r, "cannot parse %s:%zu: expected a 'spec:' header",
						  path, lineno);
				warned = true;
				continue;
			}
			/* the first spec, unquoted */
			const char *s = line, *end = line + n - 1;
			const char *comma = memchr(s, ',', (size_t)(end - s));
			if (comma)
				end = comma;
			if (*s == '"')
				s++;
			if (end > s && end[-1] == '"')
				end--;
			const char *at = spec_at(s, (size_t)(end - s));
			if (!at)
				continue;
			const char *range = at + 1;
			size_t rn = (size_t)(end - range);
			if (rn > 4 && !memcmp(range, "npm:", 4)) { /* alias@npm:real@range */
				const char *real = range + 4;
				const char *at2 = spec_at(real, (size_t)(end - real));
				if (!at2)
					continue;
				name = xstrndup(real, (size_t)(at2 - real));
				ok = true;
			} else {
				name = xstrndup(s, (size_t)(at - s));
				ok = registry_range(range, rn);
			}
			continue;
		}
		const char *t = line;
		while (t < line + n && *t == ' ')
			t++;
		size_t tn = (size_t)(line + n - t);
		if (ok && name && t - line == 2 && tn > 8 && !memcmp(t, "version ", 8)) {
			const char *v = t + 8;
			size_t vn = tn - 8;
			if (vn >= 2 && v[0] == '"' && v[vn - 1] == '"')
				v++, vn -= 2;
			js_add(r, &seen, name, strlen(name), v, vn, path);
		}
	}
	free(name);
	cat_set_free(&seen);
}

static struct yaml_stream *js_yaml(const char *data, size_t len, const char *path,
				   struct scan_result *r, struct yaml_stream *s)
{
	char err[256];

	memset(s, 0, sizeof(*s));
	if (yaml_parse_bounded(data, len, len / 2 + 1024, s, err, sizeof(err))) {
		scan_warn(r, "cannot parse %s:%s", path, err);
		yaml_stream_free(s);
		return NULL;
	}
	if (s->ndocs < 1 || !s->docs[0] || s->docs[0]->kind != YAML_MAP) {
		scan_warn(r, "cannot parse %s: not a YAML mapping", path);
		yaml_stream_free(s);
		return NULL;
	}
	return s;
}

static const char *ystr(const struct yaml_node *map, const char *key)
{
	const struct yaml_node *v = yaml_get(map, key);
	return v && v->kind == YAML_SCALAR ? v->str : NULL;
}

static void yarn_berry(const char *data, size_t len, const char *path, struct scan_result *r)
{
	struct yaml_stream ys;
	struct cat_set seen = { 0 };

	if (!js_yaml(data, len, path, r, &ys))
		return;
	const struct yaml_node *root = ys.docs[0];
	for (size_t i = 0; i + 1 < root->n * 2; i += 2) {
		const struct yaml_node *v = root->items[i + 1];
		const char *res = ystr(v, "resolution"), *ver = ystr(v, "version");
		if (!res || !ver)
			continue; /* __metadata */
		const char *at = spec_at(res, strlen(res));
		if (!at || strncmp(at + 1, "npm:", 4))
			continue; /* workspace:, patch:, git, file: ... */
		js_add(r, &seen, res, (size_t)(at - res), ver, strlen(ver), path);
	}
	cat_set_free(&seen);
	yaml_stream_free(&ys);
}

static void yarn_parse(const char *data, size_t len, const char *path, struct scan_result *r)
{
	size_t pos = 0, n;
	const char *line;

	while (cat_text_line(data, len, &pos, &line, &n))
		if (n >= 11 && !memcmp(line, "__metadata:", 11)) {
			yarn_berry(data, len, path, r);
			return;
		}
	yarn_v1(data, len, path, r);
}

/*
 * Name and version of a pnpm package key: "/name/1.2.3_peer" (v5),
 * "/name@1.2.3(peer)" (v6), "name@1.2.3(peer)" (v9). False when it is not one.
 */
static bool pnpm_key(const char *k, bool v5, const char **name, size_t *nlen, const char **ver,
		     size_t *vlen)
{
	if (*k == '/')
		k++;
	size_t n = strcspn(k, "(");
	if (v5) {
		const char *slash = NULL;
		for (size_t i = 1; i < n; i++)
			if (k[i] == '/')
				slash = k + i;
		if (!slash || (k[0] == '@' && slash == strchr(k, '/')))
			return false;
		*name = k;
		*nlen = (size_t)(slash - k);
		*ver = slash + 1;
		*vlen = strcspn(*ver, "_(");
		return true;
	}
	const char *at = spec_at(k, n);
	if (!at)
		return false;
	*name = k;
	*nlen = (size_t)(at - k);
	*ver = at + 1;
	*vlen = (size_t)(k + n - *ver);
	return true;
}

/* v9: mark "name@version(peers)" snapshot keys reachable from deps (a name -> version map). */
static void pnpm_reach(const struct yaml_node *snaps, const struct yaml_node *deps,
		       struct cat_set *prod, int depth)
{
	if (!deps || deps->kind != YAML_MAP || depth > 256)
		return;
	for (size_t i = 0; i < deps->n; i++) {
		const struct yaml_node *k = deps->items[2 * i], *v = deps->items[2 * i + 1];
		const char *ver = v->kind == YAML_SCALAR ? v->str : ystr(v, "version");
		if (k->kind != YAML_SCALAR || !ver)
			continue;
		char key[1024];
		if (spec_at(ver, strlen(ver))) /* an alias: the version is real@1.2.3 */
			snprintf(key, sizeof(key), "%s", ver);
		else
			snprintf(key, sizeof(key), "%s@%s", k->str, ver);
		if (!cat_set_add(prod, key))
			continue;
		key[strcspn(key, "(")] = 0; /* and without its peers, which the packages keys lack */
		cat_set_add(prod, key);
		const struct yaml_node *s = yaml_get(snaps, key);
		pnpm_reach(snaps, yaml_get(s, "dependencies"), prod, depth + 1);
		pnpm_reach(snaps, yaml_get(s, "optionalDependencies"), prod, depth + 1);
	}
}

static void pnpm_parse(const char *data, size_t len, const char *path, struct scan_result *r)
{
	struct yaml_stream ys;
	struct cat_set seen = { 0 }, prod = { 0 };

	if (!js_yaml(data, len, path, r, &ys))
		return;
	const struct yaml_node *root = ys.docs[0];
	const char *lv = ystr(root, "lockfileVersion");
	double ver = lv ? strtod(lv, NULL) : 0;
	const struct yaml_node *pkgs = yaml_get(root, "packages");
	const struct yaml_node *snaps = yaml_get(root, "snapshots");
	bool v9 = ver >= 9;
	if (v9 && !r->include_dev) {
		const struct yaml_node *imp = yaml_get(root, "importers");
		for (size_t i = 0; imp && imp->kind == YAML_MAP && i < imp->n; i++) {
			const struct yaml_node *p = imp->items[2 * i + 1];
			pnpm_reach(snaps, yaml_get(p, "dependencies"), &prod, 0);
			pnpm_reach(snaps, yaml_get(p, "optionalDependencies"), &prod, 0);
		}
	}
	for (size_t i = 0; pkgs && pkgs->kind == YAML_MAP && i < pkgs->n; i++) {
		const struct yaml_node *k = pkgs->items[2 * i], *p = pkgs->items[2 * i + 1];
		const char *name, *v;
		size_t nlen, vlen;
		if (k->kind != YAML_SCALAR || !pnpm_key(k->str, ver > 0 && ver < 6, &name, &nlen, &v, &vlen))
			continue;
		const struct yaml_node *res = yaml_get(p, "resolution");
		if (ystr(res, "tarball") || ystr(res, "type") || ystr(res, "directory"))
			continue; /* a tarball URL, a directory or git */
		if (!r->include_dev) {
			if (!v9 && yaml_bool(yaml_get(p, "dev")) == 1)
				continue;
			if (v9) {
				/* reachable under any of its snapshot keys (peers vary) */
				char base[800];
				snprintf(base, sizeof(base), "%.*s@%.*s", (int)nlen, name, (int)vlen, v);
				if (!cat_set_has(&prod, base))
					continue;
			}
		}
		const char *pn = ystr(p, "name"), *pv = ystr(p, "version");
		if (pn && pv) /* v5/v6 write them for non-registry keys */
			js_add(r, &seen, pn, strlen(pn), pv, strlen(pv), path);
		else
			js_add(r, &seen, name, nlen, v, vlen, path);
	}
	cat_set_free(&seen);
	cat_set_free(&prod);
	yaml_stream_free(&ys);
}

/* an application's lock file, not one shipped inside an installed package */
static bool yarn_match(const char *path)
{
	return !strcmp(cat_text_base(path), "yarn.lock") && !strstr(path, "node_modules/");
}

static bool pnpm_match(const char *path)
{
	return !strcmp(cat_text_base(path), "pnpm-lock.yaml") && !strstr(path, "node_modules/");
}

const struct cataloger cat_yarn = { "yarn", yarn_match, yarn_parse };
const struct cataloger cat_pnpm = { "pnpm", pnpm_match, pnpm_parse };
