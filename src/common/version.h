/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Vigil's version, in one place: `vigil --version` prints it and the reports
 * that name their producing tool (SBOMs, SARIF) carry it.
 */
#ifndef VIGIL_VERSION_H
#define VIGIL_VERSION_H

#define VIGIL_VERSION "0.1.0"

#endif
