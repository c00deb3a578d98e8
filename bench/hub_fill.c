/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hub_fill: write N fleetgen-shaped alerts of M nodes into a hub store through
 * the hub's own path (hub_msg_parse, hub_store_add, a commit per 1,000), fast,
 * without NATS: the large store bench/hub_api.sh queries.
 *   hub_fill STORE N [NODES]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "hub/hub_store.h"

static const char *const rules[] = { "Terminal shell in container", "Write below etc", "Reverse shell",
				     "Read sensitive file untrusted", "Outbound connection to C2" };
static const char *const prios[] = { "Notice", "Warning", "Critical", "Warning", "Critical" };
static const char *const namespaces[] = { "default", "payments", "web", "kube-system" };

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: hub_fill STORE N [NODES]\n");
		return 2;
	}
	long n = atol(argv[2]), nodes = argc > 3 ? atol(argv[3]) : 1000;
	char err[512];
	struct hub_store *s = hub_store_open(argv[1], false, false, err, sizeof(err));
	if (!s) {
		fprintf(stderr, "hub_fill: %s\n", err);
		return 1;
	}
	time_t base = time(NULL) - n / 1000;
	for (long i = 0; i < n; i++) {
		long node = i % nodes, seq = i / nodes + 1;
		char subject[96], nodename[32], seqs[24], uuid[40], body[1024], iso[32];
		snprintf(nodename, sizeof(nodename), "node-%05ld", node);
		snprintf(subject, sizeof(subject), "vigil.default.%s.alert", nodename);
		snprintf(seqs, sizeof(seqs), "%ld", seq);
		snprintf(uuid, sizeof(uuid), "%016lx%016lx", node * 2654435761UL, seq);
		time_t t = base + i / 1000;
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%S", &tm);
		int r = (int)(seq % 5);
		int len = snprintf(body, sizeof(body),
			 "{\"uuid\":\"%s\",\"time\":\"%s.%09ldZ\",\"rule\":\"%s\",\"priority\":\"%s\",\"output\":\"%s (proc.name=sh)\","
			 "\"output_fields\":{\"proc.name\":\"sh\"},\"source\":\"syscall\",\"tags\":[\"container\"],\"hostname\":\"%s\","
			 "\"vigil\":{\"event\":{\"type\":\"execve\",\"container\":{\"id\":\"%012lx\",\"name\":\"app-%ld\","
			 "\"image\":\"registry.local/app:%ld\"},\"k8s\":{\"pod\":\"app-%ld-pod\",\"namespace\":\"%s\"}},"
			 "\"ancestry\":[],\"actions\":[],\"suppressed_before\":0}}",
			 uuid, iso, (i % 1000) * 1000000L, rules[r], prios[r], rules[r], nodename, 0xabc000000000UL + (unsigned long)(seq % 7),
			 seq % 7, seq % 3, seq % 7, namespaces[seq % 4]);
		struct hub_headers h = { .msg_id = uuid, .node = nodename, .cluster = "default", .kind = "alert", .seq = seqs };
		struct hub_msg m;
		if (hub_msg_parse(subject, &h, body, (size_t)len, 1 << 20, &m, err, sizeof(err))) {
			fprintf(stderr, "hub_fill: %s\n", err);
			return 1;
		}
		if (hub_store_add(s, &m, (int64_t)t * 1000000000LL) < 0) {
			fprintf(stderr, "hub_fill: %s\n", hub_store_error(s));
			return 1;
		}
		hub_msg_free(&m);
		if (i % 1000 == 999 && hub_store_commit(s)) {
			fprintf(stderr, "hub_fill: %s\n", hub_store_error(s));
			return 1;
		}
	}
	hub_store_commit(s);
	hub_store_close(s);
	return 0;
}
