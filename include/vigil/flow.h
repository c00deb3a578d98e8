/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The flow records' part of the event ABI (events.def: flow_tcp, flow_udp,
 * flow_dns; docs/flows.md). Shared by the kernel programs (src/bpf/lib/flow.bpf.h)
 * and userspace (src/state/flow_table.c).
 *
 * flow_tcp / flow_udp: one report of one socket's flow. The header names the
 * socket's owner as the kernel saw it (pid, comm, cgroup, namespaces: see
 * docs/flows.md for who that is), ts is the time of the report and retval the
 * flow's age in ns at that report (0 at open), so that the flow opened at
 * ts - retval. Parameters:
 *   tuple      struct vg_tuple, local -> remote; its pad field holds the
 *              direction (VG_FLOW_REC_OUT / VG_FLOW_REC_IN)
 *   phase      VG_FLOW_REC_OPEN, _UPDATE or _CLOSE
 *   cookie     the kernel's socket cookie: one flow's reports share it
 *   bytes_out, bytes_in   payload bytes since open (TCP: retransmissions and
 *              the SYN/FIN sequence numbers left out)
 *   pkts_out, pkts_in     TCP segments (control segments included) / UDP datagrams
 *   srtt_us    TCP smoothed round-trip time at the report, 0 for UDP
 *
 * Worked example: `curl` in a container fetching 512 bytes over HTTP, at close:
 *   header  type=flow_tcp pid=4242 comm="curl" cgroup_id=... retval=1830000 (1.83 ms)
 *   tuple   {AF_INET, 40112 -> 80, pad=1 (out), 10.88.0.5 -> 10.88.0.7}
 *   phase=3 cookie=0x3a1 bytes_out=77 bytes_in=512 pkts_out=6 pkts_in=5 srtt_us=61
 *
 * flow_dns: a DNS answer (UDP from port 53) a socket received, as it came, or
 * the first segment with data of a TCP connection from port 53 (DNS over TCP):
 *   tuple      local -> remote (the server, port 53); pad 0 for UDP,
 *              VG_FLOW_DNS_TCP for TCP
 *   cookie     the receiving socket's cookie
 *   payload    the first VG_FLOW_DNS_MAX bytes of the UDP payload (the DNS message)
 *              or of the TCP segment's (the stream's start: each message after
 *              its two-byte length)
 *   len        the payload's whole length (more than the payload when cut)
 * The header names the receiving socket's owner when the kernel knows it (the
 * socket sent the query, so it has flow state), else only its cgroup.
 */
#ifndef VIGIL_FLOW_ABI_H
#define VIGIL_FLOW_ABI_H

#define VG_FLOW_REC_OPEN 1
#define VG_FLOW_REC_UPDATE 2
#define VG_FLOW_REC_CLOSE 3

#define VG_FLOW_REC_OUT 1 /* this side opened: TCP active open, UDP sent first */
#define VG_FLOW_REC_IN 2  /* this side accepted: TCP passive open, UDP received first */

#define VG_FLOW_DNS_MAX 512 /* bytes of a DNS answer kept (the classic UDP limit) */
#define VG_FLOW_DNS_TCP 1 /* flow_dns tuple pad: the payload is a TCP stream's start */

/* bits of vg_want_flow (src/bpf/maps.h): which flow records the kernel writes */
#define VG_WANT_FLOW_TCP 0x1
#define VG_WANT_FLOW_UDP 0x2
#define VG_WANT_FLOW_DNS 0x4

#endif
