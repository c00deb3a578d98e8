/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `vigil scan config`: files and directories of Kubernetes manifests
 * (*.yaml, *.yml, *.json) and Dockerfiles (Dockerfile*, Containerfile*,
 * *.dockerfile) checked with the Pod Security Standards, the best-practice
 * checks and the Dockerfile checks. A file that cannot be read or parsed is
 * recorded as an error with file:line:column and the scan goes on.
 */
#ifndef VIGIL_POLICY_CONFIG_SCAN_H
#define VIGIL_POLICY_CONFIG_SCAN_H

#include <stddef.h>
#include <stdio.h>
#include "policy/finding.h"
#include "policy/manifest.h"
#include "policy/pss.h"

#define CONFIG_MAX_FILE (16u << 20) /* bytes; larger files are refused, not truncated */
#define CONFIG_MAX_DEPTH 64         /* directory recursion */

/*
 * An object's own exceptions (docs/config-checks.md, "Exceptions"): the
 * annotation holds one "CHECK[@CONTAINER]: reason" a line; the findings it
 * names are reported apart, as excepted, and do not count. Read by
 * `vigil scan config` only: the admission webhook never honours it.
 */
#define CONFIG_EXCEPTIONS_ANNOTATION "vigil.dev/config-exceptions"

struct config_opts {
	enum pss_level level; /* default PSS_BASELINE */
	int version;          /* minor, PSS_VERSION_LATEST by default */
	int pss_only;         /* --checks pss: only the Pod Security Standards */
};

struct config_error {
	char *file;
	unsigned line, col; /* 0 when the error has no position (cannot open) */
	char *msg;
};

struct config_report {
	struct policy_findings f;
	struct policy_findings excepted; /* findings an object's CONFIG_EXCEPTIONS_ANNOTATION excepts */
	struct config_error *errs;
	size_t nerrs;
	size_t files, objects;
};

/* Scans a file or (recursively, in name order) a directory. Can't fail: problems become errors. */
void config_scan_path(const char *path, const struct config_opts *o, struct config_report *r);
/* Scans one buffer named file, as a Dockerfile when dockerfile is set, else as manifests. */
void config_scan_buffer(const char *file, const char *buf, size_t len, int dockerfile,
			const struct config_opts *o, struct config_report *r);
/*
 * The checks of one Kubernetes object: PSS at o->level/o->version and, unless
 * o->pss_only, the best practices. Findings get the object's kind/name/ns.
 * Returns the number added.
 */
size_t config_check_object(const struct manifest_obj *obj, const struct config_opts *o,
			   struct policy_findings *out);
/* Whether a file name (without directories) is a Dockerfile's. */
int config_is_dockerfile(const char *name);
void config_report_free(struct config_report *r);

/* Output: a table for people, JSON (docs/config-checks.md), SARIF 2.1.0. */
void config_report_table(FILE *f, const struct config_report *r);
void config_report_json(FILE *f, const struct config_report *r, const struct config_opts *o);
void config_report_sarif(FILE *f, const struct config_report *r, const char *tool_version);

#endif
