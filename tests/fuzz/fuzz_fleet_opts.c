/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: the fleet's option parsers (src/fleet/streams.c: durations and sizes) and name check. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fleet/nats_conn.h"
#include "fleet/streams.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	int64_t d = fleet_parse_duration(s), b = fleet_parse_size(s);
	if (d < -2 || b < -2)
		abort();
	(void)fleet_name_valid(s);
	free(s);
	return 0;
}
