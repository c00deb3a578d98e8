/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: the record decoder, then everything that reads a decoded record. */
#include <stddef.h>
#include <stdint.h>
#include "output/event_json.h"
#include "sensor/decode.h"
#include "state/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vg_state *st;
	struct vg_event ev;
	struct vg_buf out = { 0 };
	char err[160];

	if (!st) {
		struct vg_state_opts so = { .live = false, .max_procs = 1024 };
		st = state_new(&so);
	}
	if (event_decode(data, size, &ev, err, sizeof(err)) != 0)
		return 0;
	if (state_ingest(st, &ev))
		event_json(&out, &ev, st, 0);
	state_done(st, &ev);
	buf_free(&out);
	return 0;
}
