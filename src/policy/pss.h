/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Kubernetes Pod Security Standards (baseline and restricted), judged as
 * the Pod Security Admission controller judges them: every control of the
 * standard, for containers, init containers and ephemeral containers, with
 * pod-level settings inherited by containers where the standard says so, and
 * each control's rules as of a policy version (v1.0 ... latest). Check ids are
 * PSA's own ("pss/privileged", "pss/runAsNonRoot", ...); docs/config-checks.md
 * lists them with their allowed values and versions.
 */
#ifndef VIGIL_POLICY_PSS_H
#define VIGIL_POLICY_PSS_H

#include <stddef.h>
#include "common/yaml.h"
#include "policy/finding.h"

enum pss_level { PSS_PRIVILEGED, PSS_BASELINE, PSS_RESTRICTED };

/* The newest policy version this code knows; "latest" means it. */
#define PSS_VERSION_LATEST 1000

/* "privileged", "baseline", "restricted" -> level; -1 if unknown. */
int pss_level_parse(const char *s);
const char *pss_level_name(enum pss_level l);
/*
 * "latest", "v1.N" or "1.N" -> N (the minor version; the standards only
 * exist for major 1); "latest" -> PSS_VERSION_LATEST. -1 if malformed.
 */
int pss_version_parse(const char *s);

/*
 * Judges one pod (its metadata and spec nodes; either may be NULL) against
 * level at version (a minor number from pss_version_parse) and appends one
 * finding per violation to out (check, container, position, message, hint).
 * Returns the number of findings added: 0 means the pod meets the level.
 * Can't fail.
 */
size_t pss_check_pod(const struct yaml_node *meta, const struct yaml_node *spec,
		     enum pss_level level, int version, struct policy_findings *out);

/* Whether check id (e.g. "pss/privileged") is one of the PSS controls. */
int pss_is_check(const char *check);

#endif
