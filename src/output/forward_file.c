/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The file forwarder: each record as one JSON line appended to a file,
 * rotated by size: when the next line would take the file past max-size,
 * FILE.(keep-1) becomes FILE.keep (the oldest, FILE.keep, is removed), ...,
 * FILE becomes FILE.1, and a new FILE is started. A line is never split; a
 * record larger than max-size gets a file of its own.
 *
 * Durability (fsync=): "batch" (default) writes a deliver() call's lines,
 * then fsync()s once before saying they arrived, so the outbox's cursor never
 * gets ahead of the disk; "always" fsync()s after each line; "never" leaves
 * it to the kernel (a power cut can lose the last seconds, a crash of the
 * agent alone cannot). A rotation fsync()s the finished file and the
 * directory in every mode but never.
 *
 * After a crash, records written but not yet acknowledged are written again
 * (at least once: readers dedupe by the record's uuid where it matters), and
 * a last line cut by the crash is removed when the file is opened again.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include "common/buf.h"
#include "output/forwarders.h"

enum fsync_mode { FSYNC_NEVER, FSYNC_BATCH, FSYNC_ALWAYS };

struct file_fwd {
	char *path, *dir;
	uint64_t max_size;
	unsigned keep;
	enum fsync_mode fsync;
	unsigned kinds;
	int fd, dirfd;
	uint64_t size;
	uint64_t rotations;
};

/* Drop a partial last line (a crash in the middle of a write): 0, or an errno. */
static int trim_partial(int fd, uint64_t *size)
{
	struct stat st;
	char c[4096];

	if (fstat(fd, &st))
		return errno;
	off_t end = st.st_size;
	while (end > 0) {
		off_t from = end > (off_t)sizeof(c) ? end - (off_t)sizeof(c) : 0;
		ssize_t n = pread(fd, c, end - from, from);
		if (n <= 0)
			return n ? errno : EIO;
		ssize_t i = n;
		while (i > 0 && c[i - 1] != '\n')
			i--;
		if (i > 0) {
			end = from + i;
			break;
		}
		end = from;
	}
	if (end != st.st_size && ftruncate(fd, end))
		return errno;
	*size = (uint64_t)end;
	return 0;
}

static int open_current(struct file_fwd *f)
{
	f->fd = open(f->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (f->fd < 0)
		return errno;
	int e = trim_partial(f->fd, &f->size);
	if (e) {
		close(f->fd);
		f->fd = -1;
	}
	return e;
}

/* FILE.(keep-1) -> FILE.keep, ..., FILE -> FILE.1, a new FILE: 0, or an errno. */
static int rotate(struct file_fwd *f)
{
	char from[4096], to[4096];

	if (f->fsync != FSYNC_NEVER && fsync(f->fd))
		return errno;
	close(f->fd);
	f->fd = -1;
	if (f->keep == 0) {
		if (unlink(f->path) && errno != ENOENT)
			return errno;
	}
	for (unsigned i = f->keep; i >= 1; i--) {
		if (i == 1)
			snprintf(from, sizeof(from), "%s", f->path);
		else
			snprintf(from, sizeof(from), "%s.%u", f->path, i - 1);
		snprintf(to, sizeof(to), "%s.%u", f->path, i);
		if (rename(from, to) && errno != ENOENT)
			return errno;
	}
	if (f->fsync != FSYNC_NEVER && fsync(f->dirfd))
		return errno;
	f->rotations++;
	return open_current(f);
}

static int write_line(struct file_fwd *f, const struct outbox_record *r)
{
	struct iovec iov[2] = { { (void *)r->json, r->json_len }, { "\n", 1 } };
	size_t want = r->json_len + 1, done = 0;

	if (f->size && f->size + want > f->max_size) {
		int e = rotate(f);
		if (e)
			return e;
	}
	/* one writev: O_APPEND keeps the line whole unless the disk fills mid-way */
	while (done < want) {
		ssize_t w = writev(f->fd, iov, 2);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			uint64_t sz;
			trim_partial(f->fd, &sz); /* leave no half line behind */
			f->size = sz;
			return e;
		}
		done += (size_t)w;
		size_t skip = (size_t)w;
		for (int k = 0; k < 2; k++) {
			size_t take = skip < iov[k].iov_len ? skip : iov[k].iov_len;
			iov[k].iov_base = (char *)iov[k].iov_base + take;
			iov[k].iov_len -= take;
			skip -= take;
		}
	}
	f->size += want;
	if (f->fsync == FSYNC_ALWAYS && fdatasync(f->fd))
		return errno;
	return 0;
}

static long file_deliver(void *ctx, const struct outbox_record *recs, size_t n, char *err, size_t errlen)
{
	struct file_fwd *f = ctx;
	size_t i;
	int e = 0;

	if (f->fd < 0 && (e = open_current(f))) {
		snprintf(err, errlen, "cannot open %s: %s", f->path, strerror(e));
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (!(f->kinds & (1u << recs[i].kind)))
			continue;
		if ((e = write_line(f, &recs[i])))
			break;
	}
	/* what was written arrives only once it is on disk (batch) */
	if (f->fsync == FSYNC_BATCH && f->fd >= 0 && fdatasync(f->fd)) {
		if (!e)
			e = errno;
		i = 0;
	}
	if (e) {
		snprintf(err, errlen, "cannot write %s: %s", f->path, strerror(e));
		if (f->fd >= 0)
			close(f->fd);
		f->fd = -1; /* opened again (and trimmed) on the next call */
		return i ? (long)i : -1;
	}
	return (long)n;
}

static void file_close(void *ctx)
{
	struct file_fwd *f = ctx;
	if (!f)
		return;
	if (f->fd >= 0) {
		if (f->fsync != FSYNC_NEVER)
			fsync(f->fd);
		close(f->fd);
	}
	if (f->dirfd >= 0)
		close(f->dirfd);
	free(f->path);
	free(f->dir);
	free(f);
}

static int file_open(void **ctx, const char *spec, char *err, size_t errlen)
{
	static const char known[] = "max-size, keep, fsync, kinds";
	struct file_fwd *f = xcalloc(1, sizeof(*f));
	struct fwd_spec s;
	const char *v;
	int e;

	f->fd = f->dirfd = -1;
	*ctx = NULL;
	if (fwd_spec_parse(spec, &s, err, errlen)) {
		free(f);
		return -1;
	}
	if (s.target[0] != '/' || strlen(s.target) > 4000 || s.target[strlen(s.target) - 1] == '/') {
		snprintf(err, errlen, "file output takes an absolute file path, not '%.200s'", s.target);
		goto fail;
	}
	f->path = xstrdup(s.target);
	char *d = xstrdup(s.target);
	f->dir = xstrdup(dirname(d));
	free(d);
	f->max_size = 100u << 20;
	f->keep = 5;
	f->fsync = FSYNC_BATCH;
	f->kinds = 1u << OUTBOX_ALERT | 1u << OUTBOX_ACTION | 1u << OUTBOX_LOSS;
	if ((v = fwd_spec_get(&s, "max-size")) && fwd_parse_size(v, &f->max_size)) {
		snprintf(err, errlen, "file output: max-size takes a size (N, NK, NM, NG), not '%.64s'", v);
		goto fail;
	}
	if ((v = fwd_spec_get(&s, "keep"))) {
		char *end;
		long k = strtol(v, &end, 10);
		if (!*v || *end || k < 0 || k > 1000) {
			snprintf(err, errlen, "file output: keep takes 0 to 1000 rotated files, not '%.64s'", v);
			goto fail;
		}
		f->keep = (unsigned)k;
	}
	if ((v = fwd_spec_get(&s, "fsync"))) {
		static const char *const modes[] = { "never", "batch", "always" };
		int m = -1;
		for (int k = 0; k < 3; k++)
			if (!strcmp(v, modes[k]))
				m = k;
		if (m < 0) {
			snprintf(err, errlen, "file output: fsync is never, batch or always, not '%.64s'", v);
			goto fail;
		}
		f->fsync = (enum fsync_mode)m;
	}
	if ((v = fwd_spec_get(&s, "kinds")) && fwd_parse_kinds(v, &f->kinds)) {
		snprintf(err, errlen, "file output: kinds is a list of alert, action, loss, not '%.64s'", v);
		goto fail;
	}
	if (fwd_spec_check_used(&s, "file", known, err, errlen))
		goto fail;
	if ((f->dirfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "file output: cannot open directory %s: %s", f->dir, strerror(errno));
		goto fail;
	}
	if ((e = open_current(f))) {
		snprintf(err, errlen, "file output: cannot open %s: %s", f->path, strerror(e));
		goto fail;
	}
	fwd_spec_free(&s);
	*ctx = f;
	return 0;
fail:
	fwd_spec_free(&s);
	file_close(f);
	return -1;
}

const struct vg_forwarder_ops forward_file_ops = {
	.name = "file",
	.open = file_open,
	.deliver = file_deliver,
	.close = file_close,
};
