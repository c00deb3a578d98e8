/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kubernetes manifests: a YAML or JSON stream (one or more documents, `List`
 * objects expanded) cut into objects, each with the pod template it carries.
 * The pod is found where each kind keeps it: Pod (metadata, spec), PodTemplate
 * (template), Deployment/ReplicaSet/StatefulSet/DaemonSet/Job/
 * ReplicationController (spec.template), CronJob (spec.jobTemplate.spec.template).
 */
#ifndef VIGIL_POLICY_MANIFEST_H
#define VIGIL_POLICY_MANIFEST_H

#include <stddef.h>
#include "common/yaml.h"

#define MANIFEST_MAX_LIST_DEPTH 8

struct manifest_obj {
	const struct yaml_node *root;
	const char *kind;  /* "" when absent */
	const char *name;  /* metadata.name, else metadata.generateName, else "" */
	const char *ns;    /* metadata.namespace, NULL when not set */
	const struct yaml_node *pod_meta; /* the pod's (or template's) metadata, may be NULL */
	const struct yaml_node *pod_spec; /* NULL when the object carries no pod */
	unsigned line, col;
};

struct manifest {
	struct yaml_stream s;
	struct manifest_obj *objs;
	size_t n;
};

/*
 * Parses buf[0..len) into m: every document (and every item of a List) that
 * is a mapping with a `kind` becomes an object; other documents are ignored.
 * Returns 0, or -1 with "LINE:COL: problem" in err. Free with manifest_free
 * either way; the objects point into m->s.
 */
int manifest_parse(const char *buf, size_t len, struct manifest *m, char *err, size_t errlen);
void manifest_free(struct manifest *m);

/*
 * Finds the pod of an already parsed object tree (root: one object mapping).
 * kind_hint (may be NULL) is the kind to assume when the object has none.
 */
void manifest_obj_init(struct manifest_obj *o, const struct yaml_node *root, const char *kind_hint);

/*
 * Mapping lookup that, like the API server's JSON decoder, takes the LAST of
 * duplicate keys (so `privileged: false` followed by `privileged: true` is
 * judged as true). NULL when map is not a mapping or lacks the key.
 */
const struct yaml_node *manifest_get(const struct yaml_node *map, const char *key);
/* A scalar's text by key, NULL when absent or not a scalar. */
const char *manifest_str(const struct yaml_node *map, const char *key);

/* Whether the object kind is one whose pod template manifest_obj_init knows. */
int manifest_kind_has_pod(const char *kind);

#endif
