/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The embedded store: alerts (and, later, response actions) in one SQLite
 * file. The agent writes a poll batch of alerts in one transaction and
 * commits before it prints them, so an alert the agent has shown is on disk.
 * Schema in docs/alerts.md; versioned by PRAGMA user_version.
 */
#ifndef VIGIL_STORE_H
#define VIGIL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "engine/engine.h"

#define STORE_DEFAULT_PATH "/var/lib/vigil/vigil.db"

struct store;

/* Open or create the store (and its directory, mode 0700). NULL with a reason in err. */
struct store *store_open(const char *path, bool readonly, char *err, size_t errlen);
void store_close(struct store *s);

/* Add one alert to the current batch (a transaction is begun on the first). 0 or -1. */
int store_add_alert(struct store *s, const struct alert *a, const char *json, uint64_t boot_to_realtime);
/* Commit the batch. 0 or -1 (the batch is lost and the error logged). */
int store_commit(struct store *s);
const char *store_error(const struct store *s);

struct store_query {
	int64_t since_ns;       /* wall-clock ns; 0: all */
	const char *rule;       /* exact rule name, or NULL */
	int max_priority;       /* at least this severe (PRIO_*), -1: any */
	const char *container;  /* id prefix or name, or NULL */
	long limit;             /* 0: no limit */
};

/* Calls fn for each matching alert, oldest first, with its JSON. Returns the count or -1. */
long store_query_alerts(struct store *s, const struct store_query *q,
			void (*fn)(void *ctx, const char *json), void *ctx);

#endif
