/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the output sinks (output/sink_*.c): stdout prints events at
 * once and alerts only when the batch is flushed (JSON as formatted, or the
 * text line with the rate-limit note); the store sink keeps a batch of
 * alerts and actions invisible to readers until its flush commits it; the
 * capture sink writes every record and counts them; a sink opens only when
 * the config asks for it, and sink_table keeps the store before stdout.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "output/alert_store.h"
#include "output/sink.h"
#include "sensor/decode.h"
#include "state/state.h"
#include "test_helpers.h"

struct fixture {
	char dir[64];
	char out[128];   /* stdout redirected here */
	int saved_stdout;
	struct vg_state *st;
	struct vg_buf rec;
	struct vg_event ev;
	struct alert a;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[160];
	snprintf(f->dir, sizeof(f->dir), "/tmp/vigil-test-sinks-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->out, sizeof(f->out), "%s/stdout", f->dir);
	fflush(stdout);
	f->saved_stdout = dup(STDOUT_FILENO);
	int fd = open(f->out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	dup2(fd, STDOUT_FILENO);
	close(fd);
	struct vg_state_opts so = { .live = false };
	f->st = state_new(&so);
	rec_begin(&f->rec, VG_EVT_EXECVE, 77);
	rec_finish(&f->rec, 0);
	assert_int_equal(event_decode(f->rec.data, f->rec.len, &f->ev, err, sizeof(err)), 0);
	f->a.name = "shell";
	f->a.priority = PRIO_WARNING;
	f->a.output = "a shell ran";
	f->a.output_len = strlen(f->a.output);
	f->a.ev = &f->ev;
	f->a.st = f->st;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[160];
	fflush(stdout);
	dup2(f->saved_stdout, STDOUT_FILENO);
	close(f->saved_stdout);
	state_free(f->st);
	buf_free(&f->rec);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Open one sink through its table entry; NULL when the config does not ask for it. */
static struct vg_sink *open_sink(const struct vg_sink_ops *ops, const struct vg_sink_config *c)
{
	struct vg_sink *s = (struct vg_sink *)1;
	char err[256] = "";
	assert_int_equal(ops->open(c, &s, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	return s;
}

/* What the sinks wrote to stdout so far. */
static const char *printed(struct fixture *f)
{
	static char text[4096];
	fflush(stdout);
	FILE *in = fopen(f->out, "r");
	size_t n = fread(text, 1, sizeof(text) - 1, in);
	fclose(in);
	text[n] = 0;
	return text;
}

static void test_stdout_json(void **state)
{
	struct fixture *f = *state;
	struct vg_sink_config c = { .show = true, .json = true };
	struct vg_sink *s = open_sink(&sink_stdout_ops, &c);
	assert_non_null(s);
	const char *json = "{\"rule\":\"shell\"}";
	struct vg_sink_alert al = { &f->a, json, strlen(json), 0 };

	assert_int_equal(s->ops->alert(s, &al), 0);
	assert_int_equal(s->ops->alert(s, &al), 0);
	/* held until the batch is flushed (the store commits first) */
	assert_string_equal(printed(f), "");
	assert_int_equal(s->ops->flush(s), 0);
	assert_string_equal(printed(f), "{\"rule\":\"shell\"}\n{\"rule\":\"shell\"}\n");
	/* an event is written at once, as one JSON line */
	assert_int_equal(s->ops->event(s, &f->ev, f->st, 0), 0);
	const char *out = printed(f);
	const char *line = out + strlen("{\"rule\":\"shell\"}\n{\"rule\":\"shell\"}\n");
	assert_true(!strncmp(line, "{\"type\":\"execve\"", 16));
	assert_true(line[strlen(line) - 1] == '\n');
	assert_int_equal(s->ops->close(s), 0);
}

static void test_stdout_text(void **state)
{
	struct fixture *f = *state;
	struct vg_sink_config c = { .show = true };
	struct vg_sink *s = open_sink(&sink_stdout_ops, &c);
	assert_non_null(s);
	struct vg_sink_alert al = { &f->a, "{}", 2, 0 };

	f->a.suppressed = 3;
	assert_int_equal(s->ops->alert(s, &al), 0);
	assert_int_equal(s->ops->flush(s), 0);
	assert_string_equal(printed(f), "00:00:00.000001000: Warning a shell ran (rate limit: 3 earlier alerts "
					"of this rule suppressed)\n");
	/* a flush with nothing pending prints nothing */
	assert_int_equal(s->ops->flush(s), 0);
	assert_int_equal(strlen(printed(f)), strlen("00:00:00.000001000: Warning a shell ran (rate limit: 3 "
						    "earlier alerts of this rule suppressed)\n"));
	assert_int_equal(s->ops->close(s), 0);
}

static void count_json(void *ctx, const char *json)
{
	(void)json;
	(*(long *)ctx)++;
}

static void count_action(void *ctx, const struct alert_store_action *a)
{
	(void)a;
	(*(long *)ctx)++;
}

static void test_store_batch(void **state)
{
	struct fixture *f = *state;
	char path[128], err[256];
	snprintf(path, sizeof(path), "%s/vigil.db", f->dir);
	struct vg_sink_config sc = { .store_path = path };
	struct vg_sink *s = open_sink(&sink_store_ops, &sc);
	assert_non_null(s);
	struct alert_store *r = alert_store_open(path, true, err, sizeof(err));
	assert_non_null(r);
	struct vg_sink_alert al = { &f->a, "{\"rule\":\"shell\"}", 16, 0 };
	struct action_result res = { .action = ACTION_FREEZE, .outcome = OUTCOME_AUDIT, .target = "container host",
				     .detail = "audit mode: would freeze", .path = "userspace", .cgroup = "" };
	struct alert_store_query all = { .max_priority = -1 };
	long alerts = 0, actions = 0;

	assert_int_equal(s->ops->alert(s, &al), 0);
	s->ops->action(s, &f->a, &res, NULL, 0);
	assert_int_equal(alert_store_query_alerts(r, &all, count_json, &alerts), 0);
	assert_int_equal(s->ops->flush(s), 0);
	assert_int_equal(alert_store_query_alerts(r, &all, count_json, &alerts), 1);
	assert_int_equal(alert_store_query_actions(r, NULL, count_action, &actions), 1);
	alert_store_close(r);
	/* the store is not a place for events or raw records */
	assert_null(s->ops->event);
	assert_null(s->ops->record);
	assert_int_equal(s->ops->close(s), 0);
}

static void test_store_open_fails(void **state)
{
	(void)state;
	char err[256] = "";
	struct vg_sink_config c = { .store_path = "/proc/no/such/dir/vigil.db" };
	struct vg_sink *s = (struct vg_sink *)1;
	assert_int_equal(sink_store_ops.open(&c, &s, err, sizeof(err)), -1);
	assert_null(s);
	assert_true(err[0] != 0);
}

/* Each sink opens only when its part of the config is set. */
static void test_not_asked_for(void **state)
{
	(void)state;
	struct vg_sink_config none = { .json = true };
	size_t n = 0;
	for (size_t i = 0; sink_table[i]; i++, n++)
		assert_null(open_sink(sink_table[i], &none));
	assert_int_equal(n, 3);
	/* the flush order: the store commits before stdout prints */
	assert_ptr_equal(sink_table[0], &sink_store_ops);
	assert_ptr_equal(sink_table[1], &sink_stdout_ops);
}

static void test_capture(void **state)
{
	struct fixture *f = *state;
	char path[128];
	struct vg_buf stats = { 0 };
	snprintf(path, sizeof(path), "%s/c.vcap", f->dir);
	struct vg_sink_config c = { .capture_path = path, .boot_to_realtime = 5, .hostname = "host1" };
	struct vg_sink *s = open_sink(&sink_capture_ops, &c);
	assert_non_null(s);
	s->ops->record(s, f->rec.data, f->rec.len);
	s->ops->record(s, f->rec.data, f->rec.len);
	s->ops->stats(s, &stats);
	assert_string_equal(stats.data, " written=2");
	assert_int_equal(s->ops->close(s), 0);
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_true((size_t)sb.st_size > 2 * f->rec.len);
	buf_free(&stats);
}

int main(void)
{
	/* alert_text prints UTC; the event text line local time: keep both fixed */
	setenv("TZ", "UTC", 1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stdout_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stdout_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_open_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_capture, setup, teardown),
		cmocka_unit_test(test_not_asked_for),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
