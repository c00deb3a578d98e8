/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stateful per-workload features of network flows, for the default flow rules
 * (docs/flows.md, "Per-workload features"): what one flow record cannot say by
 * itself, learnt from the flows and DNS answers before it.
 *
 *   - exfiltration by volume: bytes a workload sent over connections it opened
 *     to addresses outside the cluster (a CIDR list), summed over a sliding
 *     window;
 *   - new external destinations: whether a workload has contacted this name
 *     (from DNS, else the address) before, after a learning period that starts
 *     when the workload is first seen; the knowledge can be saved and loaded
 *     (the agent keeps it in its SQLite store);
 *   - beaconing: per workload and external destination (and port), the
 *     regularity of connection start times;
 *   - DNS tunnelling: for each DNS answer a workload receives, the question's
 *     longest label, the Shannon entropy of its labels left of the registrable
 *     domain, and how many unique names under that domain the workload
 *     resolved within the window.
 *
 * A "workload" is a string key (flow_stats_workload): "host" for processes
 * outside containers, "k8s:NAMESPACE/POD/CONTAINER" for a Kubernetes
 * container, "name:NAME" for another named container, else "id:FULLID".
 *
 * Times are the records' CLOCK_BOOTTIME ns (event time: replay gives the
 * same answers). Memory is bounded by the limits in struct flow_stats_opts:
 * every table evicts its least recently used entry when full and counts it.
 * Not thread-safe: the agent's loop is the one caller.
 */
#ifndef VIGIL_STATE_FLOW_STATS_H
#define VIGIL_STATE_FLOW_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sensor/decode.h"
#include "state/flow.h"

struct vg_state;
struct vg_container_meta;
struct flow_stats;

#define FLOW_STATS_KEY_LEN 200   /* a workload key, NUL included (cut beyond) */
#define FLOW_STATS_MAX_CIDRS 64
/* "inside the cluster" when no list is given: RFC 1918, loopback, link-local, ULA */
#define FLOW_STATS_DEFAULT_CIDRS "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,127.0.0.0/8,169.254.0.0/16,::1/128,fe80::/10,fc00::/7"
#define FLOW_STATS_BEACON_KEEP 16 /* start times kept per series */
#define FLOW_STATS_DNS_NAMES 256  /* unique names kept per (workload, domain) */

struct flow_stats_opts {
	const char *cluster_cidrs; /* comma-separated CIDRs inside the cluster; NULL: the default above */
	uint64_t window_ns;        /* exfil volume and DNS unique names; 0: 300 s */
	uint64_t learn_ns;         /* learning period of a new workload; 0: 600 s (learn_set: 0 allowed) */
	bool learn_set;
	unsigned int beacon_min;        /* connections that make a series a beacon; 0: 8 */
	unsigned int beacon_jitter_pct; /* at most this coefficient of variation, %; 0: 10 */
	size_t max_workloads;      /* 0: 4096 */
	size_t max_dests;          /* known (workload, destination) pairs; 0: 65536 */
	size_t max_series;         /* beacon series; 0: 16384 */
	size_t max_domains;        /* (workload, domain) unique-name sets; 0: 2048 (4 KiB each) */
	size_t max_cookies;        /* outbound external flows followed for their byte deltas; 0: 131072 */
};

/* The features of one flow record or DNS answer (flow_stats_last). */
struct flow_feat {
	char workload[FLOW_STATS_KEY_LEN];
	bool is_flow, is_dns;
	/* flows */
	bool external;                 /* remote address outside the cluster and no container of this node */
	char dest[VG_FLOW_NAME_LEN];   /* the remote name, else the address as text */
	uint64_t exfil_bytes;          /* sent to external addresses in the window, this report included */
	uint64_t exfil_bytes_before;   /* the same before this report */
	bool dest_new;                 /* first outbound connection of the workload to dest, after learning */
	bool learning;                 /* the workload is in its learning period */
	uint32_t beacon_count;         /* connections of the series so far (outbound opens, external) */
	int64_t beacon_period_ms;      /* mean interval between their starts; -1 below 2 connections */
	int64_t beacon_jitter_pct;     /* coefficient of variation of the intervals, %; -1 below 3 */
	bool beacon_new;               /* the series has just become regular (once per series) */
	/* DNS answers */
	char qname[VG_FLOW_NAME_LEN];
	char domain[VG_FLOW_NAME_LEN]; /* registrable domain of qname */
	int64_t label_max;             /* longest label of qname */
	int64_t entropy;               /* Shannon entropy of the labels left of domain, centibits per character */
	uint32_t unique;               /* unique names under domain the workload resolved in the window */
	bool name_new;                 /* qname was not among them before this answer */
};

struct flow_stats_stats {
	uint64_t flows, dns, dns_malformed;
	uint64_t workloads_evicted, dests_evicted, series_evicted, domains_evicted, cookies_evicted;
	uint64_t dests_new, dests_learnt; /* alerts-worthy / learnt silently */
	size_t workloads, dests, series, domains, cookies;
};

/*
 * Called when the stats learn something worth keeping across restarts: a new
 * workload (dest NULL, ts its first sight) or a new (workload, destination).
 */
typedef void (*flow_stats_learn_fn)(void *ctx, const char *workload, const char *dest, uint64_t ts_ns);

/* NULL with the reason in err when opts are bad (a CIDR that does not parse). */
struct flow_stats *flow_stats_new(const struct flow_stats_opts *opts, char *err, size_t errlen);
void flow_stats_free(struct flow_stats *fs); /* NULL is fine */
void flow_stats_set_listener(struct flow_stats *fs, flow_stats_learn_fn fn, void *ctx);

/*
 * Parse a comma-separated CIDR list ("10.0.0.0/8,fd00::/8"; a bare address is
 * a /32 or /128) into at most max entries: family, 16 address bytes, prefix.
 * Returns the count, or -1 with "bad CIDR 'x'" in err.
 */
struct flow_cidr {
	int family;
	uint8_t addr[16];
	uint8_t prefix;
};
int flow_cidrs_parse(const char *list, struct flow_cidr *out, size_t max, char *err, size_t errlen);
bool flow_cidrs_match(const struct flow_cidr *c, size_t n, int family, const uint8_t *addr);
/* Is the address inside the cluster (fs's list)? */
bool flow_stats_internal(const struct flow_stats *fs, int family, const uint8_t *addr);

/* Remember what an earlier run learnt: a workload first seen at ts, or a destination it knows. */
void flow_stats_remember(struct flow_stats *fs, const char *workload, const char *dest, uint64_t ts_ns);

/* The workload key of a container (meta may be NULL; id "" is the host). Can't fail. */
void flow_stats_workload(const struct vg_container_meta *m, const char *container_id,
			 char out[FLOW_STATS_KEY_LEN]);

/* The features of flow f (made by the flow table) of workload `workload`; *out filled. */
void flow_stats_flow(struct flow_stats *fs, const char *workload, const struct vg_flow *f, struct flow_feat *out);

/* The features of one DNS message the workload received at ts_ns. -1 if it does not parse. */
int flow_stats_dns(struct flow_stats *fs, const char *workload, const uint8_t *msg, size_t len, uint64_t ts_ns,
		   struct flow_feat *out);

/*
 * For the agent: compute the features of ev (a flow_tcp/flow_udp record the
 * flow table st->flows just ingested, or a flow_dns record) and keep them
 * for flow_stats_last(). Other events: nothing.
 */
void flow_stats_ingest(struct flow_stats *fs, const struct vg_state *st, const struct vg_event *ev);
/* The features flow_stats_ingest() made of ev, if ev is the event it last ingested; else NULL. */
const struct flow_feat *flow_stats_last(const struct flow_stats *fs, const struct vg_event *ev);

/* Pure helpers, exposed for the tests. */
/* The registrable domain of a lowercase name: last two labels, three after a known
 * two-level suffix (co.uk, com.au, ...); the name itself when it has fewer. */
const char *flow_dns_domain(const char *name);
int64_t flow_dns_label_max(const char *name);
/* Shannon entropy of the characters of name's labels left of its registrable domain
 * (dots excluded), in centibits per character; 0 when there are none. */
int64_t flow_dns_entropy(const char *name);

void flow_stats_stats(const struct flow_stats *fs, struct flow_stats_stats *out);

#endif
