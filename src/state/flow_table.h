/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The flow table: turns the kernel's flow records (flow_tcp, flow_udp; see
 * include/vigil/flow.h) into struct vg_flow (state/flow.h), with what the
 * state knows: the container of the owner's cgroup, and the peer's container
 * when the remote address is one this node's containers use.
 *
 * It remembers each live flow by its socket cookie (so that every report
 * names the owner the flow had when it opened, and a passive flow whose owner
 * the kernel learnt after the open gets it on every later report), and the
 * local addresses flows of containers use (the address book from which peers
 * are named). Both are bounded (flow_table_new); when full, the least recently
 * reported entry is evicted and counted. Memory: about 170 bytes per flow and
 * 110 per address, so the defaults (131072 flows, 16384 addresses) stay under
 * 24 MiB at 100,000 concurrent connections.
 *
 * Not thread-safe: one reader (the agent's loop) calls it.
 */
#ifndef VIGIL_STATE_FLOW_TABLE_H
#define VIGIL_STATE_FLOW_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sensor/decode.h"
#include "state/flow.h"

struct vg_state;
struct flow_table;

#define FLOW_TABLE_MAX_FLOWS 131072
#define FLOW_TABLE_MAX_ADDRS 16384

struct flow_table_stats {
	uint64_t records;   /* flow records turned into flows */
	uint64_t opened, closed;
	uint64_t unmatched; /* reports of a flow whose OPEN was never seen: opened before the
			     * agent, or its record lost (the source counts kernel losses);
			     * not the reports of an accepted connection no process has read
			     * or written yet, whose OPEN comes later by design */
	uint64_t evicted;   /* live flows forgotten because the table was full */
	uint64_t addr_evicted;
	uint64_t malformed; /* flow records missing parameters (a damaged capture) */
	size_t live, addrs; /* entries now */
};

/*
 * Called with each flow made by flow_table_ingest(), before the rules read it: the
 * listener may fill what the table does not know (remote_name, from a DNS cache),
 * and the flow.* fields see it. Valid for the call only.
 */
typedef void (*flow_table_fn)(void *ctx, struct vg_flow *f);

/* A table of at most max_flows flows and max_addrs addresses (0: the defaults above). Can't fail. */
struct flow_table *flow_table_new(size_t max_flows, size_t max_addrs);
void flow_table_free(struct flow_table *ft);

/* The listener flow_table_ingest() calls (NULL: none). */
void flow_table_set_listener(struct flow_table *ft, flow_table_fn fn, void *ctx);

/*
 * If ev is a flow_tcp or flow_udp record, fill *out and return true; else
 * return false and leave *out alone. st (may be NULL) names containers from
 * cgroup ids. A CLOSE forgets the flow. Never reads outside the record.
 */
bool flow_from_event(struct flow_table *ft, const struct vg_state *st, const struct vg_event *ev,
		     struct vg_flow *out);

/* flow_from_event(), then the listener with the flow. Returns whether ev was a flow. */
bool flow_table_ingest(struct flow_table *ft, const struct vg_state *st, const struct vg_event *ev);

/*
 * A DNS answer record (flow_dns) as the DNS cache takes it: the receiving
 * container ("" on the host), the message bytes (pointing into ev, at most
 * VG_FLOW_DNS_MAX) and the whole message's length (more when the kernel cut it).
 */
struct vg_flow_dns {
	char container_id[VG_FLOW_ID_LEN];
	uint64_t cgroup_id, ts_ns, cookie;
	uint32_t pid;
	struct vg_flow_endpoint local, remote; /* remote: the server, port 53 */
	const uint8_t *payload;
	size_t len, whole_len;
	bool tcp; /* the payload is a TCP stream's start: messages after their two-byte lengths */
};

/* If ev is a flow_dns record, fill *out and return true. Never reads outside the record. */
bool flow_dns_from_event(const struct vg_state *st, const struct vg_event *ev, struct vg_flow_dns *out);

/* The flow flow_table_ingest() made of ev, if ev is the record it last ingested; else NULL. */
const struct vg_flow *flow_table_last(const struct flow_table *ft, const struct vg_event *ev);

void flow_table_stats(const struct flow_table *ft, struct flow_table_stats *s);

/* Text names of the enums, as the rule fields and JSON use them. Can't fail. */
const char *flow_proto_name(enum vg_flow_proto p);
const char *flow_dir_name(enum vg_flow_dir d);
const char *flow_phase_name(enum vg_flow_phase p);

#endif
