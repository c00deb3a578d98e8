/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "admission/admission_policy.h"
#include "common/buf.h"
#include "common/strv.h"
#include "common/yaml.h"
#include "policy/manifest.h"
#include "scan/reports/results_db.h"

#define POLICY_MAX_FILE (4u << 20)

static const char *const mode_names[MODE_COUNT] = { "enforce", "audit", "warn" };

struct admission_policy *admission_policy_default(void)
{
	struct admission_policy *p = xcalloc(1, sizeof(*p));
	for (int m = 0; m < MODE_COUNT; m++)
		p->defaults[m] = (struct pss_mode){ PSS_PRIVILEGED, PSS_VERSION_LATEST };
	p->max_severity = -1;
	p->unscanned = UNSCANNED_WARN;
	p->enforce_templates = 1;
	return p;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void admission_policy_free(struct admission_policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nns; i++)
		free(p->ns[i].name);
	free(p->ns);
	free_list(p->exempt_ns, p->nexempt_ns);
	free_list(p->exempt_users, p->nexempt_users);
	free_list(p->exempt_rc, p->nexempt_rc);
	free_list(p->registries, p->nregistries);
	free(p->vuln_db);
	results_db_close(p->store);
	free(p);
}

int admission_policy_list_has(char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; s && i < n; i++)
		if (!strcmp(list[i], s))
			return 1;
	return 0;
}

struct pss_mode admission_policy_mode(const struct admission_policy *p, const char *ns,
				      enum pss_mode_kind m)
{
	struct pss_mode r = p->defaults[m];
	for (size_t i = 0; ns && i < p->nns; i++) {
		if (strcmp(p->ns[i].name, ns))
			continue;
		if (p->ns[i].set[m])
			r.level = p->ns[i].mode[m].level;
		if (p->ns[i].version_set[m])
			r.version = p->ns[i].mode[m].version;
	}
	return r;
}

/* ---- parsing ---------------------------------------------------------- */

struct pctx {
	char *err;
	size_t errlen;
};

static int fail(struct pctx *c, const struct yaml_node *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct pctx *c, const struct yaml_node *at, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "%u:%u: %s", at ? at->line : 1, at ? at->col : 1, msg);
	return -1;
}

static int need(struct pctx *c, const struct yaml_node *n, enum yaml_kind k, const char *what)
{
	static const char *const kinds[] = { "a scalar", "a list", "a mapping" };
	if (!n || n->kind != k)
		return fail(c, n, "%s must be %s", what, kinds[k]);
	return 0;
}

/* A list of strings appended to out[0..count), grown as a strv is. */
static int parse_list(struct pctx *c, const struct yaml_node *n, const char *what, char ***out,
		      size_t *count)
{
	struct strv s = { *out, *count };
	int rc = yaml_strings(NULL, n, what, 0, &s, c->err, c->errlen);
	*out = s.v;
	*count = s.n;
	return rc;
}

/* "enforce", "enforce-version", ... with or without the PSA label prefix */
static int parse_modes(struct pctx *c, const struct yaml_node *map, struct pss_mode *mode, int *set,
		       int *vset)
{
	if (need(c, map, YAML_MAP, "a namespace policy"))
		return -1;
	for (size_t i = 0; i < map->n; i++) {
		const struct yaml_node *k = map->items[2 * i], *v = map->items[2 * i + 1];
		if (need(c, k, YAML_SCALAR, "a key"))
			return -1;
		const char *key = k->str;
		if (!strncmp(key, "pod-security.kubernetes.io/", 27))
			key += 27;
		int found = 0;
		for (int m = 0; m < MODE_COUNT && !found; m++) {
			size_t ml = strlen(mode_names[m]);
			if (strncmp(key, mode_names[m], ml))
				continue;
			if (need(c, v, YAML_SCALAR, key))
				return -1;
			if (!key[ml]) {
				int l = pss_level_parse(v->str);
				if (l < 0)
					return fail(c, v, "unknown level '%.64s' (privileged, baseline, restricted)",
						    v->str);
				mode[m].level = (enum pss_level)l;
				if (set)
					set[m] = 1;
				found = 1;
			} else if (!strcmp(key + ml, "-version")) {
				int ver = pss_version_parse(v->str);
				if (ver < 0)
					return fail(c, v, "bad version '%.64s' (latest or v1.N)", v->str);
				mode[m].version = ver;
				if (vset)
					vset[m] = 1;
				found = 1;
			}
		}
		if (!found)
			return fail(c, k, "unknown key '%.64s' (enforce, audit, warn and their -version)", k->str);
	}
	return 0;
}

static int parse_bool(struct pctx *c, const struct yaml_node *v, const char *what, int *out)
{
	int b = yaml_bool(v);
	if (b < 0)
		return fail(c, v, "%s must be true or false", what);
	*out = b;
	return 0;
}

static int parse_section(struct pctx *c, struct admission_policy *p, const char *key,
			 const struct yaml_node *k, const struct yaml_node *v)
{
	if (!strcmp(key, "defaults"))
		return parse_modes(c, v, p->defaults, NULL, NULL);
	if (!strcmp(key, "namespaces")) {
		if (need(c, v, YAML_MAP, "namespaces"))
			return -1;
		for (size_t i = 0; i < v->n; i++) {
			const struct yaml_node *nk = v->items[2 * i];
			if (need(c, nk, YAML_SCALAR, "a namespace name"))
				return -1;
			p->ns = xrealloc(p->ns, (p->nns + 1) * sizeof(*p->ns));
			struct admission_ns *ns = &p->ns[p->nns++];
			memset(ns, 0, sizeof(*ns));
			ns->name = xstrdup(nk->str);
			if (parse_modes(c, v->items[2 * i + 1], ns->mode, ns->set, ns->version_set))
				return -1;
		}
		return 0;
	}
	if (!strcmp(key, "exemptions")) {
		if (need(c, v, YAML_MAP, "exemptions"))
			return -1;
		for (size_t i = 0; i < v->n; i++) {
			const struct yaml_node *ek = v->items[2 * i], *ev = v->items[2 * i + 1];
			int r;
			if (yaml_is(ek, "namespaces"))
				r = parse_list(c, ev, "exemptions.namespaces", &p->exempt_ns, &p->nexempt_ns);
			else if (yaml_is(ek, "usernames"))
				r = parse_list(c, ev, "exemptions.usernames", &p->exempt_users, &p->nexempt_users);
			else if (yaml_is(ek, "runtimeClasses"))
				r = parse_list(c, ev, "exemptions.runtimeClasses", &p->exempt_rc, &p->nexempt_rc);
			else
				r = fail(c, ek, "unknown key '%.64s' in exemptions (namespaces, usernames, "
						"runtimeClasses)", ek->kind == YAML_SCALAR ? ek->str : "?");
			if (r)
				return -1;
		}
		return 0;
	}
	if (!strcmp(key, "images")) {
		if (need(c, v, YAML_MAP, "images"))
			return -1;
		for (size_t i = 0; i < v->n; i++) {
			const struct yaml_node *ik = v->items[2 * i], *iv = v->items[2 * i + 1];
			int r;
			if (yaml_is(ik, "allowedRegistries"))
				r = parse_list(c, iv, "images.allowedRegistries", &p->registries, &p->nregistries);
			else if (yaml_is(ik, "requireDigest"))
				r = parse_bool(c, iv, "images.requireDigest", &p->require_digest);
			else
				r = fail(c, ik, "unknown key '%.64s' in images (allowedRegistries, requireDigest)",
					 ik->kind == YAML_SCALAR ? ik->str : "?");
			if (r)
				return -1;
		}
		return 0;
	}
	if (!strcmp(key, "vulnerabilities")) {
		if (need(c, v, YAML_MAP, "vulnerabilities"))
			return -1;
		for (size_t i = 0; i < v->n; i++) {
			const struct yaml_node *vk = v->items[2 * i], *vv = v->items[2 * i + 1];
			if (yaml_is(vk, "database")) {
				if (need(c, vv, YAML_SCALAR, "vulnerabilities.database") || !vv->len)
					return fail(c, vv, "vulnerabilities.database must be a path");
				free(p->vuln_db);
				p->vuln_db = xstrdup(vv->str);
			} else if (yaml_is(vk, "maxSeverity")) {
				if (need(c, vv, YAML_SCALAR, "vulnerabilities.maxSeverity"))
					return -1;
				p->max_severity = severity_parse(vv->str);
				if (p->max_severity < SEV_LOW) /* UNKNOWN is no threshold */
					return fail(c, vv, "unknown severity '%.64s' (low, medium, high, critical)",
						    vv->str);
			} else if (yaml_is(vk, "unscanned")) {
				if (yaml_is(vv, "allow"))
					p->unscanned = UNSCANNED_ALLOW;
				else if (yaml_is(vv, "warn"))
					p->unscanned = UNSCANNED_WARN;
				else if (yaml_is(vv, "deny"))
					p->unscanned = UNSCANNED_DENY;
				else
					return fail(c, vv, "vulnerabilities.unscanned must be allow, warn or deny");
			} else {
				return fail(c, vk, "unknown key '%.64s' in vulnerabilities (database, "
						   "maxSeverity, unscanned)",
					    vk->kind == YAML_SCALAR ? vk->str : "?");
			}
		}
		if (p->max_severity >= 0 && !p->vuln_db)
			return fail(c, v, "vulnerabilities.maxSeverity needs vulnerabilities.database");
		return 0;
	}
	if (!strcmp(key, "failurePolicy")) {
		if (yaml_is(v, "fail-open"))
			p->fail_open = 1;
		else if (yaml_is(v, "fail-closed"))
			p->fail_open = 0;
		else
			return fail(c, v, "failurePolicy must be fail-open or fail-closed");
		return 0;
	}
	if (!strcmp(key, "enforceWorkloads"))
		return parse_bool(c, v, "enforceWorkloads", &p->enforce_templates);
	return fail(c, k, "unknown key '%.64s' (defaults, namespaces, exemptions, images, "
			  "vulnerabilities, failurePolicy, enforceWorkloads)", key);
}

struct admission_policy *admission_policy_parse(const char *buf, size_t len, char *err, size_t errlen)
{
	struct yaml_stream s;
	struct pctx c = { err, errlen };
	if (yaml_parse(buf, len, &s, err, errlen))
		return NULL;
	struct admission_policy *p = admission_policy_default();
	const struct yaml_node *root = s.ndocs ? s.docs[0] : NULL;
	int rc = 0;
	if (s.ndocs > 1)
		rc = fail(&c, s.docs[1], "a policy file holds one document");
	else if (root && !(root->kind == YAML_SCALAR && yaml_is_null(root))) {
		if (need(&c, root, YAML_MAP, "the policy"))
			rc = -1;
		for (size_t i = 0; !rc && i < root->n; i++) {
			const struct yaml_node *k = root->items[2 * i];
			if (need(&c, k, YAML_SCALAR, "a key"))
				rc = -1;
			else
				rc = parse_section(&c, p, k->str, k, root->items[2 * i + 1]);
		}
	}
	yaml_stream_free(&s);
	if (rc) {
		admission_policy_free(p);
		return NULL;
	}
	return p;
}

struct admission_policy *admission_policy_load(const char *path, char *err, size_t errlen)
{
	char perr[300];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st)) {
		snprintf(err, errlen, "cannot read policy %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > POLICY_MAX_FILE) {
		snprintf(err, errlen, "cannot read policy %s: not a regular file of at most 4 MiB", path);
		close(fd);
		return NULL;
	}
	char *buf = xmalloc((size_t)st.st_size + 1);
	ssize_t n = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		snprintf(err, errlen, "cannot read policy %s: short read", path);
		free(buf);
		return NULL;
	}
	struct admission_policy *p = admission_policy_parse(buf, (size_t)n, perr, sizeof(perr));
	free(buf);
	if (!p) {
		snprintf(err, errlen, "cannot parse %s:%s", path, perr);
		return NULL;
	}
	if (p->vuln_db) {
		p->store = results_db_open(p->vuln_db, perr, sizeof(perr));
		if (!p->store) {
			snprintf(err, errlen, "%s", perr);
			admission_policy_free(p);
			return NULL;
		}
	}
	return p;
}
