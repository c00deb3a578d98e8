/* SPDX-License-Identifier: Apache-2.0 */
/* vigil alerts: query the alerts the agent stored. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli/cli.h"
#include "common/buf.h"
#include "engine/ruleset.h"
#include "output/alert_store.h"

static void usage(FILE *f)
{
	fputs("usage: vigil alerts [--store PATH] [--since T] [--rule NAME] [--priority P]\n"
	      "                    [--container ID|NAME|host] [--limit N] [--json]\n"
	      "List stored alerts, oldest first.\n"
	      "  --store PATH      the store (default " ALERT_STORE_DEFAULT_PATH ")\n"
	      "  --since T         alerts from T on: a duration back from now (30s, 10m, 2h, 7d)\n"
	      "                    or a UTC time (2026-11-28T14:00:00Z)\n"
	      "  --rule NAME       alerts of this rule only\n"
	      "  --priority P      alerts at least as severe as P (e.g. warning)\n"
	      "  --container X     alerts of the container whose id starts with X or named X;\n"
	      "                    'host' for processes outside containers\n"
	      "  --limit N         at most N alerts\n"
	      "  --json            JSON lines as the agent printed them (default: text)\n"
	      "       vigil alerts --hub URL [--token-file F] [--ca F] [--node N] [--cluster C]\n"
	      "                    [the filters above]\n"
	      "Ask a fleet hub (vigil hub) instead of the local store, in arrival order:\n"
	      "  --hub URL         the hub's API, https://HOST:PORT\n"
	      "  --token-file F    a file whose first token is sent (default: $VIGIL_HUB_TOKEN)\n"
	      "  --ca F            the CA that signed the hub's certificate\n"
	      "  --node N, --cluster C   alerts of that node or cluster only\n",
	      f);
}

/* Nanoseconds since the epoch of a --since argument, or -1. */
static int64_t parse_since(const char *s)
{
	char *end;
	double v = strtod(s, &end);
	static const struct { const char *suffix; double sec; } units[] = {
		{ "s", 1 }, { "m", 60 }, { "h", 3600 }, { "d", 86400 },
	};
	if (end != s && v >= 0) {
		for (size_t i = 0; i < 4; i++) {
			if (!strcmp(end, units[i].suffix)) {
				struct timespec now;
				clock_gettime(CLOCK_REALTIME, &now);
				int64_t t = (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec - (int64_t)(v * units[i].sec * 1e9);
				return t > 0 ? t : 0;
			}
		}
	}
	struct tm tm = { 0 };
	const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!rest || (strcmp(rest, "Z") && *rest))
		return -1;
	return (int64_t)timegm(&tm) * 1000000000LL;
}

static void print_json(void *ctx, const char *json)
{
	(void)ctx;
	printf("%s\n", json);
}

static void print_text(void *ctx, const char *json)
{
	(void)ctx;
	json_error_t e;
	json_t *o = json_loads(json, 0, &e);
	const char *t = json_string_value(json_object_get(o, "time"));
	const char *out = json_string_value(json_object_get(o, "output"));
	json_t *ev = json_object_get(json_object_get(o, "vigil"), "event");
	const char *cname = json_string_value(json_object_get(json_object_get(ev, "container"), "name"));
	const char *cid = json_string_value(json_object_get(json_object_get(ev, "container"), "id"));
	/* the output already starts with the time of day and priority; add the date and container */
	printf("%.10s %s [%s]\n", t ? t : "?", out ? out : "?",
	       cname ? cname : cid && *cid ? cid : "host");
	json_decref(o);
}

static void print_hub_alert(void *ctx, json_t *rec)
{
	bool json = *(bool *)ctx;
	struct vg_buf b = { 0 };
	hub_client_encode(json_object_get(rec, "alert"), &b);
	(json ? print_json : print_text)(NULL, b.data);
	buf_free(&b);
}

static int alerts_from_hub(const struct hub_client *hc, const struct alert_store_query *q, const char *node,
			   const char *cluster, bool json)
{
	struct vg_buf qs = { 0 };
	char num[32];
	hub_client_param(&qs, "node", node);
	hub_client_param(&qs, "cluster", cluster);
	hub_client_param(&qs, "rule", q->rule);
	hub_client_param(&qs, "container", q->container);
	if (q->max_priority >= 0)
		hub_client_param(&qs, "priority", priority_name(q->max_priority));
	if (q->since_ns) {
		snprintf(num, sizeof(num), "%lld", (long long)q->since_ns);
		hub_client_param(&qs, "since", num);
	}
	char err[512];
	int n = hub_client_get(hc, "alerts", qs.data ? qs.data : "", q->limit, print_hub_alert, &json, err, sizeof(err));
	buf_free(&qs);
	if (n < 0) {
		fprintf(stderr, "vigil: %s\n", err);
		return VG_EXIT_ERROR;
	}
	return VG_EXIT_OK;
}

int cmd_alerts(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 'S' }, { "since", required_argument, NULL, 's' },
		{ "rule", required_argument, NULL, 'r' },  { "priority", required_argument, NULL, 'p' },
		{ "container", required_argument, NULL, 'c' }, { "limit", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },	   { "help", no_argument, NULL, 'h' },
		{ "hub", required_argument, NULL, 'H' },   { "token-file", required_argument, NULL, 'T' },
		{ "ca", required_argument, NULL, 'A' },	   { "node", required_argument, NULL, 'N' },
		{ "cluster", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	struct alert_store_query q = { .max_priority = -1 };
	struct hub_client hc = { 0 };
	const char *node = NULL, *cluster = NULL;
	const char *path = ALERT_STORE_DEFAULT_PATH;
	bool json = false;
	int opt;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		char *end;
		switch (opt) {
		case 'S':
			path = optarg;
			break;
		case 's':
			q.since_ns = parse_since(optarg);
			if (q.since_ns < 0) {
				fprintf(stderr, "vigil: --since takes a duration (10m) or a UTC time "
						"(2026-11-28T14:00:00Z), not '%s'\n", optarg);
				return VG_EXIT_USAGE;
			}
			break;
		case 'r':
			q.rule = optarg;
			break;
		case 'p':
			q.max_priority = priority_parse(optarg);
			if (q.max_priority < 0) {
				fprintf(stderr, "vigil: --priority takes emergency, alert, critical, error, warning, "
						"notice, informational or debug, not '%s'\n", optarg);
				return VG_EXIT_USAGE;
			}
			break;
		case 'c':
			q.container = optarg;
			break;
		case 'l':
			q.limit = strtol(optarg, &end, 10);
			if (*end || q.limit <= 0) {
				fprintf(stderr, "vigil: --limit takes a positive number, not '%s'\n", optarg);
				return VG_EXIT_USAGE;
			}
			break;
		case 'j':
			json = true;
			break;
		case 'H': hc.url = optarg; break;
		case 'T': hc.token_file = optarg; break;
		case 'A': hc.ca = optarg; break;
		case 'N': node = optarg; break;
		case 'C': cluster = optarg; break;
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
	char err[512];
	if (!hc.url && (hc.token_file || hc.ca || node || cluster)) {
		fprintf(stderr, "vigil: --token-file, --ca, --node and --cluster go with --hub\n");
		return VG_EXIT_USAGE;
	}
	if (hc.url)
		return alerts_from_hub(&hc, &q, node, cluster, json);
	struct alert_store *s = alert_store_open(path, true, err, sizeof(err));
	if (!s) {
		fprintf(stderr, "vigil: %s\n", err);
		return VG_EXIT_ERROR;
	}
	long n = alert_store_query_alerts(s, &q, json ? print_json : print_text, NULL);
	if (n < 0)
		fprintf(stderr, "vigil: %s\n", alert_store_error(s));
	alert_store_close(s);
	return n < 0 ? VG_EXIT_ERROR : VG_EXIT_OK;
}
