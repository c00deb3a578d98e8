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
};

#endif
