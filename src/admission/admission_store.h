/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stored image scan results, read by the admission webhook's vulnerability
 * gate. The image scanner (`vigil scan image`) writes one row per scanned
 * image into this SQLite table; the webhook only reads it:
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
 * A digest with no row is "unscanned" (the policy says what that means). If
 * several scans of one digest are kept elsewhere, the writer keeps the newest
 * here (INSERT OR REPLACE). docs/admission.md describes the contract.
 */
#ifndef VIGIL_ADMISSION_STORE_H
#define VIGIL_ADMISSION_STORE_H

#include <stddef.h>

struct admission_store;

#define ADMISSION_STORE_SCHEMA                                                                  \
	"CREATE TABLE IF NOT EXISTS image_scans (digest TEXT PRIMARY KEY, image TEXT, "        \
	"scanned_at INTEGER NOT NULL, critical INTEGER NOT NULL DEFAULT 0, "                   \
	"high INTEGER NOT NULL DEFAULT 0, medium INTEGER NOT NULL DEFAULT 0, "                 \
	"low INTEGER NOT NULL DEFAULT 0)"

/* Opens the database read-only and checks the table exists; NULL with a message in err. */
struct admission_store *admission_store_open(const char *path, char *err, size_t errlen);
void admission_store_close(struct admission_store *s);

/*
 * Looks up digest: returns 1 and the highest severity with a non-zero count
 * in *max (-1 when the image has no vulnerabilities), 0 when the digest was
 * never scanned, -1 on a database error (message in err). Thread-safe.
 */
int admission_store_max_severity(struct admission_store *s, const char *digest, int *max, char *err,
				 size_t errlen);

#endif
