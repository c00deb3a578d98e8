/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The vulnerability database: OSV records in SQLite. Schema (version 1):
 *   vulns(id PRIMARY KEY, modified, published, withdrawn, summary, aliases,
 *         severity, score, imported)
 *   affected(vuln_id, ecosystem, base, name, ranges, versions)
 *     indexed on (base, name) for matching and on vuln_id for re-imports;
 *     base is the ecosystem before any ':' ("Debian" of "Debian:12").
 * Importing a record again replaces it (and its affected rows) in place.
 */
#ifndef VIGIL_SCAN_VULNDB_H
#define VIGIL_SCAN_VULNDB_H

#include <sqlite3.h>
#include "scan/scan.h"

struct vulndb_stats {
	unsigned long records, skipped; /* skipped: unreadable or not OSV (warned) */
};

/* Open (create: also create the file and schema). NULL with the reason in err. */
sqlite3 *vulndb_open(const char *path, bool create, struct vg_buf *err);
void vulndb_close(sqlite3 *db);

/*
 * Import a directory of *.json records (searched recursively), a .zip of them
 * (osv.dev's all.zip) or one .json file, in one transaction. Bad records are
 * warnings (on stderr) and counted as skipped. Returns 0, or -1 with err set
 * (nothing is imported then).
 */
int vulndb_import(sqlite3 *db, const char *path, struct vulndb_stats *st, struct vg_buf *err);

/* Human-readable counts per ecosystem and the newest "modified" date. */
int vulndb_status(sqlite3 *db, struct vg_buf *out, struct vg_buf *err);

/*
 * Add to r->vulns every non-withdrawn record affecting a package of r.
 * OS packages (deb, apk, rpm) match by their source package. Returns 0 or -1.
 */
int vulndb_match(sqlite3 *db, struct scan_result *r, struct vg_buf *err);

#endif
