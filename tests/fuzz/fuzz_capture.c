/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: a whole capture file through replay (reader, decoder, state, output). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include "common/log.h"
#include "output/event_json.h"
#include "sensor/source.h"
#include "state/state.h"

struct ctx {
	struct vg_state *st;
	struct vg_buf out;
	size_t records;
};

/* Raw records (source_poll): each must decode, the reader having checked it. */
static int on_rec(void *arg, const void *rec, size_t len)
{
	struct ctx *c = arg;
	struct vg_event ev;
	char err[160];

	if (event_decode(rec, len, &ev, err, sizeof(err)) != 0)
		abort(); /* the capture reader must only deliver valid records */
	c->records++;
	return 0;
}

/* Decoded records (poll_events), as `vigil replay` reads them: state and output. */
static int on_event(void *arg, const struct vg_event *ev)
{
	struct ctx *c = arg;

	if (ev->raw_len != ev->hdr.len)
		abort();
	c->records++;
	buf_reset(&c->out);
	if (state_ingest(c->st, ev))
		event_json(&c->out, ev, c->st, 0);
	state_done(c->st, ev);
	return 0;
}

/* Both ways of reading must deliver the same records and stop the same way. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	char path[64];
	struct vg_state_opts so = { .live = false, .max_procs = 1024 };
	struct ctx raw = { 0 }, dec = { .st = state_new(&so) };
	struct vg_source *src;
	int rc_raw = 0, rc_dec = 0;

	if (fd < 0)
		fd = memfd_create("capture", 0);
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	src = source_capture_open(path);
	if (src) {
		for (int i = 0; i < 1000 && (rc_raw = source_poll(src, 0, on_rec, &raw)) > 0; i++)
			;
		source_close(src);
		src = source_capture_open(path);
		if (!src)
			abort();
		for (int i = 0; i < 1000 && (rc_dec = src->ops->poll_events(src, 0, on_event, &dec)) > 0; i++)
			;
		source_close(src);
		if (raw.records != dec.records || rc_raw != rc_dec)
			abort();
	}
	state_free(dec.st);
	buf_free(&dec.out);
	return 0;
}
