/* SPDX-License-Identifier: Apache-2.0 */
/* Package URLs (github.com/package-url/purl-spec) and OSV ecosystems of packages. */
#ifndef VIGIL_SCAN_PURL_H
#define VIGIL_SCAN_PURL_H

#include "scan/scan.h"

/* Set p->ecosystem (when unset) from its type and r's OS, and p->purl. Can't fail. */
void purl_fill(const struct scan_result *r, struct scan_pkg *p);
/* A PyPI name normalised as PEP 503 says: lower case, runs of -_. become '-'. New string. */
char *purl_pypi_name(const char *name);

#endif
