/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: a keep condition (engine/kdrop.h) weakened to the kernel's tests and built into tables. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "engine/kdrop.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = 0;
	struct kdrop *k = kdrop_new();
	struct kdrop_tables t;
	kdrop_keep_when(k, s, err, sizeof(err));
	kdrop_build(k, &t);
	kdrop_tables_free(&t);
	kdrop_free(k);
	free(s);
	return 0;
}
