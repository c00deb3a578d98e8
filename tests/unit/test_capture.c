/* SPDX-License-Identifier: Apache-2.0 */
/* Capture files and the state they carry: round trip, bad files, process table. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "output/event_json.h"
#include "sensor/capture.h"
#include "sensor/source.h"
#include "state/state.h"
#include "test_helpers.h"

static char tmpl[64];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpl, sizeof(tmpl), "/tmp/vigil-test-%d.vcap", getpid());
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(tmpl);
	return 0;
}

/* The mkdir record of the worked example in capture.c. */
static void mkdir_record(struct vg_buf *b)
{
	rec_begin(b, VG_EVT_MKDIR, 100);
	rec_param_path(b, "/tmp/x", "");
	rec_param_u64(b, 0755);
	rec_finish(b, 0);
}

static void write_sample(const char *path)
{
	struct vg_capture_writer *w = capture_writer_open(path, 0, "host");
	struct vg_buf b = { 0 };
	const char *proc = "{\"pid\":100,\"ppid\":1,\"comm\":\"mk\",\"exe\":\"/bin/mkdir\","
			   "\"cwd\":\"/\",\"args\":[\"mkdir\",\"/tmp/x\"]}";

	assert_non_null(w);
	rec_begin(&b, VG_EVT_STATE_PROC, 100);
	rec_param(&b, proc, strlen(proc) + 1);
	rec_finish(&b, 0);
	assert_int_equal(capture_writer_add(w, b.data, b.len), 0);
	mkdir_record(&b);
	assert_int_equal(b.len, 148); /* as the format comment says */
	assert_int_equal(capture_writer_add(w, b.data, b.len), 0);
	assert_int_equal(capture_writer_records(w), 2);
	assert_int_equal(capture_writer_close(w), 0);
	buf_free(&b);
}

struct replay {
	struct vg_state *st;
	struct vg_buf out;
	int events;
};

static int on_rec(void *ctx, const void *rec, size_t len)
{
	struct replay *r = ctx;
	struct vg_event ev;
	char err[160];

	assert_int_equal(event_decode(rec, len, &ev, err, sizeof(err)), 0);
	if (state_ingest(r->st, &ev)) {
		event_json(&r->out, &ev, r->st, 0);
		r->events++;
	}
	state_done(r->st, &ev);
	return 0;
}

static void test_round_trip(void **state)
{
	struct vg_state_opts so = { .live = false };
	struct replay r = { .st = state_new(&so) };
	struct vg_source *src;
	(void)state;

	write_sample(tmpl);
	src = source_capture_open(tmpl);
	assert_non_null(src);
	assert_string_equal(src->hostname, "host");
	int n;
	while ((n = source_poll(src, 0, on_rec, &r)) > 0)
		;
	assert_int_equal(n, VG_SOURCE_EOF);
	assert_int_equal(r.events, 1);
	assert_non_null(strstr(r.out.data, "\"type\":\"mkdir\""));
	assert_non_null(strstr(r.out.data, "\"exe\":\"/bin/mkdir\""));
	assert_non_null(strstr(r.out.data, "\"cmdline\":\"mkdir /tmp/x\""));
	assert_non_null(strstr(r.out.data, "\"path\":\"/tmp/x\",\"mode\":\"0755\""));
	assert_non_null(strstr(r.out.data, "\"container\":{\"id\":\"\"}"));
	source_close(src);
	state_free(r.st);
	buf_free(&r.out);
}

static int poll_all(struct vg_source *src)
{
	struct vg_state_opts so = { .live = false };
	struct replay r = { .st = state_new(&so) };
	int ret;

	while ((ret = source_poll(src, 0, on_rec, &r)) > 0)
		;
	state_free(r.st);
	buf_free(&r.out);
	return ret;
}

static void test_truncated_and_corrupted(void **state)
{
	struct vg_source *src;
	FILE *f;
	long size;
	(void)state;

	write_sample(tmpl);
	f = fopen(tmpl, "r+");
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	assert_int_equal(ftruncate(fileno(f), size - 5), 0); /* cut the last record */
	fclose(f);
	src = source_capture_open(tmpl);
	assert_non_null(src);
	assert_int_equal(poll_all(src), -EINVAL);
	source_close(src);

	write_sample(tmpl);
	f = fopen(tmpl, "r+");
	fseek(f, size - 148 + offsetof(struct vg_event_hdr, len), SEEK_SET); /* the mkdir record's length */
	uint32_t bogus = 7;
	fwrite(&bogus, sizeof(bogus), 1, f);
	fclose(f);
	src = source_capture_open(tmpl);
	assert_non_null(src);
	assert_int_equal(poll_all(src), -EINVAL);
	source_close(src);

	f = fopen(tmpl, "w");
	fputs("not a capture", f);
	fclose(f);
	assert_null(source_capture_open(tmpl));
	assert_null(source_capture_open("/nonexistent/file.vcap"));
}

struct walk {
	int events;
	size_t big_len; /* length of the large record, when seen */
	int wrong;      /* events whose path is not the one written */
};

static int on_event(void *ctx, const struct vg_event *ev)
{
	struct walk *w = ctx;
	char want[64];

	snprintf(want, sizeof(want), "/tmp/%0*d", w->events % 50 + 1, w->events);
	if (ev->hdr.type != VG_EVT_MKDIR || strcmp(event_param_str(ev, 0), want) != 0 ||
	    event_param_int(ev, 1) != 0755 || ev->raw_len != ev->hdr.len)
		w->wrong++;
	if (ev->hdr.len > 200000)
		w->big_len = ev->hdr.len;
	w->events++;
	return 0;
}

/* mkdir records of varied sizes, so that they straddle the reader's buffer,
 * and record big_at of ~360 KiB (extra parameters), larger than the buffer.
 * offs[i]: file offset of record i; offs[n]: the file size. */
static void write_many(const char *path, int n, int big_at, long *offs)
{
	struct vg_capture_writer *w = capture_writer_open(path, 0, "host");
	struct vg_buf b = { 0 };
	static char filler[60000];

	assert_non_null(w);
	offs[0] = sizeof(struct vg_capture_header);
	for (int i = 0; i < n; i++) {
		char p[64];
		snprintf(p, sizeof(p), "/tmp/%0*d", i % 50 + 1, i);
		rec_begin(&b, VG_EVT_MKDIR, 100);
		rec_param_path(&b, p, "");
		rec_param_u64(&b, 0755);
		if (i == big_at)
			for (int k = 0; k < 6; k++)
				rec_param(&b, filler, sizeof(filler)); /* beyond the table's 2: skipped */
		rec_finish(&b, 0);
		assert_int_equal(capture_writer_add(w, b.data, b.len), 0);
		offs[i + 1] = offs[i] + (long)b.len;
	}
	assert_int_equal(capture_writer_close(w), 0);
	buf_free(&b);
}

/* Run poll_events to the end with stderr in `log`; returns the last poll result. */
static int walk_all(const char *path, struct walk *w, char *log, size_t logsize)
{
	char logpath[80];
	snprintf(logpath, sizeof(logpath), "%s.log", path);
	int fd = open(logpath, O_RDWR | O_CREAT | O_TRUNC, 0600), saved = dup(2);
	assert_true(fd >= 0 && saved >= 0);
	fflush(stderr);
	dup2(fd, 2);
	struct vg_source *src = source_capture_open(path);
	int n = VG_SOURCE_EOF;
	if (src) {
		while ((n = src->ops->poll_events(src, 0, on_event, w)) > 0)
			;
		source_close(src);
	}
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	ssize_t got = pread(fd, log, logsize - 1, 0);
	log[got > 0 ? got : 0] = 0;
	close(fd);
	unlink(logpath);
	return n;
}

/*
 * A capture that is not a regular file (a pipe: `vigil replay /dev/stdin`) is
 * read() into the reader's buffer instead of mapped: the same records, the
 * same error at the same offset.
 */
static int walk_pipe(const char *path, struct walk *w, char *log, size_t logsize)
{
	char fifo[80];
	snprintf(fifo, sizeof(fifo), "%s.fifo", path);
	unlink(fifo);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) { /* the writer: the file's bytes into the pipe */
		int in = open(path, O_RDONLY), out = open(fifo, O_WRONLY);
		char b[65536];
		ssize_t n;
		while (in >= 0 && out >= 0 && (n = read(in, b, sizeof(b))) > 0)
			if (write(out, b, (size_t)n) != n)
				_exit(1);
		_exit(0);
	}
	int n = walk_all(fifo, w, log, logsize);
	int status;
	waitpid(pid, &status, 0);
	unlink(fifo);
	return n;
}

typedef int (*walk_fn)(const char *path, struct walk *w, char *log, size_t logsize);

/* The reader's buffer is invisible: every record whole and checked, errors at the right offset. */
static void check_boundaries(walk_fn walk)
{
	enum { N = 6000, BIG = 2500 };
	static long offs[N + 1];
	struct walk w = { 0 };
	char log[1024], want[256];

	write_many(tmpl, N, BIG, offs);
	assert_int_equal(walk(tmpl, &w, log, sizeof(log)), VG_SOURCE_EOF);
	assert_int_equal(w.events, N);
	assert_int_equal(w.wrong, 0);
	assert_true(w.big_len > 256u << 10);
	assert_string_equal(log, "");

	/* cut in the large record's header, in its body, in the last record's
	 * header: every record before it is delivered, then the error names its offset */
	struct { long cut; int rec; } cuts[] = {
		{ offs[BIG] + 5, BIG }, { offs[BIG] + 300000, BIG }, { offs[N - 1] + 100, N - 1 }, { offs[N] - 1, N - 1 },
	};
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		write_many(tmpl, N, BIG, offs);
		assert_int_equal(truncate(tmpl, cuts[i].cut), 0);
		memset(&w, 0, sizeof(w));
		assert_int_equal(walk(tmpl, &w, log, sizeof(log)), -EINVAL);
		assert_int_equal(w.wrong, 0);
		assert_int_equal(w.events, cuts[i].rec);
		snprintf(want, sizeof(want), "at offset %ld: truncated record", offs[cuts[i].rec]);
		assert_non_null(strstr(log, want));
	}
}

/* A regular file, mapped. */
static void test_buffer_boundaries(void **state)
{
	(void)state;
	check_boundaries(walk_all);
}

/* A pipe, read() into the buffer. */
static void test_pipe(void **state)
{
	(void)state;
	check_boundaries(walk_pipe);
}

/* A mapped capture larger than the step in which replayed pages are given back: every record whole. */
static void test_large_mapped(void **state)
{
	enum { N = 60000 };
	static long offs[N + 1];
	struct walk w = { 0 };
	char log[1024];
	(void)state;

	write_many(tmpl, N, -1, offs);
	assert_true(offs[N] > 8l << 20);
	assert_int_equal(walk_all(tmpl, &w, log, sizeof(log)), VG_SOURCE_EOF);
	assert_int_equal(w.events, N);
	assert_int_equal(w.wrong, 0);
	assert_string_equal(log, "");
}

/*
 * A mapped capture cut short by another program while it is replayed: the
 * process stops with a message naming the file (SIGBUS on the lost pages),
 * not a bare crash.
 */
static void test_shrinks_while_read(void **state)
{
	enum { N = 20000 };
	static long offs[N + 1];
	char logpath[80], log[512];
	(void)state;

	write_many(tmpl, N, -1, offs);
	snprintf(logpath, sizeof(logpath), "%s.log", tmpl);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(logpath, O_RDWR | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 2);
		struct walk w = { 0 };
		struct vg_source *src = source_capture_open(tmpl);
		if (!src || src->ops->poll_events(src, 0, on_event, &w) <= 0)
			_exit(10); /* the first records could not be read */
		if (truncate(tmpl, sizeof(struct vg_capture_header)) != 0)
			_exit(11);
		while (src->ops->poll_events(src, 0, on_event, &w) > 0)
			;
		_exit(12); /* read past the cut without noticing */
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	int fd = open(logpath, O_RDONLY);
	ssize_t got = fd >= 0 ? read(fd, log, sizeof(log) - 1) : -1;
	log[got > 0 ? got : 0] = 0;
	if (fd >= 0)
		close(fd);
	unlink(logpath);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	assert_non_null(strstr(log, "the file shrank while it was being read"));
	assert_non_null(strstr(log, tmpl));
}

/* STATE_PROC JSON: the fast form and everything else parse as jansson reads them. */
static void test_proc_json(void **state)
{
	struct vg_proc_table t;
	(void)state;
	proc_table_init(&t, 16);

	/* round trip of what proc_to_json writes (the fast form) */
	struct vg_proc *p = proc_table_add(&t, 42);
	p->ppid = 7;
	p->uid = 1000;
	p->loginuid = UINT32_MAX;
	p->cgroup_id = 123456789012345ULL;
	p->start_ns = 5;
	memcpy(p->comm, "bash", 5);
	proc_set_exe(p, "/bin/bash");
	proc_set_cwd(p, "/home/u");
	proc_set_args(p, "bash\0-c\0echo hi", 15);
	char *json = proc_to_json(p);
	proc_table_remove(&t, 42);
	assert_int_equal(proc_from_json(&t, json, strlen(json)), 0);
	p = proc_table_get(&t, 42);
	assert_non_null(p);
	char *again = proc_to_json(p);
	assert_string_equal(again, json);
	free(again);
	free(json);

	/* escapes, non-ASCII, whitespace and unknown keys go the general way, same result */
	const char *general = "{ \"pid\": 43, \"comm\": \"caf\\u00e9\", \"exe\": \"/b\\\"in\", \"x\": {\"y\": [1]},"
			      " \"args\": [\"a\", 5, \"b\"], \"uid\": \"7\", \"gid\": 1.5 }";
	assert_int_equal(proc_from_json(&t, general, strlen(general)), 0);
	p = proc_table_get(&t, 43);
	assert_non_null(p);
	assert_string_equal(p->comm, "caf\xc3\xa9");
	assert_string_equal(p->exe, "/b\"in");
	assert_int_equal(p->args_len, 3); /* "a\0b": the number is skipped */
	assert_int_equal(p->uid, 0);      /* not an integer: 0 */
	assert_int_equal(p->gid, 0);
	assert_string_equal(p->cwd, "");

	/* not JSON jansson accepts, or no integer pid: rejected whichever parser looks */
	const char *bad[] = {
		"{\"pid\":44,\"pid\":45}", "{\"pid\":044}", "{\"pid\":44,}", "{\"pid\":44", "{\"pid\":44}x",
		"{\"ppid\":1}", "{\"pid\":\"44\"}", "{\"pid\":44,\"comm\":\"a\x01\"}", "{\"pid\":44,\"args\":[\"a\",]}",
		"{\"pid\":99999999999999999999}", "{\"pid\":44,\"exe\":\"\xff\"}", "", "{}", "[]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(proc_from_json(&t, bad[i], strlen(bad[i])), -1);
	assert_null(proc_table_get(&t, 44));
	/* large but valid integers: the general parser takes the ones beyond the fast form */
	const char *big = "{\"pid\":46,\"cgroup_id\":9223372036854775807,\"start_ns\":123456789012345678}";
	assert_int_equal(proc_from_json(&t, big, strlen(big)), 0);
	assert_true(proc_table_get(&t, 46)->cgroup_id == 9223372036854775807ULL);
	assert_true(proc_table_get(&t, 46)->start_ns == 123456789012345678ULL);
	proc_table_free(&t);
}

static void test_proc_table_tree(void **state)
{
	struct vg_state_opts so = { .live = false, .max_procs = 3 };
	struct vg_state *st = state_new(&so);
	struct vg_buf b = { 0 };
	struct vg_event ev;
	char err[160];
	(void)state;

	/* init (1) -> sh (10): exec of /bin/sh */
	rec_begin(&b, VG_EVT_EXECVE, 10);
	rec_param_path(&b, "/bin/sh", "");
	rec_param(&b, "sh\0-c\0true", 11);
	rec_param(&b, "/root", 6);
	rec_param(&b, "", 0);
	rec_finish(&b, 0);
	assert_int_equal(event_decode(b.data, b.len, &ev, err, sizeof(err)), 0);
	assert_true(state_ingest(st, &ev));
	struct vg_proc *sh = state_proc(st, 10);
	assert_non_null(sh);
	assert_string_equal(sh->exe, "/bin/sh");
	assert_string_equal(sh->cwd, "/root");
	assert_int_equal(sh->args_len, 10);

	/* chdir to a relative path moves the cwd */
	rec_begin(&b, VG_EVT_CHDIR, 10);
	rec_param_path(&b, "../tmp", "/root");
	rec_finish(&b, 0);
	assert_int_equal(event_decode(b.data, b.len, &ev, err, sizeof(err)), 0);
	state_ingest(st, &ev);
	assert_string_equal(state_proc(st, 10)->cwd, "/tmp");

	/* the child side of a fork: pid 11, parent 10, inherits exe and args */
	rec_begin(&b, VG_EVT_FORK, 11);
	((struct vg_event_hdr *)b.data)->ppid = 10;
	rec_finish(&b, 0);
	assert_int_equal(event_decode(b.data, b.len, &ev, err, sizeof(err)), 0);
	state_ingest(st, &ev);
	struct vg_proc *child = state_proc(st, 11);
	assert_non_null(child);
	assert_string_equal(child->exe, "/bin/sh");
	assert_ptr_equal(proc_table_ancestor(&st->procs, child, 1), state_proc(st, 10));
	assert_null(proc_table_ancestor(&st->procs, child, 3));

	/* the table is bounded: a third and fourth process do not all fit */
	rec_begin(&b, VG_EVT_SETUID, 12);
	rec_param_u64(&b, 0);
	rec_finish(&b, 0);
	assert_int_equal(event_decode(b.data, b.len, &ev, err, sizeof(err)), 0);
	state_ingest(st, &ev);
	rec_begin(&b, VG_EVT_SETUID, 13);
	rec_param_u64(&b, 0);
	rec_finish(&b, 0);
	assert_int_equal(event_decode(b.data, b.len, &ev, err, sizeof(err)), 0);
	assert_true(state_ingest(st, &ev)); /* still shown */
	assert_null(state_proc(st, 13));
	assert_int_equal(st->procs.refused, 1);

	/* exit frees the entry after the event is shown */
	rec_begin(&b, VG_EVT_PROCEXIT, 11);
	rec_finish(&b, 0);
	assert_int_equal(event_decode(b.data, b.len, &ev, err, sizeof(err)), 0);
	state_ingest(st, &ev);
	assert_non_null(state_proc(st, 11));
	state_done(st, &ev);
	assert_null(state_proc(st, 11));
	assert_int_equal(st->procs.map.count, 2);
	buf_free(&b);
	state_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_and_corrupted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_buffer_boundaries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_mapped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shrinks_while_read, setup, teardown),
		cmocka_unit_test(test_proc_table_tree),
		cmocka_unit_test(test_proc_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
