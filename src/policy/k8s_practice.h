/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kubernetes best-practice checks (beyond the Pod Security Standards), each
 * with a stable id and severity (docs/config-checks.md has the list):
 * k8s/requests-missing, k8s/limits-missing, k8s/image-latest,
 * k8s/image-no-digest, k8s/writable-rootfs, k8s/sa-token-automount,
 * k8s/runtime-socket, k8s/net-raw, k8s/liveness-probe-missing,
 * k8s/readiness-probe-missing, k8s/default-namespace.
 */
#ifndef VIGIL_POLICY_K8S_PRACTICE_H
#define VIGIL_POLICY_K8S_PRACTICE_H

#include "policy/finding.h"
#include "policy/manifest.h"

/* Appends the object's best-practice findings to out; returns how many. Can't fail. */
size_t k8s_practice_check(const struct manifest_obj *o, struct policy_findings *out);

/*
 * Splits an image reference into its parts (pointers into caller buffers of
 * at least strlen(ref)+1): registry host ("docker.io" when none is named),
 * tag ("" when none) and digest ("" when none).
 */
void k8s_practice_parse_image(const char *ref, char *registry, char *tag, char *digest);

#endif
