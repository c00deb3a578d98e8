/* SPDX-License-Identifier: Apache-2.0 */
/* CVSS v3.x base scores and v4.0 scores (FIRST specification formulas). */
#ifndef VIGIL_SCAN_CVSS_H
#define VIGIL_SCAN_CVSS_H

#include "common/severity.h"

/*
 * The base score of a CVSS v3.0/v3.1 vector ("CVSS:3.1/AV:N/AC:L/..."), or -1
 * when the vector is not a complete, valid v3 base vector.
 */
double cvss3_base_score(const char *vector);
/*
 * The score of a CVSS v4.0 vector ("CVSS:4.0/AV:N/AC:L/AT:N/..."), computed
 * as the specification's MacroVector method does: a base-only vector gives
 * the base score (CVSS-B); threat and environmental metrics present in the
 * vector are taken into account (CVSS-BT, -BE, -BTE). -1 when the vector is
 * not a valid v4.0 vector (prefix, the 11 base metrics, order, values).
 */
double cvss4_score(const char *vector);
/* The qualitative rating of a score: NONE is reported as LOW. */
enum vg_severity cvss_severity(double score);

#endif
