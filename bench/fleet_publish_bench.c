/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fleet_publish_bench URL STORE RATE SECONDS [HUB_STORE]: the agent's publishing path
 * (store -> outbox -> NATS forwarder -> JetStream ack) under a steady load.
 * A writer commits RATE alerts a second (one per commit, as a quiet agent
 * does: each commit wakes the outbox) into STORE for SECONDS; the outbox
 * delivers them through the real NATS forwarder. Each record's latency is
 * from its commit to the stream's acknowledgement. Prints one line a second
 * ("t=S committed=N acked=N depth=N") and, at the end, the latency
 * percentiles and when the backlog was last empty. Times start just before
 * the commit (so they include it). Ends when everything
 * committed is acknowledged (or 300 s after the writer stopped).
 *
 * With HUB_STORE (the store of a `vigil hub` consuming the same stream), also
 * from the agent's commit to the hub's commit: a thread polls the hub's store
 * (read-only, WAL) every millisecond for this node's new rows and times each
 * when it first sees it ("hub_latency_us ..."; the poll adds at most ~1 ms).
 *
 * The stages, each from the commit (so each includes the ones before it):
 * "wake_latency_us" when the outbox's runner hands the record to the
 * forwarder, "latency_us" the stream's ack, "hub_fetch_latency_us" when the
 * hub's fetch returned it (the row's recv_ns, wall clock), "hub_latency_us"
 * when the hub's commit made it visible.
 *
 * The outbox pipelines the NATS forwarder (send/acked) as the agent does;
 * PUB_SYNC=1 in the environment makes it deliver one batch at a time
 * (deliver(), waiting for all its acks before reading more), to compare.
 * The forwarder keeps its batches' plan in STORE, as the agent does.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "fleet/nats_conn.h"
#include "fleet/publisher.h"
#include "output/alert_store.h"
#include "output/outbox.h"

static int64_t *commit_ns; /* by alert id */
static int64_t *commit_rt; /* the same, wall clock (the hub's recv_ns is) */
static uint32_t *lat_us, *wake_us, *fetch_us;
static uint8_t *woken; /* handed to the forwarder once already */
static size_t nlat, nwake, nfetch, max_id;
static pthread_mutex_t lat_lock = PTHREAD_MUTEX_INITIALIZER;
static void *inner;
static int64_t mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t realtime(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint32_t *hub_lat_us;
static size_t hub_nlat;
static uint32_t *hub_stage_us; /* the hub alone: its commit seen, less its fetch (recv_ns) */
static size_t hub_nstage;
static volatile int hub_stop;
static const char *hub_path;

/* Poll the hub's store for node "bench"'s alerts; seq is the agent's alert id. */
static void *hub_poller(void *arg)
{
	(void)arg;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t last = 0;
	while (!hub_stop) {
		if (!st) {
			char uri[4200];
			snprintf(uri, sizeof(uri), "file:%s?mode=ro", hub_path);
			if (sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) != SQLITE_OK ||
			    sqlite3_prepare_v2(db, "SELECT id, seq, recv_ns FROM alerts WHERE id > ? AND node = 'bench' ORDER BY id", -1,
					       &st, NULL) != SQLITE_OK) {
				sqlite3_finalize(st);
				st = NULL;
				sqlite3_close(db);
				db = NULL;
				struct timespec ts = { 0, 50000000 };
				nanosleep(&ts, NULL);
				continue;
			}
			sqlite3_busy_timeout(db, 100);
		}
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, last);
		int64_t now = 0;
		while (sqlite3_step(st) == SQLITE_ROW) {
			if (!now)
				now = mono();
			last = sqlite3_column_int64(st, 0);
			int64_t seq = sqlite3_column_int64(st, 1);
			pthread_mutex_lock(&lat_lock);
			if (seq > 0 && (size_t)seq <= max_id && commit_ns[seq]) {
				hub_lat_us[hub_nlat++] = (uint32_t)((now - commit_ns[seq]) / 1000);
				int64_t d = sqlite3_column_int64(st, 2) - commit_rt[seq];
				fetch_us[nfetch++] = d > 0 ? (uint32_t)(d / 1000) : 0;
				int64_t h = (now - commit_ns[seq]) - d;
				hub_stage_us[hub_nstage++] = h > 0 ? (uint32_t)(h / 1000) : 0;
			}
			pthread_mutex_unlock(&lat_lock);
		}
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return NULL;
}


/* The NATS forwarder, timing what it says was stored. */
static long timed_deliver(void *ctx, const struct outbox_record *recs, size_t n, char *err, size_t errlen)
{
	(void)ctx;
	int64_t woke = mono();
	pthread_mutex_lock(&lat_lock);
	for (size_t i = 0; i < n; i++)
		if (recs[i].kind == OUTBOX_ALERT && (size_t)recs[i].seq <= max_id && commit_ns[recs[i].seq] &&
		    !woken[recs[i].seq]++)
			wake_us[nwake++] = (uint32_t)((woke - commit_ns[recs[i].seq]) / 1000);
	pthread_mutex_unlock(&lat_lock);
	long got = fleet_publisher_ops.deliver(inner, recs, n, err, errlen);
	int64_t now = mono();
	pthread_mutex_lock(&lat_lock);
	for (long i = 0; i < got; i++)
		if (recs[i].kind == OUTBOX_ALERT && (size_t)recs[i].seq <= max_id && commit_ns[recs[i].seq])
			lat_us[nlat++] = (uint32_t)((now - commit_ns[recs[i].seq]) / 1000);
	pthread_mutex_unlock(&lat_lock);
	return got;
}

/* The same for the pipelined delivery: handed over at send(), stored when acked() says so. */
static struct { int kind; int64_t seq; } *tfly;
static size_t tfly_head, tfly_n, tfly_cap;

static long timed_send(void *ctx, const struct outbox_record *recs, size_t n, char *err, size_t errlen)
{
	(void)ctx;
	int64_t woke = mono();
	pthread_mutex_lock(&lat_lock);
	for (size_t i = 0; i < n; i++)
		if (recs[i].kind == OUTBOX_ALERT && (size_t)recs[i].seq <= max_id && commit_ns[recs[i].seq] &&
		    !woken[recs[i].seq]++)
			wake_us[nwake++] = (uint32_t)((woke - commit_ns[recs[i].seq]) / 1000);
	pthread_mutex_unlock(&lat_lock);
	long got = fleet_publisher_ops.send(inner, recs, n, err, errlen);
	for (long i = 0; i < got; i++) {
		if (tfly_n == tfly_cap) { /* grow the ring, oldest first */
			size_t cap = tfly_cap ? tfly_cap * 2 : 1024;
			__typeof__(tfly) q = calloc(cap, sizeof(*q));
			for (size_t j = 0; j < tfly_n; j++)
				q[j] = tfly[(tfly_head + j) % tfly_cap];
			free(tfly);
			tfly = q;
			tfly_head = 0;
			tfly_cap = cap;
		}
		size_t at = (tfly_head + tfly_n++) % tfly_cap;
		tfly[at].kind = recs[i].kind;
		tfly[at].seq = recs[i].seq;
	}
	return got;
}

static long timed_acked(void *ctx, char *err, size_t errlen)
{
	(void)ctx;
	long got = fleet_publisher_ops.acked(inner, err, errlen);
	int64_t now = mono();
	pthread_mutex_lock(&lat_lock);
	for (long i = 0; i < got && tfly_n; i++) {
		int64_t seq = tfly[tfly_head].seq;
		if (tfly[tfly_head].kind == OUTBOX_ALERT && (size_t)seq <= max_id && commit_ns[seq])
			lat_us[nlat++] = (uint32_t)((now - commit_ns[seq]) / 1000);
		tfly_head = (tfly_head + 1) % tfly_cap;
		tfly_n--;
	}
	if (got < 0)
		tfly_n = 0;
	pthread_mutex_unlock(&lat_lock);
	return got;
}

static void timed_set_wake(void *ctx, void (*wake)(void *arg), void *arg)
{
	(void)ctx;
	fleet_publisher_ops.set_wake(inner, wake, arg);
}

static void timed_close(void *ctx)
{
	(void)ctx;
	fleet_publisher_ops.close(inner);
}

static const struct vg_forwarder_ops timed_ops = { .name = "nats", .deliver = timed_deliver, .close = timed_close,
						   .send = timed_send, .acked = timed_acked,
						   .set_wake = timed_set_wake };
/* PUB_SYNC=1 in the environment: one delivery at a time (deliver(), waiting for its acks), to compare */
static const struct vg_forwarder_ops timed_sync_ops = { .name = "nats", .deliver = timed_deliver,
							.close = timed_close };

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	char err[512];
	if (argc != 5 && argc != 6) {
		fputs("usage: fleet_publish_bench URL STORE RATE SECONDS [HUB_STORE]\n", stderr);
		return 2;
	}
	const char *url = argv[1], *path = argv[2];
	long rate = atol(argv[3]), secs = atol(argv[4]);
	max_id = (size_t)(rate * secs) + 16;
	commit_ns = calloc(max_id + 1, sizeof(*commit_ns));
	lat_us = calloc(max_id + 1, sizeof(*lat_us));
	commit_rt = calloc(max_id + 1, sizeof(*commit_rt));
	wake_us = calloc(max_id + 1, sizeof(*wake_us));
	fetch_us = calloc(max_id + 1, sizeof(*fetch_us));
	woken = calloc(max_id + 1, 1);
	hub_lat_us = calloc(max_id + 1, sizeof(*hub_lat_us));
	hub_stage_us = calloc(max_id + 1, sizeof(*hub_stage_us));
	pthread_t poller;
	hub_path = argc == 6 ? argv[5] : NULL;

	/* the store's schema, then our own writer connection */
	struct alert_store *st = alert_store_open(path, false, err, sizeof(err));
	if (!st) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	alert_store_close(st);
	sqlite3 *db;
	sqlite3_stmt *ins;
	sqlite3_open(path, &db);
	sqlite3_busy_timeout(db, 5000);
	sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL, NULL);
	sqlite3_prepare_v2(db,
			   "INSERT INTO alerts(time_ns, rule, priority, container_id, output, json, uuid)"
			   " VALUES (?, 'Bench rule', 4, '', 'bench', ?, lower(hex(randomblob(16))))",
			   -1, &ins, NULL);

	struct fleet_conn_opts co = { .servers = url, .node = "bench", .cluster = "bench" };
	struct fleet_conn *c = fleet_connect(&co, err, sizeof(err));
	if (!c || !(inner = fleet_publisher_new(c, 0, err, sizeof(err)))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	/* the batches' plan in the store, as the agent keeps it (a transaction before each send) */
	fleet_publisher_set_store(inner, path);
	/* as the agent holds records while a message is in flight; LINGER_MS=0 in the environment: never */
	const char *linger = getenv("LINGER_MS");
	struct outbox_opts oo = { .store_path = path, .linger_ms = linger ? atol(linger) : FLEET_LINGER_MS };
	struct outbox *ob = outbox_open(&oo, err, sizeof(err));
	const char *sync = getenv("PUB_SYNC");
	if (!ob || outbox_add(ob, sync && !strcmp(sync, "1") ? &timed_sync_ops : &timed_ops, NULL, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	fleet_conn_wait(c, 10000);
	if (hub_path)
		pthread_create(&poller, NULL, hub_poller, NULL);

	/* a Falco-shaped alert of a typical size (~900 bytes) */
	struct vg_buf json = { 0 };
	buf_adds(&json, "{\"time\":\"2026-12-06T10:00:00.000000000Z\",\"rule\":\"Bench rule\",\"priority\":\"Warning\","
			"\"output\":\"bench alert\",\"source\":\"syscall\",\"tags\":[\"bench\"],\"hostname\":\"bench\","
			"\"output_fields\":{");
	for (int i = 0; i < 24; i++)
		buf_printf(&json, "%s\"field.%d\":\"value-%d-abcdefghijklmnop\"", i ? "," : "", i, i);
	buf_adds(&json, "}}");

	int64_t start = mono(), period = 1000000000 / rate, next_report = start + 1000000000;
	int64_t last_empty = 0, writer_end = start + secs * 1000000000LL;
	size_t committed = 0;
	for (;;) {
		int64_t now = mono();
		if (now < writer_end && committed < max_id - 16) {
			int64_t due = start + (int64_t)committed * period;
			if (now >= due) {
				sqlite3_reset(ins);
				sqlite3_bind_int64(ins, 1, (int64_t)time(NULL) * 1000000000);
				sqlite3_bind_text(ins, 2, json.data, (int)json.len, SQLITE_STATIC);
				sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
				sqlite3_step(ins);
				int64_t id = sqlite3_last_insert_rowid(db);
				/* timed from just before the commit: a reader cannot see the row earlier,
				 * so no latency comes out negative when this thread is descheduled */
				if ((size_t)id <= max_id) {
					commit_rt[id] = realtime();
					commit_ns[id] = mono();
				}
				sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
				committed++;
				outbox_notify(ob);
				if (now < next_report)
					continue; /* behind schedule: catch up, but report each second */
			} else {
				struct timespec ts = { 0, (long)(due - now) };
				nanosleep(&ts, NULL);
			}
		} else {
			struct timespec ts = { 0, 10000000 };
			nanosleep(&ts, NULL);
		}
		if (mono() >= next_report) {
			struct outbox_stats s;
			outbox_stats(ob, &s, 1);
			if (s.depth == 0)
				last_empty = mono();
			printf("t=%.0f committed=%zu acked=%zu depth=%" PRId64 "\n", (double)(mono() - start) / 1e9,
			       committed, nlat, s.depth);
			fflush(stdout);
			while (next_report <= mono())
				next_report += 1000000000;
			pthread_mutex_lock(&lat_lock);
			bool hub_done = !hub_path || hub_nlat >= committed;
			pthread_mutex_unlock(&lat_lock);
			if (mono() >= writer_end && ((s.depth == 0 && hub_done) || mono() > writer_end + 300000000000LL))
				break;
		}
	}
	if (hub_path) {
		hub_stop = 1;
		pthread_join(poller, NULL);
	}
	outbox_close(ob);
	fleet_close(c);
	qsort(lat_us, nlat, sizeof(*lat_us), cmp_u32);
	qsort(hub_lat_us, hub_nlat, sizeof(*hub_lat_us), cmp_u32);
	if (hub_nlat)
		printf("hub_latency_us p50=%u p90=%u p99=%u max=%u n=%zu of %zu\n", hub_lat_us[hub_nlat / 2],
		       hub_lat_us[hub_nlat * 9 / 10], hub_lat_us[hub_nlat * 99 / 100], hub_lat_us[hub_nlat - 1], hub_nlat,
		       committed);
	qsort(wake_us, nwake, sizeof(*wake_us), cmp_u32);
	qsort(fetch_us, nfetch, sizeof(*fetch_us), cmp_u32);
	if (nwake)
		printf("wake_latency_us p50=%u p90=%u p99=%u max=%u n=%zu\n", wake_us[nwake / 2], wake_us[nwake * 9 / 10],
		       wake_us[nwake * 99 / 100], wake_us[nwake - 1], nwake);
	if (nfetch)
		printf("hub_fetch_latency_us p50=%u p90=%u p99=%u max=%u n=%zu\n", fetch_us[nfetch / 2],
		       fetch_us[nfetch * 9 / 10], fetch_us[nfetch * 99 / 100], fetch_us[nfetch - 1], nfetch);
	qsort(hub_stage_us, hub_nstage, sizeof(*hub_stage_us), cmp_u32);
	if (hub_nstage)
		printf("hub_fetch_to_commit_us p50=%u p90=%u p99=%u max=%u n=%zu\n", hub_stage_us[hub_nstage / 2],
		       hub_stage_us[hub_nstage * 9 / 10], hub_stage_us[hub_nstage * 99 / 100], hub_stage_us[hub_nstage - 1],
		       hub_nstage);
	if (nlat)
		printf("latency_us p50=%u p90=%u p99=%u max=%u n=%zu of %zu\n", lat_us[nlat / 2], lat_us[nlat * 9 / 10],
		       lat_us[nlat * 99 / 100], lat_us[nlat - 1], nlat, committed);
	printf("last_empty_s=%.1f\n", last_empty ? (double)(last_empty - start) / 1e9 : -1.0);
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			printf("rss_kb=%ld\n", atol(line + 6));
	if (f)
		fclose(f);
	sqlite3_finalize(ins);
	sqlite3_close(db);
	buf_free(&json);
	return 0;
}
