/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store is the outbox (docs/fleet.md): alerts and actions are committed to
 * the SQLite store first; the outbox then hands them, in order, to each
 * forwarder (output/forwarder.h), and remembers per forwarder in the store
 * itself how far it got (table outbox_cursor), so that a restarted agent
 * resumes where it stopped, and a destination that is down delays only its
 * own forwarder.
 *
 * Each forwarder has a runner: its own thread and SQLite connection (WAL:
 * it never blocks the agent's writer for long), woken by outbox_notify()
 * after the agent commits and, as a fallback, every second. A runner reads
 * the records after its cursor (alerts, then actions, each by increasing
 * seq), hands up to batch_max of them to deliver(), moves the cursor past the
 * prefix that arrived and retries the rest with capped exponential backoff.
 * A forwarder with a pipelined delivery (send/acked, output/forwarder.h: the
 * NATS forwarder) is not waited for: its runner keeps sending what is
 * committed while earlier records await their acknowledgements (at most
 * 2 * batch_max records, and no new send once OUTBOX_WINDOW_BYTES of JSON
 * are in flight), and moves the cursor over the acknowledged prefix only.
 *
 * The disk budget: when the store's live pages exceed budget_bytes, a keeper
 * thread deletes the oldest rows (down to 90% of the budget) and records how
 * far it deleted (table outbox_trim). A runner whose cursor was behind that
 * point delivers, before anything else, one OUTBOX_LOSS record per kind
 * saying what it will never see (count, seq range, reason), then moves on.
 */
#ifndef VIGIL_OUTPUT_OUTBOX_H
#define VIGIL_OUTPUT_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "output/forwarder.h"

#define OUTBOX_DEFAULT_BUDGET (1ull << 30) /* 1 GiB */
#define OUTBOX_MAX_FORWARDERS 8
#define OUTBOX_WINDOW_BYTES (8u << 20) /* pipelined: no new send once this much JSON is in flight */

struct outbox_opts {
	const char *store_path;   /* an alert store (opened and migrated by alert_store_open first) */
	uint64_t budget_bytes;    /* 0: OUTBOX_DEFAULT_BUDGET */
	size_t batch_max;         /* records per deliver(); 0: 1024 */
	long backoff_min_ms;      /* 0: 100 */
	long backoff_max_ms;      /* 0: 5000 */
	const char *hostname;     /* named in loss records; NULL: none */
	/*
	 * Pipelined forwarders only: while something is in flight and less than a
	 * full load waits, hold what was committed since for up to this long, so
	 * that it goes together once the acks come (Nagle's rule, bounded). A
	 * record committed while nothing is in flight goes at once. 0: never hold.
	 */
	long linger_ms;
};

struct outbox_stats {
	char name[32];
	int64_t depth;            /* records not yet delivered (alerts and actions) */
	double oldest_age_s;      /* age of the oldest of them, 0 when none */
	uint64_t delivered;       /* records delivered since the start */
	uint64_t lost;            /* records lost to the disk budget, over the store's life */
	uint64_t failures;        /* deliver() calls that delivered less than asked */
	bool down;                /* the last attempt failed */
	char last_error[160];
};

struct outbox;

/* Open the outbox on a store; no forwarder runs yet. NULL with err. */
struct outbox *outbox_open(const struct outbox_opts *o, char *err, size_t errlen);
/*
 * Start a runner for a forwarder whose ctx is open already (the outbox calls
 * ops->close(ctx) at outbox_close). 0, or -1 with err (ctx then closed too).
 */
int outbox_add(struct outbox *ob, const struct vg_forwarder_ops *ops, void *ctx, char *err, size_t errlen);
/*
 * The same under a cursor name of its own (1 to 31 bytes), for several
 * forwarders of one kind (two webhooks): the name keys the cursor in the
 * store, the stats and the loss records. outbox_add uses ops->name.
 */
int outbox_add_as(struct outbox *ob, const struct vg_forwarder_ops *ops, void *ctx, const char *name, char *err,
		  size_t errlen);
/* The same, opening the forwarder with ops->open(spec). */
int outbox_add_spec(struct outbox *ob, const struct vg_forwarder_ops *ops, const char *spec, char *err,
		    size_t errlen);
/* The agent committed: wake the runners (cheap; any thread). */
void outbox_notify(struct outbox *ob);
/*
 * Wait until every forwarder has delivered (or lost) everything committed
 * before the call, or timeout_ms (< 0: until outbox_cancel). true when done.
 */
bool outbox_drain(struct outbox *ob, long timeout_ms);
/* Make a waiting outbox_drain return (async-signal-safe). */
void outbox_cancel(struct outbox *ob);
/* Each forwarder's figures into out[0..max); returns how many. */
size_t outbox_stats(struct outbox *ob, struct outbox_stats *out, size_t max);
/* Stop the runners (a deliver() in progress finishes), close the forwarders. NULL is fine. */
void outbox_close(struct outbox *ob);

/* Run the disk budget once now (tests): rows deleted, or -1. */
long outbox_trim_now(struct outbox *ob);

#endif
