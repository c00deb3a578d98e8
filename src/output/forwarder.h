/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A forwarder sends the store's records somewhere else (NATS JetStream, syslog,
 * an HTTP webhook, a JSON-lines file), fed from the store's outbox so that none
 * loses an alert: the outbox (output/outbox.c) keeps one cursor per forwarder in
 * the store, hands it the records after its cursor in order, and moves the
 * cursor past what deliver() says arrived. A forwarder that is down delays only
 * itself; its backlog waits on disk, within the outbox's disk budget.
 *
 * Each forwarder runs on its own thread (the outbox's); deliver() may block up
 * to its own timeout, never forever.
 */
#ifndef VIGIL_OUTPUT_FORWARDER_H
#define VIGIL_OUTPUT_FORWARDER_H

#include <stddef.h>
#include <stdint.h>

enum outbox_kind {
	OUTBOX_ALERT = 1, /* a row of the alerts table: json is Falco's alert JSON */
	OUTBOX_ACTION,    /* a row of the actions table: json is the action as JSON */
	OUTBOX_LOSS,      /* synthesised by the outbox: what it had to drop, as JSON */
};

struct outbox_record {
	enum outbox_kind kind;
	int64_t seq;       /* per kind, increasing: the row id in its table */
	const char *uuid;  /* stable unique id (32 hex digits): Nats-Msg-Id, webhook idempotency */
	int64_t time_ns;   /* wall clock of the record */
	int priority;      /* alerts: 0 emergency .. 7 debug (syslog severity); others: 6 */
	const char *json;  /* the record as one JSON object, no newline */
	size_t json_len;
};

struct vg_forwarder_ops {
	const char *name; /* "nats", "syslog", "webhook", "file": the cursor's name */
	/* spec: the text after "NAME:" in --output (e.g. "udp://host:514"); *ctx out */
	int (*open)(void **ctx, const char *spec, char *err, size_t errlen);
	/*
	 * Deliver recs[0..n) in order. Returns how many, from the first, certainly
	 * arrived (0..n), or -1 when none did and the destination is down (the
	 * outbox retries later with backoff). err says why when fewer than n; at
	 * least one delivered, fewer than n and err empty: the forwarder chose to
	 * send the rest in the next call (no failure, no backoff).
	 */
	long (*deliver)(void *ctx, const struct outbox_record *recs, size_t n, char *err,
			size_t errlen);
	void (*close)(void *ctx);
	/*
	 * Optional: a pipelined delivery (the NATS forwarder has it; the others
	 * leave it NULL and the outbox calls deliver(), one batch at a time). All
	 * three or none, called from the outbox's thread only (wake excepted).
	 *
	 * send() hands recs[0..n) over without waiting for them to arrive: it
	 * returns how many, from the first, it took (0..n; fewer and err empty:
	 * the rest in a later call), or -1 with err when it took none (the
	 * destination is down). The records' memory is the outbox's again when
	 * it returns. The outbox keeps sending newer records while earlier ones
	 * are in flight (bounded: at most two deliveries' worth, 2 * batch_max
	 * records, and OUTBOX_WINDOW_BYTES of JSON), in its order (alerts, then
	 * actions, each by seq, load after load). deliver() is still used (loss
	 * records), only while nothing is in flight.
	 *
	 * acked() returns how many records, from the oldest in flight in the
	 * order they were taken, certainly arrived since its last call (0: none
	 * yet), so the outbox moves its cursor over an acknowledged prefix only;
	 * or -1 with err when the oldest not yet acknowledged failed or timed
	 * out: the forwarder has then forgotten everything in flight (late
	 * acknowledgements are ignored) and the outbox sends again, after its
	 * backoff, from the first record not acknowledged (the forwarder must
	 * make that resend the same messages, see fleet/publisher.c).
	 *
	 * set_wake() gives the forwarder a function to call (from any thread; it
	 * only takes the outbox's lock briefly, and the outbox never calls the
	 * forwarder holding it) when acked() may have something new; none after
	 * close() began.
	 */
	long (*send)(void *ctx, const struct outbox_record *recs, size_t n, char *err, size_t errlen);
	long (*acked)(void *ctx, char *err, size_t errlen);
	void (*set_wake)(void *ctx, void (*wake)(void *arg), void *arg);
};

#endif
