/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inside the hub's API: what a route module needs. The API is split by
 * subject into route modules (hub_api.c: the store's lists, nodes, status,
 * metrics); each is a function tried in turn by the dispatcher in hub_api.c
 * (api_routes[] for /api/ and /metrics, behind a token; public_routes[] for
 * "/" and /console/..., GET only, no token, static content only).
 */
#ifndef VIGIL_HUB_API_INT_H
#define VIGIL_HUB_API_INT_H

#include <pthread.h>
#include <stdbool.h>
#include "common/buf.h"
#include "common/libmhd.h"
#include "hub/hub_api.h"

#define HUB_API_POOL 4
#define HUB_API_MAX_ARGS 32
#define HUB_API_MAX_BODY (64u * 1024)

struct hub_api {
	const struct hub_api_opts *o;
	struct MHD_Daemon *d;
	unsigned port;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct hub_store *pool[HUB_API_POOL];
	int npool;
	uint64_t requests, unauthorized, bad;
};

/* The query string's parameters, in order. */
struct hub_args {
	const char *k[HUB_API_MAX_ARGS], *v[HUB_API_MAX_ARGS];
	size_t n;
	bool overflow;
};

/* One request, complete (its body read, at most HUB_API_MAX_BODY bytes). */
struct hub_req {
	struct MHD_Connection *c;
	const char *method, *url;
	struct hub_args args;
	enum hub_role role;   /* HUB_ROLE_NONE on public routes */
	const char *who;      /* the token's name, "" when it has none */
	const char *body;     /* NULL when there is none */
	size_t body_len;
};

/*
 * A route module: true when the request is its own (*ret then holds the
 * answer queued), false to let the next module try. A module that changes
 * anything answers 403 unless rq->role is HUB_ROLE_RESPONDER.
 */
typedef bool hub_route_fn(struct hub_api *a, const struct hub_req *rq, enum MHD_Result *ret);

/* A sentinel some modules use internally for "not a path of mine". */
#define HUB_ROUTE_NOT_MINE ((enum MHD_Result)-1)

/* A read-only store connection from the pool (waits for one), and its return. */
struct hub_store *hub_api_store_get(struct hub_api *a);
void hub_api_store_put(struct hub_api *a, struct hub_store *s);
/* Queue a response: body copied, Cache-Control: no-store; 401 adds WWW-Authenticate. */
enum MHD_Result hub_api_respond(struct MHD_Connection *c, unsigned status, const char *type, const char *body,
				size_t len);
/* Queue {"error": msg} with status. */
enum MHD_Result hub_api_error(struct MHD_Connection *c, unsigned status, const char *msg);
int64_t hub_api_now_ns(void);
/*
 * The query's parameters by name: vals[i] is the value of keys[i] (a NULL-ended
 * list), NULL when absent. -1 (err set) for an unknown or repeated parameter,
 * an empty one or one over 256 bytes, or too many.
 */
int hub_args_take(const struct hub_args *args, const char *const *keys, const char **vals, char *err, size_t errlen);

/* hub_api_flows.c: /api/v1/flows, /api/v1/servicemap; its part of /status and /metrics */
#include "hub/hub_flows.h"
struct flow_args {
	struct hub_flow_query q;
	enum hub_map_format format;
};
/* Their query parameters into a (map: the servicemap's); -1 with err (a 400). */
int hub_api_flows_parse(const struct hub_args *args, bool map, struct flow_args *a, char *err, size_t errlen);
bool hub_routes_flows(struct hub_api *a, const struct hub_req *rq, enum MHD_Result *ret);
void hub_flows_status_json(struct vg_json *j, const struct hub_stats *st);
void hub_flows_metrics_text(struct vg_buf *b, const struct hub_stats *st);
/*
 * The work a query with the MITRE filters (tags read from each alert's JSON) or a
 * count may do, in SQLite VM steps (about 15 an alert read): beyond it, 503 and
 * this message.
 */
#define HUB_API_SCAN_BUDGET 2000000u
#define HUB_API_SCAN_MSG "this query reads too many alerts: narrow it (a node, a rule, a shorter time range)"

/* The web console's routes (hub_api_console.c, docs/console.md). */
hub_route_fn hub_routes_console, hub_routes_console_public;
/* End the console's alert streams of this API (before its daemon stops). */
void hub_api_console_stop(struct hub_api *a);
/* Route modules (each in its own file). */
hub_route_fn hub_routes_commands; /* hub_api_commands.c: response commands to a node's agent */
hub_route_fn hub_routes_scans; /* hub_api_scans.c: image scans and admission decisions */
struct hub_images_query;
struct hub_adm_query;
/* Their query parameters (hub_scans.h); -1 with err (a 400). */
int hub_api_images_parse(const struct hub_args *args, struct hub_images_query *q, char *err, size_t errlen);
int hub_api_admissions_parse(const struct hub_args *args, struct hub_adm_query *q, char *err, size_t errlen);
hub_route_fn hub_routes_profiles; /* hub_api_profiles.c: behaviour profiles across the fleet */

#endif
