/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A root file system directory as a one-layer image. The walk uses openat
 * with O_NOFOLLOW relative to directory descriptors, so a symlink in the tree
 * is recorded (and resolved inside the root later), never followed on the
 * host; it does not cross mount points, and only regular files are opened.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "scan/scan_fs.h"
#include "scan/sources/walk.h"

#define MAX_DEPTH 256

static ssize_t fd_read(void *ctx, void *buf, size_t n, struct vg_buf *err)
{
	if (!buf) { /* skip: a seek costs nothing, reading a large library would */
		if (lseek(*(int *)ctx, (off_t)n, SEEK_CUR) < 0) {
			buf_printf(err, "%s", strerror(errno));
			return -1;
		}
		return (ssize_t)n;
	}
	ssize_t got = read(*(int *)ctx, buf, n);

	if (got < 0)
		buf_printf(err, "%s", strerror(errno));
	return got;
}

static int rootfs_dir(struct walk *w, const struct scan_tree_hooks *h, int dfd, dev_t dev,
		      struct vg_buf *rel, int depth, struct vg_buf *err)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	int ret = 0;
	struct vg_buf why = { 0 };

	if (!d) {
		close(dfd);
		scan_warn(w->r, "cannot read directory /%s: %s", rel->data ? rel->data : "",
			  strerror(errno));
		return 0;
	}
	size_t base = rel->len;
	size_t mark = h && h->enter ? h->enter(h->ctx, dirfd(d), rel->data ? rel->data : "") : 0;
	while (!ret && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		struct stat st;
		rel->len = base;
		if (base)
			buf_addc(rel, '/');
		buf_adds(rel, de->d_name);
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW))
			continue; /* vanished */
		if (h && h->skip && h->skip(h->ctx, rel->data, S_ISDIR(st.st_mode)))
			continue;
		buf_reset(&why);
		if (S_ISDIR(st.st_mode)) {
			if (walk_entry(w, rel->data, WALK_DIR, 0, NULL, NULL, NULL, &why))
				goto bad;
			if (st.st_dev != dev || depth >= MAX_DEPTH)
				continue; /* another file system (proc, sys), or too deep */
			int sub = openat(dirfd(d), de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				continue;
			ret = rootfs_dir(w, h, sub, dev, rel, depth + 1, err);
		} else if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t n = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);
			if (n <= 0)
				continue;
			target[n] = 0;
			if (walk_entry(w, rel->data, WALK_SYMLINK, 0, target, NULL, NULL, &why))
				goto bad;
		} else if (S_ISREG(st.st_mode)) {
			int fd = openat(dirfd(d), de->d_name,
					O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
			if (fd < 0) {
				scan_warn(w->r, "cannot open /%s: %s", rel->data, strerror(errno));
				continue;
			}
			int r = walk_entry(w, rel->data, WALK_FILE, (uint64_t)st.st_size, NULL,
					   fd_read, &fd, &why);
			close(fd);
			if (r)
				goto bad;
		} else {
			if (walk_entry(w, rel->data, WALK_OTHER, 0, NULL, NULL, NULL, &why))
				goto bad;
		}
		continue;
bad:
		buf_printf(err, "cannot read rootfs: %s", why.data);
		ret = -1;
	}
	rel->len = base;
	if (rel->data)
		rel->data[base] = 0;
	if (h && h->leave)
		h->leave(h->ctx, mark);
	closedir(d);
	buf_free(&why);
	return ret;
}

int scan_rootfs(const char *dir, const struct scan_opts *o, struct scan_result *r,
		struct vg_buf *err)
{
	return scan_tree(dir, "rootfs", NULL, o, r, err);
}

int scan_tree(const char *dir, const char *kind, const struct scan_tree_hooks *h,
	      const struct scan_opts *o, struct scan_result *r, struct vg_buf *err)
{
	struct walk w;
	struct stat st;
	struct vg_buf rel = { 0 };
	size_t order = 0;

	r->target = xstrdup(dir);
	r->kind = xstrdup(kind);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		buf_printf(err, "cannot open %s: %s", dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	r->nlayers = 1;
	r->layers = xcalloc(1, sizeof(*r->layers));
	r->layers[0].digest = xstrdup(kind);
	r->layers[0].path = xstrdup(dir);
	walk_init(&w, r, o, 1);
	w.rootfs = true;
	walk_begin_blob(&w, 0);
	int ret = rootfs_dir(&w, h, fd, st.st_dev, &rel, 0, err);
	r->layers[0].files = w.entries;
	if (!ret)
		walk_finish(&w, &order, 1);
	walk_free(&w);
	buf_free(&rel);
	return ret;
}
