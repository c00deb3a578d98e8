/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One AdmissionReview (admission.k8s.io/v1 or v1beta1) judged with a policy:
 * the Pod Security Standards of the namespace in enforce/audit/warn modes
 * (the same src/policy/pss.c that `vigil scan config` runs), exemptions,
 * the image rules and the vulnerability gate. Independent of HTTP, so the
 * server, `vigil admission review` and the fuzzer share it.
 */
#ifndef VIGIL_ADMISSION_REVIEW_H
#define VIGIL_ADMISSION_REVIEW_H

#include <stddef.h>
#include "admission/admission_policy.h"
#include "common/buf.h"

#define ADMISSION_MAX_MESSAGE 16384 /* status message bytes; longer lists end in "... (N more)" */

struct admission_decision {
	int http_status;        /* 200, or 400 when the body is not an AdmissionReview */
	int allowed;
	int internal_error;     /* an internal error decided (see failurePolicy) */
	struct vg_buf response; /* the JSON body to send (an AdmissionReview, or {"error": ...}) */
	/* for the decision log */
	char uid[256], operation[16], kind[64], ns[256], name[256], user[256];
	char reason[64];        /* "exempt: namespace", "not a pod kind", "pss", "images", ... */
	size_t enforce_violations, audit_violations, warn_violations;
};

/* Judges body[0..len) with p into d (fully initialised here; free with admission_decision_free). */
void admission_review_handle(const struct admission_policy *p, const char *body, size_t len,
			     struct admission_decision *d);
void admission_decision_free(struct admission_decision *d);

#endif
