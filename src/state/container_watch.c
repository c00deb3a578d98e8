/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>
#include "common/buf.h"
#include "common/log.h"
#include "state/container_runtime.h"
#include "state/container_watch.h"

#define CACHE_MAX 4096   /* containers remembered; the oldest goes first */
#define WATCH_MAX 8192   /* inotify watches held at once */

/* Where each runtime keeps one directory per container, named by its id. */
static const struct runtime_dir {
	const char *path;
	enum vg_runtime rt;
	int per_namespace; /* containerd: one more level, the namespace */
} runtime_dirs[] = {
	{ "var/lib/containers/storage/overlay-containers", VG_RT_PODMAN, 0 }, /* podman, CRI-O */
	{ "run/containers/storage/overlay-containers", VG_RT_PODMAN, 0 },
	{ "var/lib/docker/containers", VG_RT_DOCKER, 0 },
	{ "run/containerd/io.containerd.runtime.v2.task", VG_RT_CONTAINERD, 1 },
};

struct watch {
	int wd;
	enum vg_runtime rt;
	int is_parent;   /* containerd's namespace level: children are directories to watch */
	char *path;
	char id[65];     /* a container's own directory (userdata): its id; else "" */
};

struct cached {
	struct vg_container_meta meta;
	uint64_t seq; /* insertion order, for eviction */
};

struct vg_container_watch {
	char root[PATH_MAX];
	int ifd, stop_pipe[2];
	pthread_t thread;
	pthread_mutex_t lock;
	struct cached cache[CACHE_MAX]; /* guarded by lock */
	uint64_t seq;
	struct watch *watches; /* thread-only */
	size_t nwatches;
	void (*on_meta)(void *ctx, const struct vg_container_meta *m);
	void *ctx;
};

/* A directory named by a full container id (64 lowercase hex). */
static int is_id(const char *s)
{
	return strlen(s) == 64 && container_runtime_is_hex(s, 64);
}

static void add_watch(struct vg_container_watch *w, const char *path, enum vg_runtime rt, int is_parent,
		      const char *id)
{
	int wd;

	if (w->nwatches >= WATCH_MAX)
		return;
	wd = inotify_add_watch(w->ifd, path, IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR);
	if (wd < 0)
		return;
	for (size_t i = 0; i < w->nwatches; i++)
		if (w->watches[i].wd == wd)
			return; /* already watched */
	w->watches = xrealloc(w->watches, (w->nwatches + 1) * sizeof(*w->watches));
	struct watch *x = &w->watches[w->nwatches++];
	x->wd = wd;
	x->rt = rt;
	x->is_parent = is_parent;
	x->path = xstrdup(path);
	snprintf(x->id, sizeof(x->id), "%s", id ? id : "");
}

static void drop_watch(struct vg_container_watch *w, int wd)
{
	for (size_t i = 0; i < w->nwatches; i++) {
		if (w->watches[i].wd == wd) {
			free(w->watches[i].path);
			w->watches[i] = w->watches[--w->nwatches];
			return;
		}
	}
}

static struct watch *find_watch(struct vg_container_watch *w, int wd)
{
	for (size_t i = 0; i < w->nwatches; i++)
		if (w->watches[i].wd == wd)
			return &w->watches[i];
	return NULL;
}

/* The cache entry of `id`, or NULL. Call with the lock held. */
static struct cached *find_locked(struct vg_container_watch *w, const char *id)
{
	for (size_t i = 0; i < CACHE_MAX && w->cache[i].meta.id[0]; i++)
		if (!strcmp(w->cache[i].meta.id, id))
			return &w->cache[i];
	return NULL;
}

static int is_cached(struct vg_container_watch *w, const char *id)
{
	pthread_mutex_lock(&w->lock);
	int found = find_locked(w, id) != NULL;
	pthread_mutex_unlock(&w->lock);
	return found;
}

/*
 * Read a container's metadata now and cache it, replacing an older read of the
 * same container. Slots fill in order and are only ever overwritten, so the
 * used ones are a prefix of the array; when it is full the oldest goes.
 */
static void load(struct vg_container_watch *w, const char *id, enum vg_runtime rt)
{
	struct vg_container_meta meta;
	struct cached *slot;

	if (container_meta_load(&meta, id, rt, w->root) != 0 || !meta.metadata_found) {
		container_meta_free(&meta);
		return;
	}
	if (w->on_meta)
		w->on_meta(w->ctx, &meta);
	pthread_mutex_lock(&w->lock);
	slot = find_locked(w, id);
	for (size_t i = 0; !slot && i < CACHE_MAX; i++)
		if (!w->cache[i].meta.id[0])
			slot = &w->cache[i];
	if (!slot) {
		slot = &w->cache[0];
		for (size_t i = 1; i < CACHE_MAX; i++)
			if (w->cache[i].seq < slot->seq)
				slot = &w->cache[i];
	}
	container_meta_free(&slot->meta);
	slot->meta = meta;
	slot->seq = ++w->seq;
	pthread_mutex_unlock(&w->lock);
}

/* A container directory appeared or changed: read it, and watch its userdata
 * directory, where podman and CRI-O write the OCI config at start. */
static void on_container_dir(struct vg_container_watch *w, const char *dir, const char *id, enum vg_runtime rt)
{
	char path[PATH_MAX];

	load(w, id, rt);
	if (rt == VG_RT_PODMAN) {
		snprintf(path, sizeof(path), "%s/%s/userdata", dir, id);
		add_watch(w, path, rt, 0, id);
	}
}

/* Scan a runtime directory for containers not cached yet. */
static void scan(struct vg_container_watch *w, const char *dir, enum vg_runtime rt)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d)))
		if (is_id(de->d_name) && !is_cached(w, de->d_name))
			on_container_dir(w, dir, de->d_name, rt);
	closedir(d);
}

static void on_event(struct vg_container_watch *w, const struct inotify_event *ev)
{
	struct watch *x = find_watch(w, ev->wd);
	char path[PATH_MAX];

	if (ev->mask & IN_IGNORED) {
		drop_watch(w, ev->wd);
		return;
	}
	if (!x)
		return;
	if (x->id[0]) {
		/* in a container's userdata: the OCI config was written */
		if (ev->len && !strcmp(ev->name, "config.json"))
			load(w, x->id, x->rt);
		return;
	}
	if (x->is_parent) {
		/* containerd: a new namespace directory */
		if (ev->len && (ev->mask & IN_ISDIR)) {
			snprintf(path, sizeof(path), "%s/%s", x->path, ev->name);
			add_watch(w, path, x->rt, 0, NULL);
			scan(w, path, x->rt);
		}
		return;
	}
	if (ev->len && is_id(ev->name))
		on_container_dir(w, x->path, ev->name, x->rt);
	else
		scan(w, x->path, x->rt); /* e.g. containers.json replaced: new entries */
}

static void *watch_thread(void *arg)
{
	struct vg_container_watch *w = arg;
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));

	for (;;) {
		struct pollfd p[2] = { { .fd = w->ifd, .events = POLLIN }, { .fd = w->stop_pipe[0], .events = POLLIN } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		ssize_t n = read(w->ifd, buf, sizeof(buf));
		if (n <= 0)
			continue;
		for (char *q = buf; q < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)q;
			on_event(w, ev);
			q += sizeof(*ev) + ev->len;
		}
	}
	return NULL;
}

struct vg_container_watch *container_watch_start(const char *root,
						 void (*on_meta)(void *ctx, const struct vg_container_meta *m),
						 void *ctx)
{
	struct vg_container_watch *w = xcalloc(1, sizeof(*w));
	char path[PATH_MAX];

	w->on_meta = on_meta;
	w->ctx = ctx;
	snprintf(w->root, sizeof(w->root), "%s", root && root[0] ? root : "/");
	pthread_mutex_init(&w->lock, NULL);
	w->ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (w->ifd < 0 || pipe2(w->stop_pipe, O_CLOEXEC) != 0) {
		vg_warn("cannot watch container runtimes (%s): short-lived containers may lack metadata",
			strerror(errno));
		if (w->ifd >= 0)
			close(w->ifd);
		free(w);
		return NULL;
	}
	for (size_t i = 0; i < sizeof(runtime_dirs) / sizeof(runtime_dirs[0]); i++) {
		const struct runtime_dir *r = &runtime_dirs[i];
		if (snprintf(path, sizeof(path), "%s/%s", strcmp(w->root, "/") ? w->root : "", r->path) >=
		    (int)sizeof(path))
			continue;
		add_watch(w, path, r->rt, r->per_namespace, NULL);
		if (!r->per_namespace) {
			scan(w, path, r->rt);
			continue;
		}
		DIR *d = opendir(path);
		struct dirent *de;
		while (d && (de = readdir(d))) {
			char ns[PATH_MAX];
			if (de->d_name[0] == '.')
				continue;
			if (snprintf(ns, sizeof(ns), "%s/%s", path, de->d_name) >= (int)sizeof(ns))
				continue;
			add_watch(w, ns, r->rt, 0, NULL);
			scan(w, ns, r->rt);
		}
		if (d)
			closedir(d);
	}
	if (pthread_create(&w->thread, NULL, watch_thread, w) != 0) {
		vg_warn("cannot start the container watcher: short-lived containers may lack metadata");
		container_watch_stop(w);
		return NULL;
	}
	return w;
}

int container_watch_get(struct vg_container_watch *w, const char *id, struct vg_container_meta *out)
{
	int found = 0;

	if (!w)
		return 0;
	pthread_mutex_lock(&w->lock);
	struct cached *c = find_locked(w, id);
	if (c) {
		/* a deep copy through the JSON form the metadata already has */
		char *json = container_meta_to_json(&c->meta);
		found = json && container_meta_from_json(out, json, strlen(json)) == 0;
		free(json);
	}
	pthread_mutex_unlock(&w->lock);
	return found;
}

void container_watch_stop(struct vg_container_watch *w)
{
	if (!w)
		return;
	if (w->thread) {
		if (write(w->stop_pipe[1], "x", 1) != 1)
			pthread_cancel(w->thread);
		pthread_join(w->thread, NULL);
	}
	close(w->ifd);
	close(w->stop_pipe[0]);
	close(w->stop_pipe[1]);
	for (size_t i = 0; i < CACHE_MAX; i++)
		container_meta_free(&w->cache[i].meta);
	for (size_t i = 0; i < w->nwatches; i++)
		free(w->watches[i].path);
	free(w->watches);
	pthread_mutex_destroy(&w->lock);
	free(w);
}
