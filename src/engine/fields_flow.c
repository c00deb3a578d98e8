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
#include "state/flow_stats.h"
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

/*
 * The per-workload features (state/flow_stats.h) of this record, read by one
 * accessor: the field's off is an index into feats[], which names the member,
 * its kind and the records that have it.
 */
enum feat_kind { K_STR, K_U64, K_I64, K_U32, K_BOOL };
enum feat_on { ON_FLOW, ON_DNS, ON_BOTH };
static const struct {
	size_t off;
	enum feat_kind kind;
	enum feat_on on;
} feats[] = {
#define FEAT(m, k, on) { offsetof(struct flow_feat, m), k, on }
	FEAT(workload, K_STR, ON_BOTH),        /* 0 */
	FEAT(external, K_BOOL, ON_FLOW),       /* 1 */
	FEAT(dest, K_STR, ON_FLOW),            /* 2 */
	FEAT(exfil_bytes, K_U64, ON_FLOW),     /* 3 */
	FEAT(exfil_bytes_before, K_U64, ON_FLOW), /* 4 */
	FEAT(dest_new, K_BOOL, ON_FLOW),       /* 5 */
	FEAT(learning, K_BOOL, ON_FLOW),       /* 6 */
	FEAT(beacon_count, K_U32, ON_FLOW),    /* 7 */
	FEAT(beacon_period_ms, K_I64, ON_FLOW), /* 8 */
	FEAT(beacon_jitter_pct, K_I64, ON_FLOW), /* 9 */
	FEAT(beacon_new, K_BOOL, ON_FLOW),     /* 10 */
	FEAT(qname, K_STR, ON_DNS),            /* 11 */
	FEAT(domain, K_STR, ON_DNS),           /* 12 */
	FEAT(label_max, K_I64, ON_DNS),        /* 13 */
	FEAT(entropy, K_I64, ON_DNS),          /* 14 */
	FEAT(unique, K_U32, ON_DNS),           /* 15 */
	FEAT(name_new, K_BOOL, ON_DNS),        /* 16 */
#undef FEAT
};

/* A feature of the record; no value without the stats, on other records, or when
 * not computable (an I64 below 0: a period of fewer than two connections). */
static int f_flow_feat(struct ectx *c, const struct fref *r, struct fval *o)
{
	const struct flow_feat *ft = c->st ? flow_stats_last(c->st->flowstats, c->ev) : NULL;
	size_t i = r->def->off;
	if (!ft || i >= sizeof(feats) / sizeof(feats[0]))
		return 0;
	if ((feats[i].on == ON_FLOW && !ft->is_flow) || (feats[i].on == ON_DNS && !ft->is_dns))
		return 0;
	const char *p = (const char *)ft + feats[i].off;
	switch (feats[i].kind) {
	case K_STR:
		return put_str(o, p);
	case K_U64: {
		uint64_t v;
		memcpy(&v, p, sizeof(v));
		return put_int(o, v > INT64_MAX ? INT64_MAX : (int64_t)v);
	}
	case K_I64: {
		int64_t v;
		memcpy(&v, p, sizeof(v));
		return v < 0 ? 0 : put_int(o, v);
	}
	case K_U32: {
		uint32_t v;
		memcpy(&v, p, sizeof(v));
		return put_int(o, v);
	}
	case K_BOOL: {
		bool v;
		memcpy(&v, p, sizeof(v));
		return put_int(o, v);
	}
	}
	return 0;
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
	{ "flow.workload", FT_STR, FA_NONE, false, f_flow_feat,
	  "the workload key of the flow's or DNS answer's owner: host, k8s:NS/POD/CONTAINER, name:NAME or id:ID",
	  NULL, 0 },
	{ "flow.external", FT_BOOL, FA_NONE, false, f_flow_feat,
	  "the remote address is outside the cluster (--cluster-cidr) and no container of this node", NULL, 1 },
	{ "flow.dest", FT_STR, FA_NONE, false, f_flow_feat, "the remote end as a destination: its DNS name, else its address",
	  NULL, 2 },
	{ "flow.exfil.bytes", FT_INT, FA_NONE, false, f_flow_feat,
	  "bytes the workload sent on connections it opened to external addresses in the window, this report included",
	  NULL, 3 },
	{ "flow.exfil.bytes_before", FT_INT, FA_NONE, false, f_flow_feat,
	  "flow.exfil.bytes before this report (a rule compares both to fire once per crossing)", NULL, 4 },
	{ "flow.new_dest", FT_BOOL, FA_NONE, false, f_flow_feat,
	  "the workload's first connection to this external destination, after its learning period", NULL, 5 },
	{ "flow.learning", FT_BOOL, FA_NONE, false, f_flow_feat,
	  "the workload is in its learning period (--flow-learn after it was first seen)", NULL, 6 },
	{ "flow.beacon.count", FT_INT, FA_NONE, false, f_flow_feat,
	  "outbound connections of the workload to this external destination and port in the current series", NULL, 7 },
	{ "flow.beacon.period", FT_INT, FA_NONE, false, f_flow_feat,
	  "mean interval between the series' connection starts, ms (last 16)", NULL, 8 },
	{ "flow.beacon.jitter", FT_INT, FA_NONE, false, f_flow_feat,
	  "coefficient of variation of those intervals, percent (needs three connections)", NULL, 9 },
	{ "flow.beacon.new", FT_BOOL, FA_NONE, false, f_flow_feat,
	  "the series has just become regular (--beacon-min connections, jitter at most --beacon-jitter): once per series",
	  NULL, 10 },
	{ "flow.dns.name", FT_STR, FA_NONE, false, f_flow_feat, "the question name of a DNS answer (flow_dns), lowercase",
	  NULL, 11 },
	{ "flow.dns.domain", FT_STR, FA_NONE, false, f_flow_feat,
	  "its registrable domain: the last two labels, three after a known two-level suffix (co.uk)", NULL, 12 },
	{ "flow.dns.label_max", FT_INT, FA_NONE, false, f_flow_feat, "the length of the question name's longest label",
	  NULL, 13 },
	{ "flow.dns.entropy", FT_INT, FA_NONE, false, f_flow_feat,
	  "Shannon entropy of the labels left of the domain, centibits per character (0 when none)", NULL, 14 },
	{ "flow.dns.unique", FT_INT, FA_NONE, false, f_flow_feat,
	  "unique names under the domain the workload received answers for in the window (at most 256)", NULL, 15 },
	{ "flow.dns.name_new", FT_BOOL, FA_NONE, false, f_flow_feat,
	  "the question name was not among them before this answer", NULL, 16 },
};

const struct field_class fields_flow = FIELD_CLASS(defs);
