/* SPDX-License-Identifier: Apache-2.0 */
#include "cli/fleet_opts.h"

bool fleet_option(int opt, const char *arg, struct fleet_conn_opts *o)
{
	switch (opt) {
	case FLEET_OPT_NATS:
		o->servers = arg;
		return true;
	case FLEET_OPT_CREDS:
		o->creds = arg;
		return true;
	case FLEET_OPT_NKEY:
		o->nkey_seed = arg;
		return true;
	case FLEET_OPT_CA:
		o->tls_ca = arg;
		return true;
	case FLEET_OPT_CERT:
		o->tls_cert = arg;
		return true;
	case FLEET_OPT_KEY:
		o->tls_key = arg;
		return true;
	case FLEET_OPT_NODE:
		o->node = arg;
		return true;
	case FLEET_OPT_CLUSTER:
		o->cluster = arg;
		return true;
	default:
		return false;
	}
}

bool fleet_options_orphan(const struct fleet_conn_opts *o)
{
	return !o->servers && (o->creds || o->nkey_seed || o->tls_ca || o->tls_cert || o->tls_key || o->node ||
			       o->cluster);
}
