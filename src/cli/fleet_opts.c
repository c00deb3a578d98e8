/* SPDX-License-Identifier: Apache-2.0 */
#include "cli/fleet_opts.h"

#include <stdio.h>

int fleet_conn_option(int opt, const char *arg, struct fleet_conn_opts *o)
{
	switch (opt) {
	case 0x200: o->servers = arg; return 1;
	case 0x201: o->creds = arg; return 1;
	case 0x202: o->nkey_seed = arg; return 1;
	case 0x203: o->tls_ca = arg; return 1;
	case 0x204: o->tls_cert = arg; return 1;
	case 0x205: o->tls_key = arg; return 1;
	}
	return 0;
}

struct fleet_conn *fleet_conn_open(struct fleet_conn_opts *o)
{
	char err[512];
	if (!o->servers) {
		fprintf(stderr, "vigil: fleet: --nats URL is required\n");
		return NULL;
	}
	o->client = "vigil-fleet";
	o->connect_now = true; /* a bad credential is said now, with the server's reason */
	struct fleet_conn *c = fleet_connect(o, err, sizeof(err));
	if (!c) {
		fprintf(stderr, "vigil: fleet: %s\n", err);
		return NULL;
	}
	if (!fleet_conn_wait(c, 10000)) {
		const char *why = NULL;
		natsConnection_GetLastError(fleet_nc(c), &why);
		fprintf(stderr, "vigil: fleet: no NATS server of %s answered within 10 s%s%s\n", o->servers,
			why && *why ? ": " : "", why && *why ? why : "");
		fleet_close(c);
		return NULL;
	}
	return c;
}
