/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: the condition parser alone (deep nesting, quotes, operators, lists). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "engine/cond.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	size_t off;
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = 0;
	cond_free(cond_parse(s, err, sizeof(err), &off));
	free(s);
	return 0;
}
