/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stdout as a sink: events written as they come (one line each), alerts held
 * until the batch is flushed, so that they are printed after the store
 * committed them. JSON lines, or text for a person.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "output/alert_json.h"
#include "output/event_json.h"
#include "output/sink.h"

struct sink_stdout {
	struct vg_sink base;
	bool json;
	struct vg_buf line;    /* one event */
	struct vg_buf pending; /* the batch's alerts */
};

/* A short human-readable line: time, type, process, container, result. */
static void text_line(struct vg_buf *out, const struct vg_event *ev, const struct vg_state *st, uint64_t b2r)
{
	const struct vg_proc *p = state_proc(st, ev->hdr.pid);
	const struct vg_cgroup *cg = state_cgroup(st, ev->hdr.cgroup_id);
	uint64_t wall = ev->hdr.ts + b2r;
	time_t sec = wall / 1000000000ULL;
	struct tm tm;
	char ts[32];

	localtime_r(&sec, &tm);
	strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
	buf_printf(out, "%s.%06llu %-12s %-16.16s pid=%u exe=%s container=%s res=%lld", ts,
		   (unsigned long long)(wall % 1000000000ULL / 1000), ev->info->name, ev->hdr.comm, ev->hdr.pid,
		   p ? p->exe : "?", cg && cg->meta.id[0] ? (cg->meta.name ? cg->meta.name : cg->meta.id) : "host",
		   (long long)ev->hdr.retval);
	buf_addc(out, ' ');
	event_json_args(out, ev);
}

static int stdout_event(struct vg_sink *base, const struct vg_event *ev, const struct vg_state *st, uint64_t b2r)
{
	struct sink_stdout *s = (struct sink_stdout *)base;
	buf_reset(&s->line);
	if (s->json)
		event_json(&s->line, ev, st, b2r);
	else
		text_line(&s->line, ev, st, b2r);
	buf_addc(&s->line, '\n');
	if (fwrite(s->line.data, s->line.len, 1, stdout) != 1)
		return errno ? errno : EIO;
	return 0;
}

static int stdout_alert(struct vg_sink *base, const struct vg_sink_alert *al)
{
	struct sink_stdout *s = (struct sink_stdout *)base;
	if (s->json) {
		buf_add(&s->pending, al->json, al->json_len);
	} else {
		alert_text(&s->pending, al->a, al->boot_to_realtime);
		if (al->a->suppressed)
			buf_printf(&s->pending, " (rate limit: %llu earlier alerts of this rule suppressed)",
				   (unsigned long long)al->a->suppressed);
	}
	buf_addc(&s->pending, '\n');
	return 0;
}

static int stdout_flush(struct vg_sink *base)
{
	struct sink_stdout *s = (struct sink_stdout *)base;
	int rc = 0;
	if (s->pending.len && fwrite(s->pending.data, s->pending.len, 1, stdout) != 1)
		rc = errno ? errno : EIO;
	buf_reset(&s->pending);
	fflush(stdout);
	return rc;
}

static int stdout_close(struct vg_sink *base)
{
	struct sink_stdout *s = (struct sink_stdout *)base;
	buf_free(&s->line);
	buf_free(&s->pending);
	free(s);
	return 0;
}

static int stdout_open(const struct vg_sink_config *c, struct vg_sink **out, char *err, size_t errlen);

const struct vg_sink_ops sink_stdout_ops = {
	.name = "stdout",
	.open = stdout_open,
	.event = stdout_event,
	.alert = stdout_alert,
	.flush = stdout_flush,
	.close = stdout_close,
};

/* Cannot fail. */
static int stdout_open(const struct vg_sink_config *c, struct vg_sink **out, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	*out = NULL;
	if (!c->show)
		return 0;
	struct sink_stdout *s = xcalloc(1, sizeof(*s));
	s->base.ops = &sink_stdout_ops;
	s->json = c->json;
	*out = &s->base;
	return 0;
}
