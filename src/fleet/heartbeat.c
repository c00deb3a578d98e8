/* SPDX-License-Identifier: Apache-2.0 */
#include "fleet/heartbeat.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/version.h"

struct fleet_heartbeat {
	struct fleet_conn *conn;
	long interval_ms;
	fleet_health_fn fn;
	void *ctx;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stopping, kick;
	char subject[160];
	char rules[80];
	int64_t start_ns;
	/* for events/s: the previous heartbeat's count and time */
	uint64_t prev_events;
	int64_t prev_ns;
	bool told_failure;
};

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void fleet_heartbeat_json(struct fleet_heartbeat *hb, struct vg_buf *out)
{
	struct vg_buf policy = { 0 }, dropped = { 0 };
	struct fleet_health h = { .policy = &policy, .dropped = &dropped };
	struct vg_json j;
	char t[48];
	int64_t now = mono_ns(), wall = wall_ns();
	time_t secs = (time_t)(wall / 1000000000);
	struct tm tm;

	if (hb->fn)
		hb->fn(hb->ctx, &h);
	double rate = 0;
	if (hb->prev_ns && now > hb->prev_ns && h.events >= hb->prev_events)
		rate = (double)(h.events - hb->prev_events) * 1e9 / (double)(now - hb->prev_ns);
	hb->prev_events = h.events;
	hb->prev_ns = now;
	gmtime_r(&secs, &tm);
	size_t n = strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(t + n, sizeof(t) - n, ".%09" PRId64 "Z", wall % 1000000000);

	jw_init(&j, out);
	jw_obj_begin(&j, NULL);
	jw_str(&j, "time", t);
	jw_str(&j, "node", fleet_node(hb->conn));
	jw_str(&j, "cluster", fleet_cluster(hb->conn));
	jw_str(&j, "version", VIGIL_VERSION);
	pthread_mutex_lock(&hb->lock);
	if (hb->rules[0])
		jw_str(&j, "rules_digest", hb->rules);
	else
		jw_null(&j, "rules_digest");
	jw_int(&j, "uptime_s", (now - hb->start_ns) / 1000000000);
	/* records the sensor dropped, by container (floods: docs/fleet.md) */
	buf_addc(&dropped, '\0');
	jw_raw(&j, "dropped_by_container", dropped.len > 1 ? dropped.data : "[]");
	jw_uint(&j, "events", h.events);
	char num[32];
	snprintf(num, sizeof(num), "%.1f", rate);
	jw_raw(&j, "events_per_s", num);
	jw_uint(&j, "lost_records", h.lost_records);
	jw_obj_begin(&j, "outbox");
	jw_int(&j, "depth", h.outbox_depth);
	snprintf(num, sizeof(num), "%.3f", h.outbox_oldest_s);
	jw_raw(&j, "oldest_s", num);
	jw_uint(&j, "lost", h.outbox_lost);
	jw_obj_end(&j);
	if (policy.len) {
		/* the node's per-kind state from central policy (docs/fleet.md) */
		buf_addc(&policy, '\0');
		jw_raw(&j, "policy", policy.data);
	} else {
		/* no central policy here (replay, a node that does not watch the bucket) */
		jw_raw(&j, "policy", "{\"digest\":null,\"status\":\"none\"}");
	}
	pthread_mutex_unlock(&hb->lock);
	jw_obj_end(&j);
	buf_free(&policy);
	buf_free(&dropped);
}

static void send_one(struct fleet_heartbeat *hb)
{
	struct vg_buf b = { 0 };
	unsigned char raw[16];
	char id[33], seq[24], text[256];
	natsMsg *m = NULL;
	jsPubOptions po;
	jsErrCode jerr = 0;
	jsPubAck *pa = NULL;

	fleet_heartbeat_json(hb, &b);
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		memset(raw, 0, sizeof(raw));
	for (int i = 0; i < 16; i++)
		snprintf(id + 2 * i, 3, "%02x", raw[i]);
	/* per node increasing across restarts: the wall clock in ms */
	snprintf(seq, sizeof(seq), "%" PRId64, wall_ns() / 1000000);
	natsStatus s = natsMsg_Create(&m, hb->subject, NULL, b.data, (int)b.len);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Nats-Msg-Id", id);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Vigil-Node", fleet_node(hb->conn));
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Vigil-Cluster", fleet_cluster(hb->conn));
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Vigil-Kind", "heartbeat");
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Vigil-Seq", seq);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Vigil-Version", VIGIL_VERSION);
	jsPubOptions_Init(&po);
	po.MaxWait = 2000;
	if (s == NATS_OK)
		s = js_PublishMsg(&pa, fleet_js(hb->conn), m, &po, &jerr);
	if (s != NATS_OK) {
		if (!hb->told_failure)
			vg_warn("nats: heartbeat not stored: %s", fleet_status_text(s, text, sizeof(text)));
		hb->told_failure = true;
	} else {
		hb->told_failure = false;
	}
	jsPubAck_Destroy(pa);
	natsMsg_Destroy(m);
	buf_free(&b);
}

static void *hb_main(void *arg)
{
	struct fleet_heartbeat *hb = arg;
	int64_t next = 0; /* the first one as soon as connected */

	pthread_mutex_lock(&hb->lock);
	while (!hb->stopping) {
		int64_t now = mono_ns();
		if ((now >= next || hb->kick) && fleet_conn_up(hb->conn)) {
			hb->kick = false;
			pthread_mutex_unlock(&hb->lock);
			send_one(hb);
			pthread_mutex_lock(&hb->lock);
			next = mono_ns() + (int64_t)hb->interval_ms * 1000000;
			continue;
		}
		/* not connected yet: look again soon; else sleep until the next one */
		long wait_ms = now >= next ? 200 : (long)((next - now) / 1000000) + 1;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += wait_ms / 1000;
		ts.tv_nsec += (wait_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&hb->cond, &hb->lock, &ts);
	}
	pthread_mutex_unlock(&hb->lock);
	return NULL;
}

struct fleet_heartbeat *fleet_heartbeat_start(struct fleet_conn *c, long interval_ms, fleet_health_fn fn,
					      void *ctx, char *err, size_t errlen)
{
	struct fleet_heartbeat *hb = xcalloc(1, sizeof(*hb));
	hb->conn = c;
	hb->interval_ms = interval_ms > 0 ? interval_ms : FLEET_HEARTBEAT_MS;
	hb->fn = fn;
	hb->ctx = ctx;
	hb->start_ns = mono_ns();
	pthread_mutex_init(&hb->lock, NULL);
	pthread_cond_init(&hb->cond, NULL);
	if (fleet_subject(hb->subject, sizeof(hb->subject), fleet_cluster(c), fleet_node(c), "heartbeat") ||
	    pthread_create(&hb->thread, NULL, hb_main, hb)) {
		snprintf(err, errlen, "cannot start the heartbeat: %s", strerror(errno));
		pthread_mutex_destroy(&hb->lock);
		pthread_cond_destroy(&hb->cond);
		free(hb);
		return NULL;
	}
	return hb;
}

void fleet_heartbeat_set_rules(struct fleet_heartbeat *hb, const char *digest)
{
	if (!hb)
		return;
	pthread_mutex_lock(&hb->lock);
	snprintf(hb->rules, sizeof(hb->rules), "%s", digest ? digest : "");
	pthread_mutex_unlock(&hb->lock);
}

void fleet_heartbeat_kick(struct fleet_heartbeat *hb)
{
	if (!hb)
		return;
	pthread_mutex_lock(&hb->lock);
	hb->kick = true;
	pthread_cond_signal(&hb->cond);
	pthread_mutex_unlock(&hb->lock);
}

void fleet_heartbeat_stop(struct fleet_heartbeat *hb)
{
	if (!hb)
		return;
	pthread_mutex_lock(&hb->lock);
	hb->stopping = true;
	pthread_cond_signal(&hb->cond);
	pthread_mutex_unlock(&hb->lock);
	pthread_join(hb->thread, NULL);
	/* a last one: the node's final figures (a short run would otherwise tell none) */
	if (fleet_conn_up(hb->conn))
		send_one(hb);
	pthread_mutex_destroy(&hb->lock);
	pthread_cond_destroy(&hb->cond);
	free(hb);
}
