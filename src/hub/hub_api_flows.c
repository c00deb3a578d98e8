/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The hub API's flows routes (docs/hub.md, "Flows and the service map"):
 * GET /api/v1/flows (the fleet's flow rollups, paged) and GET
 * /api/v1/servicemap (the cluster-wide map as JSON, DOT or SVG), read from
 * the store's flows tables (hub_flows.c) on the API's read-only connections.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet/nats_conn.h"
#include "fleet/streams.h"
#include "hub/hub_api_int.h"
#include "hub/hub_flows.h"
#include "hub/hub_msg.h"

#define NS 1000000000LL
#define DEFAULT_RANGE_NS (3600LL * NS)

/* A time: a UTC time (2026-11-28T14:00:00Z), ns since the epoch, or a duration back from now (10m, 2h, 7d). */
static int64_t parse_when(const char *v, int64_t now)
{
	int64_t t = hub_parse_time(v);
	if (t > 0)
		return t;
	size_t n = strlen(v);
	bool digits = n > 0 && n <= 19;
	for (size_t i = 0; digits && i < n; i++)
		digits = isdigit((unsigned char)v[i]);
	if (digits)
		return strtoll(v, NULL, 10);
	int64_t d = fleet_parse_duration(v);
	return d > 0 && d < now ? now - d : -1;
}

int hub_api_flows_parse(const struct hub_args *args, bool map, struct flow_args *a, char *err, size_t errlen)
{
	static const char *const list_keys[] = { "since", "until", "cluster", "node", "namespace", "limit", "cursor", NULL };
	static const char *const map_keys[] = { "since", "until", "cluster", "node", "namespace", "format", NULL };
	const char *const *keys = map ? map_keys : list_keys;
	const char *vals[8] = { 0 };
	int64_t now = hub_api_now_ns();

	memset(a, 0, sizeof(*a));
	a->q.limit = HUB_LIMIT_DEFAULT;
	if (hub_args_take(args, keys, vals, err, errlen))
		return -1;
	for (size_t i = 0; keys[i]; i++) {
		const char *k = keys[i], *v = vals[i];
		if (!v)
			continue;
		if (!strcmp(k, "since") || !strcmp(k, "until")) {
			int64_t t = parse_when(v, now);
			if (t <= 0) {
				snprintf(err, errlen,
					 "%s: not a time (2026-11-28T14:00:00Z, ns since the epoch) or a duration back (10m, 2h, 7d): '%.64s'",
					 k, v);
				return -1;
			}
			*(!strcmp(k, "since") ? &a->q.since_ns : &a->q.until_ns) = t;
		} else if (!strcmp(k, "cluster") || !strcmp(k, "node")) {
			if (!fleet_name_valid(v)) {
				snprintf(err, errlen, "%s: 1 to 64 of A-Z a-z 0-9 - _, not '%.64s'", k, v);
				return -1;
			}
			*(!strcmp(k, "cluster") ? &a->q.cluster : &a->q.node) = v;
		} else if (!strcmp(k, "namespace")) {
			a->q.ns = v;
		} else if (!strcmp(k, "limit") || !strcmp(k, "cursor")) {
			char *end;
			long n = strtol(v, &end, 10);
			bool lim = !strcmp(k, "limit");
			if (*end || n < (lim ? 1 : 0) || n > (lim ? HUB_LIMIT_MAX : 1000000000L)) {
				if (lim)
					snprintf(err, errlen, "limit: 1 to %d, not '%.32s'", HUB_LIMIT_MAX, v);
				else
					snprintf(err, errlen, "cursor: the next_cursor of an earlier page, not '%.32s'", v);
				return -1;
			}
			*(lim ? &a->q.limit : &a->q.offset) = n;
		} else if (!strcmp(k, "format")) {
			if (!strcmp(v, "json"))
				a->format = HUB_MAP_JSON;
			else if (!strcmp(v, "dot"))
				a->format = HUB_MAP_DOT;
			else if (!strcmp(v, "svg"))
				a->format = HUB_MAP_SVG;
			else {
				snprintf(err, errlen, "format: json, dot or svg, not '%.32s'", v);
				return -1;
			}
		}
	}
	if (!a->q.since_ns)
		a->q.since_ns = (a->q.until_ns ? a->q.until_ns : now) - DEFAULT_RANGE_NS;
	if (a->q.until_ns && a->q.until_ns <= a->q.since_ns) {
		snprintf(err, errlen, "until must be after since");
		return -1;
	}
	return 0;
}

bool hub_routes_flows(struct hub_api *api, const struct hub_req *rq, enum MHD_Result *ret)
{
	bool map = !strcmp(rq->url, "/api/v1/servicemap");
	if (!map && strcmp(rq->url, "/api/v1/flows"))
		return false;
	if (strcmp(rq->method, "GET") && strcmp(rq->method, "HEAD")) {
		*ret = hub_api_error(rq->c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only");
		return true;
	}
	struct flow_args a;
	char err[320];
	if (hub_api_flows_parse(&rq->args, map, &a, err, sizeof(err))) {
		*ret = hub_api_error(rq->c, MHD_HTTP_BAD_REQUEST, err);
		return true;
	}
	struct vg_buf b = { 0 };
	struct hub_store *s = hub_api_store_get(api);
	int rc = map ? hub_servicemap(hub_store_db(s), &a.q, a.format, &b, err, sizeof(err))
		     : (int)(hub_flows_list(hub_store_db(s), &a.q, &b, err, sizeof(err)) < 0 ? -1 : 0);
	hub_api_store_put(api, s);
	if (rc)
		*ret = hub_api_error(rq->c, MHD_HTTP_INTERNAL_SERVER_ERROR, err);
	else {
		static const char *const types[] = { "application/json", "text/vnd.graphviz; charset=utf-8",
						     "image/svg+xml" };
		*ret = hub_api_respond(rq->c, MHD_HTTP_OK, types[map ? a.format : HUB_MAP_JSON], b.data ? b.data : "",
				       b.len);
	}
	buf_free(&b);
	return true;
}

#define GET(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

void hub_flows_status_json(struct vg_json *j, const struct hub_stats *st)
{
	jw_obj_begin(j, "flows");
	jw_bool(j, "consuming", GET(st->flows_consuming));
	jw_uint(j, "messages", GET(st->flow_msgs));
	jw_uint(j, "rows", GET(st->flow_rows));
	jw_obj_end(j);
	jw_obj_begin(j, "retention");
	if (st->retain_ns > 0)
		jw_int(j, "retain_s", st->retain_ns / NS);
	else
		jw_null(j, "retain_s");
	jw_uint(j, "runs", GET(st->retain_runs));
	jw_uint(j, "errors", GET(st->retain_errors));
	jw_obj_begin(j, "deleted");
	for (int i = 0; i < HUB_RET__N; i++)
		jw_uint(j, hub_retain_names[i], GET(st->retained[i]));
	jw_obj_end(j);
	jw_obj_end(j);
}

void hub_flows_metrics_text(struct vg_buf *b, const struct hub_stats *st)
{
	buf_printf(b, "# HELP vigil_hub_flow_messages_total Flows messages stored (redeliveries not counted).\n"
		      "# TYPE vigil_hub_flow_messages_total counter\nvigil_hub_flow_messages_total %llu\n"
		      "# HELP vigil_hub_flow_rows_total Flow rollup rows those messages carried.\n"
		      "# TYPE vigil_hub_flow_rows_total counter\nvigil_hub_flow_rows_total %llu\n",
		   (unsigned long long)GET(st->flow_msgs), (unsigned long long)GET(st->flow_rows));
	buf_adds(b, "# HELP vigil_hub_retention_deleted_total Rows deleted by --retain, by kind.\n"
		    "# TYPE vigil_hub_retention_deleted_total counter\n");
	for (int i = 0; i < HUB_RET__N; i++)
		buf_printf(b, "vigil_hub_retention_deleted_total{kind=\"%s\"} %llu\n", hub_retain_names[i],
			   (unsigned long long)GET(st->retained[i]));
	buf_printf(b, "# HELP vigil_hub_retention_seconds The hub's --retain (0: keep everything).\n"
		      "# TYPE vigil_hub_retention_seconds gauge\nvigil_hub_retention_seconds %lld\n",
		   (long long)(st->retain_ns > 0 ? st->retain_ns / NS : 0));
}
