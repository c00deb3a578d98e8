/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "common/buf.h"
#include "common/log.h"
#include "respond/file_guard.h"
#include "respond/file_policy.h"

#define GUARDS_MAX 4096
#define IDS_MAX 32 /* exact deny_open paths also matched by file identity, per container */

struct ident {
	dev_t dev;
	ino_t ino;
};

struct guard {
	dev_t dev;                      /* the overlay superblock of the container's root */
	unsigned int serial;            /* tells a reused device number apart in the cache */
	bool drift;                     /* refuse upper-layer executables */
	const struct file_rules *rules; /* named paths and programs, or NULL */
	struct ident ids[IDS_MAX];      /* the exact deny_open paths' files, as at guard time */
	size_t nids;
	char rootfs[PATH_MAX];          /* its merged directory, as the host sees it */
	char upper[PATH_MAX];           /* its upper layer */
	char id[13];
	char cid[65];                   /* the container's full id (its exec allow list) */
};

/* A container's exec allow list (a protecting profile): patterns of paths from its root. */
struct allow_list {
	char id[65];
	char **pats;
	size_t n;
};

#define DENIALS_MAX 256 /* refusals of allow lists waiting for the agent */

/*
 * Drift decisions already taken, by file identity: (device, inode, ctime) and
 * the guard's serial. Writing or copying up a file changes its ctime, so a
 * changed file is judged again.
 */
#define CACHE_SLOTS 4096
struct verdict {
	dev_t dev;
	ino_t ino;
	struct timespec ctime;
	unsigned int serial;
	int deny; /* -1: empty slot */
};

struct file_guard {
	struct verdict cache[CACHE_SLOTS]; /* used by the answering thread only */
	int fan, stop[2];
	struct file_guard_opts o;
	bool files_fail_open;
	pid_t self;
	pthread_t thread;
	bool running;
	pthread_mutex_t lock; /* guards, nguards, serial, stats */
	struct guard *guards;
	size_t nguards;
	unsigned int serial;
	struct file_guard_stats stats;
	struct allow_list *allows; /* under lock */
	size_t nallows;
	struct file_guard_denial denials[DENIALS_MAX]; /* a ring, under lock */
	size_t den_head, den_n;
	uint64_t den_lost;
};

/* `*` matches a run of characters other than '/'; everything else itself. */
static bool glob_path(const char *p, const char *s)
{
	while (*p) {
		if (*p == '*') {
			for (p++;; s++) {
				if (glob_path(p, s))
					return true;
				if (!*s || *s == '/')
					return false;
			}
		}
		if (*p++ != *s++)
			return false;
	}
	return !*s;
}

static struct allow_list *allow_find(struct file_guard *d, const char *id)
{
	for (size_t i = 0; i < d->nallows; i++)
		if (!strcmp(d->allows[i].id, id))
			return &d->allows[i];
	return NULL;
}

/* Under lock: whether the container has an allow list (-1: none), and if so whether rel is on it (1, 0). */
static int allow_judge(struct file_guard *d, const char *id, const char *rel)
{
	const struct allow_list *l = allow_find(d, id);
	if (!l)
		return -1;
	const char *base = rel ? strrchr(rel, '/') : NULL;
	for (size_t i = 0; rel && i < l->n; i++)
		if (l->pats[i][0] == '/' ? glob_path(l->pats[i], rel) : glob_path(l->pats[i], base ? base + 1 : rel))
			return 1;
	return 0;
}

static void allow_free(struct allow_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->pats[i]);
	free(l->pats);
}

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

static struct verdict *cache_slot(struct file_guard *d, const struct stat *st)
{
	uint64_t h = ((uint64_t)st->st_dev * 0x9E3779B97F4A7C15ull) ^ (uint64_t)st->st_ino;
	return &d->cache[(h ^ (h >> 29)) % CACHE_SLOTS];
}

/* Whether a file (rel: its path from the container's root) is in the upper layer: 1, 0, -1 undecided. */
static int drift_judge(struct file_guard *d, const struct guard *g, const struct stat *st, const char *rel)
{
	struct verdict *v = cache_slot(d, st);
	if (v->deny >= 0 && v->dev == st->st_dev && v->ino == st->st_ino && v->serial == g->serial &&
	    v->ctime.tv_sec == st->st_ctim.tv_sec && v->ctime.tv_nsec == st->st_ctim.tv_nsec)
		return v->deny;
	if (!rel)
		return -1;
	char upath[PATH_MAX * 2];
	snprintf(upath, sizeof(upath), "%s%s", g->upper, rel);
	struct stat us;
	int r;
	if (lstat(upath, &us) == 0)
		r = 1; /* in the upper layer: written or changed after start */
	else
		r = errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	if (r >= 0)
		*v = (struct verdict){ st->st_dev, st->st_ino, st->st_ctim, g->serial, r };
	return r;
}

/* The path of an event's file from the container's root, into buf; NULL if unknown. */
static const char *rel_path(int fd, const struct guard *g, char *buf, size_t size)
{
	char link[64];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, buf, size - 1);
	if (n <= 0 || (size_t)n >= size - 1)
		return NULL;
	buf[n] = 0;
	/* the container's own mount gives a path from its root; the host's mount the full one */
	const char *rel = buf;
	size_t rl = strlen(g->rootfs);
	if (!strncmp(buf, g->rootfs, rl) && buf[rl] == '/')
		rel = buf + rl;
	return rel[0] == '/' ? rel : NULL;
}

struct decision {
	bool deny;
	bool undecided; /* some part could not decide: its default was applied */
	bool ignore;    /* allowed for good: the kernel may allow this file's next events itself */
};

/* Decide one permission event: exec (FAN_OPEN_EXEC_PERM) or open (FAN_OPEN_PERM). */
static struct decision decide(struct file_guard *d, const struct fanotify_event_metadata *m, bool exec)
{
	struct decision r = { 0 };
	bool drift_fail_open = d->o.drift_fail_open, files_fail_open = d->files_fail_open;
	struct stat st;
	struct guard g;
	bool found = false;

	if (m->pid == d->self)
		return r; /* the agent itself: never waits on its own answers */
	if (fstat(m->fd, &st)) {
		r.undecided = true;
		r.deny = !(exec && d->o.drift ? drift_fail_open : files_fail_open);
		return r;
	}
	pthread_mutex_lock(&d->lock);
	for (size_t i = 0; i < d->nguards && !found; i++)
		if (d->guards[i].dev == st.st_dev) {
			g = d->guards[i];
			found = true;
		}
	pthread_mutex_unlock(&d->lock);
	if (!found)
		return r; /* not a guarded filesystem */

	char buf[PATH_MAX];
	const char *rel = rel_path(m->fd, &g, buf, sizeof(buf));
	int named = 0, drifted = 0; /* 1 deny, 0 allow, -1 undecided */
	if (exec) {
		if (file_rules_has_exec(g.rules))
			named = rel ? file_rules_deny_exec(g.rules, rel) : -1;
		if (g.drift)
			drifted = drift_judge(d, &g, &st, rel);
	} else if (file_rules_has_open(g.rules)) {
		for (size_t i = 0; i < g.nids && named <= 0; i++)
			named = g.ids[i].dev == st.st_dev && g.ids[i].ino == st.st_ino;
		if (named <= 0)
			named = rel ? file_rules_deny_open(g.rules, rel) : -1;
	}
	int allowed = -1; /* the exec allow list: 1 on it, 0 not on it, -1 no list */
	if (exec) {
		pthread_mutex_lock(&d->lock);
		allowed = allow_judge(d, g.cid, rel);
		if (allowed == 0 && rel) {
			/* refused by the list: noted for the agent's alert and action record */
			struct file_guard_denial *x;
			if (d->den_n == DENIALS_MAX) {
				d->den_lost++;
			} else {
				x = &d->denials[(d->den_head + d->den_n++) % DENIALS_MAX];
				snprintf(x->id, sizeof(x->id), "%s", g.cid);
				snprintf(x->path, sizeof(x->path), "%.511s", rel);
				x->pid = (uint32_t)m->pid;
				struct timespec ts;
				clock_gettime(CLOCK_BOOTTIME, &ts);
				x->ts = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
			}
		}
		pthread_mutex_unlock(&d->lock);
	}
	r.undecided = named < 0 || drifted < 0 || (allowed == 0 && !rel);
	r.deny = named > 0 || drifted > 0 || (named < 0 && !files_fail_open) || (drifted < 0 && !drift_fail_open) ||
		 (allowed == 0 && (rel || !files_fail_open));
	/*
	 * An ignore mark is per inode, whatever name reaches it: only a file with one
	 * name may be let through for good when names decide (busybox's applets are
	 * hard links of one file).
	 */
	bool by_name = exec ? file_rules_has_exec(g.rules) : file_rules_has_open(g.rules);
	/* under an allow list every execution is decided (the list may change with the profile) */
	r.ignore = !r.deny && !r.undecided && (!by_name || st.st_nlink == 1) && allowed < 0;
	return r;
}

static void answer(struct file_guard *d, const struct fanotify_event_metadata *m, bool exec)
{
	struct decision v = decide(d, m, exec);
	struct fanotify_response r = { .fd = m->fd, .response = v.deny ? FAN_DENY : FAN_ALLOW };
	pthread_mutex_lock(&d->lock);
	if (exec) {
		d->stats.undecided += v.undecided;
		d->stats.denied += v.deny;
		d->stats.allowed += !v.deny;
	} else {
		d->stats.open_undecided += v.undecided;
		d->stats.open_denied += v.deny;
		d->stats.open_allowed += !v.deny;
	}
	pthread_mutex_unlock(&d->lock);
	if (write(d->fan, &r, sizeof(r)) != sizeof(r))
		vg_warn("deny-exec: cannot answer a permission event: %s", strerror(errno));
	/* the kernel allows this file's next events itself until it is modified (an ignore mark
	 * is dropped on modification, copy-up included) */
	if (v.ignore)
		fanotify_mark(d->fan, FAN_MARK_ADD | FAN_MARK_IGNORED_MASK, exec ? FAN_OPEN_EXEC_PERM : FAN_OPEN_PERM,
			      m->fd, NULL);
}

static void *loop(void *arg)
{
	struct file_guard *d = arg;
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
			/* permission events are never merged: one of the two per event */
			if (m->mask & FAN_OPEN_EXEC_PERM)
				answer(d, m, true);
			else if (m->mask & FAN_OPEN_PERM)
				answer(d, m, false);
			close(m->fd);
		}
	}
	return NULL;
}

struct file_guard *file_guard_start(const struct file_guard_opts *o, char *err, size_t errlen)
{
	struct file_guard *d = xcalloc(1, sizeof(*d));
	for (size_t i = 0; i < CACHE_SLOTS; i++)
		d->cache[i].deny = -1;
	d->o = *o;
	d->files_fail_open = o->files ? file_policy_fail_open(o->files) : true;
	d->self = getpid();
	d->stop[0] = d->stop[1] = -1;
	d->fan = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC, O_RDONLY | O_LARGEFILE | O_CLOEXEC);
	if (d->fan < 0) {
		snprintf(err, errlen, "%s cannot be enforced: fanotify permission events refused: %s",
			 o->drift ? "deny-drift" : "file policy", strerror(errno));
		free(d);
		return NULL;
	}
	pthread_mutex_init(&d->lock, NULL);
	if (pipe2(d->stop, O_CLOEXEC) || pthread_create(&d->thread, NULL, loop, d)) {
		snprintf(err, errlen, "%s cannot be enforced: cannot start its thread",
			 o->drift ? "deny-drift" : "file policy");
		file_guard_stop(d);
		return NULL;
	}
	d->running = true;
	return d;
}

void file_guard_stop(struct file_guard *d)
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
	for (size_t i = 0; i < d->nallows; i++)
		allow_free(&d->allows[i]);
	free(d->allows);
	free(d->guards);
	free(d);
}

/*
 * The files the exact deny_open paths name in the container, resolved inside
 * its root (symlinks cannot lead out of it): a hard link or a rename cannot
 * take them out of the policy's reach. O_PATH opens raise no fanotify event.
 */
static void resolve_ids(struct guard *g)
{
	int root = open(g->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return;
	const char *p;
	for (size_t i = 0; g->nids < IDS_MAX && (p = file_rules_literal_open(g->rules, i)); i++) {
		struct open_how how = { .flags = O_PATH | O_CLOEXEC,
					.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV };
		int fd = (int)syscall(SYS_openat2, root, p, &how, sizeof(how));
		struct stat st;
		if (fd < 0)
			continue; /* not there (yet): matched by its path */
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
			g->ids[g->nids++] = (struct ident){ st.st_dev, st.st_ino };
		close(fd);
	}
	close(root);
}

int file_guard_add(struct file_guard *d, const struct vg_container_meta *meta, char *err, size_t errlen)
{
	struct guard g = { 0 };
	struct stat st;
	const char *rootfs = meta->rootfs;

	g.drift = d->o.drift;
	g.rules = file_policy_match(d->o.files, meta);
	pthread_mutex_lock(&d->lock);
	bool listed = allow_find(d, meta->id) != NULL;
	pthread_mutex_unlock(&d->lock);
	uint64_t mask = (g.drift || listed || file_rules_has_exec(g.rules) ? FAN_OPEN_EXEC_PERM : 0) |
			(file_rules_has_open(g.rules) ? FAN_OPEN_PERM : 0);
	if (!mask)
		return 0; /* nothing applies to this container */
	if (!rootfs || rootfs[0] != '/' || strlen(rootfs) >= sizeof(g.rootfs) || stat(rootfs, &st)) {
		snprintf(err, errlen, "container %.12s: root filesystem %s not found", meta->id,
			 rootfs ? rootfs : "(unknown)");
		return -1;
	}
	/* an overlay has a superblock of its own: marking anything else could guard the host */
	if (upper_of(rootfs, g.upper, sizeof(g.upper))) {
		snprintf(err, errlen, "container %.12s: %s is not an overlay with an upper layer", meta->id, rootfs);
		return -1;
	}
	snprintf(g.rootfs, sizeof(g.rootfs), "%s", rootfs);
	snprintf(g.id, sizeof(g.id), "%.12s", meta->id);
	snprintf(g.cid, sizeof(g.cid), "%s", meta->id);
	g.dev = st.st_dev;
	pthread_mutex_lock(&d->lock);
	size_t at = d->nguards;
	for (size_t i = 0; i < d->nguards; i++)
		if (d->guards[i].dev == g.dev)
			at = i;
	bool same = at < d->nguards && !strcmp(d->guards[at].id, g.id) && !strcmp(d->guards[at].rootfs, g.rootfs);
	pthread_mutex_unlock(&d->lock);
	if (same)
		return 0;
	resolve_ids(&g);
	pthread_mutex_lock(&d->lock);
	/* a device number of a container that is gone may come back with another container */
	g.serial = ++d->serial;
	bool full = at == d->nguards && d->nguards == GUARDS_MAX;
	if (!full) {
		if (at == d->nguards)
			d->guards = xrealloc(d->guards, (d->nguards + 1) * sizeof(*d->guards));
		at = at < d->nguards ? at : d->nguards++;
		d->guards[at] = g;
	}
	pthread_mutex_unlock(&d->lock);
	if (full) {
		snprintf(err, errlen, "container %.12s: not guarded: %d containers are guarded already", meta->id,
			 GUARDS_MAX);
		return -1;
	}
	/* the whole overlay superblock: the container reaches it through its own mount */
	if (fanotify_mark(d->fan, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, mask, AT_FDCWD, rootfs)) {
		snprintf(err, errlen, "container %.12s: cannot watch %s: %s", meta->id, rootfs, strerror(errno));
		return -1;
	}
	return 0;
}

void file_guard_stats(struct file_guard *d, struct file_guard_stats *out)
{
	pthread_mutex_lock(&d->lock);
	*out = d->stats;
	pthread_mutex_unlock(&d->lock);
}

int file_guard_allow_exec(struct file_guard *d, const struct vg_container_meta *meta, const char *const *progs,
			  size_t n, char *err, size_t errlen)
{
	if (!meta || !meta->id[0]) {
		snprintf(err, errlen, "not a container");
		return -1;
	}
	if (n > FILE_GUARD_ALLOW_MAX) {
		snprintf(err, errlen, "container %.12s: %zu programs, more than %d", meta->id, n, FILE_GUARD_ALLOW_MAX);
		return -1;
	}
	struct allow_list nl = { 0 };
	snprintf(nl.id, sizeof(nl.id), "%s", meta->id);
	if (progs) {
		nl.pats = xcalloc(n ? n : 1, sizeof(*nl.pats));
		for (size_t i = 0; i < n; i++)
			nl.pats[nl.n++] = xstrdup(progs[i]);
	}
	pthread_mutex_lock(&d->lock);
	struct allow_list *l = allow_find(d, meta->id);
	if (!progs) {
		if (l) {
			allow_free(l);
			*l = d->allows[--d->nallows];
		}
		pthread_mutex_unlock(&d->lock);
		return 0;
	}
	if (l) {
		allow_free(l);
		*l = nl;
	} else {
		d->allows = xrealloc(d->allows, (d->nallows + 1) * sizeof(*d->allows));
		d->allows[d->nallows++] = nl;
	}
	pthread_mutex_unlock(&d->lock);
	/* guarded (marked for executions) from now: a guard of drift or the file policy may be there already */
	if (file_guard_add(d, meta, err, errlen))
		goto undo;
	if (fanotify_mark(d->fan, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_OPEN_EXEC_PERM, AT_FDCWD, meta->rootfs)) {
		snprintf(err, errlen, "container %.12s: cannot watch %s: %s", meta->id, meta->rootfs, strerror(errno));
		goto undo;
	}
	return 0;
undo:
	pthread_mutex_lock(&d->lock);
	if ((l = allow_find(d, meta->id))) {
		allow_free(l);
		*l = d->allows[--d->nallows];
	}
	pthread_mutex_unlock(&d->lock);
	return -1;
}

size_t file_guard_take_denials(struct file_guard *d, struct file_guard_denial *out, size_t max, uint64_t *lost)
{
	size_t k = 0;
	pthread_mutex_lock(&d->lock);
	while (k < max && d->den_n) {
		out[k++] = d->denials[d->den_head];
		d->den_head = (d->den_head + 1) % DENIALS_MAX;
		d->den_n--;
	}
	if (lost) {
		*lost = d->den_lost;
		d->den_lost = 0;
	}
	pthread_mutex_unlock(&d->lock);
	return k;
}
