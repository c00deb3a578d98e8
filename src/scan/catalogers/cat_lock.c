/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Lock files of smaller ecosystems, one parser each:
 *
 * - Gemfile.lock (Bundler): the GEM section's `specs:` at four spaces,
 *   "name (version[-platform])" (the platform is not part of the version);
 *   GIT and PATH sections are not registry gems. RubyGems.
 * - pubspec.lock (Dart, YAML): packages.NAME {dependency, source, version};
 *   source hosted only; "direct dev" is a development dependency. Pub.
 * - Package.resolved (SwiftPM, JSON v1 object.pins[] {repositoryURL, state};
 *   v2/v3 pins[] {location, kind, state}): pins with a state.version; the
 *   name is the repository URL without scheme and ".git"
 *   (github.com/apple/swift-nio), as OSV's SwiftURL ecosystem names them.
 * - mix.lock (Elixir): "key": {:hex, :name, "version", ...}; :git and :path
 *   entries are not Hex packages. Hex.
 * - rebar.lock (Erlang): {<<"key">>,{pkg,<<"name">>,<<"version">>},Level}
 *   terms; git dependencies are not Hex packages. Hex.
 * - conan.lock: Conan 2 (0.5) "requires" references "name/version[@user/
 *   channel][#rrev]" ("build_requires" are build tools: development; a
 *   reference with a user/channel is not from ConanCenter, not reported);
 *   Conan 1 (0.4) graph_lock.nodes.*.ref (node 0 is the consumer).
 *   ConanCenter.
 * - gradle.lockfile (and gradle/dependency-locks/NAME.lockfile):
 *   "group:artifact:version=conf1,conf2"; dependencies only in test
 *   configurations are development dependencies. Maven.
 * - Podfile.lock (CocoaPods, YAML): PODS entries "Name (version)" or
 *   "Name/Subspec (version)"; no OSV ecosystem.
 */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/yaml.h"
#include "scan/catalogers/cat_text.h"
#include "scan/catalogers/catalog.h"

/* name and version of "name (version)"; false when the line is not one. */
static bool paren_pkg(const char *s, size_t n, char **name, char **version)
{
	const char *open = memchr(s, '(', n);
	if (!open || open == s || s[n - 1] != ')' || open[-1] != ' ')
		return false;
	*name = xstrndup(s, (size_t)(open - 1 - s));
	*version = xstrndup(open + 1, (size_t)(s + n - 1 - open - 1));
	return true;
}

static void gemlock_parse(const char *data, size_t len, const char *path, struct scan_result *r)
{
	size_t pos = 0, n;
	const char *line;
	bool gem = false, specs = false;

	while (cat_text_line(data, len, &pos, &line, &n)) {
		if (n && line[0] != ' ') {
			gem = n == 3 && !memcmp(line, "GEM", 3);
			specs = false;
			continue;
		}
		if (!gem)
			continue;
		if (n == 8 && !memcmp(line, "  specs:", 8)) {
			specs = true;
			continue;
		}
		if (!specs || n < 5 || memcmp(line, "    ", 4) || line[4] == ' ')
			continue;
		char *name, *ver;
		if (!paren_pkg(line + 4, n - 4, &name, &ver))
			continue;
		ver[strcspn(ver, "-")] = 0; /* 1.13.10-x86_64-linux */
		if (name[0] && ver[0])
			scan_add_pkg(r, "gem", name, ver, path);
		free(name);
		free(ver);
	}
}

static struct yaml_node *lock_yaml(const char *data, size_t len, const char *path,
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
	return s->docs[0];
}

static const char *ystr(const struct yaml_node *map, const char *key)
{
	const struct yaml_node *v = yaml_get(map, key);
	return v && v->kind == YAML_SCALAR ? v->str : NULL;
}

static void pubspec_parse(const char *data, size_t len, const char *path, struct scan_result *r)
{
	struct yaml_stream ys;
	const struct yaml_node *root = lock_yaml(data, len, path, r, &ys);

	if (!root)
		return;
	const struct yaml_node *pkgs = yaml_get(root, "packages");
	for (size_t i = 0; pkgs && pkgs->kind == YAML_MAP && i < pkgs->n; i++) {
		const struct yaml_node *k = pkgs->items[2 * i], *p = pkgs->items[2 * i + 1];
		const char *src = ystr(p, "source"), *ver = ystr(p, "version");
		const char *dep = ystr(p, "dependency");
		if (k->kind != YAML_SCALAR || !src || strcmp(src, "hosted") || !ver || !ver[0] ||
		    !k->str[0])
			continue;
		if (dep && !strcmp(dep, "direct dev") && !r->include_dev)
			continue;
		scan_add_pkg(r, "pub", k->str, ver, path);
	}
	yaml_stream_free(&ys);
}

static void podfile_parse(const char *data, size_t len, const char *path, struct scan_result *r)
{
	struct yaml_stream ys;
	const struct yaml_node *root = lock_yaml(data, len, path, r, &ys);

	if (!root)
		return;
	const struct yaml_node *pods = yaml_get(root, "PODS");
	for (size_t i = 0; pods && pods->kind == YAML_SEQ && i < pods->n; i++) {
		const struct yaml_node *it = pods->items[i];
		if (it->kind == YAML_MAP && it->n == 1)
			it = it->items[0]; /* "Name (1.0)": [its dependencies] */
		char *name, *ver;
		if (it->kind != YAML_SCALAR || !paren_pkg(it->str, strlen(it->str), &name, &ver))
			continue;
		if (name[0] && ver[0])
			scan_add_pkg(r, "cocoapods", name, ver, path);
		free(name);
		free(ver);
	}
	yaml_stream_free(&ys);
}

static json_t *lock_json(const char *data, size_t len, const char *path, struct scan_result *r)
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

/* github.com/owner/repo of https://github.com/owner/repo.git or git@github.com:owner/repo.git */
static char *swift_name(const char *url)
{
	const char *s = strstr(url, "://");
	char *name;

	if (s) {
		s += 3;
		const char *at = strchr(s, '@'), *slash = strchr(s, '/');
		if (at && (!slash || at < slash))
			s = at + 1;
		name = xstrdup(s);
	} else {
		const char *at = strchr(url, '@');
		name = xstrdup(at ? at + 1 : url);
		char *colon = strchr(name, ':');
		if (colon)
			*colon = '/';
	}
	size_t n = strlen(name);
	while (n && name[n - 1] == '/')
		name[--n] = 0;
	return name;
}

static void swift_parse(const char *data, size_t len, const char *path, struct scan_result *r)
{
	json_t *root = lock_json(data, len, path, r), *pin;
	size_t i;

	if (!root)
		return;
	json_t *pins = json_object_get(root, "pins");
	if (!pins)
		pins = json_object_get(json_object_get(root, "object"), "pins");
	json_array_foreach(pins, i, pin) {
		const char *url = json_string_value(json_object_get(pin, "location"));
		const char *kind = json_string_value(json_object_get(pin, "kind"));
		const char *ver = json_string_value(json_object_get(json_object_get(pin, "state"), "version"));
		if (!url)
			url = json_string_value(json_object_get(pin, "repositoryURL"));
		if (!url || !ver || !ver[0] || (kind && strcmp(kind, "remoteSourceControl")))
			continue;
		char *name = swift_name(url);
		if (cat_text_ends_with(name, ".git"))
			name[strlen(name) - 4] = 0;
		if (name[0])
			scan_add_pkg(r, "swift", name, ver, path);
		free(name);
	}
	json_decref(root);
}

static void mix_parse(const char *data, size_t len, const char *path, struct scan_result *r)
{
	size_t pos = 0, n;
	const char *line;

	while (cat_text_line(data, len, &pos, &line, &n)) {
		/*   "plug": {:hex, :plug, "1.14.2", "hash", [:mix], [...], "hexpm", "hash"}, */
		const char *p = memchr(line, '{', n), *end = line + n;
		if (!p || (size_t)(end - p) < 8 || memcmp(p, "{:hex, :", 8))
			continue;
		p += 8;
		const char *nm = p;
		while (p < end && (isalnum((unsigned char)*p) || *p == '_'))
			p++;
		const char *nend = p;
		if (end - p < 3 || memcmp(p, ", \"", 3))
			continue;
		p += 3;
		const char *q = memchr(p, '"', (size_t)(end - p));
		if (!q || nend == nm || q == p)
			continue;
		char *name = xstrndup(nm, (size_t)(nend - nm)), *ver = xstrndup(p, (size_t)(q - p));
		scan_add_pkg(r, "hex", name, ver, path);
		free(name);
		free(ver);
	}
}

/* <<"text">> at *p: the text; *p moves past it. NULL when it is not there. */
static char *erl_bin(const char **p, const char *end)
{
	const char *s = *p;
	while (s < end && (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t'))
		s++;
	if (end - s < 5 || memcmp(s, "<<\"", 3))
		return NULL;
	s += 3;
	const char *q = s;
	while (q < end && *q != '"')
		q++;
	if (end - q < 3 || memcmp(q, "\">>", 3))
		return NULL;
	*p = q + 3;
	return xstrndup(s, (size_t)(q - s));
}

static void rebar_parse(const char *data, size_t len, const char *path, struct scan_result *r)
{
	const char *end = data + len;

	for (const char *p = data; p < end;) {
		const char *hit = NULL;
		for (const char *s = p; s + 5 <= end; s++)
			if (!memcmp(s, "{pkg,", 5)) {
				hit = s;
				break;
			}
		if (!hit)
			break;
		p = hit + 5;
		char *name = erl_bin(&p, end);
		if (!name)
			continue;
		while (p < end && (*p == ' ' || *p == '\n'))
			p++;
		char *ver = p < end && *p == ',' ? (p++, erl_bin(&p, end)) : NULL;
		if (ver && name[0] && ver[0])
			scan_add_pkg(r, "hex", name, ver, path);
		free(name);
		free(ver);
	}
}

/* A conan reference name/version[@user/channel][#rrev[%ts]]. */
static void conan_ref(const char *ref, const char *path, struct scan_result *r)
{
	if (!ref)
		return;
	size_t n = strcspn(ref, "@#%");
	if (ref[n] == '@')
		return; /* name/version@user/channel: not a ConanCenter package */
	const char *slash = memchr(ref, '/', n);
	if (!slash || slash == ref || slash + 1 == ref + n)
		return;
	char *name = xstrndup(ref, (size_t)(slash - ref));
	char *ver = xstrndup(slash + 1, (size_t)(ref + n - slash - 1));
	scan_add_pkg(r, "conan", name, ver, path);
	free(name);
	free(ver);
}

static void conan_parse(const char *data, size_t len, const char *path, struct scan_result *r)
{
	json_t *root = lock_json(data, len, path, r), *v;
	size_t i;
	const char *k;

	if (!root)
		return;
	json_array_foreach(json_object_get(root, "requires"), i, v)
		conan_ref(json_string_value(v), path, r);
	if (r->include_dev)
		json_array_foreach(json_object_get(root, "build_requires"), i, v)
			conan_ref(json_string_value(v), path, r);
	json_object_foreach(json_object_get(json_object_get(root, "graph_lock"), "nodes"), k, v) {
		if (!strcmp(k, "0"))
			continue; /* the consumer: the project itself */
		conan_ref(json_string_value(json_object_get(v, "ref")), path, r);
	}
	json_decref(root);
}

static void gradle_parse(const char *data, size_t len, const char *path, struct scan_result *r)
{
	size_t pos = 0, n;
	const char *line;

	while (cat_text_line(data, len, &pos, &line, &n)) {
		if (!n || line[0] == '#' || (n >= 6 && !memcmp(line, "empty=", 6)))
			continue;
		const char *eq = memchr(line, '=', n);
		size_t cn = eq ? (size_t)(eq - line) : n;
		const char *c1 = memchr(line, ':', cn);
		const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(line + cn - c1 - 1)) : NULL;
		if (!c1 || !c2 || c1 == line || c2 == c1 + 1 || c2 + 1 == line + cn)
			continue;
		if (eq && !r->include_dev) {
			/* every configuration a test one: a development dependency */
			bool prod = false;
			const char *s = eq + 1, *end = line + n;
			while (s < end) {
				const char *comma = memchr(s, ',', (size_t)(end - s));
				const char *e = comma ? comma : end;
				size_t cl = (size_t)(e - s);
				if (!(cl >= 4 && !memcmp(s, "test", 4)) &&
				    !(cl >= 11 && !memcmp(s, "androidTest", 11)))
					prod = true;
				s = e + 1;
			}
			if (!prod)
				continue;
		}
		char *name = xstrndup(line, (size_t)(c2 - line));
		char *ver = xstrndup(c2 + 1, (size_t)(line + cn - c2 - 1));
		scan_add_pkg(r, "maven", name, ver, path);
		free(name);
		free(ver);
	}
}

static bool gemlock_match(const char *path)
{
	return !strcmp(cat_text_base(path), "Gemfile.lock") ||
	       !strcmp(cat_text_base(path), "gems.locked");
}

static bool pubspec_match(const char *path)
{
	return !strcmp(cat_text_base(path), "pubspec.lock");
}

static bool swift_match(const char *path)
{
	return !strcmp(cat_text_base(path), "Package.resolved");
}

static bool mix_match(const char *path)
{
	return !strcmp(cat_text_base(path), "mix.lock");
}

static bool rebar_match(const char *path)
{
	return !strcmp(cat_text_base(path), "rebar.lock");
}

static bool conan_match(const char *path)
{
	return !strcmp(cat_text_base(path), "conan.lock");
}

static bool gradle_match(const char *path)
{
	return !strcmp(cat_text_base(path), "gradle.lockfile") ||
	       (strstr(path, "gradle/dependency-locks/") && cat_text_ends_with(path, ".lockfile"));
}

static bool podfile_match(const char *path)
{
	return !strcmp(cat_text_base(path), "Podfile.lock");
}

const struct cataloger cat_gemlock = { "gemfile-lock", gemlock_match, gemlock_parse };
const struct cataloger cat_pubspec = { "pubspec-lock", pubspec_match, pubspec_parse };
const struct cataloger cat_swift = { "swift-resolved", swift_match, swift_parse };
const struct cataloger cat_mix = { "mix-lock", mix_match, mix_parse };
const struct cataloger cat_rebar = { "rebar-lock", rebar_match, rebar_parse };
const struct cataloger cat_conan = { "conan-lock", conan_match, conan_parse };
const struct cataloger cat_gradle = { "gradle-lock", gradle_match, gradle_parse };
const struct cataloger cat_podfile = { "podfile-lock", podfile_match, podfile_parse };
