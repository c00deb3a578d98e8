/* SPDX-License-Identifier: Apache-2.0 */
/*
 * flow.* -- the fields of the flow source (rules with `source: flow`, see
 * docs/flows.md): a flow record's protocol, direction, phase, counts,
 * duration and RTT read from the record itself, the peer's container and the
 * remote name from the flow table (state/flow_table.h) when the agent keeps
 * one. On any other event every flow.* field has no value. The endpoints are
 * the fd.* fields (fd.sip, fd.rport, fd.l4proto, ...), which read flow
 * records too; proc.*, user.* and container.* name the flow's owner.
 */
#include "engine/fields_internal.h"
#include "state/flow_table.h"
#include "vigil/flow.h"

/* Parameter indexes of flow_tcp and flow_udp (events.def: the same layout). */
enum { FP_TUPLE, FP_PHASE, FP_COOKIE, FP_BYTES_OUT, FP_BYTES_IN, FP_PKTS_OUT, FP_PKTS_IN, FP_SRTT, FP_N };

static bool is_flow(const struct ectx *c)
{
	unsigned int t = c->ev->hdr.type;
	return (t == VG_EVT_FLOW_TCP || t == VG_EVT_FLOW_UDP) && c->ev->nparams >= FP_N &&
	       c->ev->params[FP_TUPLE].len == sizeof(struct vg_tuple);
}

/* The flow table's view of this record (peer, name), or NULL. */
static const struct vg_flow *flow_of(const struct ectx *c)
{
	return c->st ? flow_table_last(c->st->flows, c->ev) : NULL;
}

static int f_flow_proto(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	if (!is_flow(c))
		return 0;
	return put_str(o, c->ev->hdr.type == VG_EVT_FLOW_TCP ? "tcp" : "udp");
}

static int f_flow_dir(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	struct vg_tuple t;
	if (!is_flow(c))
		return 0;
	memcpy(&t, c->ev->params[FP_TUPLE].data, sizeof(t));
	return put_str(o, t.pad == VG_FLOW_REC_OUT ? "out" : t.pad == VG_FLOW_REC_IN ? "in" : "unknown");
}

static int f_flow_phase(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	if (!is_flow(c))
		return 0;
	int64_t p = event_param_int(c->ev, FP_PHASE);
	return put_str(o, p == VG_FLOW_REC_OPEN ? "open" : p == VG_FLOW_REC_UPDATE ? "update"
						       : p == VG_FLOW_REC_CLOSE ? "close" : "unknown");
}

/* A counter parameter: the field's off is its index. */
static int f_flow_param(struct ectx *c, const struct fref *r, struct fval *o)
{
	if (!is_flow(c))
		return 0;
	return put_int(o, event_param_int(c->ev, (unsigned int)r->def->off));
}

static int f_flow_bytes(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	if (!is_flow(c))
		return 0;
	return put_int(o, event_param_int(c->ev, FP_BYTES_OUT) + event_param_int(c->ev, FP_BYTES_IN));
}

/* ns since the flow opened (the record's retval) */
static int f_flow_duration(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	if (!is_flow(c))
		return 0;
	return put_int(o, c->ev->hdr.retval);
}

static int f_flow_netns(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	if (!is_flow(c))
		return 0;
	return put_int(o, c->ev->hdr.netns);
}

static int f_flow_peer_container(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	if (!is_flow(c))
		return 0;
	const struct vg_flow *f = flow_of(c);
	return put_str(o, f ? f->peer_container_id : "");
}

static int f_flow_peer_known(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	if (!is_flow(c))
		return 0;
	const struct vg_flow *f = flow_of(c);
	return put_int(o, f && f->peer_container_id[0]);
}

static int f_flow_remote_name(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	if (!is_flow(c))
		return 0;
	const struct vg_flow *f = flow_of(c);
	return put_str(o, f ? f->remote_name : "");
}

static const struct fdef defs[] = {
	{ "flow.proto", FT_STR, FA_NONE, false, f_flow_proto, "flow protocol: tcp or udp" },
	{ "flow.dir", FT_STR, FA_NONE, false, f_flow_dir,
	  "out (this side connected / sent first) or in (accepted / received first)" },
	{ "flow.phase", FT_STR, FA_NONE, false, f_flow_phase,
	  "which report: open, update (periodic, live flow) or close (totals of the whole flow)" },
	{ "flow.bytes_out", FT_INT, FA_NONE, false, f_flow_param, "payload bytes sent since open", NULL, FP_BYTES_OUT },
	{ "flow.bytes_in", FT_INT, FA_NONE, false, f_flow_param, "payload bytes received since open", NULL,
	  FP_BYTES_IN },
	{ "flow.bytes", FT_INT, FA_NONE, false, f_flow_bytes, "payload bytes both ways since open" },
	{ "flow.pkts_out", FT_INT, FA_NONE, false, f_flow_param,
	  "TCP segments (control ones included) or UDP datagrams sent", NULL, FP_PKTS_OUT },
	{ "flow.pkts_in", FT_INT, FA_NONE, false, f_flow_param,
	  "TCP segments (control ones included) or UDP datagrams received", NULL, FP_PKTS_IN },
	{ "flow.duration", FT_INT, FA_NONE, false, f_flow_duration, "ns since the flow opened" },
	{ "flow.rtt", FT_INT, FA_NONE, false, f_flow_param, "TCP smoothed round-trip time in us (0 for UDP)", NULL,
	  FP_SRTT },
	{ "flow.cookie", FT_INT, FA_NONE, false, f_flow_param, "the socket cookie: one flow's reports share it",
	  NULL, FP_COOKIE },
	{ "flow.netns", FT_INT, FA_NONE, false, f_flow_netns, "network namespace inode of the flow's socket" },
	{ "flow.peer.container.id", FT_STR, FA_NONE, false, f_flow_peer_container,
	  "full id of the container on this node the remote address belongs to, \"\" if none" },
	{ "flow.peer.known", FT_BOOL, FA_NONE, false, f_flow_peer_known,
	  "the remote end is a container on this node" },
	{ "flow.remote.name", FT_STR, FA_NONE, false, f_flow_remote_name,
	  "the remote address's name learnt from DNS answers the container received, \"\" if none" },
};

const struct field_class fields_flow = FIELD_CLASS(defs);
