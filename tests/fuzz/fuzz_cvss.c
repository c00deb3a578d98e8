/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: CVSS vector parsers. The input is a vector string; v3 and v4
 * scoring must not crash and must give -1 (invalid) or a score in 0..10
 * with one decimal.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include "common/buf.h"
#include "scan/matching/cvss.h"

static void check(double s)
{
	if (s == -1)
		return;
	if (!(s >= 0 && s <= 10) || fabs(s * 10 - round(s * 10)) > 1e-9)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size); /* stops at a NUL byte */
	check(cvss3_base_score(s));
	check(cvss4_score(s));
	free(s);
	return 0;
}
