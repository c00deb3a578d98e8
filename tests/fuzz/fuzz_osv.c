/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: OSV records, then their ranges against the versions they name. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include "scan/matching/osv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct osv_record r;
	struct vg_buf err = { 0 };
	static const char *const ecos[] = { "Debian:12", "Alpine:v3.18", "Red Hat", "PyPI",
					    "Go", "npm", "Maven", "Unknown" };

	if (osv_parse((const char *)data, size, "fuzz.json", &r, &err) == 0) {
		for (size_t i = 0; i < r.naffected; i++) {
			const char *vs[] = { "0", "1.0", "1:2.3-4~5", "v1.2.3-rc.1+x" };
			for (size_t k = 0; k < 4; k++) {
				char *fixed = NULL;
				osv_affects(vercmp_scheme(ecos[(i + k) % 8]), vs[k], r.affected[i].ranges,
					    r.affected[i].versions, &fixed);
				free(fixed);
			}
		}
		osv_record_free(&r);
	}
	buf_free(&err);
	return 0;
}
