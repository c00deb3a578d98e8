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
};

static int on_rec(void *arg, const void *rec, size_t len)
{
	struct ctx *c = arg;
	struct vg_event ev;
	char err[160];

	if (event_decode(rec, len, &ev, err, sizeof(err)) != 0)
		abort(); /* the capture reader must only deliver valid records */
	buf_reset(&c->out);
	if (state_ingest(c->st, &ev))
		event_json(&c->out, &ev, c->st, 0);
	state_done(c->st, &ev);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	char path[64];
	struct vg_state_opts so = { .live = false, .max_procs = 1024 };
	struct ctx c = { .st = state_new(&so) };
	struct vg_source *src;

	if (fd < 0)
		fd = memfd_create("capture", 0);
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	src = source_capture_open(path);
	if (src) {
		for (int i = 0; i < 1000 && source_poll(src, 0, on_rec, &c) > 0; i++)
			;
		source_close(src);
	}
	state_free(c.st);
	buf_free(&c.out);
	return 0;
}
