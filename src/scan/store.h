/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The scan store: results kept in SQLite so that the admission webhook can
 * gate on an image's vulnerabilities by digest without scanning it again.
 * Two tables in one file:
 *   image_scans  the admission webhook's contract (ADMISSION_STORE_SCHEMA,
 *                docs/admission.md): per image digest, vulnerability counts
 *                per severity; keyed by the manifest digest, or by the image
 *                ID (config sha256) for archives that carry no manifest digest
 *   scan_reports (key PRIMARY KEY, target, kind, scanned_at, report): the
 *                whole JSON report under the manifest digest and the image ID,
 *                for `vigil scan lookup`
 * A newer scan of the same digest replaces the older one.
 */
#ifndef VIGIL_SCAN_STORE_H
#define VIGIL_SCAN_STORE_H

#include "scan/scan.h"

/* Store r (unfiltered). 0, or -1 with err set. */
int scan_store_put(const char *path, const struct scan_result *r, struct vg_buf *err);
/*
 * Look a digest up ("sha256:..."); appends the stored report to out.
 * Returns 1 found, 0 not found, -1 error (err set).
 */
int scan_store_get(const char *path, const char *digest, struct vg_buf *out, struct vg_buf *err);

#endif
