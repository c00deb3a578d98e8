/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pipe_probe URL STORE SERVER_PID: the outbox's pipelining against a real
 * nats-server (tests/integration/test_fleet_pipeline.sh). As node "pipe" it
 * publishes 10 alerts (acknowledged), then stops the server (SIGSTOP: the
 * connection stays up, nothing is acknowledged), commits 10 more and waits
 * until they are handed to the client, commits 10 more and waits until those
 * are handed over too while the first ten still await their acks (the
 * runner no longer waits for a delivery's acks before the next rows), then
 * continues the server and waits until all 30 are acknowledged. Waits are
 * bounded (30 s, 60 s); nothing is timed. Exit 0 and "ok ..." or 1 and why.
 * The caller checks the stream (exactly once, in order) with fleet_tool.
 */
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "fleet/nats_conn.h"
#include "fleet/publisher.h"
#include "output/alert_store.h"
#include "output/outbox.h"

static pid_t server;
static int stopped;

static void resume(void)
{
	if (stopped)
		kill(server, SIGCONT);
	stopped = 0;
}

static int fail(const char *what)
{
	resume();
	fprintf(stderr, "pipe_probe: %s\n", what);
	return 1;
}

static void add(sqlite3 *db, struct outbox *ob, int n)
{
	sqlite3_stmt *st;
	sqlite3_prepare_v2(db,
			   "INSERT INTO alerts(time_ns, rule, priority, container_id, output, json, uuid)"
			   " VALUES (?, 'Pipe rule', 4, '', 'pipe', '{\"rule\":\"Pipe rule\"}', lower(hex(randomblob(16))))",
			   -1, &st, NULL);
	for (int i = 0; i < n; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, (int64_t)time(NULL) * 1000000000);
		sqlite3_step(st);
	}
	sqlite3_finalize(st);
	outbox_notify(ob);
}

/* Bounded (secs) wait until the publisher handed at least n records to the client. */
static bool wait_published(void *pub, uint64_t n, int secs)
{
	struct fleet_publisher_stats st;
	for (int i = 0; i < secs * 100; i++) {
		fleet_publisher_get_stats(pub, &st);
		if (st.published >= n)
			return true;
		struct timespec ts = { 0, 10000000 };
		nanosleep(&ts, NULL);
	}
	return false;
}

int main(int argc, char **argv)
{
	char err[512];
	if (argc != 4) {
		fputs("usage: pipe_probe URL STORE SERVER_PID\n", stderr);
		return 2;
	}
	server = (pid_t)atol(argv[3]);
	atexit(resume);
	struct alert_store *as = alert_store_open(argv[2], false, err, sizeof(err));
	if (!as)
		return fail(err);
	alert_store_close(as);
	sqlite3 *db;
	if (sqlite3_open(argv[2], &db) != SQLITE_OK)
		return fail("cannot open the store");
	sqlite3_busy_timeout(db, 5000);

	struct fleet_conn_opts co = { .servers = argv[1], .node = "pipe", .client = "pipe-probe" };
	struct fleet_conn *c = fleet_connect(&co, err, sizeof(err));
	if (!c)
		return fail(err);
	/* acks are awaited for 2 minutes: no timeout (and resend) while the server is stopped */
	void *pub = fleet_publisher_new(c, 120000, err, sizeof(err));
	if (!pub)
		return fail(err);
	fleet_publisher_set_store(pub, argv[2]);
	struct outbox_opts oo = { .store_path = argv[2], .batch_max = 4096 };
	struct outbox *ob = outbox_open(&oo, err, sizeof(err));
	if (!ob || outbox_add(ob, &fleet_publisher_ops, pub, err, sizeof(err)))
		return fail(err);
	if (!fleet_conn_wait(c, 30000))
		return fail("not connected within 30 s");

	add(db, ob, 10);
	if (!outbox_drain(ob, 60000))
		return fail("the first 10 were not acknowledged within 60 s");
	if (kill(server, SIGSTOP))
		return fail("cannot stop the server");
	stopped = 1;
	add(db, ob, 10);
	if (!wait_published(pub, 20, 30))
		return fail("alerts 11..20 were not handed to the client within 30 s");
	add(db, ob, 10);
	if (!wait_published(pub, 30, 30))
		return fail("alerts 21..30 were not sent while 11..20 awaited their acks (within 30 s)");
	struct fleet_publisher_stats st;
	fleet_publisher_get_stats(pub, &st);
	if (st.stored != 10)
		return fail("acknowledgements came from a stopped server");
	resume();
	if (!outbox_drain(ob, 60000))
		return fail("not everything was acknowledged within 60 s of the server's continuing");
	fleet_publisher_get_stats(pub, &st);
	struct outbox_stats os;
	outbox_stats(ob, &os, 1);
	printf("ok published=%llu stored=%llu duplicates=%llu failed=%llu messages=%llu delivered=%llu depth=%lld\n",
	       (unsigned long long)st.published, (unsigned long long)st.stored, (unsigned long long)st.duplicates,
	       (unsigned long long)st.failed, (unsigned long long)st.messages, (unsigned long long)os.delivered,
	       (long long)os.depth);
	outbox_close(ob);
	fleet_close(c);
	sqlite3_close(db);
	return 0;
}
