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

static const struct vg_sink_ops capture_ops = {
	.name = "capture",
	.record = capture_record,
	.stats = capture_stats,
	.close = capture_close,
};

struct vg_sink *sink_capture_open(const char *path, uint64_t boot_to_realtime, const char *hostname)
{
	struct vg_capture_writer *w = capture_writer_open(path, boot_to_realtime, hostname);
	if (!w)
		return NULL;
	struct sink_capture *s = xcalloc(1, sizeof(*s));
	s->base.ops = &capture_ops;
	s->w = w;
	return &s->base;
}
