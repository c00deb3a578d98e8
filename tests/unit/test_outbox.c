/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for output/outbox.c on a real SQLite store in a temporary
 * directory, with a forwarder that records what it is given: every row once
 * and in order, with its uuid as the JSON's first field; a destination that
 * fails at first (backoff, then delivery) or takes part of a batch; the
 * cursor kept in the store across a reopen; the disk budget's trim and the
 * loss record a forwarder behind it gets first; two forwarders independent.
 * A pipelined forwarder (send/acked): newer rows are sent while earlier ones
 * wait for their acks, the cursor moves over the acknowledged prefix only,
 * a failure resends from the first record not acknowledged, in order, and
 * no more than two batches are ever in flight.
 * Also fleet/streams.c's duration and size parsers.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "fleet/streams.h"
#include "output/alert_store.h"
#include "output/outbox.h"
#include "test_tmp.h"

struct fake {
	const char *name;
	int fail_first;   /* deliver() calls that fail (-1) before it works */
	long take_max;    /* at most this many per call (0: all) */
	int calls;
	int64_t seqs[3][20000];
	size_t n[3];
	char first_json[3][512];
	int64_t loss_count;
	char loss_json[512];
};

static long fake_deliver(void *ctx, const struct outbox_record *recs, size_t n, char *err, size_t errlen)
{
	struct fake *f = ctx;
	f->calls++;
	if (f->fail_first > 0) {
		f->fail_first--;
		snprintf(err, errlen, "down");
		return -1;
	}
	size_t take = f->take_max && (size_t)f->take_max < n ? (size_t)f->take_max : n;
	for (size_t i = 0; i < take; i++) {
		int k = recs[i].kind - 1;
		char needle[64];
		snprintf(needle, sizeof(needle), "{\"uuid\":\"%s\"", recs[i].uuid);
		assert_int_equal(strlen(recs[i].uuid), 32);
		assert_memory_equal(recs[i].json, needle, strlen(needle));
		assert_int_equal(strlen(recs[i].json), recs[i].json_len);
		if (f->n[k] == 0)
			snprintf(f->first_json[k], sizeof(f->first_json[k]), "%s", recs[i].json);
		if (recs[i].kind == OUTBOX_LOSS)
			snprintf(f->loss_json, sizeof(f->loss_json), "%s", recs[i].json);
		f->seqs[k][f->n[k]++] = recs[i].seq;
	}
	return (long)take;
}

static void fake_close(void *ctx)
{
	(void)ctx;
}

static struct vg_forwarder_ops ops_a = { .name = "a", .deliver = fake_deliver, .close = fake_close };
static struct vg_forwarder_ops ops_b = { .name = "b", .deliver = fake_deliver, .close = fake_close };

struct fixture {
	char dir[64], path[128];
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char err[256];
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/vigil-outbox.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/store.db", fx->dir);
	struct alert_store *s = alert_store_open(fx->path, false, err, sizeof(err));
	assert_non_null(s);
	alert_store_close(s);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	tmp_remove_tree(fx->dir);
	free(fx);
	return 0;
}

/* n alerts (json of about `pad` bytes) and m actions, as the agent writes them */
static void add_rows(const char *path, int n, int m, int pad)
{
	sqlite3 *db;
	char *json = malloc((size_t)pad + 64);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 10000); /* the runners write their cursors meanwhile */
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	for (int i = 0; i < n; i++) {
		sqlite3_stmt *st;
		int len = snprintf(json, 64, "{\"rule\":\"r\",\"i\":%d,\"pad\":\"", i);
		memset(json + len, 'x', (size_t)pad);
		strcpy(json + len + pad, "\"}");
		sqlite3_prepare_v2(db, "INSERT INTO alerts(time_ns, rule, priority, container_id, output, json, uuid)"
				       " VALUES (?, 'r', 4, '', 'o', ?, lower(hex(randomblob(16))))", -1, &st, NULL);
		sqlite3_bind_int64(st, 1, 1000 + i);
		sqlite3_bind_text(st, 2, json, -1, SQLITE_TRANSIENT);
		assert_int_equal(sqlite3_step(st), SQLITE_DONE);
		sqlite3_finalize(st);
	}
	for (int i = 0; i < m; i++)
		assert_int_equal(sqlite3_exec(db,
					      "INSERT INTO actions(time_ns, rule, action, target, container_id, cgroup,"
					      " outcome, detail, path, latency_ns, uuid) VALUES (1, 'r', 'kill', 'pid 7',"
					      " '', '/', 'done', 'killed', 'kernel', 9, lower(hex(randomblob(16))))",
					      NULL, NULL, NULL),
				 SQLITE_OK);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(db);
	free(json);
}

static struct outbox *open_ob(struct fixture *fx, uint64_t budget)
{
	char err[256];
	struct outbox_opts o = { .store_path = fx->path, .budget_bytes = budget, .batch_max = 100,
				 .backoff_min_ms = 10, .backoff_max_ms = 40, .hostname = "h1" };
	struct outbox *ob = outbox_open(&o, err, sizeof(err));
	assert_non_null(ob);
	return ob;
}

static void assert_in_order(const struct fake *f, int k, int64_t from, int64_t to)
{
	assert_int_equal(f->n[k], (size_t)(to - from + 1));
	for (size_t i = 0; i < f->n[k]; i++)
		assert_int_equal(f->seqs[k][i], from + (int64_t)i);
}

static void test_all_once_in_order(void **state)
{
	struct fixture *fx = *state;
	static struct fake f = { .fail_first = 3, .take_max = 37 };
	char err[256];
	add_rows(fx->path, 1000, 10, 10);
	struct outbox *ob = open_ob(fx, 0);
	assert_int_equal(outbox_add(ob, &ops_a, &f, err, sizeof(err)), 0);
	assert_true(outbox_drain(ob, 20000));
	assert_in_order(&f, 0, 1, 1000);
	assert_in_order(&f, 1, 1, 10);
	assert_true(f.calls > 3 + 1000 / 37);
	assert_non_null(strstr(f.first_json[0], ",\"rule\":\"r\",\"i\":0,"));
	assert_non_null(strstr(f.first_json[1], "\"action\":\"kill\",\"target\":\"pid 7\""));
	struct outbox_stats st;
	assert_int_equal(outbox_stats(ob, &st, 1), 1);
	assert_int_equal(st.depth, 0);
	assert_int_equal(st.delivered, 1010);
	assert_true(st.failures >= 3);
	outbox_close(ob);

	/* reopened: the cursor was kept, only the new rows come */
	static struct fake g;
	add_rows(fx->path, 5, 0, 10);
	ob = open_ob(fx, 0);
	assert_int_equal(outbox_add(ob, &ops_a, &g, err, sizeof(err)), 0);
	assert_true(outbox_drain(ob, 20000));
	assert_in_order(&g, 0, 1001, 1005);
	assert_int_equal(g.n[1], 0);
	/* a second forwarder starts from the first row, the first is not disturbed */
	static struct fake h;
	assert_int_equal(outbox_add(ob, &ops_b, &h, err, sizeof(err)), 0);
	assert_int_equal(outbox_add(ob, &ops_b, &h, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "twice"));
	assert_true(outbox_drain(ob, 20000));
	assert_in_order(&h, 0, 1, 1005);
	/* two more of the same kind under names of their own: each its own cursor, all of it */
	static struct fake h2, h3, h4;
	assert_int_equal(outbox_add_as(ob, &ops_b, &h2, "b-one", err, sizeof(err)), 0);
	assert_int_equal(outbox_add_as(ob, &ops_b, &h3, "b-two", err, sizeof(err)), 0);
	assert_int_equal(outbox_add_as(ob, &ops_b, &h4, "b-two", err, sizeof(err)), -1);
	assert_true(outbox_drain(ob, 20000));
	assert_in_order(&h2, 0, 1, 1005);
	assert_in_order(&h3, 0, 1, 1005);
	struct outbox_stats sts[8];
	assert_int_equal(outbox_stats(ob, sts, 8), 4);
	assert_string_equal(sts[2].name, "b-one");
	assert_string_equal(sts[3].name, "b-two");
	outbox_close(ob);
	/* reopened: each named cursor was kept */
	static struct fake h5;
	add_rows(fx->path, 3, 0, 10);
	ob = open_ob(fx, 0);
	assert_int_equal(outbox_add_as(ob, &ops_b, &h5, "b-two", err, sizeof(err)), 0);
	assert_true(outbox_drain(ob, 20000));
	assert_in_order(&h5, 0, 1006, 1008);
	outbox_close(ob);
}

static void test_budget_and_loss(void **state)
{
	struct fixture *fx = *state;
	static struct fake f;
	char err[256];
	add_rows(fx->path, 2000, 0, 1000); /* about 2 MB */
	struct outbox *ob = open_ob(fx, 1 << 20);
	long deleted = outbox_trim_now(ob);
	assert_true(deleted > 500);
	assert_true(deleted < 2000); /* the newest rows stay */
	assert_int_equal(outbox_trim_now(ob), 0); /* under the budget now */
	assert_int_equal(outbox_add(ob, &ops_a, &f, err, sizeof(err)), 0);
	assert_true(outbox_drain(ob, 20000));
	/* the loss first, then what is left, in order */
	assert_int_equal(f.n[2], 1);
	char want[128];
	snprintf(want, sizeof(want), "\"records\":\"alert\",\"first_seq\":1,\"last_seq\":%ld,\"count\":%ld,", deleted,
		 deleted);
	assert_non_null(strstr(f.loss_json, want));
	assert_non_null(strstr(f.loss_json, "\"reason\":\"disk budget"));
	assert_non_null(strstr(f.loss_json, "\"hostname\":\"h1\""));
	assert_in_order(&f, 0, deleted + 1, 2000);
	struct outbox_stats st;
	outbox_stats(ob, &st, 1);
	assert_int_equal(st.lost, (uint64_t)deleted);
	outbox_close(ob);

	/* reopened: the loss is not told twice */
	static struct fake g;
	ob = open_ob(fx, 1 << 20);
	assert_int_equal(outbox_add(ob, &ops_a, &g, err, sizeof(err)), 0);
	assert_true(outbox_drain(ob, 20000));
	assert_int_equal(g.n[2], 0);
	assert_int_equal(g.n[0], 0);
	outbox_close(ob);
}

/* ---- a pipelined forwarder whose acks the test gives ---- */

struct pipe_fake {
	pthread_mutex_t lock;
	int64_t kind[4096], seq[4096]; /* every record taken, in the order taken (resends again) */
	bool acked[4096];
	size_t n, head;	/* taken; head: the first not yet reported by acked() */
	size_t acked_calls;
	bool fail;		/* the next acked() fails and forgets what is in flight */
	size_t max_in_flight, limit; /* seen, and the most the outbox may have in flight */
	bool over;
	size_t sends, last_send; /* send() calls, and how many records the last one held */
	void (*wake)(void *);
	void *arg;
};

static long pipe_send(void *ctx, const struct outbox_record *recs, size_t n, char *err, size_t errlen)
{
	struct pipe_fake *f = ctx;
	(void)err;
	(void)errlen;
	pthread_mutex_lock(&f->lock);
	f->sends++;
	f->last_send = n;
	for (size_t i = 0; i < n && f->n < 4096; i++) {
		f->kind[f->n] = recs[i].kind;
		f->seq[f->n] = recs[i].seq;
		f->acked[f->n++] = false;
	}
	if (f->n - f->head > f->max_in_flight)
		f->max_in_flight = f->n - f->head;
	if (f->limit && f->n - f->head > f->limit)
		f->over = true;
	pthread_mutex_unlock(&f->lock);
	return (long)n;
}

static long pipe_acked(void *ctx, char *err, size_t errlen)
{
	struct pipe_fake *f = ctx;
	long got = 0;
	pthread_mutex_lock(&f->lock);
	f->acked_calls++;
	while (f->head < f->n && f->acked[f->head]) {
		f->head++;
		got++;
	}
	if (!got && f->fail) {
		f->fail = false;
		f->head = f->n; /* forgotten: the outbox sends it again */
		snprintf(err, errlen, "lost the leader");
		got = -1;
	}
	pthread_mutex_unlock(&f->lock);
	return got;
}

static void pipe_set_wake(void *ctx, void (*wake)(void *), void *arg)
{
	struct pipe_fake *f = ctx;
	pthread_mutex_lock(&f->lock);
	f->wake = wake;
	f->arg = arg;
	pthread_mutex_unlock(&f->lock);
}

static long pipe_deliver(void *ctx, const struct outbox_record *recs, size_t n, char *err, size_t errlen)
{
	(void)ctx;
	(void)recs;
	(void)n;
	snprintf(err, errlen, "not used while pipelined");
	return -1;
}

static struct vg_forwarder_ops ops_pipe = { .name = "p", .deliver = pipe_deliver, .close = fake_close,
					    .send = pipe_send, .acked = pipe_acked, .set_wake = pipe_set_wake };

static size_t pipe_taken(struct pipe_fake *f)
{
	pthread_mutex_lock(&f->lock);
	size_t n = f->n;
	pthread_mutex_unlock(&f->lock);
	return n;
}

/* Bounded wait (20 s) until the forwarder took at least n records. */
static void wait_taken(struct pipe_fake *f, size_t n)
{
	for (int i = 0; i < 2000 && pipe_taken(f) < n; i++)
		usleep(10000);
	assert_true(pipe_taken(f) >= n);
}

/* Acknowledge the records taken at [from, to) and wake the outbox; then wait until it asked. */
static void pipe_ack(struct pipe_fake *f, size_t from, size_t to, bool fail)
{
	pthread_mutex_lock(&f->lock);
	for (size_t i = from; i < to; i++)
		f->acked[i] = true;
	f->fail = fail;
	size_t calls = f->acked_calls;
	void (*wake)(void *) = f->wake;
	void *arg = f->arg;
	pthread_mutex_unlock(&f->lock);
	assert_non_null(wake);
	wake(arg);
	for (int i = 0; i < 2000; i++) {
		pthread_mutex_lock(&f->lock);
		size_t now = f->acked_calls;
		pthread_mutex_unlock(&f->lock);
		if (now > calls)
			return;
		usleep(10000);
	}
	fail_msg("the outbox did not ask for the acks");
}

static int64_t stored_cursor(const char *path, const char *name)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t v = 0;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_prepare_v2(db, "SELECT alert_seq FROM outbox_cursor WHERE name = ?", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return v;
}

static void test_pipelined(void **state)
{
	struct fixture *fx = *state;
	static struct pipe_fake f = { .lock = PTHREAD_MUTEX_INITIALIZER, .limit = 200 };
	char err[256];
	struct outbox_stats st;

	add_rows(fx->path, 3, 0, 10);
	struct outbox *ob = open_ob(fx, 0); /* batch_max 100 */
	assert_int_equal(outbox_add(ob, &ops_pipe, &f, err, sizeof(err)), 0);
	wait_taken(&f, 3);
	/* rows committed while 1..3 wait for their acks are sent at once, not after them */
	add_rows(fx->path, 3, 0, 10);
	outbox_notify(ob);
	wait_taken(&f, 6);
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(f.seq[i], (int64_t)i + 1);
	/* 4..6 acknowledged first: the cursor does not move over 1..3 */
	pipe_ack(&f, 3, 6, false);
	assert_int_equal(stored_cursor(fx->path, "p"), 0);
	outbox_stats(ob, &st, 1);
	assert_int_equal(st.delivered, 0);
	assert_int_equal(st.depth, 6);
	/* then 1..3: all six, in one move */
	pipe_ack(&f, 0, 3, false);
	assert_true(outbox_drain(ob, 20000));
	assert_int_equal(stored_cursor(fx->path, "p"), 6);
	outbox_stats(ob, &st, 1);
	assert_int_equal(st.delivered, 6);

	/* 7..10 in flight; 7 and 8 acknowledged, then the forwarder fails: 9 and 10 again, in order */
	add_rows(fx->path, 4, 0, 10);
	outbox_notify(ob);
	wait_taken(&f, 10);
	pipe_ack(&f, 6, 8, true);
	wait_taken(&f, 12);
	assert_int_equal(f.seq[10], 9);
	assert_int_equal(f.seq[11], 10);
	assert_int_equal(stored_cursor(fx->path, "p"), 8);
	pipe_ack(&f, 10, 12, false);
	assert_true(outbox_drain(ob, 20000));
	assert_int_equal(stored_cursor(fx->path, "p"), 10);
	outbox_stats(ob, &st, 1);
	assert_int_equal(st.delivered, 10);
	assert_true(st.failures >= 1);

	/* a backlog of 500 without acks: never more than two batches (200) in flight */
	add_rows(fx->path, 500, 0, 10);
	outbox_notify(ob);
	wait_taken(&f, 12 + 200);
	for (size_t done = 12; done < 12 + 500;) {
		size_t t = pipe_taken(&f);
		if (t == done) {
			wait_taken(&f, done + 1);
			continue;
		}
		pipe_ack(&f, done, t, false);
		done = t;
	}
	assert_true(outbox_drain(ob, 20000));
	assert_false(f.over);
	assert_int_equal(f.max_in_flight, 200);
	assert_int_equal(pipe_taken(&f), 12 + 500);
	for (size_t i = 12; i < 12 + 500; i++)
		assert_int_equal(f.seq[i], (int64_t)i - 1);
	assert_int_equal(stored_cursor(fx->path, "p"), 510);
	outbox_close(ob);
}

/* opts.linger_ms: rows committed while a partial load is in flight wait for its acks, then go as one */
static void test_linger(void **state)
{
	struct fixture *fx = *state;
	static struct pipe_fake f = { .lock = PTHREAD_MUTEX_INITIALIZER };
	char err[256];

	struct outbox_opts o = { .store_path = fx->path, .batch_max = 100, .backoff_min_ms = 10,
				 .backoff_max_ms = 40, .linger_ms = 600000 /* only the acks end the hold */ };
	struct outbox *ob = outbox_open(&o, err, sizeof(err));
	assert_non_null(ob);
	assert_int_equal(outbox_add(ob, &ops_pipe, &f, err, sizeof(err)), 0);
	/* nothing in flight: a commit goes at once */
	add_rows(fx->path, 1, 0, 10);
	outbox_notify(ob);
	wait_taken(&f, 1);
	/* three commits while it is in flight: held (the runner is woken by each) */
	for (int i = 0; i < 3; i++) {
		add_rows(fx->path, 1, 0, 10);
		outbox_notify(ob);
	}
	usleep(200000);
	assert_int_equal(pipe_taken(&f), 1);
	/* its ack: the three go in one send */
	pipe_ack(&f, 0, 1, false);
	wait_taken(&f, 4);
	pthread_mutex_lock(&f.lock);
	assert_int_equal(f.sends, 2);
	assert_int_equal(f.last_send, 3);
	pthread_mutex_unlock(&f.lock);
	/* a full load waiting (batch_max commits) is not held */
	for (int i = 0; i < 100; i++) {
		add_rows(fx->path, 1, 0, 10);
		outbox_notify(ob);
	}
	wait_taken(&f, 4 + 100);
	pipe_ack(&f, 1, 104, false);
	assert_true(outbox_drain(ob, 20000));
	assert_int_equal(stored_cursor(fx->path, "p"), 104);
	outbox_close(ob);

	/* a short hold ends by itself while the acks stay away */
	static struct pipe_fake g = { .lock = PTHREAD_MUTEX_INITIALIZER };
	o.linger_ms = 50;
	ob = outbox_open(&o, err, sizeof(err));
	assert_non_null(ob);
	assert_int_equal(outbox_add_as(ob, &ops_pipe, &g, "p2", err, sizeof(err)), 0);
	wait_taken(&g, 104); /* its own cursor: everything so far, in two loads */
	pipe_ack(&g, 0, 100, false);
	add_rows(fx->path, 1, 0, 10);
	outbox_notify(ob);
	wait_taken(&g, 105); /* sent although 101..104 were not acknowledged */
	pipe_ack(&g, 100, 105, false);
	assert_true(outbox_drain(ob, 20000));
	assert_int_equal(stored_cursor(fx->path, "p2"), 105);
	outbox_close(ob);
}

static void test_not_a_store(void **state)
{
	struct fixture *fx = *state;
	char err[256], path[160];
	snprintf(path, sizeof(path), "%s/other.db", fx->dir);
	sqlite3 *db;
	sqlite3_open(path, &db);
	sqlite3_exec(db, "CREATE TABLE alerts(id INTEGER PRIMARY KEY)", NULL, NULL, NULL);
	sqlite3_close(db);
	struct outbox_opts o = { .store_path = path };
	assert_null(outbox_open(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "schema 2"));
}

static void test_parse(void **state)
{
	(void)state;
	assert_int_equal(fleet_parse_duration("7d"), 7LL * 86400 * 1000000000);
	assert_int_equal(fleet_parse_duration("90s"), 90LL * 1000000000);
	assert_int_equal(fleet_parse_duration("500ms"), 500LL * 1000000);
	assert_int_equal(fleet_parse_duration("none"), -1);
	assert_int_equal(fleet_parse_duration("3x"), -2);
	assert_int_equal(fleet_parse_duration("-1s"), -2);
	assert_int_equal(fleet_parse_duration(""), -2);
	assert_int_equal(fleet_parse_duration("999999d"), -2);
	assert_int_equal(fleet_parse_duration("nan"), -2);
	assert_int_equal(fleet_parse_size("512M"), 512LL << 20);
	assert_int_equal(fleet_parse_size("1G"), 1LL << 30);
	assert_int_equal(fleet_parse_size("1234"), 1234);
	assert_int_equal(fleet_parse_size("none"), -1);
	assert_int_equal(fleet_parse_size("12Q"), -2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_all_once_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_budget_and_loss, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipelined, setup, teardown),
		cmocka_unit_test_setup_teardown(test_linger, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_store, setup, teardown),
		cmocka_unit_test(test_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
