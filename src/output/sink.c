/* SPDX-License-Identifier: Apache-2.0 */
#include <stddef.h>
#include "output/sink.h"

/* The order is the flush order: the store commits a batch before stdout shows it. */
const struct vg_sink_ops *const sink_table[] = {
	&sink_store_ops,
	&sink_stdout_ops,
	&sink_capture_ops,
	NULL,
};
