/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <unistd.h>
#include "common/buf.h"
#include "common/log.h"
#include "respond/drift.h"

#define GUARDS_MAX 4096

struct guard {
	dev_t dev;               /* the overlay superblock of the container's root */
	char rootfs[PATH_MAX];   /* its merged directory, as the host sees it */
	char upper[PATH_MAX];    /* its upper layer */
	char id[13];
};

/*
 * Decisions already taken, by file identity: (device, inode, ctime). Writing or
 * copying up a file changes its ctime, so a changed file is judged again.
 */
#define CACHE_SLOTS 4096
struct verdict {
	dev_t dev;
	ino_t ino;
	struct timespec ctime;
	int deny; /* -1: empty slot */
};

struct drift {
	struct verdict cache[CACHE_SLOTS]; /* used by the answering thread only */
	int fan, stop[2];
	bool fail_open;
	pthread_t thread;
	bool running;
	pthread_mutex_t lock;
	struct guard *guards;
	size_t nguards;
	struct drift_stats stats;
};

/* The upperdir= option of the overlay mounted at dir, from /proc/self/mountinfo. */
static int upper_of(const char *dir, char *out, size_t size)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	int rc = -1;
	if (!f)
		return -1;
	while (getline(&line, &cap, f) > 0) {
		char mnt[PATH_MAX];
		/* id parent dev root mountpoint ... - fstype source options */
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 || strcmp(mnt, dir))
			continue;
		char *u = strstr(line, " - overlay ");
		u = u ? strstr(u, "upperdir=") : NULL;
		if (!u)
			continue;
		u += strlen("upperdir=");
		size_t n = strcspn(u, ",\n ");
		if (n >= size)
			break;
		memcpy(out, u, n);
		out[n] = 0;
		rc = 0;
	}
	free(line);
	fclose(f);
	return rc;
}

static struct verdict *cache_slot(struct drift *d, const struct stat *st)
{
	uint64_t h = ((uint64_t)st->st_dev * 0x9E3779B97F4A7C15ull) ^ (uint64_t)st->st_ino;
	return &d->cache[(h ^ (h >> 29)) % CACHE_SLOTS];
}

static int judge_uncached(struct drift *d, int fd, const struct stat *st);

/* Allow or deny one exec; 1 deny, 0 allow, -1 undecided. */
static int judge(struct drift *d, int fd)
{
	struct stat st;
	if (fstat(fd, &st))
		return -1;
	struct verdict *v = cache_slot(d, &st);
	if (v->deny >= 0 && v->dev == st.st_dev && v->ino == st.st_ino &&
	    v->ctime.tv_sec == st.st_ctim.tv_sec && v->ctime.tv_nsec == st.st_ctim.tv_nsec)
		return v->deny;
	int r = judge_uncached(d, fd, &st);
	if (r >= 0)
		*v = (struct verdict){ st.st_dev, st.st_ino, st.st_ctim, r };
	return r;
}

static int judge_uncached(struct drift *d, int fd, const struct stat *stp)
{
	struct stat st = *stp;
	char link[64], path[PATH_MAX], upath[PATH_MAX * 2];
	pthread_mutex_lock(&d->lock);
	const struct guard *g = NULL;
	for (size_t i = 0; i < d->nguards; i++)
		if (d->guards[i].dev == st.st_dev)
			g = &d->guards[i];
	struct guard copy;
	if (g)
		copy = *g;
	pthread_mutex_unlock(&d->lock);
	if (!g)
		return 0; /* not a guarded filesystem */
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return -1;
	path[n] = 0;
	/* the container's own mount gives a path from its root; the host's mount the full one */
	const char *rel = path;
	size_t rl = strlen(copy.rootfs);
	if (!strncmp(path, copy.rootfs, rl) && path[rl] == '/')
		rel = path + rl;
	if (rel[0] != '/')
		return -1;
	snprintf(upath, sizeof(upath), "%s%s", copy.upper, rel);
	struct stat us;
	if (lstat(upath, &us) == 0)
		return 1; /* in the upper layer: written or changed after start */
	return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
}

static void *loop(void *arg)
{
	struct drift *d = arg;
	char buf[8192] __attribute__((aligned(__alignof__(struct fanotify_event_metadata))));
	struct pollfd p[2] = { { .fd = d->fan, .events = POLLIN }, { .fd = d->stop[0], .events = POLLIN } };

	for (;;) {
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		ssize_t len = read(d->fan, buf, sizeof(buf));
		if (len <= 0)
			continue;
		const struct fanotify_event_metadata *m = (const void *)buf;
		for (; FAN_EVENT_OK(m, len); m = FAN_EVENT_NEXT(m, len)) {
			if (m->vers != FANOTIFY_METADATA_VERSION || m->fd < 0)
				continue;
			if (m->mask & FAN_OPEN_EXEC_PERM) {
				int v = judge(d, m->fd);
				bool undecided = v < 0;
				struct fanotify_response r = { .fd = m->fd };
				pthread_mutex_lock(&d->lock);
				if (v < 0) {
					d->stats.undecided++;
					v = d->fail_open ? 0 : 1;
				}
				if (v)
					d->stats.denied++;
				else
					d->stats.allowed++;
				pthread_mutex_unlock(&d->lock);
				r.response = v ? FAN_DENY : FAN_ALLOW;
				if (write(d->fan, &r, sizeof(r)) != sizeof(r))
					vg_warn("drift: cannot answer a permission event: %s", strerror(errno));
				/* an image file: let the kernel allow its next executions itself, until it
				 * is modified (an ignore mark is dropped on modification, copy-up included) */
				if (!v && !undecided)
					fanotify_mark(d->fan, FAN_MARK_ADD | FAN_MARK_IGNORED_MASK, FAN_OPEN_EXEC_PERM,
						      m->fd, NULL);
			}
			close(m->fd);
		}
	}
	return NULL;
}

struct drift *drift_start(bool fail_open, char *err, size_t errlen)
{
	struct drift *d = xcalloc(1, sizeof(*d));
	for (size_t i = 0; i < CACHE_SLOTS; i++)
		d->cache[i].deny = -1;
	d->fail_open = fail_open;
	d->stop[0] = d->stop[1] = -1;
	d->fan = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC, O_RDONLY | O_LARGEFILE | O_CLOEXEC);
	if (d->fan < 0) {
		snprintf(err, errlen, "deny-exec cannot be enforced: fanotify permission events refused: %s",
			 strerror(errno));
		free(d);
		return NULL;
	}
	pthread_mutex_init(&d->lock, NULL);
	if (pipe2(d->stop, O_CLOEXEC) || pthread_create(&d->thread, NULL, loop, d)) {
		snprintf(err, errlen, "deny-exec cannot be enforced: cannot start its thread");
		drift_stop(d);
		return NULL;
	}
	d->running = true;
	return d;
}

void drift_stop(struct drift *d)
{
	if (!d)
		return;
	if (d->running) {
		if (write(d->stop[1], "x", 1) != 1)
			pthread_cancel(d->thread);
		pthread_join(d->thread, NULL);
	}
	/* closing the group answers every pending event with allow (the kernel's rule) */
	close(d->fan);
	if (d->stop[0] >= 0)
		close(d->stop[0]);
	if (d->stop[1] >= 0)
		close(d->stop[1]);
	pthread_mutex_destroy(&d->lock);
	free(d->guards);
	free(d);
}

int drift_add(struct drift *d, const char *container_id, const char *rootfs, char *err, size_t errlen)
{
	struct guard g = { 0 };
	struct stat st;
	if (!rootfs || rootfs[0] != '/' || strlen(rootfs) >= sizeof(g.rootfs) || stat(rootfs, &st)) {
		snprintf(err, errlen, "container %.12s: root filesystem %s not found", container_id,
			 rootfs ? rootfs : "(unknown)");
		return -1;
	}
	if (upper_of(rootfs, g.upper, sizeof(g.upper))) {
		snprintf(err, errlen, "container %.12s: %s is not an overlay with an upper layer", container_id, rootfs);
		return -1;
	}
	snprintf(g.rootfs, sizeof(g.rootfs), "%s", rootfs);
	snprintf(g.id, sizeof(g.id), "%.12s", container_id);
	g.dev = st.st_dev;
	pthread_mutex_lock(&d->lock);
	bool known = false;
	for (size_t i = 0; i < d->nguards; i++)
		if (d->guards[i].dev == g.dev)
			known = true;
	if (!known && d->nguards < GUARDS_MAX) {
		d->guards = xrealloc(d->guards, (d->nguards + 1) * sizeof(*d->guards));
		d->guards[d->nguards++] = g;
	}
	pthread_mutex_unlock(&d->lock);
	if (known)
		return 0;
	/* the whole overlay superblock: the container reaches it through its own mount */
	if (fanotify_mark(d->fan, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_OPEN_EXEC_PERM, AT_FDCWD, rootfs)) {
		snprintf(err, errlen, "container %.12s: cannot watch %s: %s", container_id, rootfs, strerror(errno));
		return -1;
	}
	return 0;
}

void drift_stats(struct drift *d, struct drift_stats *out)
{
	pthread_mutex_lock(&d->lock);
	*out = d->stats;
	pthread_mutex_unlock(&d->lock);
}
