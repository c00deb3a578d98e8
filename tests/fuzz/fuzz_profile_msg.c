/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: profile documents across a fleet (src/fleet/profile_msg.c): a node's
 * profile message as a hub reads it, a bucket value as a node reads it (the first
 * byte chooses). What decodes encodes again and decodes to the same items.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fleet/profile_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct profile_share a, b;
	char err[512];
	if (!size)
		return 0;
	enum profile_doc d = (data[0] & 1) ? PROFILE_DOC_KV : PROFILE_DOC_MSG;
	if (profile_share_decode(d, (const char *)data + 1, size - 1, &a, err, sizeof(err)))
		return 0;
	size_t len = 0;
	char *again = profile_share_encode(d, &a, &len);
	if (!again || profile_share_decode(d, again, len, &b, err, sizeof(err)) || b.total != a.total ||
	    strcmp(a.key, b.key) || a.mode != b.mode)
		abort();
	for (int k = 0; k < PROF_NKINDS; k++)
		for (size_t i = 0; i < a.nitems[k]; i++)
			if (strcmp(a.items[k][i], b.items[k][i]))
				abort();
	profile_share_free(&b);
	profile_share_free(&a);
	free(again);
	return 0;
}
