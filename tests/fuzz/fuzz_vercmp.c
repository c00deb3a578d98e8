/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: version comparison. The input is two versions separated by a
 * newline; every scheme must compare them without crashing, and where the
 * scheme is a total order, compare(a, b) must be -compare(b, a).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/buf.h"
#include "scan/matching/vercmp.h"

static int sgn(int v)
{
	return (v > 0) - (v < 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size); /* stops at a NUL byte */
	char *nl = strchr(s, '\n');
	const char *a = s, *b = "";

	if (nl) {
		*nl = 0;
		b = nl + 1;
	}
	for (int sch = VERCMP_DPKG; sch < VERCMP_COUNT; sch++) {
		int x = sgn(vercmp((enum vercmp_scheme)sch, a, b));
		int y = sgn(vercmp((enum vercmp_scheme)sch, b, a));
		if (x != -y) {
			fprintf(stderr, "scheme %d: '%s' vs '%s': %d and %d\n", sch, a, b, x, y);
			abort();
		}
	}
	free(s);
	return 0;
}
