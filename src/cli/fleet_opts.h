/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The NATS connection options every fleet command takes the same way (run,
 * replay, hub, fleet): a fragment of getopt_long's table and its parser.
 */
#ifndef VIGIL_CLI_FLEET_OPTS_H
#define VIGIL_CLI_FLEET_OPTS_H

#include <getopt.h>
#include <stdbool.h>
#include "fleet/nats_conn.h"

/* Option codes above any short option. */
enum {
	FLEET_OPT_NATS = 0x1000,
	FLEET_OPT_CREDS,
	FLEET_OPT_NKEY,
	FLEET_OPT_CA,
	FLEET_OPT_CERT,
	FLEET_OPT_KEY,
	FLEET_OPT_NODE,
	FLEET_OPT_CLUSTER,
};

#define FLEET_LONG_OPTIONS                                                                         \
	{ "nats", required_argument, NULL, FLEET_OPT_NATS },                                       \
	{ "nats-creds", required_argument, NULL, FLEET_OPT_CREDS },                                \
	{ "nats-nkey", required_argument, NULL, FLEET_OPT_NKEY },                                  \
	{ "nats-ca", required_argument, NULL, FLEET_OPT_CA },                                      \
	{ "nats-cert", required_argument, NULL, FLEET_OPT_CERT },                                  \
	{ "nats-key", required_argument, NULL, FLEET_OPT_KEY },                                    \
	{ "node", required_argument, NULL, FLEET_OPT_NODE },                                       \
	{ "cluster", required_argument, NULL, FLEET_OPT_CLUSTER }

#define FLEET_OPTIONS_HELP                                                                         \
	"  --nats URL[,URL...]  NATS JetStream servers (nats://, tls://; user:password@ allowed)\n" \
	"  --nats-creds FILE    a NATS credentials file (user JWT and seed)\n"                     \
	"  --nats-nkey FILE     an NKey user seed file\n"                                          \
	"  --nats-ca FILE       CA certificates to verify the servers (TLS)\n"                     \
	"  --nats-cert FILE, --nats-key FILE  a TLS client certificate and its key\n"              \
	"  --node NAME          this node's name (default: the host name)\n"                       \
	"  --cluster NAME       the cluster's name (default: default)\n"

/* true when opt was one of the fleet options (its argument kept in o). */
bool fleet_option(int opt, const char *arg, struct fleet_conn_opts *o);
/* true when any fleet option but --nats was given without --nats. */
bool fleet_options_orphan(const struct fleet_conn_opts *o);

#endif
