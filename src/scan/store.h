/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The scan store: results kept in SQLite so that the admission webhook (or
 * anyone) can look an image up by digest without scanning it again.
 *   scans(key PRIMARY KEY, target, kind, scanned_at, critical, high, medium,
 *         low, unknown, secrets, config, report)
 * One row per key the image is known by: its manifest digest (OCI) and its
 * image ID (the config's sha256). report is the JSON report.
 */
#ifndef VIGIL_SCAN_STORE_H
#define VIGIL_SCAN_STORE_H

#include "scan/scan.h"

/* Store r (its JSON report built here). 0, or -1 with err set. */
int scan_store_put(const char *path, const struct scan_result *r, struct vg_buf *err);
/*
 * Look a digest up ("sha256:..."); appends the stored report to out.
 * Returns 1 found, 0 not found, -1 error (err set).
 */
int scan_store_get(const char *path, const char *digest, struct vg_buf *out, struct vg_buf *err);

#endif
