/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for output/alert_store.c on a real SQLite file in a temporary
 * directory: alerts and actions added and queried back (filters, container
 * metadata, NULL names), the batch semantics (nothing visible to another
 * reader before the commit, everything after), a reopened store keeping what
 * was committed (a batch still open is committed by the close), a read-only store refusing writes, and a missing directory
 * created private.
 */
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
#include "sensor/decode.h"
#include "state/state.h"
#include "test_helpers.h"

#define WEB_ID "5ad505f6c2d4de05faee7fb251e25b27cf04af50103100ef0cc6888c48eeaf99"
#define WEB_CGROUP 4242
#define B2R 1000000000000ull /* boot_to_realtime: wall = ts + 1000 s */

struct fixture {
	char dir[64], path[128];
	struct vg_state *st; /* knows one container, "web" */
};

static void ingest(struct vg_state *st, uint16_t type, uint64_t cgroup_id, const char *body)
{
	struct vg_buf b = { 0 };
	struct vg_event ev;
	char err[160];
	rec_begin(&b, type, 0);
	((struct vg_event_hdr *)b.data)->cgroup_id = cgroup_id;
	rec_param(&b, body, (uint16_t)(strlen(body) + 1));
	rec_finish(&b, 0);
	assert_int_equal(event_decode(b.data, b.len, &ev, err, sizeof(err)), 0);
	state_ingest(st, &ev);
	buf_free(&b);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/vigil-test-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	/* a directory that does not exist yet: the store creates it */
	snprintf(f->path, sizeof(f->path), "%s/sub/vigil.db", f->dir);
	struct vg_state_opts so = { .live = false };
	f->st = state_new(&so);
	ingest(f->st, VG_EVT_CGROUP, WEB_CGROUP, "/machine.slice/libpod-" WEB_ID ".scope");
	ingest(f->st, VG_EVT_STATE_CONTAINER, WEB_CGROUP,
	       "{\"name\":\"web\",\"k8s_namespace\":\"prod\",\"k8s_pod_name\":\"web-1\",\"metadata_found\":1}");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[160];
	state_free(f->st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* An alert of rule `name` at time ts (boot clock), in the web container or on the host. */
struct test_alert {
	struct vg_buf rec;
	struct vg_event ev;
	struct alert a;
};

static void make_alert(struct test_alert *t, const struct fixture *f, const char *name, enum rs_priority prio,
		       uint64_t ts, bool in_web)
{
	char err[160];
	memset(t, 0, sizeof(*t));
	rec_begin(&t->rec, VG_EVT_EXECVE, 77);
	((struct vg_event_hdr *)t->rec.data)->ts = ts;
	((struct vg_event_hdr *)t->rec.data)->cgroup_id = in_web ? WEB_CGROUP : 1;
	rec_finish(&t->rec, 0);
	assert_int_equal(event_decode(t->rec.data, t->rec.len, &t->ev, err, sizeof(err)), 0);
	t->a.name = name;
	t->a.priority = prio;
	t->a.output = "an output";
	t->a.output_len = strlen(t->a.output);
	t->a.ev = &t->ev;
	t->a.st = f->st;
}

struct collected {
	char text[4096];
	long n;
};

static void collect_json(void *ctx, const char *json)
{
	struct collected *c = ctx;
	size_t len = strlen(c->text);
	snprintf(c->text + len, sizeof(c->text) - len, "%s;", json);
	c->n++;
}

static void collect_action(void *ctx, const struct alert_store_action *a)
{
	struct collected *c = ctx;
	size_t len = strlen(c->text);
	snprintf(c->text + len, sizeof(c->text) - len, "%lld %s %s %s %s %s %s %s %s %s %lld;", (long long)a->time_ns,
		 a->rule, a->action, a->target, a->container_id, a->container_name ? a->container_name : "(null)",
		 a->cgroup, a->outcome, a->detail, a->path, (long long)a->latency_ns);
	c->n++;
}

static long query(struct alert_store *s, const struct alert_store_query *q, struct collected *c)
{
	memset(c, 0, sizeof(*c));
	return alert_store_query_alerts(s, q, collect_json, c);
}

static void test_alerts_round_trip(void **state)
{
	struct fixture *f = *state;
	char err[256];
	struct alert_store *s = alert_store_open(f->path, false, err, sizeof(err));
	assert_non_null(s);
	struct stat sb;
	char dir[160];
	snprintf(dir, sizeof(dir), "%s/sub", f->dir);
	assert_int_equal(stat(dir, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);

	struct test_alert t1, t2, t3;
	make_alert(&t1, f, "shell", PRIO_WARNING, 1000, true);
	make_alert(&t2, f, "sudo", PRIO_CRITICAL, 3000, false);
	make_alert(&t3, f, "shell", PRIO_NOTICE, 2000, true);
	assert_int_equal(alert_store_add_alert(s, &t1.a, "{\"n\":1}", B2R), 0);
	assert_int_equal(alert_store_add_alert(s, &t2.a, "{\"n\":2}", B2R), 0);
	assert_int_equal(alert_store_add_alert(s, &t3.a, "{\"n\":3}", B2R), 0);
	assert_int_equal(alert_store_commit(s), 0);

	struct collected c;
	struct alert_store_query all = { .max_priority = -1 };
	/* oldest first, whatever the insertion order */
	assert_int_equal(query(s, &all, &c), 3);
	assert_string_equal(c.text, "{\"n\":1};{\"n\":3};{\"n\":2};");
	struct alert_store_query by_rule = { .max_priority = -1, .rule = "shell" };
	assert_int_equal(query(s, &by_rule, &c), 2);
	assert_string_equal(c.text, "{\"n\":1};{\"n\":3};");
	struct alert_store_query severe = { .max_priority = PRIO_WARNING };
	assert_int_equal(query(s, &severe, &c), 2);
	assert_string_equal(c.text, "{\"n\":1};{\"n\":2};");
	struct alert_store_query since = { .max_priority = -1, .since_ns = (int64_t)(B2R + 2000) };
	assert_int_equal(query(s, &since, &c), 2);
	assert_string_equal(c.text, "{\"n\":3};{\"n\":2};");
	struct alert_store_query by_name = { .max_priority = -1, .container = "web" };
	assert_int_equal(query(s, &by_name, &c), 2);
	struct alert_store_query by_prefix = { .max_priority = -1, .container = "5ad505f6" };
	assert_int_equal(query(s, &by_prefix, &c), 2);
	struct alert_store_query host = { .max_priority = -1, .container = "host" };
	assert_int_equal(query(s, &host, &c), 1);
	assert_string_equal(c.text, "{\"n\":2};");
	/* the one selector's meaning (respond/selector.h): globs of the name and of the id */
	struct alert_store_query name_glob = { .max_priority = -1, .container = "w?b" };
	assert_int_equal(query(s, &name_glob, &c), 2);
	struct alert_store_query id_glob = { .max_priority = -1, .container = "*" };
	assert_int_equal(query(s, &id_glob, &c), 2);
	struct alert_store_query other = { .max_priority = -1, .container = "db" };
	assert_int_equal(query(s, &other, &c), 0);
	struct alert_store_query limited = { .max_priority = -1, .limit = 1 };
	assert_int_equal(query(s, &limited, &c), 1);
	assert_string_equal(c.text, "{\"n\":1};");
	alert_store_close(s);
	buf_free(&t1.rec);
	buf_free(&t2.rec);
	buf_free(&t3.rec);
}

static void test_actions_round_trip(void **state)
{
	struct fixture *f = *state;
	char err[256];
	struct alert_store *s = alert_store_open(f->path, false, err, sizeof(err));
	assert_non_null(s);
	struct alert_store_action kill = {
		.time_ns = 5, .rule = "shell", .action = "kill", .target = "pid 77", .container_id = WEB_ID,
		.container_name = "web", .cgroup = "/machine.slice/x", .outcome = "done", .detail = "SIGKILL sent",
		.path = "kernel", .latency_ns = 1234,
	};
	/* NULL id and cgroup are stored as "", a NULL name stays NULL */
	struct alert_store_action host = {
		.time_ns = 6, .rule = "sudo", .action = "freeze", .target = "container host", .outcome = "refused",
		.detail = "not in a container", .path = "userspace",
	};
	assert_int_equal(alert_store_add_action(s, &host), 0);
	assert_int_equal(alert_store_add_action(s, &kill), 0);
	assert_int_equal(alert_store_commit(s), 0);

	struct collected c = { 0 };
	assert_int_equal(alert_store_query_actions(s, NULL, collect_action, &c), 2);
	assert_string_equal(c.text, "5 shell kill pid 77 " WEB_ID " web /machine.slice/x done SIGKILL sent kernel 1234;"
				    "6 sudo freeze container host  (null)  refused not in a container userspace 0;");
	memset(&c, 0, sizeof(c));
	assert_int_equal(alert_store_query_actions(s, "web", collect_action, &c), 1);
	memset(&c, 0, sizeof(c));
	assert_int_equal(alert_store_query_actions(s, "5ad5", collect_action, &c), 1);
	memset(&c, 0, sizeof(c));
	assert_int_equal(alert_store_query_actions(s, "host", collect_action, &c), 1);
	assert_string_equal(c.text, "6 sudo freeze container host  (null)  refused not in a container userspace 0;");
	memset(&c, 0, sizeof(c));
	assert_int_equal(alert_store_query_actions(s, "web*", collect_action, &c), 1);
	alert_store_close(s);
}

/* A batch is one transaction: another reader sees none of it before the commit, all after. */
static void test_batch_commit(void **state)
{
	struct fixture *f = *state;
	char err[256];
	struct alert_store *w = alert_store_open(f->path, false, err, sizeof(err));
	assert_non_null(w);
	struct alert_store *r = alert_store_open(f->path, true, err, sizeof(err));
	assert_non_null(r);
	struct test_alert t1, t2;
	make_alert(&t1, f, "a", PRIO_ERROR, 10, true);
	make_alert(&t2, f, "b", PRIO_ERROR, 20, false);
	struct alert_store_action act = { .time_ns = 7, .rule = "a", .action = "kill", .target = "pid 77",
					  .outcome = "audit", .detail = "would kill", .path = "userspace" };
	assert_int_equal(alert_store_add_alert(w, &t1.a, "{}", B2R), 0);
	assert_int_equal(alert_store_add_action(w, &act), 0);
	assert_int_equal(alert_store_add_alert(w, &t2.a, "{}", B2R), 0);

	struct collected c;
	struct alert_store_query all = { .max_priority = -1 };
	assert_int_equal(query(r, &all, &c), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(alert_store_query_actions(r, NULL, collect_action, &c), 0);

	assert_int_equal(alert_store_commit(w), 0);
	assert_int_equal(query(r, &all, &c), 2);
	memset(&c, 0, sizeof(c));
	assert_int_equal(alert_store_query_actions(r, NULL, collect_action, &c), 1);
	/* a commit with nothing pending is fine */
	assert_int_equal(alert_store_commit(w), 0);
	alert_store_close(r);
	alert_store_close(w);

	/* reopened: what was committed is there; appending goes on */
	w = alert_store_open(f->path, false, err, sizeof(err));
	assert_non_null(w);
	assert_int_equal(query(w, &all, &c), 2);
	assert_int_equal(alert_store_add_alert(w, &t1.a, "{}", B2R), 0);
	assert_int_equal(alert_store_commit(w), 0);
	assert_int_equal(query(w, &all, &c), 3);
	alert_store_close(w);

	/* closed with a batch not committed yet: closing commits it */
	w = alert_store_open(f->path, false, err, sizeof(err));
	assert_int_equal(alert_store_add_alert(w, &t2.a, "{}", B2R), 0);
	alert_store_close(w);
	r = alert_store_open(f->path, true, err, sizeof(err));
	assert_int_equal(query(r, &all, &c), 4);
	alert_store_close(r);
	buf_free(&t1.rec);
	buf_free(&t2.rec);
}

static void test_readonly(void **state)
{
	struct fixture *f = *state;
	char err[256] = "";
	/* read-only does not create a store that is not there */
	assert_null(alert_store_open(f->path, true, err, sizeof(err)));
	assert_true(err[0] != 0);
	struct alert_store *s = alert_store_open(f->path, false, err, sizeof(err));
	assert_non_null(s);
	alert_store_close(s);
	s = alert_store_open(f->path, true, err, sizeof(err));
	assert_non_null(s);
	struct test_alert t;
	make_alert(&t, f, "a", PRIO_ERROR, 10, true);
	int rc = alert_store_add_alert(s, &t.a, "{}", B2R);
	if (rc == 0)
		rc = alert_store_commit(s);
	assert_int_equal(rc, -1);
	assert_true(strlen(alert_store_error(s)) > 0);
	alert_store_close(s);
	buf_free(&t.rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_alerts_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_actions_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
