/* SPDX-License-Identifier: Apache-2.0 */
/* A capture file as a sink: every record, raw, as the agent read or synthesised it. */
#include <stdlib.h>
#include "output/sink.h"
#include "sensor/capture.h"

struct sink_capture {
	struct vg_sink base;
	struct vg_capture_writer *w;
};

static void capture_record(struct vg_sink *base, const void *rec, size_t len)
{
	struct sink_capture *s = (struct sink_capture *)base;
	/* a write error is sticky in the writer and reported when it is closed */
	capture_writer_add(s->w, rec, len);
}

static void capture_stats(struct vg_sink *base, struct vg_buf *out)
{
	struct sink_capture *s = (struct sink_capture *)base;
	buf_printf(out, " written=%llu", (unsigned long long)capture_writer_records(s->w));
}

static int capture_close(struct vg_sink *base)
{
	struct sink_capture *s = (struct sink_capture *)base;
	int rc = capture_writer_close(s->w) ? -1 : 0;
	free(s);
	return rc;
}

static int capture_open(const struct vg_sink_config *c, struct vg_sink **out, char *err, size_t errlen);

const struct vg_sink_ops sink_capture_ops = {
	.name = "capture",
	.open = capture_open,
	.record = capture_record,
	.stats = capture_stats,
	.close = capture_close,
};

static int capture_open(const struct vg_sink_config *c, struct vg_sink **out, char *err, size_t errlen)
{
	*out = NULL;
	if (!c->capture_path)
		return 0;
	struct vg_capture_writer *w = capture_writer_open(c->capture_path, c->boot_to_realtime, c->hostname);
	if (!w) {
		if (errlen)
			err[0] = 0; /* the writer logged why */
		return -1;
	}
	struct sink_capture *s = xcalloc(1, sizeof(*s));
	s->base.ops = &sink_capture_ops;
	s->w = w;
	*out = &s->base;
	return 0;
}
