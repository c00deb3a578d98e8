/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admission webhook's policy file (YAML; docs/admission.md has the
 * reference). Pod Security levels per namespace in the three modes of the
 * Pod Security Admission labels (enforce: reject; audit: audit annotation;
 * warn: warning to the user), each with a version; exemptions by namespace,
 * user name and runtime class; allowed image registries; digests required;
 * a vulnerability gate read from stored image scans (scan/reports/results_db.h).
 * Unknown keys are errors (file:line:column), so a typo never weakens policy.
 */
#ifndef VIGIL_ADMISSION_POLICY_H
#define VIGIL_ADMISSION_POLICY_H

#include <stddef.h>
#include "policy/finding.h"
#include "policy/pss.h"

struct results_db;

struct pss_mode {
	enum pss_level level;
	int version; /* minor, or PSS_VERSION_LATEST */
};

enum pss_mode_kind { MODE_ENFORCE, MODE_AUDIT, MODE_WARN, MODE_COUNT };

struct admission_ns {
	char *name;
	int set[MODE_COUNT], version_set[MODE_COUNT];
	struct pss_mode mode[MODE_COUNT];
};

enum unscanned_action { UNSCANNED_ALLOW, UNSCANNED_WARN, UNSCANNED_DENY };

struct admission_policy {
	struct pss_mode defaults[MODE_COUNT]; /* privileged/latest unless the file says otherwise */
	struct admission_ns *ns;
	size_t nns;
	char **exempt_ns, **exempt_users, **exempt_rc;
	size_t nexempt_ns, nexempt_users, nexempt_rc;
	char **registries; /* allowed prefixes ("registry.example.com", "ghcr.io/org"); none = any */
	size_t nregistries;
	int require_digest;
	char *vuln_db;       /* NULL: no vulnerability gate */
	int max_severity;    /* highest allowed vulnerability severity (enum vg_severity) */
	enum unscanned_action unscanned;
	int fail_open;       /* on internal errors: allow (1) or deny (0, the default) */
	int enforce_templates; /* deny workload objects (Deployment, ...) too; default 1 */
	struct results_db *store; /* opened from vuln_db by admission_policy_load */
};

/*
 * Parses a policy from buf (name is used in messages only). Returns a new
 * policy, or NULL with "LINE:COL: problem" in err.
 */
struct admission_policy *admission_policy_parse(const char *buf, size_t len, char *err, size_t errlen);
/* Reads and parses path, then opens the vulnerability store; NULL with a message in err. */
struct admission_policy *admission_policy_load(const char *path, char *err, size_t errlen);
/* The built-in policy used when no file is given: PSA's defaults (privileged, latest). */
struct admission_policy *admission_policy_default(void);
void admission_policy_free(struct admission_policy *p);

/* The level and version of mode m for namespace ns. */
struct pss_mode admission_policy_mode(const struct admission_policy *p, const char *ns,
				      enum pss_mode_kind m);
int admission_policy_list_has(char *const *list, size_t n, const char *s);

#endif
