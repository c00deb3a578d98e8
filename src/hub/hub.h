/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil hub: the fleet's view. Consumes the alerts stream (alerts, actions,
 * loss records) and the heartbeats stream with a durable pull consumer of its
 * own on each, stores what it receives in its own SQLite store, and
 * acknowledges each batch only after the store committed it; serves the HTTP
 * JSON API (hub_api.h). Several hubs, each with its own durable name, each
 * hold the whole fleet; a hub restarted with the same durable name and store
 * resumes where it stopped (what it committed but had not yet acknowledged is
 * delivered again and is a no-op).
 */
#ifndef VIGIL_HUB_H
#define VIGIL_HUB_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include "fleet/nats_conn.h"

#define HUB_ALERTS_STREAM "VIGIL_ALERTS"
#define HUB_HEARTBEATS_STREAM "VIGIL_HEARTBEATS"
#define HUB_FLOWS_STREAM "VIGIL_FLOWS"
#define HUB_DEFAULT_RETAIN_NS (30LL * 86400 * 1000000000LL)

struct hub_opts {
	struct fleet_conn_opts conn;
	const char *durable;       /* the consumer's name on both streams: one per hub */
	const char *store;         /* the hub's SQLite file */
	const char *listen;        /* API address, ADDR:PORT */
	const char *tls_cert, *tls_key, *token_file;
	size_t max_msg;            /* larger messages are refused (term-acked) */
	int batch;                 /* messages fetched and committed at once */
	int max_ack_pending;       /* the consumer's bound on unacknowledged messages */
	long silent_after_s;       /* a node whose last heartbeat is older is "silent" */
	bool fsync;                /* synchronous=FULL: a commit survives a power loss */
	unsigned api_threads;
	int64_t retain_ns;         /* delete records older than this (hub_flows.h); <= 0: keep all */
};

/* Run until *stop. Returns 0 after a clean stop, -1 when it could not start (logged). */
int hub_run(const struct hub_opts *o, volatile sig_atomic_t *stop);

#endif
