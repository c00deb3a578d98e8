/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fetch_probe URL [ROUNDS]: how soon a JetStream pull fetch, as the hub makes it
 * (natsSubscription_Fetch: batch 256, 200 ms), returns when one message comes
 * while it waits. A stream FETCH_PROBE (subject fetch_probe.x, memory) and a
 * durable pull consumer are made on the server at URL; each round starts a
 * fetch on an idle consumer, publishes one message 50 ms later from another
 * thread, and prints how long after the publish the fetch returned, and with
 * what. A fetch that returns NATS_TIMEOUT at once (a late status of the
 * previous request, libnats before 3.6) is tried again. Then "fetch_after_publish_us
 * p50=... max=...". The stream is deleted at the end.
 */
#include <nats/nats.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static jsCtx *js;
static volatile int64_t pub_at;

static int64_t mono(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void *publish_later(void *arg)
{
	(void)arg;
	struct timespec d = { 0, 50 * 1000 * 1000 };
	nanosleep(&d, NULL);
	pub_at = mono();
	jsPubAck *pa = NULL;
	js_Publish(&pa, js, "fetch_probe.x", "probe", 5, NULL, NULL);
	jsPubAck_Destroy(pa);
	return NULL;
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs("usage: fetch_probe URL [ROUNDS]\n", stderr);
		return 2;
	}
	int rounds = argc > 2 ? atoi(argv[2]) : 10;
	if (rounds < 1 || rounds > 1000)
		rounds = 10;
	natsConnection *nc = NULL;
	if (natsConnection_ConnectTo(&nc, argv[1]) != NATS_OK || natsConnection_JetStream(&js, nc, NULL) != NATS_OK) {
		fprintf(stderr, "fetch_probe: cannot connect to %s\n", argv[1]);
		return 1;
	}
	jsStreamConfig sc;
	jsStreamConfig_Init(&sc);
	const char *subjects[] = { "fetch_probe.x" };
	sc.Name = "FETCH_PROBE";
	sc.Subjects = subjects;
	sc.SubjectsLen = 1;
	sc.Storage = js_MemoryStorage;
	jsConsumerConfig cc;
	jsConsumerConfig_Init(&cc);
	cc.Durable = "probe";
	cc.AckPolicy = js_AckExplicit;
	jsSubOptions so;
	jsSubOptions_Init(&so);
	so.Stream = "FETCH_PROBE";
	so.Consumer = "probe";
	natsSubscription *sub = NULL;
	if (js_AddStream(NULL, js, &sc, NULL, NULL) != NATS_OK || js_AddConsumer(NULL, js, "FETCH_PROBE", &cc, NULL, NULL) != NATS_OK ||
	    js_PullSubscribe(&sub, js, NULL, "probe", NULL, &so, NULL) != NATS_OK) {
		fprintf(stderr, "fetch_probe: cannot make the stream and consumer: %s\n", nats_GetLastError(NULL));
		return 1;
	}
	int64_t *after = calloc((size_t)rounds, sizeof(*after));
	int n = 0;
	for (int r = 0; r < rounds; r++) {
		pthread_t t;
		pub_at = 0;
		pthread_create(&t, NULL, publish_later, NULL);
		natsMsgList l = { 0 };
		natsStatus s;
		int64_t t0 = mono(), t1;
		do { /* a late status of the previous fetch ends this one at once: again */
			s = natsSubscription_Fetch(&l, sub, 256, 200, NULL);
			t1 = mono();
		} while (s == NATS_TIMEOUT && t1 - t0 < 150 * 1000000LL);
		pthread_join(t, NULL);
		printf("round %d: %s, %d message(s), returned %.2f ms after the publish (%.1f ms after the start)\n", r,
		       natsStatus_GetText(s), l.Count, (double)(t1 - pub_at) / 1e6, (double)(t1 - t0) / 1e6);
		if (s == NATS_OK && l.Count > 0)
			after[n++] = t1 - pub_at;
		for (int i = 0; i < l.Count; i++)
			natsMsg_Ack(l.Msgs[i], NULL);
		natsMsgList_Destroy(&l);
		/* what came late (after a timeout) is taken before the next round */
		natsMsgList rest = { 0 };
		if (natsSubscription_Fetch(&rest, sub, 256, 300, NULL) == NATS_OK)
			for (int i = 0; i < rest.Count; i++)
				natsMsg_Ack(rest.Msgs[i], NULL);
		natsMsgList_Destroy(&rest);
	}
	qsort(after, (size_t)n, sizeof(*after), cmp64);
	if (n)
		printf("fetch_after_publish_us p50=%lld max=%lld n=%d of %d\n", (long long)(after[n / 2] / 1000),
		       (long long)(after[n - 1] / 1000), n, rounds);
	natsSubscription_Destroy(sub);
	js_DeleteStream(js, "FETCH_PROBE", NULL, NULL);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	free(after);
	return n ? 0 : 1;
}
