/* SPDX-License-Identifier: Apache-2.0 */
/*
 * VEX documents (`--vex FILE`): statements of whether a vulnerability
 * affects a product, from OpenVEX (v0.0.1 and v0.2: "statements") or
 * CycloneDX (a BOM's "vulnerabilities" with "analysis"), applied to a scan:
 *
 *   not_affected, fixed (OpenVEX); not_affected, false_positive, resolved,
 *   resolved_with_pedigree (CycloneDX)        the finding is taken out and
 *                                              listed as suppressed, with why
 *   affected, under_investigation (OpenVEX); exploitable, in_triage
 *   (CycloneDX)                                the finding stays, annotated
 *
 * A statement applies to a vulnerability finding when its vulnerability
 * (name or an alias) is the finding's id or one of its aliases, and one of
 * its products is the finding's package: purls compared without qualifiers
 * or subpath, without the version when the statement's purl has none. A
 * product with subcomponents stands for those; a product that is not a
 * package purl (the image itself, pkg:oci/..., or another identifier) and
 * has no subcomponents, or a statement without products, stands for every
 * package of the scanned target: the document is taken as written for the
 * target it is given with. CycloneDX `affects` refs are resolved through the
 * BOM's components (bom-ref -> purl), a BOM-Link's part after '#', or taken
 * as a purl. Later statements win over earlier ones, and later documents
 * over earlier documents.
 *
 * Documents are untrusted input: at most 64 MiB, 100000 statements, and
 * every field checked for its type; anything else is an error naming the
 * file and the statement.
 */
#ifndef VIGIL_SCAN_VEX_H
#define VIGIL_SCAN_VEX_H

#include "scan/scan.h"

enum vex_status { VEX_NOT_AFFECTED, VEX_FIXED, VEX_AFFECTED, VEX_UNDER_INVESTIGATION };

struct vex_statement {
	char **vulns;     /* the name, then aliases */
	size_t nvulns;
	char **purls;     /* products (normalised purls); none: every package */
	size_t npurls;
	bool all;         /* stands for every package of the target */
	enum vex_status status;
	char *reason;     /* "not_affected: vulnerable_code_not_present; ..." */
};

struct vex_doc {
	char *name;
	struct vex_statement *s;
	size_t n;
};

/* Parse a document (name for messages); -1 with the reason in err. */
int vex_parse(const char *text, size_t len, const char *name, struct vex_doc *d,
	      struct vg_buf *err);
int vex_load(const char *path, struct vex_doc *d, struct vg_buf *err);
void vex_free(struct vex_doc *d);
/* The status's name ("not_affected", ...). */
const char *vex_status_name(enum vex_status s);
/*
 * Apply the documents, in order, to r's vulnerabilities: suppressed findings
 * move to r->suppressed, annotated ones get a note. Returns the number
 * suppressed. Can't fail.
 */
size_t vex_apply(const struct vex_doc *docs, size_t ndocs, struct scan_result *r);

#endif
