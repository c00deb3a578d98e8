/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>
#include "common/buf.h"
#include "policy/manifest.h"

const struct yaml_node *manifest_get(const struct yaml_node *map, const char *key)
{
	if (!map || map->kind != YAML_MAP)
		return NULL;
	for (size_t i = map->n; i-- > 0;)
		if (yaml_is(map->items[2 * i], key))
			return map->items[2 * i + 1];
	return NULL;
}

const char *manifest_str(const struct yaml_node *map, const char *key)
{
	const struct yaml_node *n = manifest_get(map, key);
	return n && n->kind == YAML_SCALAR && !yaml_is_null(n) ? n->str : NULL;
}

static const char *const template_kinds[] = {
	"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "ReplicationController",
};

int manifest_kind_has_pod(const char *kind)
{
	if (!strcmp(kind, "Pod") || !strcmp(kind, "PodTemplate") || !strcmp(kind, "CronJob"))
		return 1;
	for (size_t i = 0; i < sizeof(template_kinds) / sizeof(*template_kinds); i++)
		if (!strcmp(kind, template_kinds[i]))
			return 1;
	return 0;
}

void manifest_obj_init(struct manifest_obj *o, const struct yaml_node *root, const char *kind_hint)
{
	memset(o, 0, sizeof(*o));
	o->root = root;
	o->line = root->line;
	o->col = root->col;
	const char *kind = manifest_str(root, "kind");
	if (!kind)
		kind = kind_hint;
	o->kind = kind ? kind : "";
	const struct yaml_node *meta = manifest_get(root, "metadata");
	o->name = manifest_str(meta, "name");
	if (!o->name)
		o->name = manifest_str(meta, "generateName");
	if (!o->name)
		o->name = "";
	o->ns = manifest_str(meta, "namespace");

	const struct yaml_node *tmpl = NULL;
	if (!strcmp(o->kind, "Pod")) {
		o->pod_meta = meta;
		o->pod_spec = manifest_get(root, "spec");
		return;
	}
	if (!strcmp(o->kind, "PodTemplate"))
		tmpl = manifest_get(root, "template");
	else if (!strcmp(o->kind, "CronJob"))
		tmpl = manifest_get(manifest_get(manifest_get(manifest_get(root, "spec"), "jobTemplate"),
						 "spec"),
				   "template");
	else if (manifest_kind_has_pod(o->kind))
		tmpl = manifest_get(manifest_get(root, "spec"), "template");
	if (tmpl) {
		o->pod_meta = manifest_get(tmpl, "metadata");
		o->pod_spec = manifest_get(tmpl, "spec");
	}
}

static int is_list_kind(const char *kind)
{
	size_t n = strlen(kind);
	return n >= 4 && !strcmp(kind + n - 4, "List");
}

static void add_objects(struct manifest *m, const struct yaml_node *doc, int depth)
{
	if (!doc || doc->kind != YAML_MAP)
		return;
	const char *kind = manifest_str(doc, "kind");
	if (!kind)
		return;
	const struct yaml_node *items = manifest_get(doc, "items");
	if (is_list_kind(kind) && items && items->kind == YAML_SEQ) {
		if (depth >= MANIFEST_MAX_LIST_DEPTH)
			return;
		for (size_t i = 0; i < items->n; i++)
			add_objects(m, items->items[i], depth + 1);
		return;
	}
	m->objs = xrealloc(m->objs, (m->n + 1) * sizeof(*m->objs));
	manifest_obj_init(&m->objs[m->n++], doc, NULL);
}

int manifest_parse(const char *buf, size_t len, struct manifest *m, char *err, size_t errlen)
{
	memset(m, 0, sizeof(*m));
	if (yaml_parse(buf, len, &m->s, err, errlen))
		return -1;
	for (size_t i = 0; i < m->s.ndocs; i++)
		add_objects(m, m->s.docs[i], 0);
	return 0;
}

void manifest_free(struct manifest *m)
{
	yaml_stream_free(&m->s);
	free(m->objs);
	memset(m, 0, sizeof(*m));
}
