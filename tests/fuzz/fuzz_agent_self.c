/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: the STATE_AGENT record's JSON (src/state/agent_self.c), as a capture file holds it. */
#include <stdint.h>
#include "state/agent_self.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	agent_self_free(agent_self_from_json((const char *)data, size));
	return 0;
}
