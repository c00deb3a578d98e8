/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Severities, one vocabulary for every finding: configuration checks
 * (policy), vulnerabilities, secrets and image configuration (scan), the
 * admission webhook's gate. Ordered: a larger value is more severe. UNKNOWN
 * is a vulnerability without a severity; the configuration checks never use
 * it.
 */
#ifndef VIGIL_SEVERITY_H
#define VIGIL_SEVERITY_H

enum vg_severity { SEV_UNKNOWN, SEV_LOW, SEV_MEDIUM, SEV_HIGH, SEV_CRITICAL };

#define SEV_COUNT 5

/* "UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"; "UNKNOWN" out of range. Can't fail. */
const char *severity_name(enum vg_severity s);
/* Parses a severity name (any case, "UNKNOWN" included); -1 if it is none. */
int severity_parse(const char *s);
/* SARIF: the result level ("error", "warning", "note") and the GitHub
 * "security-severity" score ("9.5" ... "0.0") a severity maps to. Can't fail. */
const char *severity_sarif_level(enum vg_severity s);
const char *severity_sarif_score(enum vg_severity s);

#endif
