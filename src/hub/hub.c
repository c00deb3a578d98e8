/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "common/buf.h"
#include "common/log.h"
#include "hub/hub.h"
#include "hub/hub_api.h"
#include "hub/hub_fetch.h"
#include "hub/hub_flows.h"
#include "hub/hub_profiles.h"
#include "hub/hub_store.h"
#include "hub/hub_scans.h"

/* How long an alert fetch waits when nothing is there. It is not what a lone record
 * waits: the library's first request is a no-wait one with an expiry, which the
 * server (2.9) ends as soon as it has delivered anything, so the fetch returns
 * within a round trip of the first message (bench/fleet_publish.sh section 6
 * measures it). It only bounds how long a stopping hub waits. */
#define ALERT_WAIT_MS 200
/* The same for heartbeats and flows, in a thread of their own (below): a fetch
 * that finds nothing waits this long before the other stream is looked at. */
#define SIDE_WAIT_MS 100

#define INC(x) __atomic_add_fetch(&(x), 1, __ATOMIC_RELAXED)
#define ADD(x, v) __atomic_add_fetch(&(x), (v), __ATOMIC_RELAXED)

static int64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int64_t mono_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Bad input is logged at most LOG_BURST times per LOG_WINDOW_MS, then summed up. */
#define LOG_BURST 10
#define LOG_WINDOW_MS 10000
struct ratelog {
	int64_t window_start;
	int logged;
	uint64_t suppressed;
};

static void log_reject(struct ratelog *rl, const char *why)
{
	int64_t t = mono_ms();
	if (t - rl->window_start >= LOG_WINDOW_MS) {
		if (rl->suppressed)
			vg_warn("hub: %llu more messages refused in the last %d s (see /api/v1/status)",
				(unsigned long long)rl->suppressed, LOG_WINDOW_MS / 1000);
		rl->window_start = t;
		rl->logged = 0;
		rl->suppressed = 0;
	}
	if (rl->logged < LOG_BURST) {
		rl->logged++;
		vg_warn("hub: refused a message: %s", why);
	} else
		rl->suppressed++;
}

static char *read_file(const char *path, size_t max, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) || st.st_size <= 0 || (size_t)st.st_size > max) {
		snprintf(err, errlen, "cannot read %s: %s", path, fd < 0 ? strerror(errno) : "empty or too large");
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	char *b = xmalloc((size_t)st.st_size + 1);
	ssize_t n = read(fd, b, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		snprintf(err, errlen, "cannot read %s", path);
		free(b);
		return NULL;
	}
	b[n] = 0;
	return b;
}

/* The hub's durable pull consumer on a stream, created if absent; bound to it. */
static natsSubscription *subscribe(jsCtx *js, const char *stream, const char *durable, int max_ack_pending)
{
	jsConsumerConfig cc;
	jsConsumerConfig_Init(&cc);
	cc.Durable = durable;
	cc.AckPolicy = js_AckExplicit;
	cc.DeliverPolicy = js_DeliverAll;
	cc.MaxAckPending = max_ack_pending;
	cc.AckWait = (int64_t)30 * 1000000000LL;
	cc.MaxRequestBatch = 0;
	jsConsumerInfo *ci = NULL;
	jsErrCode jerr = 0;
	natsStatus s = js_AddConsumer(&ci, js, stream, &cc, NULL, &jerr);
	if (s != NATS_OK && jerr != JSConsumerNameExistErr && jerr != JSConsumerExistingActiveErr) {
		/* the durable exists with another configuration: use it as it is */
		s = js_GetConsumerInfo(&ci, js, stream, durable, NULL, &jerr);
	}
	char buf[256];
	if (s != NATS_OK) {
		vg_err("hub: cannot create or find consumer %s on stream %s: %s (does the stream exist? "
		       "'vigil fleet init' creates it)",
		       durable, stream, fleet_status_text(s, buf, sizeof(buf)));
		return NULL;
	}
	jsConsumerInfo_Destroy(ci);
	jsSubOptions so;
	jsSubOptions_Init(&so);
	so.Stream = stream;
	so.Consumer = durable;
	natsSubscription *sub = NULL;
	s = js_PullSubscribe(&sub, js, NULL, durable, NULL, &so, &jerr);
	if (s != NATS_OK) {
		vg_err("hub: cannot bind to consumer %s on %s: %s", durable, stream, fleet_status_text(s, buf, sizeof(buf)));
		return NULL;
	}
	return sub;
}

struct consumer {
	const struct hub_opts *o;
	struct hub_store *store;
	struct hub_stats *stats;
	struct ratelog rl;
	natsMsg **ok;
	size_t nok, cap;
};

/* One fetch's messages, and when the fetch returned them (the rows' recv_ns). */
struct fetched {
	natsMsgList list;
	int64_t recv_ns;
};

/* Store the records of one message into the open transaction; the message goes to
 * c->ok (acknowledged after the commit) unless it was refused whole. -1: the store failed. */
static int take_msg(struct consumer *c, natsMsg *msg, int64_t recv, uint64_t *stored, uint64_t *dups,
		    uint64_t *flow_msgs, uint64_t *flow_rows)
{
	struct hub_headers h = { 0 };
	natsMsgHeader_Get(msg, "Nats-Msg-Id", &h.msg_id);
	natsMsgHeader_Get(msg, "Vigil-Node", &h.node);
	natsMsgHeader_Get(msg, "Vigil-Cluster", &h.cluster);
	natsMsgHeader_Get(msg, "Vigil-Kind", &h.kind);
	natsMsgHeader_Get(msg, "Vigil-Seq", &h.seq);
	natsMsgHeader_Get(msg, "Vigil-Version", &h.version);
	natsMsgHeader_Get(msg, "Vigil-Count", &h.count);
	natsMsgHeader_Get(msg, "Vigil-Encoding", &h.encoding);
	const char *subject = natsMsg_GetSubject(msg);
	struct hub_batch b;
	char err[256];
	/* one record, or a batch of them (docs/fleet.md, "Batches") */
	enum hub_reject r = hub_batch_open(subject, &h, natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg),
					   c->o->max_msg, &b, err, sizeof(err));
	if (r != HUB_OK) {
		hub_batch_close(&b);
		INC(c->stats->rejected[r]);
		log_reject(&c->rl, err);
		/* never delivered again: it will not get better */
		natsMsg_Term(msg, NULL);
		return 0;
	}
	while (b.next < b.count) {
		struct hub_msg m;
		r = hub_batch_next(&b, subject, c->o->max_msg, &m, err, sizeof(err));
		if (r != HUB_OK) {
			/* this record alone: the others of its batch stand */
			INC(c->stats->rejected[r]);
			log_reject(&c->rl, err);
			if (b.count == 1) {
				hub_batch_close(&b);
				natsMsg_Term(msg, NULL);
				return 0;
			}
			continue;
		}
		enum hub_kind kind = m.kind;
		size_t nflows = m.nflows;
		int rc = hub_store_add(c->store, &m, recv);
		hub_msg_free(&m);
		if (rc < 0) {
			hub_batch_close(&b);
			return -1;
		}
		if (rc == 0 && kind != HUB_HEARTBEAT)
			(*dups)++;
		else if (kind == HUB_FLOWS) {
			(*flow_msgs)++;
			*flow_rows += nflows;
		} else if (kind <= HUB_HEARTBEAT)
			stored[kind - 1]++;
	}
	hub_batch_close(&b);
	c->ok[c->nok++] = msg;
	return 0;
}

/* Store what several fetches returned in one transaction, commit it, then acknowledge
 * each message: 0, or -1 when the store failed (nothing acknowledged: all delivered again). */
static int take_lists(struct consumer *c, struct fetched *f, int nf)
{
	uint64_t stored[4] = { 0 }, dups = 0, flow_msgs = 0, flow_rows = 0; /* counted once committed */
	size_t total = 0;
	for (int l = 0; l < nf; l++)
		total += (size_t)f[l].list.Count;
	c->nok = 0;
	if (total > c->cap) {
		c->cap = total;
		c->ok = xrealloc(c->ok, c->cap * sizeof(*c->ok));
	}
	for (int l = 0; l < nf; l++)
		for (int i = 0; i < f[l].list.Count; i++)
			if (take_msg(c, f[l].list.Msgs[i], f[l].recv_ns, stored, &dups, &flow_msgs, &flow_rows))
				goto failed;
	if (hub_store_commit(c->store))
		goto failed;
	for (size_t i = 0; i < c->nok; i++)
		natsMsg_Ack(c->ok[i], NULL);
	for (int k = 0; k < 4; k++)
		ADD(c->stats->stored[k], stored[k]);
	ADD(c->stats->duplicates, dups);
	ADD(c->stats->flow_msgs, flow_msgs);
	ADD(c->stats->flow_rows, flow_rows);
	INC(c->stats->batches);
	return 0;
failed:
	INC(c->stats->commit_failures);
	vg_err("hub: %s; the batch is not acknowledged and will be delivered again", hub_store_error(c->store));
	hub_store_rollback(c->store);
	for (int l = 0; l < nf; l++)
		for (int i = 0; i < f[l].list.Count; i++)
			natsMsg_Nak(f[l].list.Msgs[i], NULL);
	return -1;
}

/* The flows stream is optional: a fleet initialised before it existed has none. Bound when it is there. */
static natsSubscription *subscribe_flows(jsCtx *js, const struct hub_opts *o, bool *told)
{
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	jsOptions jo;
	/* briefly: a hub user without the permission gets no answer at all, and the consumer waits */
	jsOptions_Init(&jo);
	jo.Wait = 500;
	if (js_GetStreamInfo(&si, js, HUB_FLOWS_STREAM, &jo, &jerr) != NATS_OK) {
		if (!*told)
			vg_info("hub: no stream %s yet ('vigil fleet init' makes it): no flows until it exists",
				HUB_FLOWS_STREAM);
		*told = true;
		return NULL;
	}
	jsStreamInfo_Destroy(si);
	return subscribe(js, HUB_FLOWS_STREAM, o->durable, o->max_ack_pending);
}

/* Retention between batches: small transactions, so the consumer waits at most one. */
#define RETAIN_BATCH 500
#define RETAIN_EVERY_MS 10000
static void retain(struct hub_store *store, const struct hub_opts *o, struct hub_stats *st, int64_t *next)
{
	char err[256];
	if (o->retain_ns <= 0 || mono_ms() < *next)
		return;
	uint64_t del[HUB_RET__N] = { 0 };
	long n = hub_retain_step(hub_store_db(store), now_ns() - o->retain_ns, RETAIN_BATCH, del, err, sizeof(err));
	INC(st->retain_runs);
	if (n < 0) {
		INC(st->retain_errors);
		vg_warn("hub: %s", err);
	}
	for (int i = 0; i < HUB_RET__N; i++)
		ADD(st->retained[i], del[i]);
	/* image scans and admission decisions (hub_scans.c) */
	long sn = hub_scans_retain(hub_store_db(store), now_ns() - o->retain_ns, RETAIN_BATCH, err, sizeof(err));
	if (sn < 0) {
		INC(st->retain_errors);
		vg_warn("hub: %s", err);
	}
	/* a full batch of a kind: more wait, go on soon (the consumer's batches in between) */
	bool more = sn >= RETAIN_BATCH;
	for (int i = 0; i < HUB_RET__N; i++)
		more |= del[i] >= RETAIN_BATCH;
	*next = mono_ms() + (more ? 0 : RETAIN_EVERY_MS);
}

/*
 * Fetching and committing overlap. Two threads take turns fetching alerts (a lock
 * passes the turn), a third fetches heartbeats and flows (their fetches that find
 * nothing last their whole wait, which alerts no longer wait behind). A thread whose
 * fetch returned messages hands the turn to the other alert fetcher, then stores
 * them, commits (an fsync with the default synchronous=FULL) and only then
 * acknowledges them (the contract: a message is acknowledged after the commit that
 * holds it) -- unless a commit is already running: then it queues them and goes back
 * to fetching, and the thread committing stores everything queued in its next
 * transaction before it stops committing. So messages that come during a commit are
 * fetched meanwhile and go in the next commit (under load one commit holds several
 * fetches: fewer fsyncs an alert), and a message that comes to an idle hub is stored
 * by the thread that fetched it, with no hand-over to another thread (which on a
 * loaded machine costs a scheduling delay). The queue holds at most QUEUE_LISTS
 * fetches and max(--batch, --max-ack-pending / 2) messages: a fetcher waits while it
 * is full. Alert fetches are queued in the order they were made (a ticket taken with
 * the turn), so records are stored in stream order as before. The store's connection
 * is used by one committing thread at a time, retention included.
 */
#define QUEUE_LISTS 1024

struct sink {
	pthread_mutex_t mu;
	pthread_cond_t cv_room;
	struct fetched *q, *spare; /* QUEUE_LISTS each: the committing thread swaps them */
	int n;
	size_t msgs, max_msgs;
	bool committing; /* a thread holds the store */
	uint64_t next_put; /* the alert fetch whose turn it is to be queued (fetch order is stream order) */
	pthread_cond_t cv_order;
	struct consumer c;
	int64_t next_retain;
};

/* With k->mu held and k->committing set by the caller: commit what is queued until
 * nothing is, then give the store up. Returns with k->mu held. */
static void commit_queued(struct sink *k)
{
	while (k->n) {
		struct fetched *got = k->q;
		int n = k->n;
		k->q = k->spare;
		k->spare = got;
		k->n = 0;
		k->msgs = 0;
		pthread_cond_broadcast(&k->cv_room);
		pthread_mutex_unlock(&k->mu);
		/* got (k->spare) is this thread's until it swaps again, which only the committing thread does */
		int rc = take_lists(&k->c, got, n);
		for (int i = 0; i < n; i++)
			natsMsgList_Destroy(&got[i].list);
		if (rc) {
			struct timespec t = { 0, 500 * 1000 * 1000 };
			nanosleep(&t, NULL);
		}
		pthread_mutex_lock(&k->mu);
	}
	k->committing = false;
	pthread_cond_broadcast(&k->cv_room);
}

/* A fetch's messages: committed now by this thread, or by the one committing (the list is the sink's then).
 * ticket: the alert fetch's number in fetch order (queued in that order, so that records are stored in
 * stream order), or NO_TICKET (heartbeats and flows: one thread, in order already). */
#define NO_TICKET UINT64_MAX
static void sink_put(struct sink *k, natsMsgList *list, int64_t recv_ns, uint64_t ticket)
{
	pthread_mutex_lock(&k->mu);
	while (ticket != NO_TICKET && k->next_put != ticket)
		pthread_cond_wait(&k->cv_order, &k->mu);
	/* full only while a commit runs (the committing thread empties it before it stops) */
	while (k->committing && (k->n == QUEUE_LISTS || (k->msgs && k->msgs + (size_t)list->Count > k->max_msgs)))
		pthread_cond_wait(&k->cv_room, &k->mu);
	k->q[k->n++] = (struct fetched){ .list = *list, .recv_ns = recv_ns };
	k->msgs += (size_t)list->Count;
	memset(list, 0, sizeof(*list));
	if (ticket != NO_TICKET) {
		k->next_put++;
		pthread_cond_broadcast(&k->cv_order);
	}
	if (!k->committing) {
		k->committing = true;
		commit_queued(k);
	}
	pthread_mutex_unlock(&k->mu);
}

/* Retention, when it is due and no commit runs (else later). */
static void sink_retain(struct sink *k)
{
	if (mono_ms() < __atomic_load_n(&k->next_retain, __ATOMIC_RELAXED))
		return;
	pthread_mutex_lock(&k->mu);
	if (k->committing) {
		pthread_mutex_unlock(&k->mu);
		return;
	}
	k->committing = true;
	pthread_mutex_unlock(&k->mu);
	int64_t next = k->next_retain;
	retain(k->c.store, k->c.o, k->c.stats, &next);
	__atomic_store_n(&k->next_retain, next, __ATOMIC_RELAXED);
	pthread_mutex_lock(&k->mu);
	commit_queued(k); /* what came meanwhile */
	pthread_mutex_unlock(&k->mu);
}

static void sink_init(struct sink *k, const struct hub_opts *o, struct hub_store *store, struct hub_stats *st)
{
	memset(k, 0, sizeof(*k));
	pthread_mutex_init(&k->mu, NULL);
	pthread_cond_init(&k->cv_room, NULL);
	pthread_cond_init(&k->cv_order, NULL);
	k->q = xcalloc(QUEUE_LISTS, sizeof(*k->q));
	k->spare = xcalloc(QUEUE_LISTS, sizeof(*k->spare));
	k->max_msgs = (size_t)(o->max_ack_pending / 2 > o->batch ? o->max_ack_pending / 2 : o->batch);
	k->c = (struct consumer){ .o = o, .store = store, .stats = st };
	k->c.cap = (size_t)o->batch;
	k->c.ok = xcalloc(k->c.cap, sizeof(*k->c.ok));
}

/* After every fetcher stopped: nothing is queued (a committing thread empties the queue
 * before it stops), but commit what would be, then free. */
static void sink_free(struct sink *k)
{
	pthread_mutex_lock(&k->mu);
	if (!k->committing && k->n) {
		k->committing = true;
		commit_queued(k);
	}
	pthread_mutex_unlock(&k->mu);
	free(k->c.ok);
	free(k->q);
	free(k->spare);
	pthread_mutex_destroy(&k->mu);
	pthread_cond_destroy(&k->cv_room);
	pthread_cond_destroy(&k->cv_order);
}

/* The alerts' fetchers: two take turns (see above). */
struct alerts {
	const struct hub_opts *o;
	natsSubscription *sub;
	struct hub_stats *stats;
	struct sink *k;
	pthread_mutex_t turn;
	uint64_t next_ticket; /* under turn */
	volatile sig_atomic_t *stop;
};

static void *alerts_main(void *arg)
{
	struct alerts *al = arg;
	while (!*al->stop) {
		natsMsgList list = { 0 };
		jsErrCode jerr = 0;
		pthread_mutex_lock(&al->turn);
		if (*al->stop) {
			pthread_mutex_unlock(&al->turn);
			break;
		}
		/* what waits comes at once, and when nothing does, the first message to come
		 * ends the fetch (see ALERT_WAIT_MS) */
		natsStatus s = hub_fetch(&list, al->sub, al->o->batch, ALERT_WAIT_MS, &jerr);
		uint64_t ticket = s == NATS_OK ? al->next_ticket++ : 0;
		pthread_mutex_unlock(&al->turn); /* the other fetcher's turn while this one commits */
		if (s == NATS_OK) {
			INC(al->stats->fetches);
			sink_put(al->k, &list, now_ns(), ticket);
		} else if (s != NATS_TIMEOUT && s != NATS_NOT_FOUND) {
			INC(al->stats->fetch_errors);
			natsMsgList_Destroy(&list);
			struct timespec t = { 0, 200 * 1000 * 1000 };
			nanosleep(&t, NULL);
		}
		sink_retain(al->k);
	}
	return NULL;
}

/* The side streams' fetcher: heartbeats, and flows once their stream exists. */
struct side {
	const struct hub_opts *o;
	struct fleet_conn *fc;
	struct hub_stats *stats;
	struct sink *k;
	natsSubscription *hb, *flows; /* flows: bound here, destroyed by hub_run after the join */
	volatile sig_atomic_t *stop;
	int quit; /* atomic */
	pthread_t thread;
};

/* One fetch of a side stream: true when it filled a whole batch (more wait). */
static bool side_fetch(struct side *sd, natsSubscription *sub)
{
	natsMsgList list = { 0 };
	jsErrCode jerr = 0;
	natsStatus s = hub_fetch(&list, sub, sd->o->batch, SIDE_WAIT_MS, &jerr);
	if (s == NATS_OK) {
		bool full = list.Count == sd->o->batch;
		INC(sd->stats->fetches);
		sink_put(sd->k, &list, now_ns(), NO_TICKET);
		return full;
	}
	if (s != NATS_TIMEOUT && s != NATS_NOT_FOUND) {
		INC(sd->stats->fetch_errors);
		natsMsgList_Destroy(&list);
		struct timespec t = { 0, 200 * 1000 * 1000 };
		nanosleep(&t, NULL);
	}
	return false;
}

static void *side_main(void *arg)
{
	struct side *sd = arg;
	int64_t next_flow_bind = 0, start_ms = mono_ms();
	bool told = false;
	while (!*sd->stop && !__atomic_load_n(&sd->quit, __ATOMIC_ACQUIRE)) {
		if (!sd->flows && mono_ms() >= next_flow_bind) {
			sd->flows = subscribe_flows(fleet_js(sd->fc), sd->o, &told);
			/* every 10 s for the first minute (a fleet being initialised), then every minute */
			next_flow_bind = mono_ms() + (mono_ms() - start_ms < 60000 ? 10000 : 60000);
			if (sd->flows) {
				__atomic_store_n(&sd->stats->flows_consuming, true, __ATOMIC_RELAXED);
				vg_info("hub: consuming %s as durable '%s'", HUB_FLOWS_STREAM, sd->o->durable);
			}
		}
		/* a stream that filled a whole batch is looked at again before the other */
		while (side_fetch(sd, sd->hb) && !*sd->stop)
			;
		if (sd->flows)
			while (side_fetch(sd, sd->flows) && !*sd->stop)
				;
	}
	return NULL;
}

int hub_run(const struct hub_opts *o, volatile sig_atomic_t *stop)
{
	char err[512];
	struct hub_stats stats = { .started_ns = now_ns(), .retain_ns = o->retain_ns > 0 ? o->retain_ns : 0 };
	int ret = -1;
	struct hub_tokens *tokens = hub_tokens_load(o->token_file, err, sizeof(err));
	if (!tokens) {
		vg_err("%s", err);
		return -1;
	}
	char *cert = read_file(o->tls_cert, 1 << 20, err, sizeof(err));
	char *key = cert ? read_file(o->tls_key, 1 << 20, err, sizeof(err)) : NULL;
	struct hub_store *store = NULL;
	struct fleet_conn *fc = NULL;
	struct hub_api *api = NULL;
	natsSubscription *subs[3] = { NULL, NULL, NULL };
	struct hub_profiles *profiles = NULL;
	if (!key) {
		vg_err("%s", err);
		goto out;
	}
	store = hub_store_open(o->store, false, o->fsync, err, sizeof(err));
	if (!store) {
		vg_err("%s", err);
		goto out;
	}
	struct hub_api_opts ao = { .listen = o->listen, .cert_pem = cert, .key_pem = key, .tokens = tokens,
				   .store_path = o->store, .silent_after_ns = (int64_t)o->silent_after_s * 1000000000LL,
				   .stats = &stats, .threads = o->api_threads };
	api = hub_api_start(&ao);
	if (!api)
		goto out;
	fprintf(stderr, "vigil: hub API listening on port %u\n", hub_api_port(api));
	fc = fleet_connect(&o->conn, err, sizeof(err));
	if (!fc) {
		vg_err("%s", err);
		goto out;
	}
	__atomic_store_n(&ao.nats, fc, __ATOMIC_RELEASE); /* the API's response commands */
	profiles = hub_profiles_start(fc, o->store, o->durable, o->max_msg, &stats); /* docs/profiles.md */
	/* wait for NATS (and the streams) without giving up: a hub may start before its servers */
	static const char *const streams[2] = { HUB_ALERTS_STREAM, HUB_HEARTBEATS_STREAM };
	int64_t next_try = 0;
	while (!*stop && (!subs[0] || !subs[1])) {
		if (mono_ms() >= next_try && fleet_conn_wait(fc, 1000)) {
			for (int i = 0; i < 2; i++)
				if (!subs[i])
					subs[i] = subscribe(fleet_js(fc), streams[i], o->durable, o->max_ack_pending);
			next_try = mono_ms() + 2000;
		}
		struct timespec t = { 0, 100 * 1000 * 1000 };
		nanosleep(&t, NULL);
	}
	if (*stop)
		goto stopped;
	vg_info("hub: consuming %s and %s as durable '%s'", streams[0], streams[1], o->durable);
	fprintf(stderr, "vigil: hub consuming as '%s'\n", o->durable);
	struct sink *k = xcalloc(1, sizeof(*k));
	sink_init(k, o, store, &stats);
	struct alerts al = { .o = o, .sub = subs[0], .stats = &stats, .k = k, .stop = stop };
	pthread_mutex_init(&al.turn, NULL);
	struct side sd = { .o = o, .fc = fc, .stats = &stats, .k = k, .hb = subs[1], .stop = stop };
	pthread_t second;
	bool have_side = !pthread_create(&sd.thread, NULL, side_main, &sd);
	bool have_second = !pthread_create(&second, NULL, alerts_main, &al);
	if (!have_side)
		vg_err("hub: cannot start the heartbeats' and flows' thread: they are not consumed");
	if (!have_second)
		vg_warn("hub: cannot start the second alerts' thread: alerts that come during a commit wait for it");
	alerts_main(&al); /* until *stop */
	if (have_second)
		pthread_join(second, NULL);
	if (have_side) {
		__atomic_store_n(&sd.quit, 1, __ATOMIC_RELEASE);
		pthread_join(sd.thread, NULL);
	}
	subs[2] = sd.flows;
	/* what was fetched is stored and acknowledged before the hub stops */
	sink_free(k);
	free(k);
	pthread_mutex_destroy(&al.turn);
stopped:
	/* acknowledgements are sent before the connection goes */
	natsConnection_FlushTimeout(fleet_nc(fc), 2000);
	ret = 0;
out:
	for (int i = 0; i < 3; i++)
		natsSubscription_Destroy(subs[i]);
	hub_api_stop(api);
	hub_profiles_stop(profiles);
	fleet_close(fc);
	hub_store_close(store);
	hub_tokens_free(tokens);
	free(cert);
	if (key) {
		memset(key, 0, strlen(key));
		free(key);
	}
	return ret;
}
