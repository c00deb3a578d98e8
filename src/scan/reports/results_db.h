/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The scan results database: results kept in SQLite so that the admission
 * webhook can gate on an image's vulnerabilities by digest without scanning
 * it again. The scanner writes it (`vigil scan image --store FILE`) and owns
 * its schema; the webhook only reads it, through results_db_open and
 * results_db_max_severity below. Two tables in one file:
 *
 *   CREATE TABLE image_scans (
 *     digest     TEXT PRIMARY KEY,          -- "sha256:<64 hex>", the image manifest digest
 *     image      TEXT,                      -- a reference it was scanned as (informational)
 *     scanned_at INTEGER NOT NULL,          -- unix seconds
 *     critical   INTEGER NOT NULL DEFAULT 0, -- number of vulnerabilities per severity
 *     high       INTEGER NOT NULL DEFAULT 0,
 *     medium     INTEGER NOT NULL DEFAULT 0,
 *     low        INTEGER NOT NULL DEFAULT 0
 *   );
 *
 *   image_scans  the admission webhook's contract (RESULTS_DB_SCANS_SCHEMA,
 *                docs/admission.md): keyed by the manifest digest, or by the
 *                image ID (config sha256) for archives that carry no manifest
 *                digest. A digest with no row is "unscanned" (the admission
 *                policy says what that means).
 *   scan_reports (key PRIMARY KEY, target, kind, scanned_at, report): the
 *                whole JSON report under the manifest digest and the image ID,
 *                for `vigil scan lookup`
 * A newer scan of the same digest replaces the older one (INSERT OR REPLACE).
 */
#ifndef VIGIL_SCAN_RESULTS_DB_H
#define VIGIL_SCAN_RESULTS_DB_H

#include <stddef.h>
#include "scan/scan.h"

#define RESULTS_DB_SCANS_SCHEMA                                                                 \
	"CREATE TABLE IF NOT EXISTS image_scans (digest TEXT PRIMARY KEY, image TEXT, "        \
	"scanned_at INTEGER NOT NULL, critical INTEGER NOT NULL DEFAULT 0, "                   \
	"high INTEGER NOT NULL DEFAULT 0, medium INTEGER NOT NULL DEFAULT 0, "                 \
	"low INTEGER NOT NULL DEFAULT 0)"

/* Store r (unfiltered). 0, or -1 with err set. */
int results_db_put(const char *path, const struct scan_result *r, struct vg_buf *err);
/*
 * Look a digest up ("sha256:..."); appends the stored report to out.
 * Returns 1 found, 0 not found, -1 error (err set).
 */
int results_db_get(const char *path, const char *digest, struct vg_buf *out, struct vg_buf *err);

/* The read side, for the admission webhook: one open database, one prepared query. */
struct results_db;

/* Opens the database read-only and checks the table exists; NULL with a message in err. */
struct results_db *results_db_open(const char *path, char *err, size_t errlen);
void results_db_close(struct results_db *s);

/*
 * Looks up digest: returns 1 and the highest severity with a non-zero count
 * in *max (an enum vg_severity, SEV_LOW and up, -1 when the image has no
 * vulnerabilities), 0 when the digest was never scanned, -1 on a database
 * error (message in err). Thread-safe.
 */
int results_db_max_severity(struct results_db *s, const char *digest, int *max, char *err,
			    size_t errlen);

#endif
