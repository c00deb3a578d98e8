/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A network flow as the agent knows it: one TCP connection, or the traffic of one
 * UDP socket with one peer, attributed to the process and container that own the
 * socket. The kernel reports flows as records in the ordinary event stream (so a
 * capture file holds them and replay rebuilds them); flow_from_event() turns one
 * such record, with what the state knows, into this view, which the rule engine's
 * flow source, the store's rollups, `vigil flows` and the service map all read.
 *
 * Counts are payload bytes (what the application wrote or read), totals since the
 * flow opened, so an interval report and the close report of one flow are never
 * added together: the last report of a flow is the flow.
 */
#ifndef VIGIL_STATE_FLOW_H
#define VIGIL_STATE_FLOW_H

#include <stdbool.h>
#include <stdint.h>

enum vg_flow_proto {
	VG_FLOW_TCP = 6,
	VG_FLOW_UDP = 17,
};

enum vg_flow_dir {
	VG_FLOW_DIR_UNKNOWN = 0,
	VG_FLOW_OUTBOUND, /* this side connected (TCP active open; UDP sent first) */
	VG_FLOW_INBOUND,  /* this side accepted (TCP passive open; UDP received first) */
};

enum vg_flow_phase {
	VG_FLOW_OPEN = 1, /* established; counts are zero or nearly */
	VG_FLOW_UPDATE,   /* a live flow's periodic report */
	VG_FLOW_CLOSE,    /* the last report: totals of the whole flow */
};

struct vg_flow_endpoint {
	uint16_t family; /* AF_INET or AF_INET6 */
	uint16_t port;   /* host byte order */
	uint8_t addr[16]; /* IPv4 in the first 4 bytes */
};

#define VG_FLOW_ID_LEN 65    /* a container id: 64 hex digits and a NUL */
#define VG_FLOW_NAME_LEN 254 /* a DNS name, NUL-terminated */

struct vg_flow {
	uint64_t cookie; /* the kernel's socket cookie: one flow's reports share it */
	enum vg_flow_proto proto;
	enum vg_flow_dir dir;
	enum vg_flow_phase phase;
	struct vg_flow_endpoint local, remote;
	uint32_t netns;      /* network namespace inode */
	uint64_t start_ns;   /* CLOCK_BOOTTIME when the flow opened */
	uint64_t ts_ns;      /* CLOCK_BOOTTIME of this report */
	uint64_t bytes_out, bytes_in; /* payload bytes since open */
	uint64_t pkts_out, pkts_in;   /* TCP segments / UDP datagrams since open */
	uint32_t srtt_us;    /* TCP smoothed RTT at this report, 0 for UDP */
	/* owner at the time: the process that opened the socket */
	uint32_t pid;
	char comm[16];
	uint64_t cgroup_id;
	char container_id[VG_FLOW_ID_LEN];  /* "" on the host */
	/* the peer's workload when it is on this node ("" otherwise) */
	char peer_container_id[VG_FLOW_ID_LEN];
	/* the remote address's name learnt from DNS answers this container received ("" if none) */
	char remote_name[VG_FLOW_NAME_LEN];
};

#endif
