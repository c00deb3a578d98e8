/* SPDX-License-Identifier: Apache-2.0 */
/* Builders of raw records for unit tests. */
#ifndef VIGIL_TEST_HELPERS_H
#define VIGIL_TEST_HELPERS_H

#include <string.h>
#include "common/buf.h"
#include "vigil/event.h"

/* Start a record of `type` in b; parameters are appended with rec_param*. */
static inline void rec_begin(struct vg_buf *b, uint16_t type, uint32_t pid)
{
	struct vg_event_hdr h = { 0 };
	h.type = type;
	h.pid = h.tid = pid;
	h.ppid = 1;
	h.ts = 1000;
	h.loginuid = UINT32_MAX;
	memcpy(h.comm, "test", 5);
	buf_reset(b);
	buf_add(b, &h, sizeof(h));
}

static inline void rec_param(struct vg_buf *b, const void *data, uint16_t len)
{
	buf_add(b, &len, sizeof(len));
	buf_add(b, data, len);
	((struct vg_event_hdr *)b->data)->nparams++;
	((struct vg_event_hdr *)b->data)->len = b->len;
}

static inline void rec_param_u64(struct vg_buf *b, uint64_t v)
{
	rec_param(b, &v, sizeof(v));
}

/* A PATH parameter: raw path and base directory. */
static inline void rec_param_path(struct vg_buf *b, const char *raw, const char *base)
{
	struct vg_buf p = { 0 };
	buf_add(&p, raw, strlen(raw) + 1);
	buf_add(&p, base, strlen(base) + 1);
	rec_param(b, p.data, p.len);
	buf_free(&p);
}

static inline void rec_finish(struct vg_buf *b, int64_t retval)
{
	((struct vg_event_hdr *)b->data)->retval = retval;
	((struct vg_event_hdr *)b->data)->len = b->len;
}

#endif
