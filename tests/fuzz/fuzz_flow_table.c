/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: flow records (and anything else the decoder accepts) through the
 * flow table, bounded small so that evictions are exercised. The input is cut
 * into records by their header's length field, as a capture's stream is.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "sensor/decode.h"
#include "state/flow_table.h"
#include "state/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vg_state *st;
	static struct flow_table *ft;
	struct vg_event ev;
	struct vg_flow f;
	char err[160];

	if (!st) {
		struct vg_state_opts so = { .live = false, .max_procs = 1024 };
		st = state_new(&so);
		ft = flow_table_new(8, 4);
	}
	while (size >= sizeof(struct vg_event_hdr)) {
		uint32_t len;
		memcpy(&len, data + offsetof(struct vg_event_hdr, len), sizeof(len));
		if (len < sizeof(struct vg_event_hdr) || len > size)
			len = (uint32_t)size;
		if (event_decode(data, len, &ev, err, sizeof(err)) == 0) {
			struct vg_flow_dns d;
			if (state_ingest(st, &ev) && !flow_from_event(ft, st, &ev, &f) &&
			    flow_dns_from_event(st, &ev, &d) && d.len)
				(void)(d.payload[0] + d.payload[d.len - 1]); /* the bytes are inside the record */
			state_done(st, &ev);
		}
		data += len;
		size -= len;
	}
	return 0;
}
