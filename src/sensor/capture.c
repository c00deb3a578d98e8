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
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
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
 * A regular file is read through a read-only mapping and each record decoded
 * where it lies: no copy at all (copying the file into a buffer with read()
 * was a third of the cost of replaying a record). Anything else (a pipe, a
 * file that cannot be mapped) is read into a window of the file in a buffer,
 * one read() per CAPTURE_CHUNK bytes, a record larger than the buffer growing
 * it up to VG_CAPTURE_RECORD_MAX. Either way each record is checked
 * (event_decode) exactly once.
 */
#define CAPTURE_CHUNK (256u << 10)
#define CAPTURE_DROP (4u << 20) /* mapped pages already replayed are given back in steps of this: RSS stays bounded */
#define PREFETCH_AHEAD 4096u /* a page ahead of the record being decoded: its first touch is most of decoding */

struct capture_source {
	struct vg_source base;
	int fd;
	char *path;
	uint64_t offset; /* of the next record */
	uint64_t received;
	char *buf;         /* the buffer, or the mapping of the whole file */
	size_t cap;        /* bytes allocated in buf, or the file's size when mapped */
	size_t start, end; /* buf[start, end): read, not yet delivered */
	bool eof;          /* read() returned 0, or mapped */
	int map_slot;      /* in mapped_captures, or -1: not mapped */
	size_t dropped;    /* mapped: buf[0, dropped) unmapped again */
};

/*
 * A mapped file that shrinks (another program truncates or rewrites it while
 * it is replayed) makes the next read of a lost page raise SIGBUS, wherever
 * the record is being read. The handler names the file and exits instead of
 * dying without a word; any other SIGBUS goes to the handler there was before.
 */
#define MAPPED_MAX 8 /* captures mapped at once; more are read() */
static struct {
	const char *volatile base;
	volatile size_t size;
	const char *volatile path;
} mapped_captures[MAPPED_MAX];
static struct sigaction sigbus_before;

static void put_err(const char *s)
{
	ssize_t n = write(STDERR_FILENO, s, strlen(s));
	(void)n;
}

static void on_sigbus(int sig, siginfo_t *si, void *uctx)
{
	const char *a = si->si_addr;
	for (int i = 0; i < MAPPED_MAX; i++) {
		const char *b = mapped_captures[i].base;
		if (b && a >= b && a < b + mapped_captures[i].size) {
			put_err("vigil: cannot read capture ");
			put_err(mapped_captures[i].path);
			put_err(": the file shrank while it was being read (truncated or rewritten by another "
				"program)\n");
			_exit(1);
		}
	}
	if (sigbus_before.sa_flags & SA_SIGINFO) {
		sigbus_before.sa_sigaction(sig, si, uctx);
		return;
	}
	/* the default action (or ignored: the fault repeats): as if this handler were not there */
	sigaction(sig, &sigbus_before, NULL);
	if (sigbus_before.sa_handler != SIG_DFL && sigbus_before.sa_handler != SIG_IGN)
		sigbus_before.sa_handler(sig);
}

/* A slot for a mapping, the SIGBUS handler installed; -1 when none is free or it cannot be. */
static int mapped_add(const char *base, size_t size, const char *path)
{
	struct sigaction cur;
	if (sigaction(SIGBUS, NULL, &cur) != 0)
		return -1;
	if (!(cur.sa_flags & SA_SIGINFO) || cur.sa_sigaction != on_sigbus) { /* not ours (yet, or any more) */
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = on_sigbus;
		sa.sa_flags = SA_SIGINFO;
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGBUS, &sa, &sigbus_before) != 0)
			return -1;
	}
	for (int i = 0; i < MAPPED_MAX; i++) {
		if (!mapped_captures[i].base) {
			mapped_captures[i].path = path;
			mapped_captures[i].size = size;
			mapped_captures[i].base = base;
			return i;
		}
	}
	return -1;
}

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
		if (cs->end - cs->start > PREFETCH_AHEAD)
			__builtin_prefetch(cs->buf + cs->start + PREFETCH_AHEAD);
		if (event_decode(cs->buf + cs->start, len, &ev, why, sizeof(why)) != 0)
			return capture_fail(cs, "corrupted record: ", why);
		cs->start += len;
		cs->offset += len;
		cs->received++;
		delivered++;
		if ((r = fn(ctx, &ev)))
			return r;
	}
	if (cs->map_slot >= 0 && cs->start - cs->dropped >= CAPTURE_DROP) {
		/* what was replayed leaves the process's memory (read again from the file if touched) */
		size_t upto = cs->start & ~(size_t)(sysconf(_SC_PAGESIZE) - 1);
		madvise(cs->buf + cs->dropped, upto - cs->dropped, MADV_DONTNEED);
		cs->dropped = upto;
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
	if (cs->map_slot >= 0) {
		mapped_captures[cs->map_slot].base = NULL;
		munmap(cs->buf, cs->cap);
	} else {
		free(cs->buf);
	}
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
	cs->map_slot = -1;
	cs->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (cs->fd < 0) {
		vg_err("cannot open capture %s: %s", path, strerror(errno));
		goto fail;
	}
	struct stat sb;
	void *map = MAP_FAILED;
	if (fstat(cs->fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0 && (uint64_t)sb.st_size <= SIZE_MAX)
		map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, cs->fd, 0);
	if (map != MAP_FAILED && (cs->map_slot = mapped_add(map, (size_t)sb.st_size, cs->path)) < 0)
		munmap(map, (size_t)sb.st_size);
	if (cs->map_slot >= 0) {
		madvise(map, (size_t)sb.st_size, MADV_SEQUENTIAL);
		cs->buf = map;
		cs->cap = cs->end = (size_t)sb.st_size; /* records end where the file did when opened */
		cs->eof = true;
	} else {
		cs->cap = CAPTURE_CHUNK;
		cs->buf = xmalloc(cs->cap);
	}
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
