/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one connection to NATS JetStream that the agent's publisher, the hub and
 * `vigil fleet` share: servers, TLS, credentials, names, and reconnection.
 *
 * A connection is made to survive: unless opts.connect_now, it is created even
 * when no server answers yet (the agent starts and keeps its outbox while NATS
 * is down), and once up it reconnects forever, cycling through every server given. Callers ask
 * fleet_conn_up() before they send, and rely on JetStream acknowledgements,
 * never on the connection state, to know what arrived.
 *
 * Names: a node and a cluster are subject tokens (docs/fleet.md): 1 to 64 of
 * [A-Za-z0-9_-]. No dots and no wildcards, so that a node's name can never reach
 * into another node's subjects.
 */
#ifndef VIGIL_FLEET_NATS_CONN_H
#define VIGIL_FLEET_NATS_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <nats/nats.h>

#define FLEET_NAME_MAX 64

struct fleet_conn_opts {
	const char *servers;   /* "nats://h1:4222,tls://h2:4222"; user:password@ allowed */
	const char *node;      /* default: the host name, cut to a valid token */
	const char *cluster;   /* default: "default" */
	const char *creds;     /* a .creds file (user JWT and NKey seed) */
	const char *nkey_seed; /* a file holding an NKey user seed (SU...) */
	const char *tls_ca;    /* CA bundle to verify the servers; implies TLS */
	const char *tls_cert;  /* client certificate (PEM), with tls_key */
	const char *tls_key;
	const char *client;    /* what the server shows as the client's name: "vigil-agent" */
	bool connect_now;      /* fail at once with the server's reason (bad credentials, no
				* server) instead of connecting in the background: commands */
};

struct fleet_conn;

/* A node or cluster name that can be a subject token: 1..64 of [A-Za-z0-9_-]. */
bool fleet_name_valid(const char *s);

/*
 * The host name as a valid token (other characters become '-', cut to 64):
 * the default node name. Returns buf.
 */
const char *fleet_default_node(char *buf, size_t len);

/*
 * Connect (in the background if no server answers yet). Fills node and
 * cluster defaults. NULL with a message in err on a bad option (bad name,
 * unreadable credentials, no server given).
 */
struct fleet_conn *fleet_connect(const struct fleet_conn_opts *o, char *err, size_t errlen);
void fleet_close(struct fleet_conn *c);

natsConnection *fleet_nc(struct fleet_conn *c);
jsCtx *fleet_js(struct fleet_conn *c);
const char *fleet_node(const struct fleet_conn *c);
const char *fleet_cluster(const struct fleet_conn *c);
/* Connected now (not reconnecting, not waiting for the first server). */
bool fleet_conn_up(struct fleet_conn *c);
/*
 * Wait up to timeout_ms for the connection to be up. Returns true when it is.
 */
bool fleet_conn_wait(struct fleet_conn *c, long timeout_ms);

/* "vigil.<cluster>.<node>.<kind>" into buf; -1 when it does not fit. */
int fleet_subject(char *buf, size_t len, const char *cluster, const char *node, const char *kind);

/*
 * The public key ("U...") of the NKey user seed in a file (a line starting
 * "SU"): what a server's configuration names. 0, or -1 with err.
 */
int fleet_nkey_public(const char *seed_path, char *pub, size_t publen, char *err, size_t errlen);

/* A natsStatus as text with the library's last error detail, for messages. */
const char *fleet_status_text(natsStatus s, char *buf, size_t len);

#endif
