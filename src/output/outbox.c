/* SPDX-License-Identifier: Apache-2.0 */
#include "output/outbox.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/sha.h>

#include "common/buf.h"
#include "common/log.h"

#define KINDS 3 /* indexed by enum outbox_kind; 0 unused */
#define TRIM_CHUNK 5000 /* rows per transaction: the agent's commits wait at most one */
#define IDLE_POLL_MS 1000

static const char *const table_of[KINDS] = { NULL, "alerts", "actions" };
static const char *const kind_name[] = { NULL, "alert", "action", "loss" };

static const char outbox_schema[] =
	"CREATE TABLE IF NOT EXISTS outbox_cursor ("
	" name TEXT PRIMARY KEY,"            /* the forwarder: nats, syslog, webhook, file */
	" alert_seq INTEGER NOT NULL DEFAULT 0,"  /* delivered up to this alerts.id */
	" action_seq INTEGER NOT NULL DEFAULT 0," /* delivered up to this actions.id */
	" lost INTEGER NOT NULL DEFAULT 0,"       /* records lost to the disk budget, all kinds */
	" loss_seq INTEGER NOT NULL DEFAULT 0);"  /* loss records delivered */
	"CREATE TABLE IF NOT EXISTS outbox_trim ("
	" kind INTEGER PRIMARY KEY,"         /* 1 alerts, 2 actions */
	" upto INTEGER NOT NULL,"            /* every row with id <= upto was deleted */
	" time_ns INTEGER NOT NULL,"
	" reason TEXT NOT NULL);";

struct runner {
	struct outbox *ob;
	const struct vg_forwarder_ops *ops;
	char name[32]; /* the cursor's: the forwarder's name, or the output's own (outbox_add_as) */
	void *ctx;
	pthread_t thread;
	bool started;
	sqlite3 *db;
	sqlite3_stmt *sel[KINDS], *maxid[KINDS], *oldest[KINDS], *save, *trims;
	/* the runner's own (only its thread touches them after the start) */
	int64_t cur[KINDS];
	int64_t lost, loss_seq;
	uint64_t seen_gen;
	struct vg_buf arena;
	struct outbox_record *recs;
	size_t *offs; /* json offsets in arena, fixed up into recs[].json after loading */
	/* pipelined (ops->send): sent up to here (cur: acknowledged up to here), and what is in
	 * flight in the order sent (a ring of 2 * batch_max) */
	int64_t sent[KINDS];
	struct fly {
		int kind;
		int64_t seq;
		size_t bytes;
	} *fly;
	size_t fly_head, fly_n, fly_cap, fly_bytes;
	/* shared, under ob->lock */
	int64_t pub_cur[KINDS];
	uint64_t ack_gen; /* the forwarder said acks came */
	struct outbox_stats st;
};

struct outbox {
	struct outbox_opts o;
	char *path, *hostname;
	pthread_mutex_t lock;
	pthread_cond_t wake, progress;
	uint64_t gen; /* commits notified */
	bool stopping;
	volatile sig_atomic_t cancelled;
	struct runner *r[OUTBOX_MAX_FORWARDERS];
	size_t n;
	pthread_t keeper;
	bool keeper_started;
	pthread_mutex_t trim_lock; /* the keeper's connection, also outbox_trim_now's */
	sqlite3 *kdb;
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void deadline_in(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static sqlite3 *open_db(const char *path, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "outbox: cannot open store %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 5000);
	/* cursors are re-sent after a crash at worst (deduplicated downstream): no fsync per batch */
	sqlite3_exec(db, "PRAGMA synchronous=NORMAL;", NULL, NULL, NULL);
	return db;
}

static int64_t one_int(sqlite3 *db, const char *sql, int64_t dflt)
{
	sqlite3_stmt *st;
	int64_t v = dflt;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return dflt;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* ---- the disk budget ---- */

static uint64_t used_bytes(sqlite3 *db)
{
	int64_t pages = one_int(db, "PRAGMA page_count", 0), free_pages = one_int(db, "PRAGMA freelist_count", 0),
		size = one_int(db, "PRAGMA page_size", 4096);
	return pages > free_pages ? (uint64_t)(pages - free_pages) * (uint64_t)size : 0;
}

static long trim(struct outbox *ob);

long outbox_trim_now(struct outbox *ob)
{
	pthread_mutex_lock(&ob->trim_lock);
	long n = trim(ob);
	pthread_mutex_unlock(&ob->trim_lock);
	return n;
}

static long trim(struct outbox *ob)
{
	sqlite3 *db = ob->kdb;
	uint64_t used = used_bytes(db), budget = ob->o.budget_bytes;
	long deleted = 0;
	char reason[160], sql[256];

	if (used <= budget)
		return 0;
	double frac = (double)(used - budget / 10 * 9) / (double)used;
	snprintf(reason, sizeof(reason), "disk budget: the store used %" PRIu64 " bytes of %" PRIu64, used, budget);
	for (int k = OUTBOX_ALERT; k <= OUTBOX_ACTION; k++) {
		snprintf(sql, sizeof(sql), "SELECT min(id) FROM %s", table_of[k]);
		int64_t lo = one_int(db, sql, 0);
		snprintf(sql, sizeof(sql), "SELECT max(id) FROM %s", table_of[k]);
		int64_t hi = one_int(db, sql, 0);
		if (lo <= 0 || hi <= lo)
			continue;
		/* the newest row stays: ids go on from it, and cursors need them increasing */
		int64_t cut = lo + (int64_t)ceil((double)(hi - lo + 1) * frac) - 1;
		if (cut >= hi)
			cut = hi - 1;
		for (int64_t from = lo; from <= cut;) {
			int64_t to = from + TRIM_CHUNK - 1 < cut ? from + TRIM_CHUNK - 1 : cut;
			sqlite3_stmt *st = NULL;
			snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE id <= ?", table_of[k]);
			bool ok = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK &&
				  sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK;
			if (ok) {
				sqlite3_bind_int64(st, 1, to);
				ok = sqlite3_step(st) == SQLITE_DONE;
				deleted += sqlite3_changes(db);
			}
			sqlite3_finalize(st);
			st = NULL;
			if (ok && sqlite3_prepare_v2(db,
						     "INSERT INTO outbox_trim(kind, upto, time_ns, reason) VALUES (?,?,?,?)"
						     " ON CONFLICT(kind) DO UPDATE SET upto = max(upto, excluded.upto),"
						     " time_ns = excluded.time_ns, reason = excluded.reason",
						     -1, &st, NULL) == SQLITE_OK) {
				sqlite3_bind_int(st, 1, k);
				sqlite3_bind_int64(st, 2, to);
				sqlite3_bind_int64(st, 3, now_ns());
				sqlite3_bind_text(st, 4, reason, -1, SQLITE_TRANSIENT);
				ok = sqlite3_step(st) == SQLITE_DONE;
			} else {
				ok = false;
			}
			sqlite3_finalize(st);
			if (!ok || sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
				vg_warn("outbox: cannot trim the store to its disk budget: %s", sqlite3_errmsg(db));
				sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
				return -1;
			}
			from = to + 1;
		}
	}
	if (deleted)
		vg_warn("outbox: %s; deleted the %ld oldest records (undelivered ones are reported as lost)", reason,
			deleted);
	return deleted;
}

static void *keeper_main(void *arg)
{
	struct outbox *ob = arg;
	uint64_t gen = 0;
	int64_t last = 0;
	bool first = true;

	pthread_mutex_lock(&ob->lock);
	while (!ob->stopping) {
		struct timespec ts;
		deadline_in(&ts, IDLE_POLL_MS);
		pthread_cond_timedwait(&ob->wake, &ob->lock, &ts);
		if (ob->stopping)
			break;
		/* at most once a second, however often the agent commits, and only when it did */
		if (now_ns() - last < 1000000000 || (!first && ob->gen == gen))
			continue;
		first = false;
		gen = ob->gen;
		pthread_mutex_unlock(&ob->lock);
		outbox_trim_now(ob);
		last = now_ns();
		pthread_mutex_lock(&ob->lock);
	}
	pthread_mutex_unlock(&ob->lock);
	return NULL;
}

/* ---- a runner ---- */

static int runner_prepare(struct runner *r, char *err, size_t errlen)
{
	char sql[512];
	for (int k = OUTBOX_ALERT; k <= OUTBOX_ACTION; k++) {
		if (k == OUTBOX_ALERT)
			snprintf(sql, sizeof(sql),
				 "SELECT id, time_ns, priority, uuid, json FROM alerts WHERE id > ? ORDER BY id LIMIT ?");
		else
			snprintf(sql, sizeof(sql),
				 "SELECT id, time_ns, uuid, rule, action, target, container_id, container_name,"
				 " cgroup, outcome, detail, path, latency_ns FROM actions WHERE id > ? ORDER BY id LIMIT ?");
		if (sqlite3_prepare_v2(r->db, sql, -1, &r->sel[k], NULL))
			goto bad;
		snprintf(sql, sizeof(sql), "SELECT max(id) FROM %s", table_of[k]);
		if (sqlite3_prepare_v2(r->db, sql, -1, &r->maxid[k], NULL))
			goto bad;
		snprintf(sql, sizeof(sql), "SELECT time_ns FROM %s WHERE id > ? ORDER BY id LIMIT 1", table_of[k]);
		if (sqlite3_prepare_v2(r->db, sql, -1, &r->oldest[k], NULL))
			goto bad;
	}
	if (sqlite3_prepare_v2(r->db,
			       "INSERT INTO outbox_cursor(name, alert_seq, action_seq, lost, loss_seq) VALUES (?,?,?,?,?)"
			       " ON CONFLICT(name) DO UPDATE SET alert_seq = excluded.alert_seq,"
			       " action_seq = excluded.action_seq, lost = excluded.lost, loss_seq = excluded.loss_seq",
			       -1, &r->save, NULL) ||
	    sqlite3_prepare_v2(r->db, "SELECT kind, upto, time_ns, reason FROM outbox_trim", -1, &r->trims, NULL))
		goto bad;
	/* where this forwarder stopped; a new one starts from the store's first record */
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(r->db, "SELECT alert_seq, action_seq, lost, loss_seq FROM outbox_cursor WHERE name = ?",
			       -1, &st, NULL))
		goto bad;
	sqlite3_bind_text(st, 1, r->name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		r->cur[OUTBOX_ALERT] = sqlite3_column_int64(st, 0);
		r->cur[OUTBOX_ACTION] = sqlite3_column_int64(st, 1);
		r->lost = sqlite3_column_int64(st, 2);
		r->loss_seq = sqlite3_column_int64(st, 3);
	}
	sqlite3_finalize(st);
	return 0;
bad:
	snprintf(err, errlen, "outbox: %s", sqlite3_errmsg(r->db));
	return -1;
}

static void runner_save(struct runner *r)
{
	sqlite3_stmt *st = r->save;
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, r->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, r->cur[OUTBOX_ALERT]);
	sqlite3_bind_int64(st, 3, r->cur[OUTBOX_ACTION]);
	sqlite3_bind_int64(st, 4, r->lost);
	sqlite3_bind_int64(st, 5, r->loss_seq);
	/* a cursor not saved is only behind: what it covers is sent again, and deduplicated */
	if (sqlite3_step(st) != SQLITE_DONE)
		vg_debug("outbox %s: cannot save the cursor: %s", r->name, sqlite3_errmsg(r->db));
	sqlite3_reset(st);
}

/* The stats a reader sees: depth and the oldest record's age, after each pass. */
static void runner_publish(struct runner *r, bool down, const char *err, uint64_t delivered, bool failed)
{
	int64_t depth = 0, oldest = 0;
	for (int k = OUTBOX_ALERT; k <= OUTBOX_ACTION; k++) {
		sqlite3_stmt *st = r->maxid[k];
		sqlite3_reset(st);
		if (sqlite3_step(st) == SQLITE_ROW) {
			int64_t hi = sqlite3_column_int64(st, 0);
			if (hi > r->cur[k])
				depth += hi - r->cur[k];
		}
		sqlite3_reset(st);
		st = r->oldest[k];
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, r->cur[k]);
		if (sqlite3_step(st) == SQLITE_ROW) {
			int64_t t = sqlite3_column_int64(st, 0);
			if (!oldest || t < oldest)
				oldest = t;
		}
		sqlite3_reset(st);
	}
	pthread_mutex_lock(&r->ob->lock);
	for (int k = 0; k < KINDS; k++)
		r->pub_cur[k] = r->cur[k];
	r->st.depth = depth;
	r->st.oldest_age_s = oldest ? (double)(now_ns() - oldest) / 1e9 : 0;
	if (r->st.oldest_age_s < 0)
		r->st.oldest_age_s = 0;
	r->st.delivered += delivered;
	r->st.lost = (uint64_t)r->lost;
	r->st.down = down;
	if (failed)
		r->st.failures++;
	if (err && *err)
		snprintf(r->st.last_error, sizeof(r->st.last_error), "%s", err);
	pthread_cond_broadcast(&r->ob->progress);
	pthread_mutex_unlock(&r->ob->lock);
}

/* A loss record's id: the same for the same loss, so that a retry is a duplicate. */
static void loss_uuid(char out[33], const char *name, int kind, int64_t first, int64_t last, int64_t t)
{
	char text[160];
	unsigned char md[SHA256_DIGEST_LENGTH];
	int n = snprintf(text, sizeof(text), "vigil-loss/%s/%d/%" PRId64 "/%" PRId64 "/%" PRId64, name, kind, first,
			 last, t);
	SHA256((const unsigned char *)text, (size_t)n, md);
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void iso_time(char *buf, size_t len, int64_t ns)
{
	time_t s = (time_t)(ns / 1000000000);
	struct tm tm;
	gmtime_r(&s, &tm);
	size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%09" PRId64 "Z", ns % 1000000000);
}

/*
 * Rows this forwarder had not delivered were deleted by the budget: one loss
 * record per kind first. 0 when there is none or it was delivered, -1 when
 * the destination is down.
 */
static void read_trims(struct runner *r, int64_t *upto, int64_t *when, char (*reason)[160])
{
	sqlite3_stmt *st = r->trims;
	sqlite3_reset(st);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int k = sqlite3_column_int(st, 0);
		if (k < OUTBOX_ALERT || k > OUTBOX_ACTION)
			continue;
		upto[k] = sqlite3_column_int64(st, 1);
		when[k] = sqlite3_column_int64(st, 2);
		snprintf(reason[k], sizeof(reason[k]), "%s", (const char *)sqlite3_column_text(st, 3));
	}
	sqlite3_reset(st);
}

/* Rows not yet acknowledged were deleted by the budget (pipelined: say so once nothing is in flight). */
static bool losses_pending(struct runner *r)
{
	int64_t upto[KINDS] = { 0 }, when[KINDS] = { 0 };
	char reason[KINDS][160];
	read_trims(r, upto, when, reason);
	for (int k = OUTBOX_ALERT; k <= OUTBOX_ACTION; k++)
		if (r->cur[k] < upto[k])
			return true;
	return false;
}

static int deliver_losses(struct runner *r, char *err, size_t errlen)
{
	int64_t upto[KINDS] = { 0 }, when[KINDS] = { 0 };
	char reason[KINDS][160] = { "" };

	read_trims(r, upto, when, reason);
	for (int k = OUTBOX_ALERT; k <= OUTBOX_ACTION; k++) {
		if (r->cur[k] >= upto[k])
			continue;
		int64_t first = r->cur[k] + 1, count = upto[k] - r->cur[k];
		char id[33], t[48];
		struct vg_buf b = { 0 };
		struct vg_json j;
		loss_uuid(id, r->name, k, first, upto[k], when[k]);
		iso_time(t, sizeof(t), when[k]);
		jw_init(&j, &b);
		jw_obj_begin(&j, NULL);
		jw_str(&j, "uuid", id);
		jw_str(&j, "time", t);
		jw_str(&j, "kind", "loss");
		if (r->ob->hostname)
			jw_str(&j, "hostname", r->ob->hostname);
		jw_str(&j, "forwarder", r->name);
		jw_str(&j, "records", kind_name[k]);
		jw_int(&j, "first_seq", first);
		jw_int(&j, "last_seq", upto[k]);
		jw_int(&j, "count", count);
		jw_str(&j, "reason", reason[k]);
		jw_obj_end(&j);
		struct outbox_record rec = {
			.kind = OUTBOX_LOSS,
			.seq = r->loss_seq + 1,
			.uuid = id,
			.time_ns = when[k],
			.priority = 4, /* warning */
			.json = b.data,
			.json_len = b.len,
		};
		long got = r->ops->deliver(r->ctx, &rec, 1, err, errlen);
		buf_free(&b);
		if (got != 1)
			return -1;
		vg_warn("outbox %s: %" PRId64 " %ss (seq %" PRId64 "..%" PRId64 ") were lost before delivery: %s",
			r->name, count, kind_name[k], first, upto[k], reason[k]);
		r->loss_seq++;
		r->lost += count;
		r->cur[k] = upto[k];
		runner_save(r);
		runner_publish(r, false, NULL, 1, false);
	}
	return 0;
}

static const char *col(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);
	return s ? s : "";
}

/* Load up to max records after the cursors from[] into r->recs; returns how many. */
static size_t runner_load(struct runner *r, const int64_t *from, size_t max)
{
	size_t n = 0;

	buf_reset(&r->arena);
	for (int k = OUTBOX_ALERT; k <= OUTBOX_ACTION && n < max; k++) {
		sqlite3_stmt *st = r->sel[k];
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, from[k]);
		sqlite3_bind_int64(st, 2, (int64_t)(max - n));
		while (n < max && sqlite3_step(st) == SQLITE_ROW) {
			struct outbox_record *rec = &r->recs[n];
			memset(rec, 0, sizeof(*rec));
			rec->kind = (enum outbox_kind)k;
			rec->seq = sqlite3_column_int64(st, 0);
			rec->time_ns = sqlite3_column_int64(st, 1);
			/* the uuid is stored first in the arena, then the JSON with it as its first field */
			size_t uuid_off = r->arena.len;
			const char *uuid = col(st, k == OUTBOX_ALERT ? 3 : 2);
			buf_add(&r->arena, uuid, strlen(uuid) + 1);
			size_t json_off = r->arena.len;
			if (k == OUTBOX_ALERT) {
				const char *json = col(st, 4);
				rec->priority = sqlite3_column_int(st, 2);
				buf_printf(&r->arena, "{\"uuid\":\"%s\"", uuid);
				/* Falco's object, with "uuid" as its first field (falcosidekick reads it) */
				if (json[0] == '{') {
					const char *rest = json + 1;
					while (*rest == ' ')
						rest++;
					if (*rest != '}')
						buf_addc(&r->arena, ',');
					buf_adds(&r->arena, rest);
				} else {
					buf_adds(&r->arena, "}");
				}
			} else {
				struct vg_json j;
				char t[48];
				rec->priority = 6;
				iso_time(t, sizeof(t), rec->time_ns);
				jw_init(&j, &r->arena);
				jw_obj_begin(&j, NULL);
				jw_str(&j, "uuid", uuid);
				jw_str(&j, "time", t);
				jw_str(&j, "rule", col(st, 3));
				jw_str(&j, "action", col(st, 4));
				jw_str(&j, "target", col(st, 5));
				jw_str(&j, "container_id", col(st, 6));
				if (sqlite3_column_type(st, 7) != SQLITE_NULL)
					jw_str(&j, "container_name", col(st, 7));
				else
					jw_null(&j, "container_name");
				jw_str(&j, "cgroup", col(st, 8));
				jw_str(&j, "outcome", col(st, 9));
				jw_str(&j, "detail", col(st, 10));
				jw_str(&j, "path", col(st, 11));
				jw_int(&j, "latency_ns", sqlite3_column_int64(st, 12));
				if (r->ob->hostname)
					jw_str(&j, "hostname", r->ob->hostname);
				jw_obj_end(&j);
			}
			rec->json_len = r->arena.len - json_off;
			buf_addc(&r->arena, '\0');
			r->offs[2 * n] = uuid_off;
			r->offs[2 * n + 1] = json_off;
			n++;
		}
		sqlite3_reset(st);
	}
	for (size_t i = 0; i < n; i++) {
		r->recs[i].uuid = r->arena.data + r->offs[2 * i];
		r->recs[i].json = r->arena.data + r->offs[2 * i + 1];
	}
	return n;
}

/* One pass: losses, then a batch. >0 delivered, 0 nothing to do, -1 failed (err). */
static long runner_pass(struct runner *r, char *err, size_t errlen)
{
	if (deliver_losses(r, err, errlen))
		return -1;
	size_t n = runner_load(r, r->cur, r->ob->o.batch_max);
	if (!n)
		return 0;
	long got = r->ops->deliver(r->ctx, r->recs, n, err, errlen);
	if (got > (long)n)
		got = (long)n;
	for (long i = 0; i < got; i++)
		r->cur[r->recs[i].kind] = r->recs[i].seq;
	if (got > 0)
		runner_save(r);
	if (got > 0 && got < (long)n && !err[0])
		return got; /* the rest in the next call, by the forwarder's choice */
	if (got < (long)n) {
		if (!err[0])
			snprintf(err, errlen, "%ld of %zu records delivered", got < 0 ? 0 : got, n);
		return got > 0 ? -(got + 1) : -1; /* progress but a failure: caller backs off a little */
	}
	return got;
}

/* ---- a pipelined runner (the forwarder has send/acked: docs/fleet.md, "Pipelining") ---- */

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The forwarder's acks came (its thread). */
static void runner_wake(void *arg)
{
	struct runner *r = arg;
	pthread_mutex_lock(&r->ob->lock);
	r->ack_gen++;
	pthread_cond_broadcast(&r->ob->wake);
	pthread_mutex_unlock(&r->ob->lock);
}

/* The first n in flight arrived: the cursor moves over them (an acknowledged prefix). */
static void fly_pop(struct runner *r, size_t n)
{
	if (n > r->fly_n)
		n = r->fly_n; /* a forwarder saying more than it was given: only what it was given */
	for (size_t i = 0; i < n; i++) {
		struct fly *f = &r->fly[r->fly_head];
		if (f->seq > r->cur[f->kind])
			r->cur[f->kind] = f->seq;
		r->fly_bytes -= f->bytes;
		r->fly_head = (r->fly_head + 1) % r->fly_cap;
	}
	r->fly_n -= n;
}

/* Nothing in flight any more (a failure): sent again from the cursor. */
static void fly_reset(struct runner *r)
{
	r->fly_head = r->fly_n = r->fly_bytes = 0;
	for (int k = 0; k < KINDS; k++)
		r->sent[k] = r->cur[k];
}

/*
 * After a failed delivery: the next backoff (doubled; back to the minimum when
 * part went through; at most the maximum). The failure is said once per outage
 * and again when its reason changes (`said` holds the reason said last).
 */
static long runner_backoff(struct runner *r, long backoff, bool some_delivered, const char *err, char *said,
			   size_t saidlen)
{
	const struct outbox *ob = r->ob;
	if (backoff == 0 || strcmp(err, said)) {
		vg_warn("outbox %s: cannot deliver (%s); retrying with backoff", r->name, err[0] ? err : "destination down");
		snprintf(said, saidlen, "%s", err);
	}
	backoff = backoff ? backoff * 2 : ob->o.backoff_min_ms;
	if (some_delivered)
		backoff = ob->o.backoff_min_ms;
	return backoff > ob->o.backoff_max_ms ? ob->o.backoff_max_ms : backoff;
}

/*
 * Whether what was committed since the last send waits for the acks of what is
 * in flight (opts.linger_ms): only after a load that was not full (a backlog goes
 * in full loads, pipelined), only while fewer commits than a full load came, and
 * only until linger_ms after the first commit found waiting (none: nothing to hold, an
 * ack's wake does not start a hold). *hold_until: 0, or
 * when that hold ends.
 */
static bool runner_holds(const struct runner *r, bool last_full, uint64_t gen_sent, int64_t *hold_until)
{
	const struct outbox *ob = r->ob;
	uint64_t commits = r->seen_gen - gen_sent; /* since the last load was read */
	if (!ob->o.linger_ms || !r->fly_n || last_full || !commits || commits >= ob->o.batch_max)
		return false;
	int64_t now = mono_ms();
	if (!*hold_until)
		*hold_until = now + ob->o.linger_ms;
	return now < *hold_until;
}

/*
 * The pipelined loop: take the forwarder's acks (the cursor moves over the
 * acknowledged prefix and is saved), send what was committed since the last
 * send while at most one delivery's worth (batch_max records) is in flight
 * beside it, and wait for a commit or an ack. Records committed while a
 * partial load is in flight wait for its acks, up to opts.linger_ms, and then
 * go in one load: at a steady trickle the servers get a few messages of
 * several records instead of one message each (runner_holds). A failure
 * forgets what is in flight and sends again from the cursor after the
 * backoff; the forwarder makes that resend the same messages.
 */
static void runner_pipelined(struct runner *r)
{
	struct outbox *ob = r->ob;
	size_t max = ob->o.batch_max;
	long backoff = 0;
	int64_t retry_at = 0, hold_until = 0;
	uint64_t gen_sent = 0; /* the commits notified when the last load was read */
	bool last_full = false;
	char err[256], said[256] = "";

	r->fly_cap = 2 * max;
	r->fly = xcalloc(r->fly_cap, sizeof(*r->fly));
	fly_reset(r);
	r->ops->set_wake(r->ctx, runner_wake, r);
	runner_publish(r, false, NULL, 0, false);
	pthread_mutex_lock(&ob->lock);
	while (!ob->stopping) {
		r->seen_gen = ob->gen;
		uint64_t seen_ack = r->ack_gen;
		pthread_mutex_unlock(&ob->lock);
		err[0] = 0;
		bool failed = false, more = false, sent_any = false, holding = false;
		long delivered = 0;

		long a = r->ops->acked(r->ctx, err, sizeof(err));
		if (a > 0) {
			size_t before = r->fly_n;
			fly_pop(r, (size_t)a);
			delivered = (long)(before - r->fly_n);
			runner_save(r);
			more = true; /* a failure after them is said at the next call */
		} else if (a < 0) {
			failed = true;
			fly_reset(r);
		}
		if (!failed && mono_ms() >= retry_at) {
			if (losses_pending(r)) {
				/* rows not acknowledged were deleted: once nothing is in flight, the loss records */
				if (!r->fly_n) {
					if (deliver_losses(r, err, sizeof(err)))
						failed = true;
					fly_reset(r);
				}
			} else if (r->fly_n <= max && r->fly_bytes < OUTBOX_WINDOW_BYTES &&
				   !(holding = runner_holds(r, last_full, gen_sent, &hold_until))) {
				hold_until = 0;
				gen_sent = r->seen_gen;
				size_t n = runner_load(r, r->sent, max);
				last_full = n == max;
				long t = n ? r->ops->send(r->ctx, r->recs, n, err, sizeof(err)) : 0;
				if (t > (long)n)
					t = (long)n;
				for (long i = 0; i < t; i++) {
					struct fly *f = &r->fly[(r->fly_head + r->fly_n) % r->fly_cap];
					f->kind = r->recs[i].kind;
					f->seq = r->recs[i].seq;
					f->bytes = r->recs[i].json_len;
					r->fly_n++;
					r->fly_bytes += f->bytes;
					r->sent[f->kind] = f->seq;
				}
				sent_any = t > 0;
				if (t < (long)n && (t < 0 || err[0])) {
					if (!err[0])
						snprintf(err, sizeof(err), "the forwarder took none of %zu records", n);
					failed = true; /* what is in flight stays: its acks still count */
				} else if (n == max || (t > 0 && t < (long)n)) {
					more = true; /* a full load, or the rest by the forwarder's choice */
				}
			}
		}
		if (delivered || failed || sent_any)
			runner_publish(r, failed && !delivered && !sent_any, err, (uint64_t)delivered, failed);
		if (failed) {
			backoff = runner_backoff(r, backoff, delivered > 0, err, said, sizeof(said));
			retry_at = mono_ms() + backoff;
			more = false;
		} else if (backoff && delivered) {
			vg_info("outbox %s: delivering again", r->name);
			backoff = 0;
			said[0] = 0;
		}
		pthread_mutex_lock(&ob->lock);
		if (more)
			continue;
		int64_t now = mono_ms();
		long wait = retry_at > now ? (long)(retry_at - now) : IDLE_POLL_MS;
		bool can_send = retry_at <= now && r->fly_n <= max && r->fly_bytes < OUTBOX_WINDOW_BYTES;
		if (holding) /* until the acks, the hold's end or a full load's worth of commits */
			wait = hold_until > now ? (long)(hold_until - now) : 0;
		struct timespec ts;
		deadline_in(&ts, wait);
		/* an ack wakes; a commit wakes only when something can be sent (while holding: when
		 * a full load's worth came); the backoff, the hold's end or a second (the acks'
		 * timeout is checked at each wake) ends the wait */
		while (!ob->stopping && r->ack_gen == seen_ack &&
		       (!can_send || ob->gen == r->seen_gen || (holding && ob->gen - gen_sent < max)))
			if (pthread_cond_timedwait(&ob->wake, &ob->lock, &ts) == ETIMEDOUT)
				break;
	}
	pthread_mutex_unlock(&ob->lock);
}

static void *runner_main(void *arg)
{
	struct runner *r = arg;
	struct outbox *ob = r->ob;
	long backoff = 0;
	char err[256], said[256] = "";

	if (r->ops->send && r->ops->acked && r->ops->set_wake) {
		runner_pipelined(r);
		return NULL;
	}

	runner_publish(r, false, NULL, 0, false);
	pthread_mutex_lock(&ob->lock);
	while (!ob->stopping) {
		r->seen_gen = ob->gen;
		pthread_mutex_unlock(&ob->lock);
		err[0] = 0;
		long got = runner_pass(r, err, sizeof(err));
		long delivered = got > 0 ? got : got < -1 ? -got - 1 : 0;
		bool failed = got < 0;
		runner_publish(r, failed && delivered == 0, err, (uint64_t)delivered, failed);
		if (failed) {
			backoff = runner_backoff(r, backoff, delivered > 0, err, said, sizeof(said));
		} else if (backoff) {
			vg_info("outbox %s: delivering again", r->name);
			backoff = 0;
			said[0] = 0;
		}
		pthread_mutex_lock(&ob->lock);
		if (got > 0)
			continue; /* more may be waiting */
		struct timespec ts;
		deadline_in(&ts, backoff ? backoff : IDLE_POLL_MS);
		/* a failure waits out its backoff (commits do not shorten it); idle waits for a commit */
		while (!ob->stopping && (backoff || ob->gen == r->seen_gen))
			if (pthread_cond_timedwait(&ob->wake, &ob->lock, &ts) == ETIMEDOUT)
				break;
	}
	pthread_mutex_unlock(&ob->lock);
	return NULL;
}

/* ---- the outbox ---- */

struct outbox *outbox_open(const struct outbox_opts *o, char *err, size_t errlen)
{
	struct outbox *ob = xcalloc(1, sizeof(*ob));
	ob->o = *o;
	if (!ob->o.budget_bytes)
		ob->o.budget_bytes = OUTBOX_DEFAULT_BUDGET;
	if (!ob->o.batch_max)
		ob->o.batch_max = 1024;
	if (ob->o.backoff_min_ms <= 0)
		ob->o.backoff_min_ms = 100;
	if (ob->o.backoff_max_ms < ob->o.backoff_min_ms)
		ob->o.backoff_max_ms = ob->o.backoff_min_ms > 5000 ? ob->o.backoff_min_ms : 5000;
	ob->path = xstrdup(o->store_path);
	ob->hostname = o->hostname ? xstrdup(o->hostname) : NULL;
	ob->o.store_path = ob->path;
	ob->o.hostname = ob->hostname;
	pthread_mutex_init(&ob->lock, NULL);
	pthread_mutex_init(&ob->trim_lock, NULL);
	pthread_cond_init(&ob->wake, NULL);
	pthread_cond_init(&ob->progress, NULL);
	if (!(ob->kdb = open_db(ob->path, err, errlen)))
		goto fail;
	if (sqlite3_exec(ob->kdb, outbox_schema, NULL, NULL, NULL)) {
		snprintf(err, errlen, "outbox: cannot initialise %s: %s", ob->path, sqlite3_errmsg(ob->kdb));
		goto fail;
	}
	if (one_int(ob->kdb, "SELECT count(*) FROM pragma_table_info('alerts') WHERE name = 'uuid'", 0) != 1) {
		snprintf(err, errlen, "outbox: %s is not a Vigil store of schema 2 or later", ob->path);
		goto fail;
	}
	if (pthread_create(&ob->keeper, NULL, keeper_main, ob)) {
		snprintf(err, errlen, "outbox: cannot start a thread: %s", strerror(errno));
		goto fail;
	}
	ob->keeper_started = true;
	return ob;
fail:
	outbox_close(ob);
	return NULL;
}

int outbox_add(struct outbox *ob, const struct vg_forwarder_ops *ops, void *ctx, char *err, size_t errlen)
{
	return outbox_add_as(ob, ops, ctx, ops->name, err, errlen);
}

int outbox_add_as(struct outbox *ob, const struct vg_forwarder_ops *ops, void *ctx, const char *name, char *err,
		  size_t errlen)
{
	struct runner *r;
	if (ob->n == OUTBOX_MAX_FORWARDERS) {
		snprintf(err, errlen, "outbox: more than %d forwarders", OUTBOX_MAX_FORWARDERS);
		goto fail;
	}
	if (!name || !*name || strlen(name) >= sizeof(r->name)) {
		snprintf(err, errlen, "outbox: a forwarder's name is 1 to %zu bytes", sizeof(r->name) - 1);
		goto fail;
	}
	for (size_t i = 0; i < ob->n; i++)
		if (!strcmp(ob->r[i]->name, name)) {
			snprintf(err, errlen, "outbox: forwarder %s given twice (each needs a name of its own: its cursor)", name);
			goto fail;
		}
	r = xcalloc(1, sizeof(*r));
	r->ob = ob;
	r->ops = ops;
	r->ctx = ctx;
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->st.name, sizeof(r->st.name), "%s", name);
	r->recs = xcalloc(ob->o.batch_max, sizeof(*r->recs));
	r->offs = xcalloc(2 * ob->o.batch_max, sizeof(*r->offs));
	ob->r[ob->n++] = r; /* closed with the outbox from here on */
	if (!(r->db = open_db(ob->path, err, errlen)) || runner_prepare(r, err, errlen))
		return -1;
	if (pthread_create(&r->thread, NULL, runner_main, r)) {
		snprintf(err, errlen, "outbox: cannot start a thread: %s", strerror(errno));
		return -1;
	}
	r->started = true;
	return 0;
fail:
	ops->close(ctx);
	return -1;
}

int outbox_add_spec(struct outbox *ob, const struct vg_forwarder_ops *ops, const char *spec, char *err,
		    size_t errlen)
{
	void *ctx = NULL;
	if (ops->open(&ctx, spec, err, errlen))
		return -1;
	return outbox_add(ob, ops, ctx, err, errlen);
}

void outbox_notify(struct outbox *ob)
{
	if (!ob)
		return;
	pthread_mutex_lock(&ob->lock);
	ob->gen++;
	pthread_cond_broadcast(&ob->wake);
	pthread_mutex_unlock(&ob->lock);
}

void outbox_cancel(struct outbox *ob)
{
	if (ob)
		ob->cancelled = 1;
}

bool outbox_drain(struct outbox *ob, long timeout_ms)
{
	int64_t target[KINDS] = { 0 };
	char sql[64];
	struct timespec end;
	bool done = false;

	if (!ob || !ob->n)
		return true;
	pthread_mutex_lock(&ob->trim_lock);
	for (int k = OUTBOX_ALERT; k <= OUTBOX_ACTION; k++) {
		snprintf(sql, sizeof(sql), "SELECT max(id) FROM %s", table_of[k]);
		target[k] = one_int(ob->kdb, sql, 0);
	}
	pthread_mutex_unlock(&ob->trim_lock);
	outbox_notify(ob);
	if (timeout_ms >= 0)
		deadline_in(&end, timeout_ms);
	pthread_mutex_lock(&ob->lock);
	while (!ob->cancelled) {
		done = true;
		for (size_t i = 0; i < ob->n; i++)
			for (int k = OUTBOX_ALERT; k <= OUTBOX_ACTION; k++)
				if (ob->r[i]->pub_cur[k] < target[k])
					done = false;
		if (done)
			break;
		struct timespec ts;
		deadline_in(&ts, 200); /* and look at the cancel flag */
		if (timeout_ms >= 0 && (ts.tv_sec > end.tv_sec || (ts.tv_sec == end.tv_sec && ts.tv_nsec > end.tv_nsec)))
			ts = end;
		if (pthread_cond_timedwait(&ob->progress, &ob->lock, &ts) == ETIMEDOUT && timeout_ms >= 0) {
			struct timespec now;
			clock_gettime(CLOCK_REALTIME, &now);
			if (now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec))
				break;
		}
	}
	pthread_mutex_unlock(&ob->lock);
	return done;
}

size_t outbox_stats(struct outbox *ob, struct outbox_stats *out, size_t max)
{
	size_t n = 0;
	if (!ob)
		return 0;
	pthread_mutex_lock(&ob->lock);
	for (; n < ob->n && n < max; n++)
		out[n] = ob->r[n]->st;
	pthread_mutex_unlock(&ob->lock);
	return n;
}

void outbox_close(struct outbox *ob)
{
	if (!ob)
		return;
	pthread_mutex_lock(&ob->lock);
	ob->stopping = true;
	pthread_cond_broadcast(&ob->wake);
	pthread_mutex_unlock(&ob->lock);
	if (ob->keeper_started)
		pthread_join(ob->keeper, NULL);
	for (size_t i = 0; i < ob->n; i++) {
		struct runner *r = ob->r[i];
		if (r->started)
			pthread_join(r->thread, NULL);
		r->ops->close(r->ctx);
		for (int k = 0; k < KINDS; k++) {
			sqlite3_finalize(r->sel[k]);
			sqlite3_finalize(r->maxid[k]);
			sqlite3_finalize(r->oldest[k]);
		}
		sqlite3_finalize(r->save);
		sqlite3_finalize(r->trims);
		sqlite3_close(r->db);
		buf_free(&r->arena);
		free(r->fly);
		free(r->recs);
		free(r->offs);
		free(r);
	}
	sqlite3_close(ob->kdb);
	pthread_mutex_destroy(&ob->lock);
	pthread_mutex_destroy(&ob->trim_lock);
	pthread_cond_destroy(&ob->wake);
	pthread_cond_destroy(&ob->progress);
	free(ob->path);
	free(ob->hostname);
	free(ob);
}
