/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: one layer blob (tar, compressed or not) through the walk, catalogers and secrets. */
#include <stddef.h>
#include <stdint.h>
#include "scan/scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scan_opts o = { .secrets = true };
	struct scan_result r = { 0 };
	struct vg_buf err = { 0 };

	scan_limits_default(&o.limits);
	o.limits.max_layer_bytes = 64 << 20; /* keep a bomb from taking the run's time */
	o.limits.max_entries = 10000;
	scan_layer_memory(data, size, &o, &r, &err);
	scan_result_free(&r);
	buf_free(&err);
	return 0;
}
