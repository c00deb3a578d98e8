/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hub_fetch_check URL [--library]: the hub's pull fetch (src/hub/hub_fetch.h)
 * where libnats 3.4.1's own fetch overruns its message array. A memory stream
 * and a durable pull consumer of their own (names with this process's id) on
 * the server at URL; N messages published; a pull request for WAITING of them
 * sent by hand on the subscription's inbox, so that they wait in the
 * subscription as messages delivered after a fetch returned do; then fetches
 * of BATCH (256) while another request for MORE messages is sent by hand
 * 300 ms into the first one. Checks that no fetch returns more than BATCH
 * messages and that every message comes exactly once; prints
 * "ok: ..." and exits 0, or says what went wrong and exits 1.
 * With --library, the same with natsSubscription_Fetch itself: on libnats
 * 3.4.1 the first fetch returns more than BATCH messages (it wrote past its
 * array: the heap is corrupt from then on), shown and exit 1.
 */
#include <nats/nats.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "hub/hub_fetch.h"

#define N 600
#define WAITING 200
#define MORE 50
#define BATCH 256

static natsConnection *nc;
static char next_subj[256], inbox[256];

static void request(int batch)
{
	char body[64];
	snprintf(body, sizeof(body), "{\"batch\":%d}", batch);
	natsConnection_PublishRequest(nc, next_subj, inbox, body, (int)strlen(body));
	natsConnection_Flush(nc);
}

static void *more_later(void *arg)
{
	(void)arg;
	struct timespec d = { 0, 300 * 1000 * 1000 };
	nanosleep(&d, NULL);
	request(MORE);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs("usage: hub_fetch_check URL [--library]\n", stderr);
		return 2;
	}
	bool library = argc > 2 && !strcmp(argv[2], "--library");
	jsCtx *js = NULL;
	if (natsConnection_ConnectTo(&nc, argv[1]) != NATS_OK || natsConnection_JetStream(&js, nc, NULL) != NATS_OK) {
		fprintf(stderr, "hub_fetch_check: cannot connect to %s\n", argv[1]);
		return 1;
	}
	char stream[64], subject[64], durable[64];
	snprintf(stream, sizeof(stream), "HFC_%d", (int)getpid());
	snprintf(subject, sizeof(subject), "hfc%d.x", (int)getpid());
	snprintf(durable, sizeof(durable), "hfc%d", (int)getpid());
	jsStreamConfig sc;
	jsStreamConfig_Init(&sc);
	const char *subjects[] = { subject };
	sc.Name = stream;
	sc.Subjects = subjects;
	sc.SubjectsLen = 1;
	sc.Storage = js_MemoryStorage;
	jsConsumerConfig cc;
	jsConsumerConfig_Init(&cc);
	cc.Durable = durable;
	cc.AckPolicy = js_AckExplicit;
	cc.MaxAckPending = 4096;
	jsSubOptions so;
	jsSubOptions_Init(&so);
	so.Stream = stream;
	so.Consumer = durable;
	natsSubscription *sub = NULL;
	if (js_AddStream(NULL, js, &sc, NULL, NULL) != NATS_OK || js_AddConsumer(NULL, js, stream, &cc, NULL, NULL) != NATS_OK ||
	    js_PullSubscribe(&sub, js, NULL, durable, NULL, &so, NULL) != NATS_OK) {
		fprintf(stderr, "hub_fetch_check: cannot make the stream and consumer: %s\n", nats_GetLastError(NULL));
		return 1;
	}
	int rc = 1;
	for (int i = 0; i < N; i++) {
		char b[16];
		snprintf(b, sizeof(b), "%d", i);
		if (js_Publish(NULL, js, subject, b, (int)strlen(b), NULL, NULL) != NATS_OK) {
			fprintf(stderr, "hub_fetch_check: publish: %s\n", nats_GetLastError(NULL));
			goto out;
		}
	}
	/* the subscription's inbox: where the library's own requests are answered */
	snprintf(next_subj, sizeof(next_subj), "$JS.API.CONSUMER.MSG.NEXT.%s.%s", stream, durable);
	snprintf(inbox, sizeof(inbox), "%s", natsSubscription_GetSubject(sub));
	size_t il = strlen(inbox);
	if (il && inbox[il - 1] == '*') /* a wildcard inbox (later libnats): any token of it */
		snprintf(inbox + il - 1, sizeof(inbox) - il + 1, "0");
	request(WAITING);
	int waiting = 0, bytes = 0;
	for (int i = 0; i < 500 && waiting < WAITING; i++) {
		struct timespec d = { 0, 10 * 1000 * 1000 };
		nanosleep(&d, NULL);
		natsSubscription_GetPending(sub, &waiting, &bytes);
	}
	if (waiting < WAITING) {
		fprintf(stderr, "hub_fetch_check: only %d of %d messages wait in the subscription\n", waiting, WAITING);
		goto out;
	}
	static unsigned char seen[N];
	int got = 0, fetches = 0, most = 0;
	pthread_t t;
	pthread_create(&t, NULL, more_later, NULL);
	for (int round = 0; round < 100 && got < N; round++) {
		natsMsgList l = { 0 };
		natsStatus s = library ? natsSubscription_Fetch(&l, sub, BATCH, 1000, NULL)
				       : hub_fetch(&l, sub, BATCH, 1000, NULL);
		if (s != NATS_OK)
			continue;
		fetches++;
		if (l.Count > most)
			most = l.Count;
		if (l.Count > BATCH) {
			printf("a fetch of %d returned %d messages: the library wrote past its array\n", BATCH, l.Count);
			goto joined;
		}
		for (int i = 0; i < l.Count; i++) {
			int k = atoi(natsMsg_GetData(l.Msgs[i]) ? natsMsg_GetData(l.Msgs[i]) : "-1");
			if (k < 0 || k >= N || seen[k]++) {
				printf("message %d came twice or is not ours\n", k);
				goto joined;
			}
			got++;
			natsMsg_Ack(l.Msgs[i], NULL);
		}
		natsMsgList_Destroy(&l);
	}
	if (got != N)
		printf("%d of %d messages came\n", got, N);
	else {
		printf("ok: %d messages exactly once in %d fetches of at most %d (the most: %d), %d of them waiting "
		       "in the subscription at the start\n", N, fetches, BATCH, most, WAITING);
		rc = 0;
	}
joined:
	pthread_join(t, NULL);
out:
	natsSubscription_Destroy(sub);
	js_DeleteStream(js, stream, NULL, NULL);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	return rc;
}
