/* SPDX-License-Identifier: Apache-2.0 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/buf.h"
#include "common/strv.h"
#include "common/yaml.h"
#include "respond/netlist.h"
#include "respond/response_policy.h"
#include "respond/selector.h"
#include "vigil/isolate.h"

#define BINDINGS_MAX 256

struct binding {
	struct strv rules, tags, containers, namespaces, actions;
	int priority; /* -1: any */
	bool audit;
};

struct response_policy {
	struct binding *b;
	size_t n;
	struct netlist_net *allow; /* isolate: the peers an isolated container may still reach */
	size_t nallow;
};

void response_policy_free(struct response_policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		strv_free(&p->b[i].rules);
		strv_free(&p->b[i].tags);
		strv_free(&p->b[i].containers);
		strv_free(&p->b[i].namespaces);
		strv_free(&p->b[i].actions);
	}
	free(p->b);
	free(p->allow);
	free(p);
}

static int get_list(const char *path, const struct yaml_node *item, const char *key, struct strv *out, char *err,
		    size_t errlen)
{
	return yaml_strings(path, yaml_get(item, key), key, 0, out, err, errlen);
}

struct response_policy *response_policy_load(const char *path, char *err, size_t errlen)
{
	struct yaml_stream ys;
	int rc;
	if (yaml_parse_file(path, 1u << 20, &ys, err, errlen)) {
		yaml_stream_free(&ys);
		return NULL;
	}
	struct response_policy *p = xcalloc(1, sizeof(*p));
	const struct yaml_node *root = ys.ndocs ? ys.docs[0] : NULL, *list = yaml_get(root, "bindings");
	const struct yaml_node *iso = yaml_get(root, "isolate");
	rc = -1;
	if ((!list && !iso) || (list && list->kind != YAML_SEQ)) {
		yaml_errorf(err, errlen, path, list ? list : root, "expected 'bindings:' with a list (or 'isolate:')");
		goto out;
	}
	if (iso) {
		const struct yaml_node *allow = yaml_get(iso, "allow");
		if (iso->kind != YAML_MAP || !allow || iso->n != 1) {
			yaml_errorf(err, errlen, path, iso, "'isolate' takes one key, 'allow', with a list of networks");
			goto out;
		}
		if (netlist_parse(path, allow, 0, &p->allow, &p->nallow, VG_ISOLATE_MAX_ALLOW, err, errlen))
			goto out;
	}
	for (size_t i = 0; list && i < list->n; i++) {
		const struct yaml_node *it = list->items[i], *pr = yaml_get(it, "priority"), *mode = yaml_get(it, "mode");
		if (it->kind != YAML_MAP || p->n == BINDINGS_MAX) {
			yaml_errorf(err, errlen, path, it, it->kind != YAML_MAP ? "a binding is a mapping" : "too many bindings");
			goto out;
		}
		p->b = xrealloc(p->b, (p->n + 1) * sizeof(*p->b));
		struct binding *b = &p->b[p->n++];
		memset(b, 0, sizeof(*b));
		b->priority = -1;
		if (get_list(path, it, "rules", &b->rules, err, errlen) || get_list(path, it, "tags", &b->tags, err, errlen) ||
		    get_list(path, it, "containers", &b->containers, err, errlen) ||
		    get_list(path, it, "namespaces", &b->namespaces, err, errlen) ||
		    get_list(path, it, "actions", &b->actions, err, errlen))
			goto out;
		if (pr && (pr->kind != YAML_SCALAR || (b->priority = priority_parse(pr->str)) < 0)) {
			yaml_errorf(err, errlen, path, pr, "not a priority (emergency ... debug)");
			goto out;
		}
		if (mode && !yaml_is(mode, "audit") && !yaml_is(mode, "enforce")) {
			yaml_errorf(err, errlen, path, mode, "'mode' must be enforce or audit");
			goto out;
		}
		b->audit = mode && yaml_is(mode, "audit");
		if (!b->actions.n) {
			yaml_errorf(err, errlen, path, it, "a binding needs 'actions'");
			goto out;
		}
		if (!b->rules.n && !b->tags.n && b->priority < 0) {
			yaml_errorf(err, errlen, path, it, "a binding needs 'rules', 'tags' or 'priority'");
			goto out;
		}
	}
	rc = 0;
out:
	yaml_stream_free(&ys);
	if (rc) {
		response_policy_free(p);
		return NULL;
	}
	return p;
}

const struct netlist_net *response_policy_isolate_allow(const struct response_policy *p, size_t *n)
{
	*n = p ? p->nallow : 0;
	return p ? p->allow : NULL;
}

bool response_policy_uses(const struct response_policy *p, const char *action)
{
	for (size_t i = 0; p && i < p->n; i++)
		for (size_t k = 0; k < p->b[i].actions.n; k++)
			if (!strcmp(p->b[i].actions.v[k], action))
				return true;
	return false;
}

int response_policy_check(const struct response_policy *p, bool (*known)(const char *), char *err, size_t errlen)
{
	for (size_t i = 0; p && i < p->n; i++)
		for (size_t k = 0; k < p->b[i].actions.n; k++)
			if (!known(p->b[i].actions.v[k])) {
				const char *a = p->b[i].actions.v[k];
				if (!strcmp(a, "deny_open") || !strcmp(a, "deny_exec")) {
					snprintf(err, errlen, "response policy: binding %zu: action '%s' is not a binding action: "
							      "an alert comes after the syscall, too late to refuse it; name the "
							      "paths and programs in --file-policy", i + 1, a);
					return -1;
				}
				snprintf(err, errlen, "response policy: binding %zu: action '%s' cannot be carried out "
						      "(available: kill, freeze, isolate, capture)", i + 1, p->b[i].actions.v[k]);
				return -1;
			}
	return 0;
}

static bool any_glob(const struct strv *s, const char *v)
{
	for (size_t i = 0; v && i < s->n; i++)
		if (!fnmatch(s->v[i], v, 0))
			return true;
	return false;
}

static bool binding_matches(const struct binding *b, const struct alert *a, const struct vg_container_meta *m)
{
	bool hit = false;
	for (size_t i = 0; i < b->rules.n && !hit; i++)
		hit = !strcmp(b->rules.v[i], a->name);
	for (size_t i = 0; i < b->tags.n && !hit; i++)
		for (size_t k = 0; k < a->ntags && !hit; k++)
			hit = !strcmp(b->tags.v[i], a->tags[k]);
	if (!hit && b->priority >= 0)
		hit = (int)a->priority <= b->priority;
	if (!hit)
		return false;
	if (b->containers.n && !selector_match(&b->containers, m))
		return false;
	if (b->namespaces.n && !(m && any_glob(&b->namespaces, m->k8s_namespace)))
		return false;
	return true;
}

size_t response_policy_actions(const struct response_policy *p, const struct alert *a,
			       const struct vg_container_meta *meta, struct action_req *out, size_t n, size_t max)
{
	for (size_t i = 0; p && i < p->n; i++) {
		if (!binding_matches(&p->b[i], a, meta))
			continue;
		for (size_t k = 0; k < p->b[i].actions.n && n < max; k++) {
			bool dup = false;
			for (size_t j = 0; j < n && !dup; j++)
				dup = !strcmp(out[j].name, p->b[i].actions.v[k]);
			if (!dup)
				out[n++] = (struct action_req){ p->b[i].actions.v[k], p->b[i].audit };
		}
	}
	return n;
}

bool response_policy_kills_always(const struct response_policy *p, const char *rule, char *const *tags, size_t ntags,
				  enum rs_priority priority)
{
	/* an alert of the rule with no container: only bindings without selectors match it */
	struct alert a = { .name = rule, .tags = tags, .ntags = ntags, .priority = priority };
	for (size_t i = 0; p && i < p->n; i++) {
		if (p->b[i].audit || !binding_matches(&p->b[i], &a, NULL))
			continue;
		for (size_t k = 0; k < p->b[i].actions.n; k++)
			if (!strcmp(p->b[i].actions.v[k], "kill"))
				return true;
	}
	return false;
}
