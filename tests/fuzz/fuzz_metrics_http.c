/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: the /metrics endpoint's request parser (src/output/metrics_http.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "output/metrics_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *req = strndup((const char *)data, size);
	bool head;
	if (req) {
		int st = metrics_http_parse(req, &head);
		if (st != 200 && st != 400 && st != 404 && st != 405)
			abort();
	}
	free(req);
	return 0;
}
