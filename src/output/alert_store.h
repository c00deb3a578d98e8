/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The alert store: alerts and the response actions taken on them, in one
 * SQLite file. The agent writes a poll batch of alerts and actions in one
 * transaction and commits before it prints them, so an alert the agent has
 * shown is on disk. Schema in docs/alerts.md and docs/response.md; versioned
 * by PRAGMA user_version.
 */
#ifndef VIGIL_ALERT_STORE_H
#define VIGIL_ALERT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "engine/engine.h"

#define ALERT_STORE_DEFAULT_PATH "/var/lib/vigil/vigil.db"

struct alert_store;

/* Open or create the store (and its directory, mode 0700). NULL with a reason in err. */
struct alert_store *alert_store_open(const char *path, bool readonly, char *err, size_t errlen);
/* Commit a batch still open, then close. NULL is fine. */
void alert_store_close(struct alert_store *s);

/* Add one alert to the current batch (a transaction is begun on the first). 0 or -1. */
int alert_store_add_alert(struct alert_store *s, const struct alert *a, const char *json,
			  uint64_t boot_to_realtime);
/* Commit the batch. 0 or -1 (the batch is lost and the error logged). */
int alert_store_commit(struct alert_store *s);
const char *alert_store_error(const struct alert_store *s);
/*
 * fn(ctx) after each successful commit, on the committing thread (the outbox
 * wakes its forwarders with it: output/outbox.h). Keep it short. NULL: none.
 */
void alert_store_on_commit(struct alert_store *s, void (*fn)(void *ctx), void *ctx);

struct alert_store_query {
	int64_t since_ns;       /* wall-clock ns; 0: all */
	const char *rule;       /* exact rule name, or NULL */
	int max_priority;       /* at least this severe (PRIO_*), -1: any */
	const char *container;  /* id prefix or name, or NULL */
	long limit;             /* 0: no limit */
};

/* One response action (docs/response.md), as stored and as read back. time_ns is wall clock. */
struct alert_store_action {
	int64_t time_ns;
	const char *rule, *action, *target;
	const char *container_id;   /* NULL is stored as "" */
	const char *container_name; /* may be NULL (SQL NULL) */
	const char *cgroup;         /* NULL is stored as "" */
	const char *outcome, *detail, *path;
	int64_t latency_ns;
};

/* Add one action to the current batch (a transaction is begun on the first); the
 * strings are bound, not copied, until the call returns. 0 or -1. */
int alert_store_add_action(struct alert_store *s, const struct alert_store_action *a);

/* Calls fn for each action (of the container whose id starts with or whose name is
 * `container`, or all when NULL), oldest first. Returns the count or -1. */
long alert_store_query_actions(struct alert_store *s, const char *container,
			       void (*fn)(void *ctx, const struct alert_store_action *a), void *ctx);

/* Calls fn for each matching alert, oldest first, with its JSON. Returns the count or -1. */
long alert_store_query_alerts(struct alert_store *s, const struct alert_store_query *q,
			      void (*fn)(void *ctx, const char *json), void *ctx);

#endif
