/* SPDX-License-Identifier: Apache-2.0 */
/* CVSS base scores (FIRST's specification formulas). */
#ifndef VIGIL_SCAN_CVSS_H
#define VIGIL_SCAN_CVSS_H

/*
 * The base score of a CVSS v3.0/v3.1 vector ("CVSS:3.1/AV:N/AC:L/..."), or -1
 * when the vector is not a complete, valid v3 base vector.
 */
double cvss3_base_score(const char *vector);
/* The qualitative rating of a score: NONE is reported as LOW. */
const char *cvss_severity(double score);

#endif
