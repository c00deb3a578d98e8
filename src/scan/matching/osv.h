/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OSV records (ossf.github.io/osv-schema): what the database keeps of one
 * record, and whether a version falls in an affected entry's ranges.
 */
#ifndef VIGIL_SCAN_OSV_H
#define VIGIL_SCAN_OSV_H

#include <stdbool.h>
#include "common/buf.h"
#include "common/severity.h"
#include "scan/matching/vercmp.h"

struct osv_affected {
	char *ecosystem, *name; /* name normalised (PyPI: PEP 503) */
	char *ranges, *versions; /* JSON text of the entry's "ranges" and "versions" ("[]" if none) */
};

struct osv_record {
	char *id, *modified, *published, *withdrawn, *summary;
	char *aliases;  /* comma-separated */
	enum vg_severity severity;
	double score;   /* CVSS v3 base score, -1 when none */
	struct osv_affected *affected;
	size_t naffected;
};

/*
 * Read one record from JSON text (name: for messages). Returns 0, or -1 with
 * "name:line:col: problem" in err. The record owns its strings.
 */
int osv_parse(const char *data, size_t len, const char *name, struct osv_record *rec,
	      struct vg_buf *err);
void osv_record_free(struct osv_record *rec);

/* A package name as the database keys it (PyPI names normalised, others as they are). */
char *osv_name_key(const char *ecosystem, const char *name);

/*
 * Whether version v is affected by an entry's ranges/versions (JSON text as
 * stored). ECOSYSTEM and SEMVER ranges are evaluated (introduced, fixed,
 * last_affected, limit); GIT ranges are ignored. *fixed gets the lowest
 * "fixed" above v of the range that matched (new string) or NULL.
 */
bool osv_affects(enum vercmp_scheme s, const char *v, const char *ranges, const char *versions,
		 char **fixed);

#endif
