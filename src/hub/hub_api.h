/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The hub's HTTP JSON API (docs/hub.md): HTTPS only, every route behind a
 * bearer token from the token file. Read-only: it queries the store on
 * read-only connections of its own and never blocks the consumer.
 */
#ifndef VIGIL_HUB_API_H
#define VIGIL_HUB_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "fleet/nats_conn.h"
#include "hub/hub_store.h"

struct vg_buf;

/* Tokens: one "TOKEN ROLE [NAME]" a line; '#' comments; ROLE viewer or responder. */
enum hub_role { HUB_ROLE_NONE = 0, HUB_ROLE_VIEWER, HUB_ROLE_RESPONDER };
struct hub_tokens;
/* Parse a token file's text (path names it in errors: "tokens:3: ..."). NULL with err. */
struct hub_tokens *hub_tokens_parse(const char *text, size_t len, const char *path, char *err, size_t errlen);
struct hub_tokens *hub_tokens_load(const char *path, char *err, size_t errlen);
void hub_tokens_free(struct hub_tokens *t);
size_t hub_tokens_count(const struct hub_tokens *t);
/*
 * The role of a presented token, or HUB_ROLE_NONE. Compares digests of every
 * known token in constant time, whatever matches (no early exit), so the
 * answer's timing says nothing about how much of a token was right.
 */
enum hub_role hub_tokens_check(const struct hub_tokens *t, const char *token, const char **name);

/*
 * A query string's parameters (keys[i]=vals[i]) into q for a table. Unknown or
 * repeated parameters and malformed values are refused: -1 with err, which the
 * API returns as 400 {"error": err}.
 */
int hub_api_parse_query(enum hub_table table, const char *const *keys, const char *const *vals, size_t n,
			struct hub_query *q, char *err, size_t errlen);

/* What the API shows of the hub's ingest (filled by the consumer, read by /status and /metrics). */
struct hub_stats {
	uint64_t stored[4];   /* by kind - 1: alerts, actions, losses, heartbeats */
	uint64_t duplicates;  /* redeliveries that were no-ops */
	uint64_t rejected[HUB_REJ__N];
	uint64_t batches, commit_failures, fetch_errors;
	uint64_t fetches;     /* fetches that returned messages (a commit, "batches", may hold several) */
	int64_t started_ns;
	/* flows (hub_flows.h) and retention (--retain) */
	uint64_t flow_msgs, flow_rows; /* flows messages stored, rows they carried */
	uint64_t retained[4];          /* rows deleted by retention: alerts, actions, losses, flows */
	uint64_t retain_runs, retain_errors;
	int64_t retain_ns;             /* --retain; 0: none */
	bool flows_consuming;          /* bound to VIGIL_FLOWS */
};

struct fleet_cmd;
struct hub_api_opts {
	const char *listen;      /* ADDR:PORT */
	const char *cert_pem, *key_pem;
	const struct hub_tokens *tokens;
	const char *store_path;
	int64_t silent_after_ns;
	const struct hub_stats *stats;
	unsigned threads;
	/* the hub's NATS connection, for response commands (hub_api_commands.c): NULL until
	 * hub.c has made it, then set once (atomically) and kept until the API stops */
	struct fleet_conn *nats;
	/* a single agent's console (run --console, hub_local.h): commands carried out in this
	 * process by this function (an enum fleet_cmd_outcome, the detail in detail) instead of
	 * over NATS; NULL: over nats */
	int (*local_command)(void *ctx, const struct fleet_cmd *c, char *detail, size_t dlen);
	/* and a capture's bundle (GET /api/v1/evidence) packed here as tar into out: 0, or -1
	 * with errno ENOENT when the bundle is gone, the reason in err */
	int (*local_evidence)(void *ctx, const char *bundle, struct vg_buf *out, char *err, size_t errlen);
	void *local_ctx;
};

struct hub_api;
/* Start serving (its own threads). NULL after logging why. */
struct hub_api *hub_api_start(const struct hub_api_opts *o);
/* The port bound (useful with port 0). */
unsigned hub_api_port(const struct hub_api *a);
void hub_api_stop(struct hub_api *a);

#endif
