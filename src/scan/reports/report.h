/* SPDX-License-Identifier: Apache-2.0 */
/* Scan reports: table (for people), JSON (Vigil's own), CycloneDX, SPDX, SARIF. */
#ifndef VIGIL_SCAN_REPORT_H
#define VIGIL_SCAN_REPORT_H

#include <stdio.h>
#include "scan/scan.h"

enum report_format { REPORT_TABLE, REPORT_JSON, REPORT_CYCLONEDX, REPORT_SPDX, REPORT_SARIF };

/* "table", "json", ... ; -1 for an unknown name. */
int report_format_parse(const char *name);
/* Append the report to out. colour: ANSI colours in the table. Can't fail. */
void report_write(const struct scan_result *r, enum report_format f, bool colour,
		  struct vg_buf *out);

#endif
