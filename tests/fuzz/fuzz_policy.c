/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: the central policy envelope (src/fleet/policy.c), as an agent reads it from the bucket. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fleet/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_push p;
	char err[512];

	if (policy_decode(data, size, &p, err, sizeof(err)) == 0) {
		/* what decodes encodes again, to the same digest */
		size_t len = 0;
		char *again = policy_encode(&p, &len);
		struct policy_push q;
		if (!again || policy_decode(again, len, &q, err, sizeof(err)) != 0 || strcmp(p.digest, q.digest) != 0)
			abort();
		policy_push_free(&q);
		free(again);
		policy_push_free(&p);
	}
	return 0;
}
