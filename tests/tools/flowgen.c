/* SPDX-License-Identifier: Apache-2.0 */
/*
 * flowgen STORE < SCRIPT: feed flow reports and DNS answers through the public
 * API the agent uses (state/dns_cache.h, output/flow_rollup.h) into the store
 * at STORE, for the `vigil flows` tests. SCRIPT lines, words split on blanks,
 * "-" for an empty word:
 *
 *   meta ID NAME NAMESPACE POD     a container's metadata, used by flows of ID
 *   dns ID FILE AGO                the DNS message in FILE (raw bytes), received by
 *                                  container ID ("-": the host) AGO seconds ago
 *   flow COOKIE PHASE ID DIR PROTO LADDR LPORT RADDR RPORT PEER_ID START_AGO AGO IN OUT PKIN PKOUT
 *                                  a report (PHASE open|update|close, DIR out|in,
 *                                  PROTO tcp|udp) made AGO seconds ago, of a flow
 *                                  opened START_AGO seconds ago; its remote name
 *                                  comes from the DNS cache as the agent does it
 *   flush                          flow_rollup_flush at the current time
 *
 * Prints the remote name of each flow report and the statistics at the end.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include "common/buf.h"
#include "output/flow_rollup.h"
#include "state/dns_cache.h"

#define NS 1000000000ll
#define MAX_META 128

static int64_t clock_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

static const char *word(const char *w)
{
	return strcmp(w, "-") ? w : "";
}

static int parse_addr(const char *s, struct vg_flow_endpoint *e)
{
	if (inet_pton(AF_INET, s, e->addr) == 1) {
		e->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, e->addr) == 1) {
		e->family = AF_INET6;
		return 0;
	}
	return -1;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: flowgen STORE < SCRIPT\n");
		return 2;
	}
	char err[512], line[4096];
	struct flow_rollup *r = flow_rollup_open(argv[1], NULL, err, sizeof(err));
	if (!r) {
		fprintf(stderr, "flowgen: %s\n", err);
		return 1;
	}
	struct dns_cache *dc = dns_cache_new(NULL);
	struct vg_container_meta metas[MAX_META];
	int nmeta = 0, lineno = 0, rc = 0;
	/* the agent's conversion: boot clock (the records' timestamps) to wall clock */
	int64_t boot = clock_ns(CLOCK_BOOTTIME), wall = clock_ns(CLOCK_REALTIME);
	uint64_t b2r = (uint64_t)(wall - boot);

	while (fgets(line, sizeof(line), stdin)) {
		char *w[24];
		int n = 0;
		lineno++;
		for (char *save = NULL, *t = strtok_r(line, " \t\n", &save); t && n < 24; t = strtok_r(NULL, " \t\n", &save))
			w[n++] = t;
		if (n == 0 || w[0][0] == '#')
			continue;
		if (!strcmp(w[0], "meta") && n == 5 && nmeta < MAX_META) {
			struct vg_container_meta *m = &metas[nmeta++];
			memset(m, 0, sizeof(*m));
			snprintf(m->id, sizeof(m->id), "%s", w[1]);
			m->name = *word(w[2]) ? xstrdup(w[2]) : NULL;
			m->k8s_namespace = *word(w[3]) ? xstrdup(w[3]) : NULL;
			m->k8s_pod_name = *word(w[4]) ? xstrdup(w[4]) : NULL;
		} else if (!strcmp(w[0], "dns") && n == 4) {
			FILE *f = fopen(w[2], "rb");
			uint8_t buf[65536];
			size_t len = f ? fread(buf, 1, sizeof(buf), f) : 0;
			if (f)
				fclose(f);
			int k = dns_cache_learn(dc, word(w[1]), buf, len, (uint64_t)(boot - atoll(w[3]) * NS));
			printf("dns %s: %d addresses\n", w[2], k);
		} else if (!strcmp(w[0], "flow") && n == 17) {
			struct vg_flow fl = { 0 };
			fl.cookie = strtoull(w[1], NULL, 10);
			fl.phase = !strcmp(w[2], "open") ? VG_FLOW_OPEN : !strcmp(w[2], "update") ? VG_FLOW_UPDATE : VG_FLOW_CLOSE;
			snprintf(fl.container_id, sizeof(fl.container_id), "%s", word(w[3]));
			fl.dir = !strcmp(w[4], "out") ? VG_FLOW_OUTBOUND : !strcmp(w[4], "in") ? VG_FLOW_INBOUND : VG_FLOW_DIR_UNKNOWN;
			fl.proto = !strcmp(w[5], "udp") ? VG_FLOW_UDP : VG_FLOW_TCP;
			if (parse_addr(w[6], &fl.local) || parse_addr(w[8], &fl.remote)) {
				fprintf(stderr, "flowgen: line %d: bad address\n", lineno);
				rc = 1;
				break;
			}
			fl.local.port = (uint16_t)atoi(w[7]);
			fl.remote.port = (uint16_t)atoi(w[9]);
			snprintf(fl.peer_container_id, sizeof(fl.peer_container_id), "%s", word(w[10]));
			fl.start_ns = (uint64_t)(boot - atoll(w[11]) * NS);
			fl.ts_ns = (uint64_t)(boot - atoll(w[12]) * NS);
			fl.bytes_in = strtoull(w[13], NULL, 10);
			fl.bytes_out = strtoull(w[14], NULL, 10);
			fl.pkts_in = strtoull(w[15], NULL, 10);
			fl.pkts_out = strtoull(w[16], NULL, 10);
			dns_cache_name_flow(dc, &fl);
			const struct vg_container_meta *self = NULL, *peer = NULL;
			for (int i = 0; i < nmeta; i++) {
				if (fl.container_id[0] && !strcmp(metas[i].id, fl.container_id))
					self = &metas[i];
				if (fl.peer_container_id[0] && !strcmp(metas[i].id, fl.peer_container_id))
					peer = &metas[i];
			}
			printf("flow %llu: remote name '%s'\n", (unsigned long long)fl.cookie, fl.remote_name);
			if (flow_rollup_add(r, &fl, self, peer, b2r)) {
				fprintf(stderr, "flowgen: %s\n", flow_rollup_error(r));
				rc = 1;
			}
		} else if (!strcmp(w[0], "flush") && n == 1) {
			if (flow_rollup_flush(r, clock_ns(CLOCK_REALTIME)) < 0) {
				fprintf(stderr, "flowgen: %s\n", flow_rollup_error(r));
				rc = 1;
			}
		} else {
			fprintf(stderr, "flowgen: line %d: cannot parse '%s'\n", lineno, w[0]);
			rc = 1;
			break;
		}
	}
	struct flow_rollup_stats st;
	flow_rollup_stats(r, &st);
	printf("reports %llu flows %llu rows_written %llu\n", (unsigned long long)st.reports,
	       (unsigned long long)st.flows, (unsigned long long)st.rows_written);
	flow_rollup_close(r);
	dns_cache_free(dc);
	for (int i = 0; i < nmeta; i++) {
		free(metas[i].name);
		free(metas[i].k8s_namespace);
		free(metas[i].k8s_pod_name);
	}
	return rc;
}
