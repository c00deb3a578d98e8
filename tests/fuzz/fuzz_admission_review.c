/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: AdmissionReview bodies through the webhook's handler, under a
 * policy that turns every rule on (all modes at restricted with an old and the
 * latest version, exemptions, registries, digests).
 */
#include <stdint.h>
#include <string.h>
#include "admission/admission_review.h"

static const char policy_yaml[] =
	"defaults: {enforce: restricted, audit: restricted, audit-version: v1.18, warn: baseline,\n"
	"           warn-version: v1.22}\n"
	"namespaces: {prod: {enforce: baseline, enforce-version: v1.0}}\n"
	"exemptions: {namespaces: [kube-system], usernames: [admin], runtimeClasses: [kata]}\n"
	"images: {allowedRegistries: [registry.example.com, docker.io/library], requireDigest: true}\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct admission_policy *p;
	char err[256];
	if (!p)
		p = admission_policy_parse(policy_yaml, strlen(policy_yaml), err, sizeof(err));
	if (!p)
		__builtin_trap();
	struct admission_decision d;
	admission_review_handle(p, (const char *)data, size, &d);
	admission_decision_free(&d);
	/* the policy parser reads untrusted files too */
	struct admission_policy *q = admission_policy_parse((const char *)data, size, err, sizeof(err));
	admission_policy_free(q);
	return 0;
}
