/* SPDX-License-Identifier: Apache-2.0 */
#include "fleet/flow_pub.h"

#include <inttypes.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/version.h"
#include "output/flow_rollup.h"

#define BATCH 64
#define ACK_WAIT_MS 5000

struct flow_pub {
	struct fleet_conn *conn;
	jsCtx *js;
	sqlite3 *db;
	sqlite3_stmt *sel, *del, *count;
	char subject[160];
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake, progress;
	bool stopping, kicked;
	bool no_stream; /* the last publish found no stream for the subject */
	struct flow_pub_stats st;
};

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

/* One message: 1 stored (or a duplicate), 0 not (the reason logged once per streak). */
static int publish_one(struct flow_pub *p, int64_t id, const char *uuid, const char *json, size_t len,
		       bool *dup)
{
	struct vg_buf body = { 0 };
	char seq[24];
	natsMsg *m = NULL;
	jsPubAck *pa = NULL;
	jsErrCode jerr = 0;
	jsPubOptions po;

	/* the body carries its uuid first, as alerts do */
	if (len < 2 || json[0] != '{')
		return 1; /* not ours to send: never written so; drop it rather than block the outbox */
	buf_printf(&body, "{\"uuid\":\"%s\"%s%.*s", uuid, json[1] == '}' ? "" : ",", (int)(len - 1), json + 1);
	snprintf(seq, sizeof(seq), "%" PRId64, id);
	natsStatus s = natsMsg_Create(&m, p->subject, NULL, body.data, (int)body.len);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Nats-Msg-Id", uuid);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Vigil-Node", fleet_node(p->conn));
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Vigil-Cluster", fleet_cluster(p->conn));
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Vigil-Kind", "flows");
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Vigil-Seq", seq);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Vigil-Version", VIGIL_VERSION);
	if (s == NATS_OK) {
		jsPubOptions_Init(&po);
		po.MaxWait = ACK_WAIT_MS;
		s = js_PublishMsg(&pa, p->js, m, &po, &jerr);
	}
	*dup = pa && pa->Duplicate;
	if (s == NATS_NO_RESPONDERS) {
		/* nothing stores the subject: no stream VIGIL_FLOWS (a fleet not initialised for flows) */
		pthread_mutex_lock(&p->lock);
		p->no_stream = true;
		pthread_mutex_unlock(&p->lock);
	} else if (s == NATS_OK) {
		pthread_mutex_lock(&p->lock);
		p->no_stream = false;
		pthread_mutex_unlock(&p->lock);
	}
	jsPubAck_Destroy(pa);
	natsMsg_Destroy(m);
	buf_free(&body);
	return s == NATS_OK;
}

/* Publish what waits, oldest first: how many went, or -1 when one failed. */
static long run_once(struct flow_pub *p)
{
	long sent = 0;
	for (;;) {
		int64_t ids[BATCH];
		size_t n = 0;
		bool failed = false;
		sqlite3_reset(p->sel);
		while (n < BATCH && sqlite3_step(p->sel) == SQLITE_ROW) {
			bool dup = false;
			int64_t id = sqlite3_column_int64(p->sel, 0);
			const char *uuid = (const char *)sqlite3_column_text(p->sel, 1);
			const char *json = (const char *)sqlite3_column_text(p->sel, 2);
			size_t len = (size_t)sqlite3_column_bytes(p->sel, 2);
			if (!publish_one(p, id, uuid ? uuid : "", json ? json : "", len, &dup)) {
				failed = true;
				break;
			}
			ids[n++] = id;
			pthread_mutex_lock(&p->lock);
			p->st.published++;
			if (dup)
				p->st.duplicates++;
			pthread_mutex_unlock(&p->lock);
		}
		sqlite3_reset(p->sel);
		if (n) {
			/* acknowledged: gone from the outbox (a crash before this sends them again: duplicates) */
			sqlite3_exec(p->db, "BEGIN", NULL, NULL, NULL);
			for (size_t i = 0; i < n; i++) {
				sqlite3_reset(p->del);
				sqlite3_bind_int64(p->del, 1, ids[i]);
				sqlite3_step(p->del);
			}
			if (sqlite3_exec(p->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
				sqlite3_exec(p->db, "ROLLBACK", NULL, NULL, NULL);
			sent += (long)n;
		}
		if (failed)
			return -1;
		if (n < BATCH)
			return sent;
		pthread_mutex_lock(&p->lock);
		bool stop = p->stopping;
		pthread_mutex_unlock(&p->lock);
		if (stop)
			return sent;
	}
}

static int64_t depth(struct flow_pub *p)
{
	int64_t d = 0;
	sqlite3_reset(p->count);
	if (sqlite3_step(p->count) == SQLITE_ROW)
		d = sqlite3_column_int64(p->count, 0);
	sqlite3_reset(p->count);
	return d;
}

static void *thread_main(void *arg)
{
	struct flow_pub *p = arg;
	long backoff = 0;
	bool logged = false;
	for (;;) {
		pthread_mutex_lock(&p->lock);
		if (!p->stopping && !p->kicked) {
			struct timespec ts;
			deadline_in(&ts, backoff ? backoff : 1000);
			pthread_cond_timedwait(&p->wake, &p->lock, &ts);
		}
		p->kicked = false;
		bool stop = p->stopping;
		pthread_mutex_unlock(&p->lock);
		if (stop)
			break;
		long r = fleet_conn_up(p->conn) ? run_once(p) : -1;
		int64_t d = depth(p);
		pthread_mutex_lock(&p->lock);
		p->st.depth = d;
		if (r < 0)
			p->st.failures++;
		pthread_cond_broadcast(&p->progress);
		pthread_mutex_unlock(&p->lock);
		if (r < 0) {
			backoff = backoff ? (backoff * 2 > 5000 ? 5000 : backoff * 2) : 100;
			if (!logged && fleet_conn_up(p->conn))
				vg_warn("nats: flows not acknowledged by the stream (is VIGIL_FLOWS there? 'vigil fleet init'"
					" makes it); they wait in the store");
			logged = true;
		} else {
			backoff = 0;
			logged = false;
		}
	}
	return NULL;
}

struct flow_pub *flow_pub_start(struct fleet_conn *c, const char *store_path, char *err, size_t errlen)
{
	struct flow_pub *p = xcalloc(1, sizeof(*p));
	jsOptions jo;
	char text[256];

	p->conn = c;
	if (fleet_subject(p->subject, sizeof(p->subject), fleet_cluster(c), fleet_node(c), "flows")) {
		snprintf(err, errlen, "subject too long");
		free(p);
		return NULL;
	}
	if (sqlite3_open_v2(store_path, &p->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "flows' outbox: cannot open %s: %s", store_path,
			 p->db ? sqlite3_errmsg(p->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(p->db, 5000);
	if (sqlite3_exec(p->db, "PRAGMA synchronous=NORMAL;" FLOW_OUTBOX_SCHEMA, NULL, NULL, NULL) ||
	    sqlite3_prepare_v2(p->db, "SELECT id, uuid, json FROM flow_outbox ORDER BY id LIMIT " "64", -1, &p->sel,
			       NULL) ||
	    sqlite3_prepare_v2(p->db, "DELETE FROM flow_outbox WHERE id = ?", -1, &p->del, NULL) ||
	    sqlite3_prepare_v2(p->db, "SELECT count(*) FROM flow_outbox", -1, &p->count, NULL)) {
		snprintf(err, errlen, "flows' outbox in %s: %s", store_path, sqlite3_errmsg(p->db));
		goto fail;
	}
	jsOptions_Init(&jo);
	jo.Wait = ACK_WAIT_MS;
	natsStatus s = natsConnection_JetStream(&p->js, fleet_nc(c), &jo);
	if (s != NATS_OK) {
		snprintf(err, errlen, "JetStream context: %s", fleet_status_text(s, text, sizeof(text)));
		goto fail;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	pthread_cond_init(&p->progress, NULL);
	if (pthread_create(&p->thread, NULL, thread_main, p)) {
		snprintf(err, errlen, "cannot start the flows' publisher thread");
		jsCtx_Destroy(p->js);
		p->js = NULL;
		pthread_mutex_destroy(&p->lock);
		pthread_cond_destroy(&p->wake);
		pthread_cond_destroy(&p->progress);
		goto fail;
	}
	return p;
fail:
	sqlite3_finalize(p->sel);
	sqlite3_finalize(p->del);
	sqlite3_finalize(p->count);
	sqlite3_close(p->db);
	free(p);
	return NULL;
}

void flow_pub_notify(struct flow_pub *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->kicked = true;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
}

bool flow_pub_drain(struct flow_pub *p, long timeout_ms)
{
	if (!p)
		return true;
	struct timespec end;
	deadline_in(&end, timeout_ms);
	flow_pub_notify(p);
	pthread_mutex_lock(&p->lock);
	/* the thread's next look (at once: notified) says the depth */
	p->st.depth = -1;
	bool done = false;
	for (;;) {
		if (p->st.depth == 0) {
			done = true;
			break;
		}
		if (p->no_stream)
			break; /* waiting would not help: the rows stay for the next start */
		if (pthread_cond_timedwait(&p->progress, &p->lock, &end))
			break;
	}
	pthread_mutex_unlock(&p->lock);
	return done;
}

void flow_pub_get_stats(struct flow_pub *p, struct flow_pub_stats *st)
{
	pthread_mutex_lock(&p->lock);
	*st = p->st;
	pthread_mutex_unlock(&p->lock);
}

void flow_pub_stop(struct flow_pub *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	jsCtx_Destroy(p->js);
	sqlite3_finalize(p->sel);
	sqlite3_finalize(p->del);
	sqlite3_finalize(p->count);
	sqlite3_close(p->db);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->wake);
	pthread_cond_destroy(&p->progress);
	free(p);
}
