/* SPDX-License-Identifier: Apache-2.0 */
#include "fleet/record_pub.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>
#include "common/log.h"
#include "common/version.h"

int fleet_deflate(const char *in, size_t len, struct vg_buf *out)
{
	uLongf cap = compressBound((uLong)len);
	unsigned char *b = xmalloc(cap ? cap : 1);
	if (compress2(b, &cap, (const Bytef *)in, (uLong)len, 1) != Z_OK) {
		free(b);
		return -1;
	}
	buf_reset(out);
	buf_add(out, b, cap);
	free(b);
	return 0;
}

int fleet_record_publish(struct fleet_conn *c, const char *kind, const char *msg_id, int64_t seq, const char *body,
			 size_t len, size_t max_msg, long ack_wait_ms, size_t *sent_len, char *err, size_t errlen)
{
	char subject[160], seqs[24], text[256];
	struct vg_buf z = { 0 };
	const char *data = body;
	size_t dlen = len;
	bool zlib = false;
	int rc = -1;

	if (fleet_subject(subject, sizeof(subject), fleet_cluster(c), fleet_node(c), kind)) {
		snprintf(err, errlen, "no subject for kind %s", kind);
		return -1;
	}
	if (len > FLEET_RECORD_COMPRESS_OVER && fleet_deflate(body, len, &z) == 0 && z.len < len) {
		data = z.data;
		dlen = z.len;
		zlib = true;
	}
	if (sent_len)
		*sent_len = dlen;
	int64_t maxp = natsConnection_GetMaxPayload(fleet_nc(c));
	if (dlen > max_msg || (maxp > 0 && (int64_t)dlen > maxp)) {
		snprintf(err, errlen,
			 "the %s message is %zu bytes%s (%zu plain), over the limit of %zu bytes (%s): not published", kind,
			 dlen, zlib ? " compressed" : "", len, dlen > max_msg ? max_msg : (size_t)maxp,
			 dlen > max_msg ? "--max-msg, the hub's --max-msg" : "the NATS server's max_payload");
		buf_free(&z);
		return -1;
	}
	snprintf(seqs, sizeof(seqs), "%" PRId64, seq);
	natsMsg *m = NULL;
	jsPubAck *pa = NULL;
	jsErrCode jerr = 0;
	jsPubOptions po;
	natsStatus s = natsMsg_Create(&m, subject, NULL, data, (int)dlen);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Nats-Msg-Id", msg_id);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Vigil-Node", fleet_node(c));
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Vigil-Cluster", fleet_cluster(c));
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Vigil-Kind", kind);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Vigil-Seq", seqs);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Vigil-Version", VIGIL_VERSION);
	if (s == NATS_OK && zlib)
		s = natsMsgHeader_Set(m, "Vigil-Encoding", "zlib");
	if (s == NATS_OK) {
		jsPubOptions_Init(&po);
		po.MaxWait = ack_wait_ms;
		s = js_PublishMsg(&pa, fleet_js(c), m, &po, &jerr);
	}
	if (s == NATS_OK)
		rc = pa && pa->Duplicate ? 2 : 1;
	else if (s == NATS_NO_RESPONDERS)
		snprintf(err, errlen, "no stream stores %s (run 'vigil fleet init' with this version)", subject);
	else
		snprintf(err, errlen, "publishing on %s: %s", subject, fleet_status_text(s, text, sizeof(text)));
	jsPubAck_Destroy(pa);
	natsMsg_Destroy(m);
	buf_free(&z);
	return rc;
}

/* ---- the asynchronous publisher ---- */

struct item {
	char id[80];
	char *body;
	size_t len;
};

struct fleet_async_pub {
	struct fleet_conn *c;
	char kind[32];
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct item *q;
	size_t cap, head, n;
	bool stop;
	int64_t seq;
	struct fleet_async_stats st;
	int64_t last_drop_log, last_fail_log;
	uint64_t drops_unlogged;
};

static int64_t mono_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void *run(void *arg)
{
	struct fleet_async_pub *p = arg;
	char err[384];
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->n && !p->stop)
			pthread_cond_wait(&p->cv, &p->mu);
		if (!p->n)
			break;
		struct item it = p->q[p->head]; /* stays queued until it is stored */
		pthread_mutex_unlock(&p->mu);
		int rc = -1;
		if (fleet_conn_up(p->c)) {
			rc = fleet_record_publish(p->c, p->kind, it.id, ++p->seq, it.body, it.len, (size_t)64 << 20, 2000,
						  NULL, err, sizeof(err));
		} else
			snprintf(err, sizeof(err), "not connected to NATS");
		pthread_mutex_lock(&p->mu);
		if (rc > 0) {
			free(it.body);
			p->head = (p->head + 1) % p->cap;
			p->n--;
			p->st.published++;
			if (rc == 2)
				p->st.duplicates++;
			continue;
		}
		p->st.failed_attempts++;
		if (mono_ms() - p->last_fail_log >= 10000) {
			p->last_fail_log = mono_ms();
			vg_warn("fleet: %s records wait (%zu queued): %s", p->kind, p->n, err);
		}
		if (p->stop)
			break;
		/* wait a second (or for the stop) before trying again */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&p->cv, &p->mu, &ts);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

struct fleet_async_pub *fleet_async_pub_start(struct fleet_conn *c, const char *kind, size_t cap)
{
	struct fleet_async_pub *p = xcalloc(1, sizeof(*p));
	p->c = c;
	snprintf(p->kind, sizeof(p->kind), "%s", kind);
	p->cap = cap ? cap : 1;
	p->q = xcalloc(p->cap, sizeof(*p->q));
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	/* increasing across restarts: microseconds of the wall clock at the start */
	p->seq = (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
	p->last_drop_log = p->last_fail_log = -100000;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	if (pthread_create(&p->th, NULL, run, p)) {
		vg_err("fleet: cannot start the %s publisher thread", kind);
		pthread_mutex_destroy(&p->mu);
		pthread_cond_destroy(&p->cv);
		free(p->q);
		free(p);
		return NULL;
	}
	return p;
}

bool fleet_async_pub_offer(struct fleet_async_pub *p, const char *msg_id, const char *body, size_t len)
{
	pthread_mutex_lock(&p->mu);
	if (p->n == p->cap || p->stop) {
		p->st.dropped++;
		p->drops_unlogged++;
		if (mono_ms() - p->last_drop_log >= 10000) {
			p->last_drop_log = mono_ms();
			vg_warn("fleet: %llu %s record(s) dropped: the queue of %zu waiting for NATS is full (%llu dropped "
				"since the start)",
				(unsigned long long)p->drops_unlogged, p->kind, p->cap, (unsigned long long)p->st.dropped);
			p->drops_unlogged = 0;
		}
		pthread_mutex_unlock(&p->mu);
		return false;
	}
	struct item *it = &p->q[(p->head + p->n) % p->cap];
	snprintf(it->id, sizeof(it->id), "%s", msg_id);
	it->body = xmalloc(len + 1);
	memcpy(it->body, body, len);
	it->body[len] = 0;
	it->len = len;
	p->n++;
	p->st.queued++;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return true;
}

void fleet_async_pub_stats(struct fleet_async_pub *p, struct fleet_async_stats *st)
{
	pthread_mutex_lock(&p->mu);
	*st = p->st;
	st->depth = p->n;
	pthread_mutex_unlock(&p->mu);
}

void fleet_async_pub_stop(struct fleet_async_pub *p, long drain_ms)
{
	if (!p)
		return;
	int64_t until = mono_ms() + drain_ms;
	pthread_mutex_lock(&p->mu);
	while (p->n && mono_ms() < until && fleet_conn_up(p->c)) {
		pthread_mutex_unlock(&p->mu);
		struct timespec t = { 0, 20 * 1000 * 1000 };
		nanosleep(&t, NULL);
		pthread_mutex_lock(&p->mu);
	}
	p->stop = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->th, NULL);
	if (p->n)
		vg_warn("fleet: %zu %s record(s) not published at the stop", p->n, p->kind);
	if (p->st.dropped)
		vg_warn("fleet: %llu %s record(s) dropped in all (queue full)", (unsigned long long)p->st.dropped,
			p->kind);
	for (size_t i = 0; i < p->n; i++)
		free(p->q[(p->head + i) % p->cap].body);
	free(p->q);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	fleet_close(p->c);
	free(p);
}
