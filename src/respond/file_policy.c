/* SPDX-License-Identifier: Apache-2.0 */
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/buf.h"
#include "common/strv.h"
#include "common/yaml.h"
#include "respond/file_policy.h"
#include "respond/selector.h"

#define POLICY_MAX_SIZE (1u << 20)
#define ENTRY_MAX 256
#define PATTERN_MAX 1024 /* per list */

struct file_rules {
	struct strv containers, deny_open, deny_exec, allow_exec;
	bool has_allow_exec; /* an empty allow_exec list allows nothing */
};

struct file_policy {
	struct file_rules *e;
	size_t n;
	bool fail_open;
};

void file_policy_free(struct file_policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		strv_free(&p->e[i].containers);
		strv_free(&p->e[i].deny_open);
		strv_free(&p->e[i].deny_exec);
		strv_free(&p->e[i].allow_exec);
	}
	free(p->e);
	free(p);
}

/* NULL if s is an absolute path without empty, "." or ".." components (a trailing '/' is allowed), else why not. */
static const char *path_problem(const char *s)
{
	if (s[0] != '/')
		return "a path must be absolute";
	for (const char *c = s + 1; *c;) {
		size_t n = strcspn(c, "/");
		if ((n == 0 && c[n]) || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return "a path must not hold empty, '.' or '..' components (it is compared with the resolved path)";
		c += n;
		if (*c)
			c++;
	}
	return NULL;
}

/*
 * Read one list into out. names_ok: patterns without '/' (base names) are accepted.
 * A path's trailing '/' is dropped: "/root/.ssh/" means the directory and what is below.
 */
static int get_patterns(const char *path, const struct yaml_node *n, const char *key, bool names_ok, struct strv *out,
			char *err, size_t errlen)
{
	size_t first = out->n;
	if (yaml_strings(path, n, key, PATTERN_MAX, out, err, errlen))
		return -1;
	for (size_t i = first; i < out->n; i++) {
		const struct yaml_node *it = n->items[i - first];
		char *s = out->v[i];
		const char *why = NULL;
		if (it->len >= PATH_MAX)
			return yaml_errorf(err, errlen, path, it, "items of '%s' must be shorter than %d bytes", key,
					   PATH_MAX);
		if (strchr(s, '/'))
			why = path_problem(s);
		else if (!names_ok)
			why = "a path must be absolute";
		if (why)
			return yaml_errorf(err, errlen, path, it, "%s", why);
		size_t l = strlen(s);
		while (l > 1 && s[l - 1] == '/')
			s[--l] = 0;
	}
	return 0;
}

static int parse_entry(const char *path, const struct yaml_node *it, struct file_rules *r, char *err, size_t errlen)
{
	if (it->kind != YAML_MAP)
		return yaml_errorf(err, errlen, path, it, "an entry is a mapping with 'containers' and lists");
	for (size_t k = 0; k < it->n; k++) {
		const struct yaml_node *key = it->items[2 * k], *val = it->items[2 * k + 1];
		int rc;
		if (yaml_is(key, "containers"))
			rc = get_patterns(path, val, "containers", true, &r->containers, err, errlen);
		else if (yaml_is(key, "deny_open"))
			rc = get_patterns(path, val, "deny_open", false, &r->deny_open, err, errlen);
		else if (yaml_is(key, "deny_exec"))
			rc = get_patterns(path, val, "deny_exec", true, &r->deny_exec, err, errlen);
		else if (yaml_is(key, "allow_exec")) {
			rc = get_patterns(path, val, "allow_exec", true, &r->allow_exec, err, errlen);
			r->has_allow_exec = true;
		} else
			return yaml_errorf(err, errlen, path, key,
					   "unknown key '%s' (expected containers, deny_open, deny_exec, allow_exec)",
					   key->kind == YAML_SCALAR ? key->str : "?");
		if (rc)
			return -1;
	}
	if (!r->containers.n)
		return yaml_errorf(err, errlen, path, it, "'containers' must list container names or id prefixes");
	if (!r->deny_open.n && !r->deny_exec.n && !r->has_allow_exec)
		return yaml_errorf(err, errlen, path, it, "an entry needs deny_open, deny_exec or allow_exec");
	return 0;
}

struct file_policy *file_policy_load(const char *path, char *err, size_t errlen)
{
	struct yaml_stream ys;
	if (yaml_parse_file(path, POLICY_MAX_SIZE, &ys, err, errlen)) {
		yaml_stream_free(&ys);
		return NULL;
	}
	struct file_policy *p = xcalloc(1, sizeof(*p));
	const struct yaml_node *root = ys.ndocs ? ys.docs[0] : NULL, *list = yaml_get(root, "files");
	const struct yaml_node *fail = yaml_get(root, "fail");
	int rc = -1;
	p->fail_open = true;
	if (!list || list->kind != YAML_SEQ) {
		yaml_errorf(err, errlen, path, list ? list : root, "expected 'files:' with a list of entries");
		goto out;
	}
	/* the other sections of a Vigil policy may share the file; anything else is a typo */
	for (size_t k = 0; k < root->n; k++) {
		const struct yaml_node *key = root->items[2 * k];
		if (!yaml_is(key, "files") && !yaml_is(key, "fail") && !yaml_is(key, "egress") &&
		    !yaml_is(key, "bindings") && !yaml_is(key, "isolate")) {
			yaml_errorf(err, errlen, path, key, "unknown key '%s' (expected files, fail)",
				    key->kind == YAML_SCALAR ? key->str : "?");
			goto out;
		}
	}
	if (fail && !yaml_is(fail, "open") && !yaml_is(fail, "closed")) {
		yaml_errorf(err, errlen, path, fail, "'fail' must be open or closed");
		goto out;
	}
	p->fail_open = !fail || yaml_is(fail, "open");
	for (size_t i = 0; i < list->n; i++) {
		if (p->n == ENTRY_MAX) {
			yaml_errorf(err, errlen, path, list->items[i], "more than %d entries", ENTRY_MAX);
			goto out;
		}
		p->e = xrealloc(p->e, (p->n + 1) * sizeof(*p->e));
		struct file_rules *r = &p->e[p->n++];
		memset(r, 0, sizeof(*r));
		if (parse_entry(path, list->items[i], r, err, errlen))
			goto out;
	}
	rc = 0;
out:
	yaml_stream_free(&ys);
	if (rc) {
		file_policy_free(p);
		return NULL;
	}
	return p;
}

bool file_policy_fail_open(const struct file_policy *p)
{
	return p->fail_open;
}

const struct file_rules *file_policy_match(const struct file_policy *p, const struct vg_container_meta *m)
{
	for (size_t i = 0; p && i < p->n; i++)
		if (selector_match(&p->e[i].containers, m))
			return &p->e[i];
	return NULL;
}

bool file_rules_has_open(const struct file_rules *r)
{
	return r && r->deny_open.n;
}

bool file_rules_has_exec(const struct file_rules *r)
{
	return r && (r->deny_exec.n || r->has_allow_exec);
}

/* A path pattern matches the path or a directory above it; a name pattern the base name. */
static bool pattern_match(const char *pat, const char *path)
{
	if (!strchr(pat, '/')) {
		const char *base = strrchr(path, '/');
		return fnmatch(pat, base ? base + 1 : path, 0) == 0;
	}
	if (fnmatch(pat, path, 0) == 0)
		return true;
	char buf[PATH_MAX];
	size_t len = strlen(path);
	if (len >= sizeof(buf))
		return false;
	memcpy(buf, path, len + 1);
	/* every ancestor directory, longest first ("/" itself only for the pattern "/") */
	for (char *s = strrchr(buf, '/'); s; s = strrchr(buf, '/')) {
		if (s == buf)
			return !strcmp(pat, "/");
		*s = 0;
		if (fnmatch(pat, buf, 0) == 0)
			return true;
	}
	return false;
}

static bool any_match(const struct strv *s, const char *path)
{
	for (size_t i = 0; i < s->n; i++)
		if (pattern_match(s->v[i], path))
			return true;
	return false;
}

bool file_rules_deny_open(const struct file_rules *r, const char *path)
{
	return r && any_match(&r->deny_open, path);
}

bool file_rules_deny_exec(const struct file_rules *r, const char *path)
{
	if (!r)
		return false;
	return any_match(&r->deny_exec, path) || (r->has_allow_exec && !any_match(&r->allow_exec, path));
}

const char *file_rules_literal_open(const struct file_rules *r, size_t i)
{
	for (size_t k = 0; r && k < r->deny_open.n; k++)
		if (!strpbrk(r->deny_open.v[k], "*?[\\") && i-- == 0)
			return r->deny_open.v[k];
	return NULL;
}
