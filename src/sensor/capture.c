/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Capture file format, version 1 (all integers little-endian):
 *
 *   offset 0   struct vg_capture_header (96 bytes)
 *                magic "VIGILCAP", version 1, abi (event ABI version),
 *                header_len 96, boot_to_realtime, start_ts, hostname[64]
 *   offset 96  records, back to back, each exactly as include/vigil/event.h
 *              defines it: a struct vg_event_hdr whose `len` is the size of
 *              the whole record, then its parameters. No padding, no index,
 *              no trailer: a capture cut short (agent killed, disk full) is
 *              readable up to its last whole record.
 *
 * The file starts with the state snapshot, as ordinary records: a CGROUP
 * record per known cgroup, a STATE_CONTAINER record per container (its
 * metadata as JSON) and a STATE_PROC record per process (JSON). Whatever the
 * agent later learns from outside the kernel stream (a process read from
 * /proc, a container's metadata) is written as such a record just before the
 * event that needed it. Replaying the file therefore rebuilds exactly the
 * state the live agent had, with no access to the machine.
 *
 * Worked example: a capture holding one `mkdir("/tmp/x", 0755)` that
 * returned 0 is the 96-byte header, the snapshot records, then
 *   hdr { len = 148, type = VG_EVT_MKDIR, nparams = 2, retval = 0, ... }
 *   08 00  "/tmp/x" 00 00     path: raw path, empty base (it is absolute)
 *   08 00  ed 01 00 00 00 00 00 00   mode 0755
 * 148 = 128 (header) + 2 + 8 + 2 + 8. tests/unit/test_capture.c builds and
 * reads back such files.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "common/buf.h"
#include "common/log.h"
#include "sensor/capture.h"
#include "sensor/decode.h"
#include "sensor/source.h"

struct vg_capture_writer {
	FILE *f;
	char *path;
	uint64_t records;
	int error;
};

uint64_t capture_boot_to_realtime(void)
{
	struct timespec rt, bt;
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_BOOTTIME, &bt);
	return (uint64_t)(rt.tv_sec - bt.tv_sec) * 1000000000ULL + rt.tv_nsec - bt.tv_nsec;
}

struct vg_capture_writer *capture_writer_open(const char *path, uint64_t boot_to_realtime, const char *hostname)
{
	struct vg_capture_header h = { .version = VG_CAPTURE_VERSION,
				       .abi = VG_EVENT_ABI_VERSION,
				       .header_len = sizeof(h),
				       .boot_to_realtime = boot_to_realtime };
	struct timespec bt;
	struct vg_capture_writer *w;
	/* 0600: records hold command lines, paths and environments (credentials) */
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;

	if (!f) {
		if (fd >= 0)
			close(fd);
		vg_err("cannot create capture file %s: %s", path, strerror(errno));
		return NULL;
	}
	memcpy(h.magic, VG_CAPTURE_MAGIC, 8);
	clock_gettime(CLOCK_BOOTTIME, &bt);
	h.start_ts = (uint64_t)bt.tv_sec * 1000000000ULL + bt.tv_nsec;
	snprintf(h.hostname, sizeof(h.hostname), "%s", hostname ? hostname : "");
	if (fwrite(&h, sizeof(h), 1, f) != 1) {
		vg_err("cannot write capture file %s: %s", path, strerror(errno));
		fclose(f);
		return NULL;
	}
	w = xcalloc(1, sizeof(*w));
	w->f = f;
	w->path = xstrdup(path);
	return w;
}

int capture_writer_add(struct vg_capture_writer *w, const void *rec, size_t len)
{
	if (w->error)
		return -w->error;
	if (fwrite(rec, len, 1, w->f) != 1) {
		w->error = errno ? errno : EIO;
		vg_err("cannot write capture file %s: %s (capture stops here)", w->path, strerror(w->error));
		return -w->error;
	}
	w->records++;
	return 0;
}

uint64_t capture_writer_records(const struct vg_capture_writer *w)
{
	return w->records;
}

int capture_writer_close(struct vg_capture_writer *w)
{
	int ret = -w->error;

	if (fclose(w->f) != 0 && !ret) {
		ret = -errno;
		vg_err("cannot write capture file %s: %s", w->path, strerror(errno));
	}
	free(w->path);
	free(w);
	return ret;
}

/* Replay source */

/*
 * The reader keeps a window of the file in its own buffer and decodes each
 * record in place: one read() per CAPTURE_CHUNK bytes, no per-record copy,
 * and each record is checked (event_decode) exactly once. A record larger
 * than the buffer grows it, up to VG_CAPTURE_RECORD_MAX.
 */
#define CAPTURE_CHUNK (256u << 10)

struct capture_source {
	struct vg_source base;
	int fd;
	char *path;
	uint64_t offset; /* of the next record */
	uint64_t received;
	char *buf;
	size_t cap;        /* bytes allocated in buf */
	size_t start, end; /* buf[start, end): read, not yet delivered */
	bool eof;          /* read() returned 0 */
};

static int capture_fail(struct capture_source *cs, const char *fmt, const char *detail)
{
	vg_err("cannot read capture %s at offset %llu: %s%s", cs->path, (unsigned long long)cs->offset, fmt,
	       detail ? detail : "");
	return -EINVAL;
}

/*
 * Make at least `want` bytes available at buf[start]; fewer only at the end of
 * the file. Returns 0, or a negative errno with the reason logged.
 */
static int capture_fill(struct capture_source *cs, size_t want)
{
	if (cs->end - cs->start >= want || cs->eof)
		return 0;
	if (want > cs->cap - cs->start) {
		/* move the partial record to the front; grow for a record larger than the buffer */
		memmove(cs->buf, cs->buf + cs->start, cs->end - cs->start);
		cs->end -= cs->start;
		cs->start = 0;
		if (want > cs->cap) {
			cs->cap = want;
			cs->buf = xrealloc(cs->buf, cs->cap);
		}
	}
	while (cs->end - cs->start < want) {
		ssize_t n = read(cs->fd, cs->buf + cs->end, cs->cap - cs->end);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			vg_err("cannot read capture %s at offset %llu: %s", cs->path,
			       (unsigned long long)(cs->offset + cs->end - cs->start), strerror(e));
			return -e;
		}
		if (n == 0) {
			cs->eof = true;
			break;
		}
		cs->end += (size_t)n;
	}
	return 0;
}

/* Decodes whole records; a bad one stops the replay with its offset named. */
static int capture_poll_events(struct vg_source *src, int timeout_ms, vg_event_fn fn, void *ctx)
{
	struct capture_source *cs = (struct capture_source *)src;
	int delivered = 0;
	(void)timeout_ms;

	while (delivered < 4096) {
		const size_t hlen = sizeof(struct vg_event_hdr);
		struct vg_event ev;
		char why[160];
		size_t avail;
		uint32_t len; /* the header's len field: framing needs nothing else of it */
		int r = capture_fill(cs, hlen);

		if (r)
			return r;
		avail = cs->end - cs->start;
		if (avail == 0)
			return delivered ? delivered : VG_SOURCE_EOF;
		if (avail < hlen) {
			snprintf(why, sizeof(why), "%zu of %zu header bytes", avail, hlen);
			return capture_fail(cs, "truncated record: ", why);
		}
		memcpy(&len, cs->buf + cs->start + offsetof(struct vg_event_hdr, len), sizeof(len));
		if (len < hlen || len > VG_CAPTURE_RECORD_MAX) {
			snprintf(why, sizeof(why), "%u", len);
			return capture_fail(cs, "corrupted record: impossible length ", why);
		}
		if ((r = capture_fill(cs, len)))
			return r;
		avail = cs->end - cs->start;
		if (avail < len) {
			snprintf(why, sizeof(why), "%zu of %u bytes", avail, len);
			return capture_fail(cs, "truncated record: ", why);
		}
		if (event_decode(cs->buf + cs->start, len, &ev, why, sizeof(why)) != 0)
			return capture_fail(cs, "corrupted record: ", why);
		cs->start += len;
		cs->offset += len;
		cs->received++;
		delivered++;
		if ((r = fn(ctx, &ev)))
			return r;
	}
	return delivered;
}

struct raw_fn {
	vg_record_fn fn;
	void *ctx;
};

static int deliver_raw(void *arg, const struct vg_event *ev)
{
	struct raw_fn *rf = arg;
	return rf->fn(rf->ctx, ev->raw, ev->raw_len);
}

/* The same records, checked the same way, as raw bytes. */
static int capture_poll(struct vg_source *src, int timeout_ms, vg_record_fn fn, void *ctx)
{
	struct raw_fn rf = { fn, ctx };
	return capture_poll_events(src, timeout_ms, deliver_raw, &rf);
}

static void capture_stats(struct vg_source *src, struct vg_source_stats *st)
{
	struct capture_source *cs = (struct capture_source *)src;
	memset(st, 0, sizeof(*st));
	st->received = cs->received;
}

static void capture_close(struct vg_source *src)
{
	struct capture_source *cs = (struct capture_source *)src;
	if (cs->fd >= 0)
		close(cs->fd);
	free(cs->buf);
	free(cs->path);
	free(cs);
}

static const struct vg_source_ops capture_ops = {
	.name = "capture",
	.poll = capture_poll,
	.poll_events = capture_poll_events,
	.stats = capture_stats,
	.close = capture_close,
};

struct vg_source *source_capture_open(const char *path)
{
	struct capture_source *cs = xcalloc(1, sizeof(*cs));
	struct vg_capture_header h;
	size_t n;

	cs->base.ops = &capture_ops;
	cs->path = xstrdup(path);
	cs->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (cs->fd < 0) {
		vg_err("cannot open capture %s: %s", path, strerror(errno));
		goto fail;
	}
	cs->cap = CAPTURE_CHUNK;
	cs->buf = xmalloc(cs->cap);
	if (capture_fill(cs, sizeof(h)))
		goto fail;
	n = cs->end;
	memset(&h, 0, sizeof(h));
	memcpy(&h, cs->buf, n < sizeof(h) ? n : sizeof(h));
	if (n < sizeof(h.magic) || memcmp(h.magic, VG_CAPTURE_MAGIC, 8) != 0) {
		vg_err("cannot read capture %s: not a Vigil capture file (bad magic)", path);
		goto fail;
	}
	if (n < sizeof(h)) {
		vg_err("cannot read capture %s at offset %zu: truncated file header", path, n);
		goto fail;
	}
	if (h.version != VG_CAPTURE_VERSION || h.header_len != sizeof(h)) {
		vg_err("cannot read capture %s: unsupported format version %u (this build reads %u)", path,
		       h.version, VG_CAPTURE_VERSION);
		goto fail;
	}
	if (h.abi != VG_EVENT_ABI_VERSION) {
		vg_err("cannot read capture %s: records use event ABI %u, this build reads %u", path, h.abi,
		       VG_EVENT_ABI_VERSION);
		goto fail;
	}
	cs->start = sizeof(h);
	cs->offset = sizeof(h);
	cs->base.boot_to_realtime = h.boot_to_realtime;
	h.hostname[sizeof(h.hostname) - 1] = 0;
	snprintf(cs->base.hostname, sizeof(cs->base.hostname), "%s", h.hostname);
	return &cs->base;
fail:
	capture_close(&cs->base);
	return NULL;
}
