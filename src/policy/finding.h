/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Findings of the configuration checks: one violated check at one place.
 * Pod Security Standards, best-practice and Dockerfile checks all produce
 * them, `vigil scan config` prints them and the admission webhook turns them
 * into its decision, so both judge with the same list.
 */
#ifndef VIGIL_POLICY_FINDING_H
#define VIGIL_POLICY_FINDING_H

#include <stddef.h>
#include "common/severity.h"

struct policy_finding {
	char *check;      /* stable id, e.g. "pss/privileged", "k8s/image-latest", "df/sudo" */
	enum vg_severity severity;
	char *file;       /* NULL for admission requests */
	unsigned line, col;
	char *kind, *name, *ns; /* the Kubernetes object (NULL for Dockerfiles) */
	char *container;  /* NULL when the finding is about the pod or the file */
	char *message;
	const char *hint; /* how to fix it (static text) */
};

struct policy_findings {
	struct policy_finding *v;
	size_t n, cap;
};

/* Appends a finding; strings are copied (NULL stays NULL). Returns it. Can't fail. */
struct policy_finding *findings_add(struct policy_findings *f, const char *check,
				    enum vg_severity sev, unsigned line, unsigned col,
				    const char *container, const char *message, const char *hint);
/* Sets file/kind/name/ns on findings [from, n) that do not have them yet. */
void findings_set_object(struct policy_findings *f, size_t from, const char *file,
			 const char *kind, const char *name, const char *ns);
void findings_free(struct policy_findings *f);

#endif
