/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent in a fleet (docs/fleet.md): with --nats, the store is the outbox
 * and a NATS forwarder publishes what it commits; a heartbeat thread tells
 * the node's health. Nothing here runs without --nats.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "agent/agent_int.h"
#include "common/log.h"
#include "fleet/heartbeat.h"
#include "fleet/nats_conn.h"
#include "fleet/publisher.h"
#include "output/forwarders.h"
#include "output/outbox.h"

void agent_fleet_committed(void *ctx)
{
	struct agent *a = ctx;
	outbox_notify(a->outbox);
}

/* sha256 of the rule files' bytes in load order (Vigil's defaults first when loaded):
 * the node's own files, or the fleet's set when it runs one. */
void agent_rules_digest(struct agent *a)
{
	const char *const *paths;
	size_t npaths;
	bool defaults;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char out[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	char buf[65536];

	if (!md)
		return;
	agent_rule_paths(a, &paths, &npaths, &defaults);
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	if (!npaths || defaults)
		for (size_t i = 0; default_rules_texts[i]; i++)
			EVP_DigestUpdate(md, default_rules_texts[i], default_rules_sizes[i]);
	for (size_t i = 0; i < npaths; i++) {
		FILE *f = fopen(paths[i], "re");
		size_t got;
		if (!f)
			continue;
		while ((got = fread(buf, 1, sizeof(buf), f)) > 0)
			EVP_DigestUpdate(md, buf, got);
		fclose(f);
	}
	EVP_DigestFinal_ex(md, out, &n);
	EVP_MD_CTX_free(md);
	int len = snprintf(a->rules_digest, sizeof(a->rules_digest), "sha256:");
	for (unsigned int i = 0; i < n && (size_t)len + 2 < sizeof(a->rules_digest); i++)
		len += snprintf(a->rules_digest + len, sizeof(a->rules_digest) - (size_t)len, "%02x", out[i]);
	fleet_heartbeat_set_rules(a->heartbeat, a->rules_digest);
}

static void health(void *ctx, struct fleet_health *h)
{
	struct agent *a = ctx;
	struct outbox_stats st[OUTBOX_MAX_FORWARDERS];
	size_t n = outbox_stats(a->outbox, st, OUTBOX_MAX_FORWARDERS);

	agent_central_status(a, h->policy);
	h->events = __atomic_load_n(&a->events, __ATOMIC_RELAXED);
	h->lost_records = __atomic_load_n(&a->lost_records, __ATOMIC_RELAXED);
	agent_floods_health(a, h->dropped);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(st[i].name, fleet_publisher_ops.name)) {
			h->outbox_depth = st[i].depth;
			h->outbox_oldest_s = st[i].oldest_age_s;
			h->outbox_lost = st[i].lost;
		}
}

int agent_fleet_start(struct agent *a)
{
	const struct agent_fleet *f = &a->cfg.fleet;
	char err[512];

	if (!f->servers && !a->cfg.noutputs)
		return 0;
	if (!a->cfg.store_path || !a->cfg.detect) {
		vg_err("%s forwards the alert store's records: it needs rules and a store (not --no-store)",
		       f->servers ? "--nats" : "an output");
		return -1;
	}
	struct outbox_opts oo = {
		.store_path = a->cfg.store_path,
		.budget_bytes = f->budget_bytes,
		/* JetStream acks a batch in about one round of its replicas: big batches, few rounds */
		.batch_max = 4096,
		.linger_ms = FLEET_LINGER_MS,
		.hostname = a->src ? a->src->hostname : NULL,
	};
	if (!(a->outbox = outbox_open(&oo, err, sizeof(err)))) {
		vg_err("%s", err);
		return -1;
	}
	/* --output NAME:SPEC: syslog, webhook, file (output/forwarder.c), each its own cursor:
	 * named by name=, else by its kind when it is the only one of its kind, else by its
	 * kind and a digest of its spec (stable across restarts while the spec stays) */
	size_t n = a->cfg.noutputs;
	const struct vg_forwarder_ops **ops = xcalloc(n ? n : 1, sizeof(*ops));
	char **specs = xcalloc(n ? n : 1, sizeof(*specs));
	char (*names)[32] = xcalloc(n ? n : 1, sizeof(*names));
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		const char *spec;
		if (forwarder_parse_arg(a->cfg.outputs[i], &ops[i], &spec, err, sizeof(err)) ||
		    forwarder_split_name(spec, names[i], sizeof(names[i]), &specs[i], err, sizeof(err))) {
			vg_err("--output %s: %s", a->cfg.outputs[i], err);
			rc = -1;
		}
	}
	for (size_t i = 0; i < n && !rc; i++) {
		if (names[i][0])
			continue;
		size_t same = 0;
		for (size_t j = 0; j < n; j++)
			same += ops[j] == ops[i];
		if (same == 1) {
			snprintf(names[i], sizeof(names[i]), "%s", ops[i]->name);
		} else {
			unsigned char md[EVP_MAX_MD_SIZE];
			unsigned int mdlen = 0;
			EVP_Digest(specs[i], strlen(specs[i]), md, &mdlen, EVP_sha256(), NULL);
			snprintf(names[i], sizeof(names[i]), "%s-%02x%02x%02x%02x", ops[i]->name, md[0], md[1], md[2], md[3]);
		}
	}
	for (size_t i = 0; i < n && !rc; i++) {
		void *ctx = NULL;
		if (ops[i]->open(&ctx, specs[i], err, sizeof(err)) ||
		    outbox_add_as(a->outbox, ops[i], ctx, names[i], err, sizeof(err))) {
			vg_err("--output %s: %s", a->cfg.outputs[i], err);
			rc = -1;
		} else if (strcmp(names[i], ops[i]->name)) {
			vg_info("output %s: %s", names[i], a->cfg.outputs[i]);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(specs[i]);
	free(specs);
	free(names);
	free(ops);
	if (rc)
		return -1;
	if (!f->servers)
		return agent_commands_start(a); /* run --console: the console's commands (else nothing) */
	struct fleet_conn_opts co = {
		.servers = f->servers,
		.node = f->node,
		.cluster = f->cluster,
		.creds = f->creds,
		.nkey_seed = f->nkey,
		.tls_ca = f->ca,
		.tls_cert = f->cert,
		.tls_key = f->key,
		.client = a->cfg.mode == AGENT_REPLAY ? "vigil-replay" : "vigil-agent",
	};
	if (!(a->fleet = fleet_connect(&co, err, sizeof(err)))) {
		vg_err("%s", err);
		return -1;
	}
	if (!fleet_conn_up(a->fleet)) {
		/* the connection keeps trying in the background; say once why it failed now
		 * (a refused credential is otherwise silent) */
		struct fleet_conn_opts probe = co;
		probe.connect_now = true;
		struct fleet_conn *p = fleet_connect(&probe, err, sizeof(err));
		if (p)
			fleet_close(p);
		else
			vg_warn("nats: %s; the agent keeps trying and keeps its backlog on disk", err);
	}
	void *pub = fleet_publisher_new(a->fleet, 0, err, sizeof(err));
	if (pub)
		fleet_publisher_set_store(pub, a->cfg.store_path);
	if (!pub || outbox_add(a->outbox, &fleet_publisher_ops, pub, err, sizeof(err))) {
		vg_err("%s", err);
		return -1;
	}
	a->publisher = pub;
	if (!(a->heartbeat = fleet_heartbeat_start(a->fleet, FLEET_HEARTBEAT_MS, health, a, err, sizeof(err)))) {
		vg_err("%s", err);
		return -1;
	}
	if (a->rules_digest[0])
		fleet_heartbeat_set_rules(a->heartbeat, a->rules_digest);
	if (agent_commands_start(a))
		return -1;
	vg_info("nats: publishing as node %s of cluster %s", fleet_node(a->fleet), fleet_cluster(a->fleet));
	return 0;
}

void agent_fleet_drain(struct agent *a)
{
	struct outbox_stats st[OUTBOX_MAX_FORWARDERS];
	if (!a->outbox)
		return;
	a->draining = 1;
	long ms = a->cfg.fleet.drain_ms;
	if (ms < 0 && a->stop_requested) {
		/* stopped before the end (a signal): one stop ends it, as in `run`, after a short wait */
		ms = 5000;
		vg_info("stopped: waiting at most 5 s for the backlog to be delivered");
	}
	bool done = outbox_drain(a->outbox, ms);
	size_t n = outbox_stats(a->outbox, st, OUTBOX_MAX_FORWARDERS);
	for (size_t i = 0; i < n; i++) {
		if (done || st[i].depth == 0)
			vg_info("%s: every record delivered (%llu this run, %llu lost to the disk budget)", st[i].name,
				(unsigned long long)st[i].delivered, (unsigned long long)st[i].lost);
		else
			vg_warn("%s: %lld records not delivered yet; they stay in the store and go at the next start",
				st[i].name, (long long)st[i].depth);
	}
}

void agent_fleet_stop(struct agent *a)
{
	agent_profile_fleet_stop(a);
	agent_commands_stop(a);
	fleet_heartbeat_stop(a->heartbeat);
	a->heartbeat = NULL;
	outbox_close(a->outbox); /* closes the publisher */
	a->outbox = NULL;
	a->publisher = NULL;
	fleet_close(a->fleet);
	a->fleet = NULL;
}
