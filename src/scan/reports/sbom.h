/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Standard formats of a scan result: CycloneDX 1.5 JSON (components and
 * vulnerabilities), SPDX 2.3 JSON (packages with purls) and SARIF 2.1.0
 * (vulnerabilities, secrets and image configuration findings as results).
 * Each appends one JSON document.
 */
#ifndef VIGIL_SCAN_SBOM_H
#define VIGIL_SCAN_SBOM_H

#include "scan/scan.h"

void sbom_cyclonedx(const struct scan_result *r, struct vg_buf *out);
void sbom_spdx(const struct scan_result *r, struct vg_buf *out);
void sbom_sarif(const struct scan_result *r, struct vg_buf *out);

#endif
