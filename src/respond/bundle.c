/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "common/buf.h"
#include "common/path.h"
#include "respond/bundle.h"
#include "sensor/capture.h"
#include "state/state.h"

#define FDS_PER_PROCESS 64
#define PROCESSES_MAX 256

struct sink {
	struct vg_capture_writer *w;
	size_t n;
	int failed;
};

static void to_capture(void *ctx, const void *rec, size_t len)
{
	struct sink *s = ctx;
	if (capture_writer_add(s->w, rec, len))
		s->failed = 1;
	else
		s->n++;
}

static void open_files(struct vg_json *j, const char *procfs, uint32_t pid)
{
	char dir[64], link[384], target[512];
	snprintf(dir, sizeof(dir), "%s/%u/fd", procfs, pid);
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;
	jw_arr_begin(j, "open_files");
	while (d && (de = readdir(d)) && n < FDS_PER_PROCESS) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", dir, de->d_name);
		ssize_t len = readlink(link, target, sizeof(target) - 1);
		if (len < 0)
			continue;
		target[len] = 0;
		jw_obj_begin(j, NULL);
		jw_int(j, "fd", atoi(de->d_name));
		jw_str(j, "target", target);
		jw_obj_end(j);
		n++;
	}
	if (d)
		closedir(d);
	jw_arr_end(j);
}

int bundle_write(const struct bundle_opts *o, const struct alert *a, char *out, size_t outlen, char *err,
		 size_t errlen)
{
	const struct vg_event_hdr *h = &a->ev->hdr;
	const struct vg_cgroup *cg = state_cgroup(a->st, h->cgroup_id);
	char stamp[32], path[4096];
	uint64_t wall = h->ts + o->boot_to_realtime;
	time_t sec = wall / 1000000000ull;
	struct tm tm;
	static unsigned int seq;

	if (!cg || !cg->meta.id[0]) {
		snprintf(err, errlen, "not in a container");
		return -1;
	}
	gmtime_r(&sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	if (path_mkdirs(o->dir, 0700, err, errlen))
		return -1;
	snprintf(out, outlen, "%s/%s-%.12s-%u", o->dir, stamp, cg->meta.id, ++seq);
	if (mkdir(out, 0700)) {
		snprintf(err, errlen, "cannot create %s: %s", out, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/events.vcap", out);
	struct sink s = { .w = capture_writer_open(path, o->boot_to_realtime, o->hostname) };
	if (!s.w) {
		snprintf(err, errlen, "cannot create %s", path);
		return -1;
	}
	size_t procs = state_snapshot(a->st, h->cgroup_id, to_capture, &s);
	size_t records = recorder_each(o->recorder, h->cgroup_id, to_capture, &s);
	if (capture_writer_close(s.w) || s.failed) {
		snprintf(err, errlen, "cannot write %s", path);
		return -1;
	}

	struct vg_buf b = { 0 }, alert = { 0 };
	struct vg_json j;
	o->format_alert(&alert, a, o->hostname, o->boot_to_realtime);
	char *meta = container_meta_to_json(&cg->meta);
	jw_init(&j, &b);
	jw_obj_begin(&j, NULL);
	jw_uint(&j, "vigil_bundle", 1);
	jw_str(&j, "rule", a->name);
	jw_str(&j, "events", "events.vcap");
	jw_uint(&j, "records", records);
	jw_uint(&j, "state_processes", procs);
	jw_raw(&j, "container", meta ? meta : "null");
	jw_raw(&j, "alert", alert.data);
	jw_arr_begin(&j, "process_tree");
	struct hmap_node *it, *tmp;
	size_t k, n = 0;
	hmap_for_each(&a->st->procs.map, it, tmp, k) {
		const struct vg_proc *p = hmap_entry(it, struct vg_proc, node);
		if (p->cgroup_id != h->cgroup_id || n++ >= PROCESSES_MAX)
			continue;
		jw_obj_begin(&j, NULL);
		jw_uint(&j, "pid", p->pid);
		jw_uint(&j, "ppid", p->ppid);
		jw_uint(&j, "vpid", p->vpid);
		jw_str(&j, "name", p->comm);
		jw_str(&j, "exe", p->exe);
		jw_args_line(&j, "cmdline", p->args, p->args_len);
		open_files(&j, o->procfs ? o->procfs : "/proc", p->pid);
		jw_obj_end(&j);
	}
	jw_arr_end(&j);
	jw_obj_end(&j);
	free(meta);
	buf_free(&alert);

	snprintf(path, sizeof(path), "%s/manifest.json", out);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	int rc = 0;
	if (fd < 0 || write(fd, b.data, b.len) != (ssize_t)b.len || write(fd, "\n", 1) != 1) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		rc = -1;
	}
	if (fd >= 0)
		close(fd);
	buf_free(&b);
	return rc;
}

/* ---- a bundle as a tar archive (POSIX ustar), for a download through the hub ---- */

/* An octal field of a ustar header: width - 1 digits and a NUL. */
static void tar_octal(char *field, size_t width, uint64_t v)
{
	field[width - 1] = 0;
	for (size_t i = width - 1; i > 0; i--, v >>= 3)
		field[i - 1] = (char)('0' + (v & 7));
}

static void tar_header(struct vg_buf *out, const char *prefix, const char *name, char type, mode_t mode,
		       uint64_t size, time_t mtime)
{
	char h[512];
	memset(h, 0, sizeof(h));
	snprintf(h, 100, "%s", name);
	tar_octal(h + 100, 8, mode & 07777);
	tar_octal(h + 108, 8, 0);
	tar_octal(h + 116, 8, 0);
	tar_octal(h + 124, 12, size);
	tar_octal(h + 136, 12, mtime > 0 ? (uint64_t)mtime : 0);
	memset(h + 148, ' ', 8); /* the checksum counts its own field as spaces */
	h[156] = type;
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	snprintf(h + 265, 32, "root");
	snprintf(h + 297, 32, "root");
	snprintf(h + 345, 155, "%s", prefix);
	unsigned sum = 0;
	for (size_t i = 0; i < sizeof(h); i++)
		sum += (unsigned char)h[i];
	snprintf(h + 148, 8, "%06o", sum); /* six digits, NUL, and the space left there */
	buf_add(out, h, sizeof(h));
}

static bool bundle_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (!n || n > 128 || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == '.' || c == '-'))
			return false;
	}
	return true;
}

int bundle_pack(const char *dir, const char *name, size_t max, struct vg_buf *out, char *err, size_t errlen)
{
	int rc = -1, dfd = -1, bfd = -1, saved = 0;
	DIR *d = NULL;
	struct stat st;
	char *data = NULL;
	if (!bundle_name_ok(name)) {
		snprintf(err, errlen, "not a bundle name: %.140s", name);
		return -1;
	}
	/* the name is one directory of the evidence directory: no path, no symbolic link */
	if ((dfd = open(dir ? dir : BUNDLE_DEFAULT_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (bfd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		saved = errno; /* ENOENT: the caller says "not found" */
		snprintf(err, errlen, "%s: %s", name, strerror(errno));
		goto out;
	}
	if (fstat(bfd, &st)) {
		snprintf(err, errlen, "%s: %s", name, strerror(errno));
		goto out;
	}
	tar_header(out, "", name, '5', st.st_mode, 0, st.st_mtime);
	if (!(d = fdopendir(bfd))) {
		snprintf(err, errlen, "%s: %s", name, strerror(errno));
		goto out;
	}
	int list_fd = bfd;
	bfd = -1; /* closedir closes it */
	/* sorted names: the same bundle gives the same archive */
	char *names[64];
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && n < sizeof(names) / sizeof(*names))
			names[n++] = xstrdup(e->d_name);
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			char *t = names[j];
			names[j] = names[j - 1];
			names[j - 1] = t;
		}
	rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		int fd = openat(list_fd, names[i], O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) || strlen(names[i]) >= 100) {
			if (fd >= 0)
				close(fd);
			continue; /* a bundle holds regular files: anything else is not ours */
		}
		if (out->len + 1024 + (uint64_t)st.st_size + 1024 > max) {
			snprintf(err, errlen, "%s: larger than %zu bytes", name, max);
			rc = -1;
		} else {
			data = xrealloc(data, (size_t)st.st_size + 1);
			size_t got = 0;
			ssize_t r = 1;
			while (got < (size_t)st.st_size && (r = read(fd, data + got, (size_t)st.st_size - got)) > 0)
				got += (size_t)r;
			if (r < 0 || got != (size_t)st.st_size) {
				snprintf(err, errlen, "%s/%s: %s", name, names[i], r < 0 ? strerror(errno) : "changed size");
				rc = -1;
			} else {
				tar_header(out, name, names[i], '0', st.st_mode, got, st.st_mtime);
				buf_add(out, data, got);
				static const char zero[512];
				if (got % 512)
					buf_add(out, zero, 512 - got % 512);
			}
		}
		close(fd);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	if (!rc) {
		static const char end[1024]; /* two zero blocks end the archive */
		buf_add(out, end, sizeof(end));
	}
out:
	free(data);
	if (d)
		closedir(d);
	if (bfd >= 0)
		close(bfd);
	if (dfd >= 0)
		close(dfd);
	errno = saved;
	return rc;
}
