/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: the per-workload flow features (src/state/flow_stats.c) on
 * untrusted input: the --cluster-cidr list parser (the input as text), and a
 * DNS message a workload received (the input as bytes) through the DNS
 * features, whose name helpers must stay inside the name. The counts must be
 * within their bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "state/flow_stats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct flow_stats *fs;
	char text[512], err[160];
	struct flow_cidr c[FLOW_STATS_MAX_CIDRS];
	struct flow_feat ft;

	if (!fs) {
		struct flow_stats_opts o = { .max_domains = 8, .max_workloads = 8 };
		fs = flow_stats_new(&o, err, sizeof(err));
		if (!fs)
			abort();
	}
	size_t n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
	memcpy(text, data, n);
	text[n] = 0;
	int k = flow_cidrs_parse(text, c, FLOW_STATS_MAX_CIDRS, err, sizeof(err));
	if (k > FLOW_STATS_MAX_CIDRS)
		abort();
	for (int i = 0; i < k; i++)
		if (c[i].prefix > (c[i].family == 2 ? 32 : 128))
			abort();
	const char *d = flow_dns_domain(text);
	if (d < text || d > text + n)
		abort();
	if (flow_dns_label_max(text) > (int64_t)n || flow_dns_entropy(text) < 0 || flow_dns_entropy(text) > 800)
		abort();

	static uint64_t ts;
	ts += 1000000;
	if (flow_stats_dns(fs, (size & 1) ? "a" : "b", data, size, ts, &ft) == 0) {
		if (strlen(ft.qname) >= sizeof(ft.qname) || ft.unique == 0 || ft.unique > FLOW_STATS_DNS_NAMES)
			abort();
		if (ft.label_max > 253 || ft.entropy < 0 || ft.entropy > 800)
			abort();
	}
	return 0;
}
