/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
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
#include "hub/hub_flows.h"
#include "hub/hub_profiles.h"
#include "hub/hub_store.h"
#include "hub/hub_scans.h"

/* How long an alert fetch waits when nothing is there. It is not what a lone record
 * waits: the library's first request is a no-wait one with an expiry, which the
 * server (2.9) ends as soon as it has delivered anything, so the fetch returns
 * within a round trip of the first message (bench/fleet_publish.sh section 6
 * measures it). This only bounds how long an idle hub waits before it looks at
 * the heartbeats and flows again. */
#define ALERT_WAIT_MS 200
/* Heartbeats and flows are looked at every SIDE_EVERY_MS while the alerts are
 * quiet, and at least every SIDE_MAX_MS while they keep coming: a look that finds
 * nothing costs its whole fetch timeout (5 ms), which the alerts arriving then
 * would wait. */
#define SIDE_EVERY_MS 100
#define SIDE_MAX_MS 1000

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

/* Store one fetched batch, then acknowledge it: 0, or -1 when the store failed. */
static int take_msgs(struct consumer *c, natsMsg **msgs, int count)
{
	int64_t recv = now_ns();
	uint64_t stored[4] = { 0 }, dups = 0, flow_msgs = 0, flow_rows = 0; /* counted once committed */
	c->nok = 0;
	/* the library returns at most the batch asked for; sized to what came regardless */
	if ((size_t)count > c->cap) {
		c->cap = (size_t)count;
		c->ok = xrealloc(c->ok, c->cap * sizeof(*c->ok));
	}
	for (int i = 0; i < count; i++) {
		natsMsg *msg = msgs[i];
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
			continue;
		}
		while (b.next < b.count) {
			struct hub_msg m;
			r = hub_batch_next(&b, subject, c->o->max_msg, &m, err, sizeof(err));
			if (r != HUB_OK) {
				/* this record alone: the others of its batch stand */
				INC(c->stats->rejected[r]);
				log_reject(&c->rl, err);
				if (b.count == 1) {
					natsMsg_Term(msg, NULL);
					break;
				}
				continue;
			}
			enum hub_kind kind = m.kind;
			size_t nflows = m.nflows;
			int rc = hub_store_add(c->store, &m, recv);
			hub_msg_free(&m);
			if (rc < 0) {
				hub_batch_close(&b);
				goto failed;
			}
			if (rc == 0 && kind != HUB_HEARTBEAT)
				dups++;
			else if (kind == HUB_FLOWS) {
				flow_msgs++;
				flow_rows += nflows;
			} else if (kind <= HUB_HEARTBEAT)
				stored[kind - 1]++;
		}
		hub_batch_close(&b);
		if (r != HUB_OK && b.count == 1)
			continue;
		c->ok[c->nok++] = msg;
	}
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
	for (int i = 0; i < count; i++)
		natsMsg_Nak(msgs[i], NULL);
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

static int take_batch(struct consumer *c, natsMsgList *list)
{
	return take_msgs(c, list->Msgs, list->Count);
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
	struct consumer c = { .o = o, .store = store, .stats = &stats };
	c.cap = (size_t)o->batch;
	c.ok = xcalloc(c.cap, sizeof(*c.ok));
	int64_t next_hb = 0, next_flows = 0, next_flow_bind = 0, next_retain = 0, start_ms = mono_ms();
	int64_t last_side = 0;
	bool told = false, alerts_busy = false, side_more = false;
	while (!*stop) {
		/* while alerts keep coming, the other streams wait up to SIDE_MAX_MS (see above),
		 * unless they filled whole batches last time */
		bool side = !alerts_busy || side_more || mono_ms() - last_side >= SIDE_MAX_MS;
		side_more = false;
		if (side)
			last_side = mono_ms();
		retain(store, o, &stats, &next_retain);
		if (!subs[2] && mono_ms() >= next_flow_bind) {
			subs[2] = subscribe_flows(fleet_js(fc), o, &told);
			/* every 10 s for the first minute (a fleet being initialised), then every minute */
			next_flow_bind = mono_ms() + (mono_ms() - start_ms < 60000 ? 10000 : 60000);
			if (subs[2]) {
				stats.flows_consuming = true;
				vg_info("hub: consuming %s as durable '%s'", HUB_FLOWS_STREAM, o->durable);
			}
		}
		if (subs[2] && side && mono_ms() >= next_flows) {
			/* flows: looked at every 100 ms, at once again while they fill whole batches */
			natsMsgList list = { 0 };
			jsErrCode jerr = 0;
			next_flows = mono_ms() + SIDE_EVERY_MS;
			natsStatus s = natsSubscription_Fetch(&list, subs[2], o->batch, 5, &jerr);
			if (s == NATS_OK) {
				if (take_batch(&c, &list) == 0 && list.Count == o->batch) {
					next_flows = 0;
					side_more = true;
				}
				natsMsgList_Destroy(&list);
			} else if (s != NATS_TIMEOUT && s != NATS_NOT_FOUND) {
				INC(stats.fetch_errors);
				natsMsgList_Destroy(&list);
			}
		}
		/* alerts: what waits comes at once, and when nothing does, the first message to
		 * come ends the fetch (see ALERT_WAIT_MS); heartbeats are looked at every
		 * SIDE_EVERY_MS (a fetch that finds none costs its whole timeout) */
		for (int i = 0; i < 2 && !*stop; i++) {
			if (i == 1) {
				if (!side || mono_ms() < next_hb)
					continue;
				next_hb = mono_ms() + SIDE_EVERY_MS;
			}
			natsMsgList list = { 0 };
			jsErrCode jerr = 0;
			natsStatus s = natsSubscription_Fetch(&list, subs[i], o->batch, i == 0 ? ALERT_WAIT_MS : 5, &jerr);
			if (i == 0)
				alerts_busy = s == NATS_OK;
			if (s == NATS_OK) {
				if (take_batch(&c, &list)) {
					struct timespec t = { 0, 500 * 1000 * 1000 };
					nanosleep(&t, NULL);
				}
				if (i == 1 && list.Count == o->batch) {
					next_hb = 0; /* more heartbeats wait: look again next round */
					side_more = true;
				}
				natsMsgList_Destroy(&list);
			} else if (s != NATS_TIMEOUT && s != NATS_NOT_FOUND) {
				INC(stats.fetch_errors);
				natsMsgList_Destroy(&list);
				struct timespec t = { 0, 200 * 1000 * 1000 };
				nanosleep(&t, NULL);
			}
		}
	}
	free(c.ok);
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
