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

static int mkdirs(const char *path, mode_t last)
{
	char *p = xstrdup(path);
	for (char *c = p + 1; *c; c++) {
		if (*c != '/')
			continue;
		*c = 0;
		if (mkdir(p, 0755) && errno != EEXIST) {
			free(p);
			return -1;
		}
		*c = '/';
	}
	int rc = mkdir(p, last) && errno != EEXIST ? -1 : 0;
	free(p);
	return rc;
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
	if (mkdirs(o->dir, 0700)) {
		snprintf(err, errlen, "cannot create %s: %s", o->dir, strerror(errno));
		return -1;
	}
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
