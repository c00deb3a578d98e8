/* SPDX-License-Identifier: Apache-2.0 */
#include "fleet/publisher.h"

#include <inttypes.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/version.h"

#define PUB_MAX_PENDING 8192
/* how long a closing forwarder waits for the acks of what is in flight (pub_close) */
#define PUB_CLOSE_WAIT_MS 500

/*
 * Batches (docs/fleet.md, "Batches"): a delivery of one record sends it alone
 * (the quiet case: today's format); a larger one packs consecutive records of
 * one kind into messages of about n / PUB_SPREAD records but at least
 * PUB_BATCH_MIN (or all of them: the records the outbox held back while a
 * message was in flight go as one), at most PUB_BATCH_RECS records and
 * PUB_BATCH_BYTES bytes (below the hub's default --max-msg of 256 KiB), all in
 * flight at once. The servers' cost is mostly per message: fewer, larger
 * messages are what keeps a busy cluster's latency low.
 */
#define PUB_SPREAD 8
#define PUB_BATCH_MIN 16
#define PUB_BATCH_RECS 256
#define PUB_BATCH_BYTES (128 * 1024)

#define SPAN_ACKED (-1) /* p->span of a record acknowledged before (the cursor lagged): not sent again */

/* One message of the current delivery: records [first, first + count) of the batch. */
struct plan {
	int kind;
	int64_t first_seq;
	int count;
};

/*
 * What was taken by send() and not yet reported by acked(), in the order
 * taken: one entry a message (or a record acknowledged before, not sent
 * again: state 1 from the start).
 */
enum { U_FLYING, U_STORED, U_FAILED };
struct unit {
	int kind;
	int64_t first_seq;
	int count;
	uint8_t state;
	int64_t sent_ns; /* CLOCK_MONOTONIC */
};

struct publisher {
	struct fleet_conn *conn;
	bool own_conn;
	uint64_t id;             /* in the registry of live publishers (below) */
	struct publisher *next_live;
	jsCtx *js; /* our own: its async-publish options carry our ack handler */
	long ack_timeout_ms;
	char subject[4][160]; /* by enum outbox_kind */
	/* what is in flight, shared with the ack handler (a library thread) */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct unit *q; /* q[qhead..qend): oldest first */
	size_t qhead, qend, qcap;
	void (*wake)(void *arg);
	void *wake_arg;
	bool published; /* js_PublishMsgAsync took a message once (the library's pending list exists) */
	int *span; /* per record of a send that starts a message: how many records it holds */
	size_t cap;
	char last_err[200];
	struct fleet_publisher_stats st;
	/* the messages' boundaries, kept until the stream acknowledged them (and in the store) */
	struct plan *plan;
	size_t nplan, plan_cap;
	int64_t acked_below[4]; /* by kind: everything below was acknowledged (stored with the plan) */
	bool plan_loaded;
	char *store_path, name[32];
	sqlite3 *db;
	struct vg_buf body;
	unsigned char *z; /* a batch, compressed */
	size_t zcap;
};

static const char *const kinds[] = { NULL, "alert", "action", "loss" };

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The message in flight an ack is for, from its kind and seq headers; NULL when none (a late ack). */
static struct unit *unit_of(struct publisher *p, natsMsg *m)
{
	const char *kind = NULL, *seq = NULL;
	int k = 0;
	if (natsMsgHeader_Get(m, "Vigil-Kind", &kind) != NATS_OK ||
	    natsMsgHeader_Get(m, "Vigil-Seq", &seq) != NATS_OK)
		return NULL;
	for (int i = 1; i <= 3; i++)
		if (!strcmp(kind, kinds[i]))
			k = i;
	int64_t s = strtoll(seq, NULL, 10);
	/* acks come mostly in order: the one is near the oldest in flight */
	for (size_t i = p->qhead; i < p->qend; i++) {
		struct unit *u = &p->q[i];
		if (u->state == U_FLYING && u->kind == k && u->first_seq == s)
			return u;
	}
	return NULL;
}

/*
 * libnats calls an ack handler outside its own lock and does not wait for one
 * that runs when jsCtx_Destroy is called, so a handler can still run after
 * pub_close. Handlers therefore find their publisher by its number in this
 * registry, under live_lock, and pub_close takes it out (under the same lock,
 * so after any handler that found it ended) before freeing it: a late handler
 * finds nothing and only frees its message.
 */
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static struct publisher *live_head;
static uint64_t live_ids;

static void live_add(struct publisher *p)
{
	pthread_mutex_lock(&live_lock);
	p->id = ++live_ids;
	p->next_live = live_head;
	live_head = p;
	pthread_mutex_unlock(&live_lock);
}

static void live_remove(struct publisher *p)
{
	pthread_mutex_lock(&live_lock);
	for (struct publisher **q = &live_head; *q; q = &(*q)->next_live)
		if (*q == p) {
			*q = p->next_live;
			break;
		}
	pthread_mutex_unlock(&live_lock);
}

/* Under live_lock: the live publisher numbered id, or NULL. */
static struct publisher *live_find(uint64_t id)
{
	for (struct publisher *p = live_head; p; p = p->next_live)
		if (p->id == id)
			return p;
	return NULL;
}

static void on_ack(jsCtx *js, natsMsg *m, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
	(void)js;
	pthread_mutex_lock(&live_lock);
	struct publisher *p = live_find((uint64_t)(uintptr_t)closure);
	if (!p) { /* closed: nothing waits for this ack any more */
		pthread_mutex_unlock(&live_lock);
		natsMsg_Destroy(m);
		return;
	}
	pthread_mutex_lock(&p->lock);
	struct unit *u = unit_of(p, m);
	if (u) {
		size_t c = (size_t)u->count;
		if (pa) {
			u->state = U_STORED;
			p->st.stored += c;
			if (pa->Duplicate)
				p->st.duplicates += c;
		} else {
			u->state = U_FAILED;
			p->st.failed += c;
			if (pae)
				snprintf(p->last_err, sizeof(p->last_err), "%s%s%s", natsStatus_GetText(pae->Err),
					 pae->ErrText ? ": " : "", pae->ErrText ? pae->ErrText : "");
		}
		pthread_cond_broadcast(&p->cond);
		/* under our lock, so that none comes after pub_close cleared it (the outbox's wake
		 * takes only its own lock, briefly; it never calls us holding it) */
		if (p->wake)
			p->wake(p->wake_arg);
	}
	pthread_mutex_unlock(&p->lock);
	pthread_mutex_unlock(&live_lock);
	natsMsg_Destroy(m);
}

void *fleet_publisher_new(struct fleet_conn *c, long ack_timeout_ms, char *err, size_t errlen)
{
	struct publisher *p = xcalloc(1, sizeof(*p));
	jsOptions jo;
	natsStatus s;
	char text[256];

	p->conn = c;
	p->ack_timeout_ms = ack_timeout_ms > 0 ? ack_timeout_ms : 5000;
	snprintf(p->name, sizeof(p->name), "nats");
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	for (int k = 1; k <= 3; k++)
		if (fleet_subject(p->subject[k], sizeof(p->subject[k]), fleet_cluster(c), fleet_node(c), kinds[k])) {
			snprintf(err, errlen, "subject too long");
			goto fail;
		}
	live_add(p);
	jsOptions_Init(&jo);
	jo.PublishAsync.MaxPending = PUB_MAX_PENDING;
	jo.PublishAsync.AckHandler = on_ack;
	jo.PublishAsync.AckHandlerClosure = (void *)(uintptr_t)p->id; /* see live_lock */
	jo.Wait = p->ack_timeout_ms;
	s = natsConnection_JetStream(&p->js, fleet_nc(c), &jo);
	if (s != NATS_OK) {
		snprintf(err, errlen, "JetStream context: %s", fleet_status_text(s, text, sizeof(text)));
		goto fail;
	}
	return p;
fail:
	live_remove(p);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p);
	return NULL;
}

void fleet_publisher_set_store(void *ctx, const char *store_path)
{
	struct publisher *p = ctx;
	free(p->store_path);
	p->store_path = store_path ? xstrdup(store_path) : NULL;
}

static int pub_open(void **ctx, const char *spec, char *err, size_t errlen)
{
	struct fleet_conn_opts o = { .servers = spec, .client = "vigil-forwarder" };
	struct fleet_conn *c = fleet_connect(&o, err, errlen);
	if (!c)
		return -1;
	struct publisher *p = fleet_publisher_new(c, 0, err, errlen);
	if (!p) {
		fleet_close(c);
		return -1;
	}
	p->own_conn = true;
	*ctx = p;
	return 0;
}

static void take_back(struct publisher *p);

static void pub_close(void *ctx)
{
	struct publisher *p = ctx;
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->wake = NULL; /* the outbox's runner is gone */
	pthread_mutex_unlock(&p->lock);
	if (p->js) {
		/* libnats 3.4 can free the acks' subscription under its reader thread when
		 * jsCtx_Destroy runs while acks arrive (a SEGV in natsConn_processMsg, seen with
		 * tests/tools/close_race): let what is in flight be acknowledged first, briefly */
		pthread_mutex_lock(&p->lock);
		bool published = p->published;
		pthread_mutex_unlock(&p->lock);
		if (published) {
			jsPubOptions po;
			jsPubOptions_Init(&po);
			po.MaxWait = PUB_CLOSE_WAIT_MS;
			js_PublishAsyncComplete(p->js, &po);
		}
		take_back(p); /* what is still in flight: no ack handler for it any more */
		jsCtx_Destroy(p->js);
	}
	live_remove(p); /* a handler still running (or to come) finds nothing now */
	if (p->own_conn)
		fleet_close(p->conn);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	sqlite3_close(p->db);
	free(p->store_path);
	free(p->plan);
	free(p->q);
	free(p->span);
	buf_free(&p->body);
	free(p->z);
	free(p);
}

/* ---- the plan: which records go in which message, kept in the store until acknowledged ---- */

/*
 * Two tables in the agent's store, written in one transaction before a
 * delivery's messages are sent:
 *   outbox_batch  one row per message not yet acknowledged (its boundaries);
 *   outbox_acked  per kind, the sequence below which everything was acknowledged.
 * The outbox's cursor is saved after a delivery and may lag (a busy store, a
 * SIGKILL): the acknowledged mark tells a restarted publisher what not to send
 * again, and the rows what to send again in the same messages.
 */
static const char plan_schema[] = "CREATE TABLE IF NOT EXISTS outbox_batch ("
				  " name TEXT NOT NULL,"	/* the forwarder (its cursor's name) */
				  " kind INTEGER NOT NULL,"	/* 1 alerts, 2 actions, 3 loss records */
				  " first_seq INTEGER NOT NULL," /* the message's first record */
				  " count INTEGER NOT NULL,"	/* and how many consecutive ones it holds */
				  " PRIMARY KEY (name, kind, first_seq)) WITHOUT ROWID;"
				  "CREATE TABLE IF NOT EXISTS outbox_acked ("
				  " name TEXT NOT NULL,"
				  " kind INTEGER NOT NULL,"
				  " below INTEGER NOT NULL," /* every record of this kind below it was acknowledged */
				  " PRIMARY KEY (name, kind)) WITHOUT ROWID;";

/* Forget the plan in memory: the next delivery reads the stored one again. */
static void plan_forget(struct publisher *p)
{
	p->nplan = 0;
	memset(p->acked_below, 0, sizeof(p->acked_below));
	p->plan_loaded = false;
}

static void plan_push(struct publisher *p, struct plan e)
{
	if (p->nplan == p->plan_cap) {
		p->plan_cap = p->plan_cap ? p->plan_cap * 2 : 256;
		p->plan = xrealloc(p->plan, p->plan_cap * sizeof(*p->plan));
	}
	p->plan[p->nplan++] = e;
}

static bool plan_load(struct publisher *p, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL, *ack = NULL;
	plan_forget(p);
	if (!p->db) {
		if (sqlite3_open_v2(p->store_path, &p->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
		    SQLITE_OK) {
			snprintf(err, errlen, "cannot open %s for the batch plan: %s", p->store_path,
				 p->db ? sqlite3_errmsg(p->db) : "out of memory");
			sqlite3_close(p->db);
			p->db = NULL;
			return false;
		}
		sqlite3_busy_timeout(p->db, 5000); /* the agent's writers share the file: wait for them, briefly */
		sqlite3_exec(p->db, "PRAGMA synchronous=NORMAL;", NULL, NULL, NULL);
	}
	bool ok = sqlite3_exec(p->db, plan_schema, NULL, NULL, NULL) == SQLITE_OK &&
		  sqlite3_prepare_v2(p->db,
				     "SELECT kind, first_seq, count FROM outbox_batch WHERE name = ? ORDER BY kind, first_seq",
				     -1, &st, NULL) == SQLITE_OK &&
		  sqlite3_prepare_v2(p->db, "SELECT kind, below FROM outbox_acked WHERE name = ?", -1, &ack, NULL) ==
			  SQLITE_OK;
	int rc = SQLITE_DONE;
	if (ok) {
		sqlite3_bind_text(st, 1, p->name, -1, SQLITE_STATIC);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			plan_push(p, (struct plan){ sqlite3_column_int(st, 0), sqlite3_column_int64(st, 1),
						    sqlite3_column_int(st, 2) });
		ok = rc == SQLITE_DONE;
	}
	if (ok) {
		sqlite3_bind_text(ack, 1, p->name, -1, SQLITE_STATIC);
		while ((rc = sqlite3_step(ack)) == SQLITE_ROW) {
			int k = sqlite3_column_int(ack, 0);
			if (k >= OUTBOX_ALERT && k <= OUTBOX_LOSS)
				p->acked_below[k] = sqlite3_column_int64(ack, 1);
		}
		ok = rc == SQLITE_DONE;
	}
	if (!ok)
		snprintf(err, errlen, "cannot read the batch plan in %s: %s", p->store_path, sqlite3_errmsg(p->db));
	sqlite3_finalize(st);
	sqlite3_finalize(ack);
	if (!ok) {
		plan_forget(p);
		return false;
	}
	p->plan_loaded = true;
	return true;
}

/*
 * Store the plan of kind k from first_seq on, and first_seq as the kind's
 * acknowledged mark (the delivery starts at its first record not acknowledged).
 * new_from: the stored plan of kind k is the one in memory but for what is
 * below first_seq and the entries p->plan[new_from..) just planned, so only
 * those change (a pipelined send: what is in flight stays as stored);
 * PLAN_ALL: entries were dropped or cut anew, the kind's plan is rewritten.
 */
#define PLAN_ALL ((size_t)-1)
static bool plan_save(struct publisher *p, int k, int64_t first_seq, size_t new_from, char *err, size_t errlen)
{
	sqlite3_stmt *del = NULL, *ins = NULL, *ack = NULL;
	bool all = new_from == PLAN_ALL;
	bool ok = sqlite3_exec(p->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK &&
		  sqlite3_prepare_v2(p->db,
				     all ? "DELETE FROM outbox_batch WHERE name = ? AND kind = ?"
					 : "DELETE FROM outbox_batch WHERE name = ? AND kind = ? AND first_seq < ?",
				     -1, &del, NULL) == SQLITE_OK &&
		  sqlite3_prepare_v2(p->db, "INSERT OR REPLACE INTO outbox_batch(name, kind, first_seq, count) VALUES (?,?,?,?)", -1,
				     &ins, NULL) == SQLITE_OK &&
		  sqlite3_prepare_v2(p->db,
				     "INSERT INTO outbox_acked(name, kind, below) VALUES (?,?,?)"
				     " ON CONFLICT(name, kind) DO UPDATE SET below = max(below, excluded.below)",
				     -1, &ack, NULL) == SQLITE_OK;
	if (ok) {
		sqlite3_bind_text(del, 1, p->name, -1, SQLITE_STATIC);
		sqlite3_bind_int(del, 2, k);
		if (!all)
			sqlite3_bind_int64(del, 3, first_seq);
		ok = sqlite3_step(del) == SQLITE_DONE;
	}
	for (size_t i = all ? 0 : new_from; ok && i < p->nplan; i++) {
		if (p->plan[i].kind != k || p->plan[i].first_seq < first_seq)
			continue;
		sqlite3_reset(ins);
		sqlite3_bind_text(ins, 1, p->name, -1, SQLITE_STATIC);
		sqlite3_bind_int(ins, 2, k);
		sqlite3_bind_int64(ins, 3, p->plan[i].first_seq);
		sqlite3_bind_int(ins, 4, p->plan[i].count);
		ok = sqlite3_step(ins) == SQLITE_DONE;
	}
	if (ok) {
		sqlite3_bind_text(ack, 1, p->name, -1, SQLITE_STATIC);
		sqlite3_bind_int(ack, 2, k);
		sqlite3_bind_int64(ack, 3, first_seq);
		ok = sqlite3_step(ack) == SQLITE_DONE;
	}
	sqlite3_finalize(del);
	sqlite3_finalize(ins);
	sqlite3_finalize(ack);
	if (ok && sqlite3_exec(p->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK) {
		if (first_seq > p->acked_below[k])
			p->acked_below[k] = first_seq;
		return true;
	}
	snprintf(err, errlen, "cannot store the batch plan in %s: %s", p->store_path, sqlite3_errmsg(p->db));
	sqlite3_exec(p->db, "ROLLBACK", NULL, NULL, NULL);
	return false;
}

static bool plain(const struct outbox_record *r)
{
	return !memchr(r->json, '\n', r->json_len);
}

/*
 * Cut recs[0..n) into messages, filling p->span (per record: how many records
 * the message it starts holds, 0 inside a message, SPAN_ACKED for a record
 * acknowledged before): the boundaries planned before (a resend: the same
 * messages, the same Nats-Msg-Id, so the stream drops what it has), then new
 * ones. The plan of each kind present is stored before anything is sent;
 * when it cannot be, nothing is (false, err: the outbox retries later), since
 * a message sent unplanned could be cut otherwise after a crash and land
 * twice. *send_n: the records to send now; a planned message that this
 * delivery holds only part of (the delivery is cut by its size) waits, with
 * what follows it, for the next delivery, which starts with it.
 *
 * Pipelined (send() while earlier messages are in flight): flying[k] is the
 * first record of kind k in flight and not acknowledged (0: none), below
 * recs' first of that kind. The planned messages from it up to recs' first
 * are in flight: they stay planned, and the kind's acknowledged mark is
 * stored as flying[k], never above what is in flight.
 */
static bool plan_batch(struct publisher *p, const struct outbox_record *recs, size_t n, const int64_t *flying,
		       size_t *send_n, char *err, size_t errlen)
{
	*send_n = n;
	memset(p->span, 0, n * sizeof(*p->span));
	if (!p->store_path) { /* no store, nothing to resume after a restart: one record a message */
		for (size_t i = 0; i < n; i++)
			p->span[i] = 1;
		return true;
	}
	if (!p->plan_loaded && !plan_load(p, err, errlen))
		return false;
	size_t per = n / PUB_SPREAD;
	if (per < PUB_BATCH_MIN)
		per = n < PUB_BATCH_MIN ? n : PUB_BATCH_MIN;
	if (per > PUB_BATCH_RECS)
		per = PUB_BATCH_RECS;
	for (size_t i = 0; i < n;) {
		int k = recs[i].kind;
		size_t end = i; /* this kind's records: [i, end) */
		while (end < n && (int)recs[end].kind == k)
			end++;
		size_t j = i;
		while (j < end && recs[j].seq < p->acked_below[k])
			p->span[j++] = SPAN_ACKED;
		if (j == end) {
			i = end;
			continue;
		}
		int64_t start = recs[j].seq;
		/* the kind's first record not acknowledged: the oldest in flight, else this one */
		int64_t floor = flying[k] > 0 && flying[k] < start ? flying[k] : start;
		/* what is planned below it was acknowledged: drop it; keep what is in flight and
		 * the planned messages that still fit what is here, plan anew after */
		size_t w = 0;
		bool changed = floor != p->acked_below[k], following = true, cut = false, rewrite = false;
		for (size_t q = 0; q < p->nplan; q++) {
			struct plan *e = &p->plan[q];
			if (e->kind != k || cut) {
				p->plan[w++] = *e;
				continue;
			}
			if (e->first_seq < floor) {
				changed = true;
				continue;
			}
			if (e->first_seq < start) { /* in flight */
				p->plan[w++] = *e;
				continue;
			}
			if (following && j == end) {
				/* beyond what this delivery holds of the kind (a resend from the cursor
				 * whose load ends on a message's end, with later messages sent before):
				 * kept for the next delivery, never cut anew */
				p->plan[w++] = *e;
				continue;
			}
			bool fits = following && j < end && recs[j].seq == e->first_seq && e->count >= 1;
			size_t have = 0; /* the message's records present here, consecutive from j */
			while (fits && have < (size_t)e->count && j + have < end &&
			       (have == 0 || recs[j + have].seq == recs[j + have - 1].seq + 1))
				have++;
			if (fits && have < (size_t)e->count && j + have == end && end == n && j > 0) {
				/* cut by the delivery's size: send it whole next time, with what follows */
				cut = true;
				p->plan[w++] = *e;
				continue;
			}
			fits = fits && have == (size_t)e->count;
			for (size_t c = 0; fits && e->count > 1 && c < have; c++)
				fits = plain(&recs[j + c]);
			if (!fits) {
				/* planned for records no longer here (the disk budget deleted some): plan anew */
				following = false;
				changed = true;
				rewrite = true;
				continue;
			}
			p->span[j] = e->count;
			j += (size_t)e->count;
			p->plan[w++] = *e;
		}
		p->nplan = w;
		size_t new_from = rewrite ? PLAN_ALL : w; /* what follows is planned now */
		if (cut) {
			*send_n = j;
			end = j;
		}
		while (j < end) {
			size_t c = 1, bytes = recs[j].json_len;
			if (per > 1 && plain(&recs[j]))
				while (c < per && j + c < end && recs[j + c].seq == recs[j + c - 1].seq + 1 &&
				       plain(&recs[j + c]) && bytes + 1 + recs[j + c].json_len <= PUB_BATCH_BYTES) {
					bytes += 1 + recs[j + c].json_len;
					c++;
				}
			plan_push(p, (struct plan){ k, recs[j].seq, (int)c });
			p->span[j] = (int)c;
			j += c;
			changed = true;
		}
		if (changed && !plan_save(p, k, floor, new_from, err, errlen)) {
			plan_forget(p); /* what is stored is the truth: read it again next time */
			return false;
		}
		if (cut)
			break;
		i = end;
	}
	return true;
}

/* The message of records recs[0..c): one alone as it is, more as a batch. */
static natsStatus make_msg(struct publisher *p, const struct outbox_record *r, int c, natsMsg **out)
{
	char seq[24], id[96], count[16];
	natsMsg *m = NULL;
	natsStatus s;
	bool zipped = false;
	if (c == 1) {
		s = natsMsg_Create(&m, p->subject[r->kind], NULL, r->json, (int)r->json_len);
		snprintf(id, sizeof(id), "%s", r->uuid);
	} else {
		buf_reset(&p->body);
		for (int i = 0; i < c; i++) {
			if (i)
				buf_addc(&p->body, '\n');
			buf_add(&p->body, r[i].json, r[i].json_len);
		}
		/* a batch's records are much alike: zlib (level 1) makes it several times smaller,
		 * and bytes are most of what the servers spend per record */
		uLongf zlen = compressBound((uLong)p->body.len);
		if (zlen > p->zcap) {
			p->z = xrealloc(p->z, zlen);
			p->zcap = zlen;
		}
		zipped = compress2((Bytef *)p->z, &zlen, (const Bytef *)p->body.data, (uLong)p->body.len, 1) ==
				 Z_OK &&
			 zlen < p->body.len;
		if (zipped)
			s = natsMsg_Create(&m, p->subject[r->kind], NULL, (const char *)p->z, (int)zlen);
		else
			s = natsMsg_Create(&m, p->subject[r->kind], NULL, p->body.data, (int)p->body.len);
		snprintf(id, sizeof(id), "%s+%d", r->uuid, c);
	}
	snprintf(seq, sizeof(seq), "%" PRId64, r->seq);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Nats-Msg-Id", id);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Vigil-Node", fleet_node(p->conn));
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Vigil-Cluster", fleet_cluster(p->conn));
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Vigil-Kind", kinds[r->kind]);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Vigil-Seq", seq);
	if (s == NATS_OK && c > 1) {
		snprintf(count, sizeof(count), "%d", c);
		s = natsMsgHeader_Set(m, "Vigil-Count", count);
	}
	if (s == NATS_OK && zipped)
		s = natsMsgHeader_Set(m, "Vigil-Encoding", "zlib");
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Vigil-Version", VIGIL_VERSION);
	if (s != NATS_OK) {
		natsMsg_Destroy(m);
		m = NULL;
	}
	*out = m;
	return s;
}

static void unit_push(struct publisher *p, struct unit u)
{
	if (p->qend == p->qcap) {
		if (p->qhead > 0) { /* slide down what is left */
			memmove(p->q, p->q + p->qhead, (p->qend - p->qhead) * sizeof(*p->q));
			p->qend -= p->qhead;
			p->qhead = 0;
		}
		if (p->qend == p->qcap) {
			p->qcap = p->qcap ? p->qcap * 2 : 64;
			p->q = xrealloc(p->q, p->qcap * sizeof(*p->q));
		}
	}
	p->q[p->qend++] = u;
}

/* Forget everything in flight: late acks are ignored, and the library forgets it too. */
static void take_back(struct publisher *p)
{
	pthread_mutex_lock(&p->lock);
	p->qhead = p->qend = 0;
	p->last_err[0] = 0;
	bool published = p->published;
	pthread_mutex_unlock(&p->lock);
	natsMsgList pending = { 0 };
	/* (libnats 3.4 crashes here before any asynchronous publish) */
	if (published && js_PublishAsyncGetPendingList(&pending, p->js) == NATS_OK)
		natsMsgList_Destroy(&pending);
}

/*
 * Send recs[0..n) without waiting for their acks (the forwarder's send()):
 * plan them (stored first), publish each message asynchronously, and queue
 * it as in flight. How many records were taken, or -1 with err.
 */
static long pub_send(void *ctx, const struct outbox_record *recs, size_t n, char *err, size_t errlen)
{
	struct publisher *p = ctx;
	jsPubOptions po;
	natsStatus s = NATS_OK;
	size_t sent = 0, msgs = 0, skipped = 0;
	char text[256];
	int64_t flying[4] = { 0 };

	if (!fleet_conn_up(p->conn)) {
		snprintf(err, errlen, "not connected to NATS");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (recs[i].kind < OUTBOX_ALERT || recs[i].kind > OUTBOX_LOSS) {
			snprintf(err, errlen, "record of unknown kind %d", recs[i].kind);
			n = i;
			break;
		}
	if (!n)
		return -1;
	if (n > p->cap) { /* span and the plan are this thread's: no lock */
		p->span = xrealloc(p->span, n * sizeof(*p->span));
		p->cap = n;
	}
	pthread_mutex_lock(&p->lock);
	for (size_t i = p->qhead; i < p->qend; i++) {
		struct unit *u = &p->q[i];
		if (u->state != U_STORED && (!flying[u->kind] || u->first_seq < flying[u->kind]))
			flying[u->kind] = u->first_seq;
	}
	pthread_mutex_unlock(&p->lock);
	/* the store's transaction without the lock: acks keep coming meanwhile */
	size_t send_n = 0;
	if (!plan_batch(p, recs, n, flying, &send_n, err, errlen))
		return -1;
	pthread_mutex_lock(&p->lock);
	/* queued before they are published (an ack can come at once); what could not be published is
	 * taken out again below (only this thread removes entries) */
	size_t before = p->qend - p->qhead;
	int64_t now = mono_ns();
	for (size_t i = 0; i < send_n;) {
		int c = p->span[i];
		unit_push(p, (struct unit){ recs[i].kind, recs[i].seq, c == SPAN_ACKED ? 1 : c,
					    c == SPAN_ACKED ? U_STORED : U_FLYING, now });
		i += c == SPAN_ACKED ? 1 : (size_t)c;
	}
	/* this send's first entry (unit_push may have slid the queue down; only this thread does) */
	size_t first_unit = p->qhead + before;
	pthread_mutex_unlock(&p->lock);

	jsPubOptions_Init(&po);
	po.MaxWait = p->ack_timeout_ms;
	size_t unit = 0; /* units handled, from first_unit */
	while (sent < send_n) {
		natsMsg *m;
		int c = p->span[sent];
		if (c == SPAN_ACKED) {
			sent++;
			skipped++;
			unit++;
			continue;
		}
		s = make_msg(p, &recs[sent], c, &m);
		if (s == NATS_OK) {
			s = js_PublishMsgAsync(p->js, &m, &po);
			natsMsg_Destroy(m); /* NULL when the library took it */
		}
		if (s != NATS_OK)
			break;
		sent += (size_t)c;
		msgs++;
		unit++;
	}
	pthread_mutex_lock(&p->lock);
	if (s != NATS_OK) {
		snprintf(err, errlen, "publish: %s", fleet_status_text(s, text, sizeof(text)));
		p->qend = first_unit + unit; /* not published: not in flight */
	}
	p->st.published += sent - skipped;
	p->st.messages += msgs;
	if (msgs)
		p->published = true;
	pthread_mutex_unlock(&p->lock);
	if (!sent)
		return -1;
	/* fewer than n with err empty: the rest waits for the next call (see plan_batch) */
	return (long)sent;
}

/*
 * How many records, from the oldest in flight, were acknowledged since the
 * last call (the forwarder's acked()); -1 with err when the oldest not
 * acknowledged failed or waited more than the ack timeout (and a second):
 * then nothing is in flight any more.
 */
static long pub_acked(void *ctx, char *err, size_t errlen)
{
	struct publisher *p = ctx;
	long got = 0;
	bool failed = false;
	int64_t deadline = mono_ns() - (int64_t)(p->ack_timeout_ms + 1000) * 1000000;

	pthread_mutex_lock(&p->lock);
	while (p->qhead < p->qend) {
		struct unit *u = &p->q[p->qhead];
		if (u->state == U_STORED) {
			got += u->count;
			p->qhead++;
			continue;
		}
		if (u->state == U_FAILED || u->sent_ns < deadline)
			failed = true;
		break;
	}
	if (p->qhead == p->qend)
		p->qhead = p->qend = 0;
	if (failed && !got)
		snprintf(err, errlen, "%s", p->last_err[0] ? p->last_err : "acknowledgement timed out");
	pthread_mutex_unlock(&p->lock);
	if (got)
		return got; /* the failure is said at the next call */
	if (failed) {
		take_back(p);
		return -1;
	}
	return 0;
}

/* True when nothing taken is still waiting for its ack. */
static bool all_answered(struct publisher *p)
{
	for (size_t i = p->qhead; i < p->qend; i++)
		if (p->q[i].state == U_FLYING)
			return false;
	return true;
}

/* The forwarder's deliver(): send, wait for every ack (or the ack timeout), say the prefix stored. */
static long pub_deliver(void *ctx, const struct outbox_record *recs, size_t n, char *err, size_t errlen)
{
	struct publisher *p = ctx;
	long total = 0;

	pthread_mutex_lock(&p->lock);
	bool busy = p->qhead < p->qend;
	pthread_mutex_unlock(&p->lock);
	if (busy) /* send() and deliver() are not mixed: forget the pipeline's (it is sent again) */
		take_back(p);
	pthread_mutex_lock(&p->lock);
	p->last_err[0] = 0;
	pthread_mutex_unlock(&p->lock);
	long taken = pub_send(p, recs, n, err, errlen);
	if (taken < 0)
		return -1;
	/* every ack or error of what was sent, or our own deadline */
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	long wait_ms = p->ack_timeout_ms + 1000;
	ts.tv_sec += wait_ms / 1000;
	ts.tv_nsec += (wait_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&p->lock);
	while (!all_answered(p))
		if (pthread_cond_timedwait(&p->cond, &p->lock, &ts))
			break;
	pthread_mutex_unlock(&p->lock);
	char aerr[200] = "";
	for (;;) {
		long a = pub_acked(p, aerr, sizeof(aerr));
		if (a <= 0)
			break;
		total += a;
	}
	pthread_mutex_lock(&p->lock);
	bool left = p->qhead < p->qend;
	pthread_mutex_unlock(&p->lock);
	if (left) /* not acknowledged in time: sent again later (a duplicate if it arrived) */
		take_back(p);
	if (total < taken && !err[0])
		snprintf(err, errlen, "%s", aerr[0] ? aerr : p->last_err[0] ? p->last_err : "acknowledgement timed out");
	/* fewer than n with err empty: the rest waits for the next delivery (see plan_batch) */
	return total == 0 && n > 0 ? -1 : total;
}

static void pub_set_wake(void *ctx, void (*wake)(void *arg), void *arg)
{
	struct publisher *p = ctx;
	pthread_mutex_lock(&p->lock);
	p->wake = wake;
	p->wake_arg = arg;
	pthread_mutex_unlock(&p->lock);
}

void fleet_publisher_get_stats(void *ctx, struct fleet_publisher_stats *st)
{
	struct publisher *p = ctx;
	pthread_mutex_lock(&p->lock);
	*st = p->st;
	pthread_mutex_unlock(&p->lock);
}

const struct vg_forwarder_ops fleet_publisher_ops = {
	.name = "nats",
	.open = pub_open,
	.close = pub_close,
	.deliver = pub_deliver,
	.send = pub_send,
	.acked = pub_acked,
	.set_wake = pub_set_wake,
};
