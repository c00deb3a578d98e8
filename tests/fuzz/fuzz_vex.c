/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: VEX documents (OpenVEX, CycloneDX). Each input is parsed and,
 * when it parses, applied to a small scan result with packages and findings.
 */
#include <stdlib.h>
#include <string.h>
#include "common/buf.h"
#include "scan/matching/vex.h"

static void add_vuln(struct scan_result *r, const char *id, const char *aliases, size_t pkg)
{
	r->vulns = xgrow(r->vulns, r->nvulns, sizeof(*r->vulns));
	r->vulns[r->nvulns++] = (struct scan_vuln){ .id = xstrdup(id), .aliases = xstrdup(aliases),
						    .summary = xstrdup(""), .score = -1,
						    .fixed = xstrdup(""), .pkg = pkg };
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vex_doc d;
	struct vg_buf err = { 0 };

	if (vex_parse((const char *)data, size, "fuzz.json", &d, &err) == 0) {
		struct scan_result r = { 0 };
		struct scan_pkg *p = scan_add_pkg(&r, "npm", "lodash", "4.17.20", "package-lock.json");
		p->purl = xstrdup("pkg:npm/lodash@4.17.20");
		p = scan_add_pkg(&r, "npm", "@s/x", "1.0.0", "package-lock.json");
		p->purl = xstrdup("pkg:npm/%40s/x@1.0.0?q=1#sub");
		scan_add_pkg(&r, "deb", "nopurl", "1", "var/lib/dpkg/status");
		add_vuln(&r, "GHSA-1", "CVE-1,CVE-2", 0);
		add_vuln(&r, "CVE-3", "", 1);
		add_vuln(&r, "CVE-1", "", 2);
		vex_apply(&d, 1, &r);
		vex_free(&d);
		scan_result_free(&r);
	}
	buf_free(&err);
	return 0;
}
