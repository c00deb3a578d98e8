/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Go: module versions are "v"-prefixed SemVer ("+incompatible" is build
 * metadata, ignored); toolchain versions ("go1.21.5", "go1.22rc1") drop the
 * "go" and compare the same way.
 */
#include <string.h>
#include "scan/matching/vercmp.h"

int vercmp_go(const char *a, const char *b)
{
	if (!strncmp(a, "go", 2))
		a += 2;
	if (!strncmp(b, "go", 2))
		b += 2;
	return vercmp_semver(a, b);
}
