/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the `vigil fleet` subcommands share (cmd_fleet.c, cmd_fleet_policy.c):
 * the NATS connection options, as getopt_long rows and their parser, and a
 * connection made now (these commands need a server, and a refusal is said at
 * once with the server's reason).
 */
#ifndef VIGIL_CLI_FLEET_OPTS_H
#define VIGIL_CLI_FLEET_OPTS_H

#include <getopt.h>
#include "fleet/nats_conn.h"

/* The connection options every fleet subcommand takes, as getopt_long rows (values 0x200..). */
#define FLEET_CONN_OPTIONS                                                                                        \
	{ "nats", required_argument, NULL, 0x200 }, { "nats-creds", required_argument, NULL, 0x201 },            \
		{ "nats-nkey", required_argument, NULL, 0x202 }, { "nats-ca", required_argument, NULL, 0x203 }, \
		{ "nats-cert", required_argument, NULL, 0x204 }, { "nats-key", required_argument, NULL, 0x205 }

#define FLEET_CONN_HELP                                                                                 \
	"  --nats URL[,URL...]  the NATS servers (nats:// or tls://)\n"                                \
	"  --nats-creds FILE    a .creds file; --nats-nkey FILE: an NKey user seed instead\n"           \
	"  --nats-ca FILE       CA to verify the servers; --nats-cert FILE --nats-key FILE: a client\n" \
	"                       certificate\n"

/* 1 when opt was a connection option (stored in o), 0 when it is not one. */
int fleet_conn_option(int opt, const char *arg, struct fleet_conn_opts *o);
/* Connect and wait for a server. NULL after saying why on stderr. */
struct fleet_conn *fleet_conn_open(struct fleet_conn_opts *o);

/* cmd_fleet_policy.c: vigil fleet push | history */
int fleet_push(int argc, char **argv);
int fleet_history(int argc, char **argv);

#endif
