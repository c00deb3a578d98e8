/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: a response command and its reply (src/fleet/command.c), as an agent and a hub read them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fleet/command.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fleet_cmd c, d;
	char err[512], detail[FLEET_CMD_DETAIL_MAX + 1];
	enum fleet_cmd_outcome o;

	if (fleet_cmd_decode(data, size, &c, err, sizeof(err)) == 0) {
		/* what decodes is valid, encodes within the bound and decodes to the same */
		struct vg_buf b = { 0 };
		if (!fleet_cmd_container_valid(c.container) || !fleet_cmd_actor_valid(c.actor) ||
		    !fleet_name_valid(c.node) || !fleet_name_valid(c.cluster))
			abort();
		fleet_cmd_encode(&c, &b);
		if (b.len > FLEET_CMD_MAX || fleet_cmd_decode(b.data, b.len, &d, err, sizeof(err)) ||
		    memcmp(&c, &d, sizeof(c)))
			abort();
		buf_free(&b);
		static struct fleet_cmd_guard g;
		fleet_cmd_guard_check(&g, &c, c.time_ns);
	}
	if (fleet_cmd_reply_decode(data, size, &o, detail, sizeof(detail), err, sizeof(err)) == 0) {
		struct vg_buf b = { 0 };
		fleet_cmd_reply_encode(o, detail, &b);
		enum fleet_cmd_outcome o2;
		char d2[FLEET_CMD_DETAIL_MAX + 1];
		if (fleet_cmd_reply_decode(b.data, b.len, &o2, d2, sizeof(d2), err, sizeof(err)) || o2 != o ||
		    strcmp(d2, detail))
			abort();
		buf_free(&b);
	}
	return 0;
}
