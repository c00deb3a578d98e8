/* SPDX-License-Identifier: Apache-2.0 */
/* vigil flows: who talks to whom and how much, from the flow rollups in the store. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli/cli.h"
#include "common/buf.h"
#include "output/alert_store.h"
#include "output/flow_graph.h"
#include "output/flow_rollup.h"

#define NS 1000000000ll
#define MAX_GRAPHS 2

static void usage(FILE *f)
{
	fputs("usage: vigil flows [--store PATH] [--since T] [--container ID|NAME|host] [--namespace NS]\n"
	      "                   [--json] [--limit N] [--interval S] [--count N] [--graph FILE.dot|FILE.svg]\n"
	      "Network flows per workload and peer (connections, bytes in/out, rate), from the\n"
	      "per-minute rollups the agent keeps in the store. Without --since: live, refreshed\n"
	      "every --interval seconds over the last minute; with --since: the sums over that range.\n"
	      "  --store PATH      the store (default " ALERT_STORE_DEFAULT_PATH ")\n"
	      "  --since T         from T on: a duration back from now (30s, 10m, 2h, 7d) or a UTC\n"
	      "                    time (2026-11-28T14:00:00Z); whole minutes, the first one included\n"
	      "  --container X     flows of the containers X selects (name glob, id prefix);\n"
	      "                    'host' for processes outside containers\n"
	      "  --namespace NS    flows of workloads in Kubernetes namespace NS\n"
	      "  --json            JSON lines, one per workload and peer (default: a table)\n"
	      "  --limit N         at most N rows, most bytes first (live default: 25)\n"
	      "  --interval S      live: seconds between refreshes (default 2)\n"
	      "  --count N         live: stop after N refreshes (default: until interrupted)\n"
	      "  --graph FILE      write the service map (over --since, default 1h) as Graphviz DOT\n"
	      "                    (FILE.dot) or SVG (FILE.svg); may be given twice\n"
	      "       vigil flows --hub URL [--token-file F] [--ca F] [--cluster C] [--node N]\n"
	      "                   [--namespace NS] [--since T] [--json] [--limit N] [--graph FILE]\n"
	      "Ask a fleet hub (vigil hub) for every node's flows (over --since, default 1h) and the\n"
	      "cluster-wide service map (docs/hub.md):\n"
	      "  --hub URL         the hub's API, https://HOST:PORT\n"
	      "  --token-file F    a file whose first token is sent (default $VIGIL_HUB_TOKEN)\n"
	      "  --ca F            the CA that signed the hub's certificate\n"
	      "  --cluster C, --node N   the flows of that cluster / node\n",
	      f);
}

/* Nanoseconds since the epoch of a --since argument, or -1 (as `vigil alerts`). */
static int64_t parse_since(const char *s, int64_t now)
{
	char *end;
	double v = strtod(s, &end);
	static const struct { const char *suffix; double sec; } units[] = {
		{ "s", 1 }, { "m", 60 }, { "h", 3600 }, { "d", 86400 },
	};
	if (end != s && v >= 0) {
		for (size_t i = 0; i < 4; i++) {
			if (!strcmp(end, units[i].suffix)) {
				int64_t t = now - (int64_t)(v * units[i].sec * 1e9);
				return t > 0 ? t : 0;
			}
		}
	}
	struct tm tm = { 0 };
	const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!rest || (strcmp(rest, "Z") && *rest))
		return -1;
	return (int64_t)timegm(&tm) * NS;
}

static int64_t wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

static void iso_minute(int64_t sec, char *out, size_t len)
{
	time_t t = (time_t)sec;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

struct print_ctx {
	bool json;
	double seconds; /* the span the rates are over */
	struct vg_buf out;
	long rows;
};

static void workload_text(struct vg_buf *b, const char *id, const char *name, const char *ns, const char *pod)
{
	if (!id || !*id) {
		buf_adds(b, "host");
		return;
	}
	if (name && *name)
		flow_graph_clean(b, name, 32);
	else
		buf_printf(b, "%.12s", id);
	if (ns || pod) {
		buf_addc(b, ' ');
		buf_addc(b, '(');
		flow_graph_clean(b, ns ? ns : "", 24);
		buf_addc(b, '/');
		flow_graph_clean(b, pod ? pod : "", 32);
		buf_addc(b, ')');
	}
}

static void print_row(void *vctx, const struct flow_row *r)
{
	struct print_ctx *c = vctx;
	double rate = c->seconds > 0 ? (double)(r->bytes_in + r->bytes_out) / c->seconds : 0;
	c->rows++;
	if (c->json) {
		struct vg_buf b = { 0 };
		struct vg_json j;
		char t1[32], t2[32];
		jw_init(&j, &b);
		jw_obj_begin(&j, NULL);
		jw_obj_begin(&j, "workload");
		jw_str(&j, "container_id", r->container_id);
		if (r->container_name) jw_str(&j, "container_name", r->container_name); else jw_null(&j, "container_name");
		if (r->k8s_namespace) jw_str(&j, "k8s_namespace", r->k8s_namespace); else jw_null(&j, "k8s_namespace");
		if (r->k8s_pod) jw_str(&j, "k8s_pod", r->k8s_pod); else jw_null(&j, "k8s_pod");
		jw_obj_end(&j);
		jw_str(&j, "direction", r->direction);
		jw_str(&j, "proto", r->proto);
		jw_uint(&j, "port", r->port);
		jw_obj_begin(&j, "peer");
		jw_str(&j, "address", r->peer_addr);
		jw_str(&j, "name", r->peer_name);
		jw_str(&j, "container_id", r->peer_container_id);
		if (r->peer_container_name) jw_str(&j, "container_name", r->peer_container_name); else jw_null(&j, "container_name");
		if (r->peer_k8s_namespace) jw_str(&j, "k8s_namespace", r->peer_k8s_namespace); else jw_null(&j, "k8s_namespace");
		if (r->peer_k8s_pod) jw_str(&j, "k8s_pod", r->peer_k8s_pod); else jw_null(&j, "k8s_pod");
		jw_obj_end(&j);
		jw_uint(&j, "connections", r->connections);
		jw_uint(&j, "bytes_in", r->bytes_in);
		jw_uint(&j, "bytes_out", r->bytes_out);
		jw_uint(&j, "packets_in", r->packets_in);
		jw_uint(&j, "packets_out", r->packets_out);
		iso_minute(r->first_minute, t1, sizeof(t1));
		iso_minute(r->last_minute, t2, sizeof(t2));
		jw_str(&j, "first_minute", t1);
		jw_str(&j, "last_minute", t2);
		jw_uint(&j, "seconds", (uint64_t)c->seconds);
		jw_uint(&j, "bytes_per_second", (uint64_t)(rate + 0.5));
		jw_obj_end(&j);
		buf_addc(&b, '\n');
		buf_add(&c->out, b.data, b.len);
		buf_free(&b);
		return;
	}
	struct vg_buf w = { 0 }, p = { 0 };
	char in[24], out[24], rt[24], port[48];
	workload_text(&w, r->container_id, r->container_name, r->k8s_namespace, r->k8s_pod);
	if (r->peer_container_id && *r->peer_container_id) {
		workload_text(&p, r->peer_container_id, r->peer_container_name, r->peer_k8s_namespace, r->peer_k8s_pod);
	} else if (r->peer_name && *r->peer_name) {
		flow_graph_clean(&p, r->peer_name, 48);
	}
	/* the address, in brackets after a name; every string from the store cleaned for the terminal */
	bool named = p.len > 0;
	if (named)
		buf_adds(&p, " [");
	flow_graph_clean(&p, r->peer_addr, 48);
	if (named)
		buf_addc(&p, ']');
	flow_graph_bytes(r->bytes_in, in, sizeof(in));
	flow_graph_bytes(r->bytes_out, out, sizeof(out));
	flow_graph_bytes((uint64_t)(rate + 0.5), rt, sizeof(rt));
	snprintf(port, sizeof(port), "%s/%u", r->proto, r->port);
	buf_printf(&c->out, "%-32s %-4s %-48s %-10s %7llu %10s %10s %10s/s\n", w.data ? w.data : "", r->direction, p.data ? p.data : "", port,
		   (unsigned long long)r->connections, in, out, rt);
	buf_free(&w);
	buf_free(&p);
}

static const char table_head[] = "WORKLOAD                         DIR  PEER                                             "
				 "PROTO/PORT   CONNS         IN        OUT       RATE\n";

/* One query printed (or collected); returns the rows or -1. */
static long show(const char *path, struct flow_query *q, int64_t now, bool json, bool head, struct vg_buf *out)
{
	char err[512];
	int64_t from = q->since_ns ? q->since_ns / (60 * NS) * 60 * NS : 0;
	struct print_ctx c = { .json = json, .seconds = from ? (double)(now - from) / 1e9 : 0 };
	if (!json && head)
		buf_adds(&c.out, table_head);
	long n = flow_rollup_query(path, q, print_row, &c, err, sizeof(err));
	if (n < 0) {
		fprintf(stderr, "vigil: %s\n", err);
		buf_free(&c.out);
		return -1;
	}
	if (c.out.len)
		buf_add(out, c.out.data, c.out.len);
	buf_free(&c.out);
	return n;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int live(const char *path, struct flow_query *q, bool json, double interval, long count)
{
	bool tty = isatty(STDOUT_FILENO);
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	for (long frame = 0; !stop && (count <= 0 || frame < count); frame++) {
		if (frame > 0) {
			struct timespec ts = { (time_t)interval, (long)((interval - (double)(time_t)interval) * 1e9) };
			while (!stop && nanosleep(&ts, &ts) && errno == EINTR)
				;
			if (stop)
				break;
		}
		int64_t now = wall_now();
		q->since_ns = now - 60 * NS; /* the last minute: the current (partial) one and the one before */
		struct vg_buf out = { 0 };
		if (!json) {
			char t[32];
			iso_minute(now / NS, t, sizeof(t));
			buf_printf(&out, "%svigil flows  %s  since %s, every %gs%s\n\n", tty ? "\033[H\033[2J" : "", t,
				   "the last minute", interval, tty ? " (Ctrl-C to stop)" : "");
		}
		long n = show(path, q, now, json, true, &out);
		if (n < 0) {
			buf_free(&out);
			return VG_EXIT_ERROR;
		}
		if (!json && n == 0)
			buf_adds(&out, "(no flows)\n");
		if (!json && !tty)
			buf_addc(&out, '\n');
		if (out.len)
			fwrite(out.data, 1, out.len, stdout);
		fflush(stdout);
		buf_free(&out);
	}
	return VG_EXIT_OK;
}

struct graph_ctx {
	struct flow_graph *g;
};

static void graph_row(void *ctx, const struct flow_row *r)
{
	flow_graph_add(((struct graph_ctx *)ctx)->g, r);
}

static int write_graphs(const char *path, struct flow_query *q, int64_t now, const char *const *files, int n)
{
	char err[512], from[32], to[32];
	struct graph_ctx c = { flow_graph_new() };
	if (flow_rollup_query(path, q, graph_row, &c, err, sizeof(err)) < 0) {
		fprintf(stderr, "vigil: %s\n", err);
		flow_graph_free(c.g);
		return VG_EXIT_ERROR;
	}
	iso_minute(q->since_ns / NS / 60 * 60, from, sizeof(from));
	iso_minute(now / NS, to, sizeof(to));
	char caption[96];
	snprintf(caption, sizeof(caption), "flows from %s to %s", from, to);
	int rc = VG_EXIT_OK;
	for (int i = 0; i < n; i++) {
		struct vg_buf out = { 0 };
		const char *dot = strrchr(files[i], '.');
		if (!strcmp(dot, ".svg"))
			flow_graph_svg(c.g, caption, &out);
		else
			flow_graph_dot(c.g, caption, &out);
		FILE *f = fopen(files[i], "w");
		if (!f || fwrite(out.data, 1, out.len, f) != out.len || fclose(f)) {
			fprintf(stderr, "vigil: cannot write %s: %s\n", files[i], strerror(errno));
			rc = VG_EXIT_ERROR;
		}
		buf_free(&out);
	}
	flow_graph_free(c.g);
	return rc;
}

/* ---- --hub: the fleet's flows from the hub's API ---- */

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void hub_row(void *ctx, json_t *rec)
{
	struct print_ctx *c = ctx;
	if (c->json) {
		struct vg_buf b = { 0 };
		hub_client_encode(rec, &b);
		buf_add(&c->out, b.data, b.len);
		buf_addc(&c->out, '\n');
		buf_free(&b);
		c->rows++;
		return;
	}
	json_t *w = json_object_get(rec, "workload"), *p = json_object_get(rec, "peer");
	char name[200];
	const char *cname = jstr(w, "container_name"), *node = jstr(rec, "node");
	/* the table names the node with the workload: the same workload name may be on several */
	snprintf(name, sizeof(name), "%s@%s", cname ? cname : jstr(w, "container_id") && *jstr(w, "container_id") ? jstr(w, "container_id") : "host",
		 node ? node : "?");
	struct flow_row r = {
		.container_id = jstr(w, "container_id") ? jstr(w, "container_id") : "",
		.container_name = name,
		.k8s_namespace = jstr(w, "k8s_namespace"),
		.k8s_pod = jstr(w, "k8s_pod"),
		.direction = jstr(rec, "direction") ? jstr(rec, "direction") : "?",
		.proto = jstr(rec, "proto") ? jstr(rec, "proto") : "?",
		.peer_addr = jstr(p, "address") ? jstr(p, "address") : "",
		.port = (unsigned)json_integer_value(json_object_get(rec, "port")),
		.peer_container_id = jstr(p, "container_id") ? jstr(p, "container_id") : "",
		.peer_container_name = jstr(p, "container_name"),
		.peer_k8s_namespace = jstr(p, "k8s_namespace"),
		.peer_k8s_pod = jstr(p, "k8s_pod"),
		.peer_name = jstr(p, "name") ? jstr(p, "name") : "",
		.connections = (uint64_t)json_integer_value(json_object_get(rec, "connections")),
		.bytes_in = (uint64_t)json_integer_value(json_object_get(rec, "bytes_in")),
		.bytes_out = (uint64_t)json_integer_value(json_object_get(rec, "bytes_out")),
	};
	print_row(c, &r);
}

static int from_hub(const struct hub_client *hc, const char *cluster, const char *node, const char *ns,
		    int64_t since_ns, int64_t now, long limit, bool json, const char *const *graphs, int ngraphs)
{
	char err[512], num[32];
	struct vg_buf qs = { 0 };
	snprintf(num, sizeof(num), "%lld", (long long)since_ns);
	hub_client_param(&qs, "since", num);
	hub_client_param(&qs, "cluster", cluster);
	hub_client_param(&qs, "node", node);
	hub_client_param(&qs, "namespace", ns);
	int rc = VG_EXIT_OK;
	if (ngraphs) {
		for (int i = 0; i < ngraphs && rc == VG_EXIT_OK; i++) {
			struct vg_buf q2 = { 0 }, out = { 0 };
			buf_printf(&q2, "%s&format=%s", qs.data, !strcmp(strrchr(graphs[i], '.'), ".svg") ? "svg" : "dot");
			if (hub_client_raw(hc, "servicemap", q2.data, &out, err, sizeof(err))) {
				fprintf(stderr, "vigil: %s\n", err);
				rc = VG_EXIT_ERROR;
			} else {
				FILE *f = fopen(graphs[i], "w");
				if (!f || fwrite(out.data ? out.data : "", 1, out.len, f) != out.len || fclose(f)) {
					fprintf(stderr, "vigil: cannot write %s: %s\n", graphs[i], strerror(errno));
					rc = VG_EXIT_ERROR;
				}
			}
			buf_free(&q2);
			buf_free(&out);
		}
		buf_free(&qs);
		return rc;
	}
	int64_t from = since_ns / (60 * NS) * 60 * NS;
	struct print_ctx c = { .json = json, .seconds = (double)(now - from) / 1e9 };
	if (!json)
		buf_adds(&c.out, table_head);
	int n = hub_client_get(hc, "flows", qs.data ? qs.data : "", limit, hub_row, &c, err, sizeof(err));
	buf_free(&qs);
	if (n < 0) {
		fprintf(stderr, "vigil: %s\n", err);
		buf_free(&c.out);
		return VG_EXIT_ERROR;
	}
	if (c.out.len)
		fwrite(c.out.data, 1, c.out.len, stdout);
	buf_free(&c.out);
	return VG_EXIT_OK;
}

int cmd_flows(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 'S' },     { "since", required_argument, NULL, 's' },
		{ "container", required_argument, NULL, 'c' }, { "namespace", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },	       { "limit", required_argument, NULL, 'l' },
		{ "interval", required_argument, NULL, 'i' },  { "count", required_argument, NULL, 'C' },
		{ "graph", required_argument, NULL, 'g' },     { "help", no_argument, NULL, 'h' },
		{ "hub", required_argument, NULL, 'H' },       { "token-file", required_argument, NULL, 'T' },
		{ "ca", required_argument, NULL, 'A' },        { "node", required_argument, NULL, 'N' },
		{ "cluster", required_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 },
	};
	struct hub_client hc = { 0 };
	const char *hub_node = NULL, *hub_cluster = NULL;
	struct flow_query q = { 0 };
	const char *path = ALERT_STORE_DEFAULT_PATH, *since = NULL;
	const char *graphs[MAX_GRAPHS];
	int ngraphs = 0;
	bool json = false, limit_set = false;
	double interval = 2;
	long count = 0;
	int opt;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		char *end;
		switch (opt) {
		case 'S':
			path = optarg;
			break;
		case 's':
			since = optarg;
			break;
		case 'c':
			q.container = optarg;
			break;
		case 'n':
			q.k8s_namespace = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'l':
			q.limit = strtol(optarg, &end, 10);
			if (*end || q.limit <= 0) {
				fprintf(stderr, "vigil: --limit takes a positive number, not '%s'\n", optarg);
				return VG_EXIT_USAGE;
			}
			limit_set = true;
			break;
		case 'i':
			interval = strtod(optarg, &end);
			if (*end || end == optarg || !(interval >= 0.1 && interval <= 3600)) {
				fprintf(stderr, "vigil: --interval takes seconds between 0.1 and 3600, not '%s'\n", optarg);
				return VG_EXIT_USAGE;
			}
			break;
		case 'C':
			count = strtol(optarg, &end, 10);
			if (*end || count <= 0) {
				fprintf(stderr, "vigil: --count takes a positive number, not '%s'\n", optarg);
				return VG_EXIT_USAGE;
			}
			break;
		case 'g': {
			const char *dot = strrchr(optarg, '.');
			if (!dot || (strcmp(dot, ".dot") && strcmp(dot, ".svg"))) {
				fprintf(stderr, "vigil: --graph takes a file name ending in .dot or .svg, not '%s'\n", optarg);
				return VG_EXIT_USAGE;
			}
			if (ngraphs == MAX_GRAPHS) {
				fprintf(stderr, "vigil: --graph may be given at most twice\n");
				return VG_EXIT_USAGE;
			}
			graphs[ngraphs++] = optarg;
			break;
		}
		case 'H':
			hc.url = optarg;
			break;
		case 'T':
			hc.token_file = optarg;
			break;
		case 'A':
			hc.ca = optarg;
			break;
		case 'N':
			hub_node = optarg;
			break;
		case 'L':
			hub_cluster = optarg;
			break;
		case 'h':
			usage(stdout);
			return VG_EXIT_OK;
		default:
			usage(stderr);
			return VG_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return VG_EXIT_USAGE;
	}
	if (!hc.url && (hc.token_file || hc.ca || hub_node || hub_cluster)) {
		fprintf(stderr, "vigil: --token-file, --ca, --node and --cluster go with --hub\n");
		return VG_EXIT_USAGE;
	}
	if (hc.url && q.container) {
		fprintf(stderr, "vigil: --container goes without --hub (the hub filters by --cluster, --node, --namespace)\n");
		return VG_EXIT_USAGE;
	}
	int64_t now = wall_now();
	if (since) {
		q.since_ns = parse_since(since, now);
		if (q.since_ns < 0) {
			fprintf(stderr, "vigil: --since takes a duration (10m) or a UTC time "
					"(2026-11-28T14:00:00Z), not '%s'\n", since);
			return VG_EXIT_USAGE;
		}
	}
	if (hc.url)
		return from_hub(&hc, hub_cluster, hub_node, q.k8s_namespace, since ? q.since_ns : now - 3600 * NS, now,
				q.limit, json, graphs, ngraphs);
	if (ngraphs) {
		if (!since)
			q.since_ns = now - 3600 * NS;
		return write_graphs(path, &q, now, graphs, ngraphs);
	}
	if (!since) {
		if (!limit_set)
			q.limit = 25;
		return live(path, &q, json, interval, count);
	}
	struct vg_buf out = { 0 };
	long n = show(path, &q, now, json, true, &out);
	if (n > 0 || (n == 0 && !json))
		fwrite(out.data ? out.data : "", 1, out.len, stdout);
	buf_free(&out);
	return n < 0 ? VG_EXIT_ERROR : VG_EXIT_OK;
}
