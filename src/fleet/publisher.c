/* SPDX-License-Identifier: Apache-2.0 */
#include "fleet/publisher.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/version.h"

#define PUB_MAX_PENDING 8192

struct publisher {
	struct fleet_conn *conn;
	bool own_conn;
	jsCtx *js; /* our own: its async-publish options carry our ack handler */
	long ack_timeout_ms;
	char subject[4][160]; /* by enum outbox_kind */
	/* the batch being delivered, shared with the ack handler (a library thread) */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	const struct outbox_record *recs;
	size_t n;
	uint8_t *state; /* per record: 0 in flight, 1 stored, 2 failed */
	size_t cap, handled;
	uint64_t batch; /* which batch the handler's acks belong to */
	char last_err[200];
	struct fleet_publisher_stats st;
};

static const char *const kinds[] = { NULL, "alert", "action", "loss" };

/* The index in the batch of a message, from its kind and seq headers (the batch is sorted by both). */
static long batch_index(struct publisher *p, natsMsg *m)
{
	const char *kind = NULL, *seq = NULL;
	int k = 0;
	if (natsMsgHeader_Get(m, "Vigil-Kind", &kind) != NATS_OK ||
	    natsMsgHeader_Get(m, "Vigil-Seq", &seq) != NATS_OK)
		return -1;
	for (int i = 1; i <= 3; i++)
		if (!strcmp(kind, kinds[i]))
			k = i;
	int64_t s = strtoll(seq, NULL, 10);
	size_t lo = 0, hi = p->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct outbox_record *r = &p->recs[mid];
		if ((int)r->kind < k || ((int)r->kind == k && r->seq < s))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < p->n && (int)p->recs[lo].kind == k && p->recs[lo].seq == s ? (long)lo : -1;
}

static void on_ack(jsCtx *js, natsMsg *m, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
	struct publisher *p = closure;
	(void)js;
	pthread_mutex_lock(&p->lock);
	long i = p->recs ? batch_index(p, m) : -1;
	if (i >= 0 && p->state[i] == 0) {
		if (pa) {
			p->state[i] = 1;
			p->st.stored++;
			if (pa->Duplicate)
				p->st.duplicates++;
		} else {
			p->state[i] = 2;
			p->st.failed++;
			if (pae)
				snprintf(p->last_err, sizeof(p->last_err), "%s%s%s", natsStatus_GetText(pae->Err),
					 pae->ErrText ? ": " : "", pae->ErrText ? pae->ErrText : "");
		}
		p->handled++;
		pthread_cond_broadcast(&p->cond);
	}
	pthread_mutex_unlock(&p->lock);
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
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	for (int k = 1; k <= 3; k++)
		if (fleet_subject(p->subject[k], sizeof(p->subject[k]), fleet_cluster(c), fleet_node(c), kinds[k])) {
			snprintf(err, errlen, "subject too long");
			goto fail;
		}
	jsOptions_Init(&jo);
	jo.PublishAsync.MaxPending = PUB_MAX_PENDING;
	jo.PublishAsync.AckHandler = on_ack;
	jo.PublishAsync.AckHandlerClosure = p;
	jo.Wait = p->ack_timeout_ms;
	s = natsConnection_JetStream(&p->js, fleet_nc(c), &jo);
	if (s != NATS_OK) {
		snprintf(err, errlen, "JetStream context: %s", fleet_status_text(s, text, sizeof(text)));
		goto fail;
	}
	return p;
fail:
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p);
	return NULL;
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

static void pub_close(void *ctx)
{
	struct publisher *p = ctx;
	if (!p)
		return;
	if (p->js)
		jsCtx_Destroy(p->js);
	if (p->own_conn)
		fleet_close(p->conn);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p->state);
	free(p);
}

static natsStatus make_msg(struct publisher *p, const struct outbox_record *r, natsMsg **out)
{
	char seq[24];
	natsMsg *m = NULL;
	natsStatus s = natsMsg_Create(&m, p->subject[r->kind], NULL, r->json, (int)r->json_len);
	snprintf(seq, sizeof(seq), "%" PRId64, r->seq);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Nats-Msg-Id", r->uuid);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Vigil-Node", fleet_node(p->conn));
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Vigil-Cluster", fleet_cluster(p->conn));
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Vigil-Kind", kinds[r->kind]);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Vigil-Seq", seq);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Vigil-Version", VIGIL_VERSION);
	if (s != NATS_OK) {
		natsMsg_Destroy(m);
		m = NULL;
	}
	*out = m;
	return s;
}

static long pub_deliver(void *ctx, const struct outbox_record *recs, size_t n, char *err, size_t errlen)
{
	struct publisher *p = ctx;
	jsPubOptions po;
	natsStatus s = NATS_OK;
	size_t sent = 0;
	char text[256];

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
	pthread_mutex_lock(&p->lock);
	if (n > p->cap) {
		p->state = xrealloc(p->state, n);
		p->cap = n;
	}
	memset(p->state, 0, n);
	p->recs = recs;
	p->n = n;
	p->handled = 0;
	p->last_err[0] = 0;
	pthread_mutex_unlock(&p->lock);

	jsPubOptions_Init(&po);
	po.MaxWait = p->ack_timeout_ms;
	for (; sent < n; sent++) {
		natsMsg *m;
		s = make_msg(p, &recs[sent], &m);
		if (s == NATS_OK) {
			s = js_PublishMsgAsync(p->js, &m, &po);
			natsMsg_Destroy(m); /* NULL when the library took it */
		}
		if (s != NATS_OK)
			break;
	}
	if (s != NATS_OK)
		snprintf(err, errlen, "publish: %s", fleet_status_text(s, text, sizeof(text)));

	/* every ack or error of what was sent, or our own deadline */
	jsPubOptions co;
	jsPubOptions_Init(&co);
	co.MaxWait = p->ack_timeout_ms + 1000;
	natsStatus cs = js_PublishAsyncComplete(p->js, &co);
	if (cs != NATS_OK) {
		/* take back what is still in flight: it is sent again later (a duplicate if it arrived) */
		natsMsgList pending = { 0 };
		if (js_PublishAsyncGetPendingList(&pending, p->js) == NATS_OK)
			natsMsgList_Destroy(&pending);
	}
	pthread_mutex_lock(&p->lock);
	p->st.published += sent;
	/* the handler may still be running for the last acks: wait for it, briefly */
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 1;
	while (cs == NATS_OK && p->handled < sent)
		if (pthread_cond_timedwait(&p->cond, &p->lock, &ts))
			break;
	size_t ok = 0;
	while (ok < sent && p->state[ok] == 1)
		ok++;
	if (ok < n && !err[0])
		snprintf(err, errlen, "%s", p->last_err[0] ? p->last_err : "acknowledgement timed out");
	p->recs = NULL; /* late acks are ignored */
	p->n = 0;
	pthread_mutex_unlock(&p->lock);
	return ok == 0 && n > 0 ? -1 : (long)ok;
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
};
