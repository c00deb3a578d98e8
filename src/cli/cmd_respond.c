/* SPDX-License-Identifier: Apache-2.0 */
/* vigil actions: the response actions the agent took; vigil respond thaw: undo a freeze. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "cli/cli.h"
#include "hub/hub_msg.h"
#include "common/buf.h"
#include "output/alert_store.h"
#include "fleet/command.h"
#include "fleet/nats_conn.h"
#include "respond/undo.h"

static void actions_usage(FILE *f)
{
	fputs("usage: vigil actions [--store PATH] [--container ID|NAME] [--json]\n"
	      "List the response actions the agent took (or, in audit mode, would have taken),\n"
	      "oldest first: time, rule, action, target, outcome, detail, path and latency.\n"
	      "       vigil actions --hub URL [--token-file F] [--ca F] [--node N] [--cluster C]\n"
	      "                     [--container ID|NAME] [--json]\n"
	      "Ask a fleet hub (vigil hub) instead of the local store (see vigil alerts --help).\n",
	      f);
}

static void action_text(void *ctx, const struct alert_store_action *a)
{
	(void)ctx;
	time_t sec = a->time_ns / 1000000000LL;
	struct tm tm;
	char t[32];
	gmtime_r(&sec, &tm);
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%s %-8s %-8s %-22s [%s] %s: %s (%s, %lld us)\n", t, a->action, a->outcome, a->target,
	       a->container_name ? a->container_name : a->container_id[0] ? a->container_id : "host", a->rule,
	       a->detail, a->path, (long long)(a->latency_ns / 1000));
}

static void action_json(void *ctx, const struct alert_store_action *a)
{
	(void)ctx;
	struct vg_buf b = { 0 };
	struct vg_json j;
	jw_init(&j, &b);
	jw_obj_begin(&j, NULL);
	jw_int(&j, "time_ns", a->time_ns);
	jw_str(&j, "rule", a->rule);
	jw_str(&j, "action", a->action);
	jw_str(&j, "target", a->target);
	jw_str(&j, "container_id", a->container_id);
	jw_str(&j, "container_name", a->container_name);
	jw_str(&j, "cgroup", a->cgroup);
	jw_str(&j, "outcome", a->outcome);
	jw_str(&j, "detail", a->detail);
	jw_str(&j, "path", a->path);
	jw_int(&j, "latency_us", a->latency_ns / 1000);
	jw_obj_end(&j);
	printf("%s\n", b.data);
	buf_free(&b);
}

static void action_text(void *ctx, const struct alert_store_action *a);
static void action_json(void *ctx, const struct alert_store_action *a);

static const char *field(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));
	return v ? v : "";
}

/* An action as the hub returns it (the agent's action JSON) printed as the local store's. */
static void print_hub_action(void *ctx, json_t *rec)
{
	json_t *o = json_object_get(rec, "action");
	json_t *lat = json_object_get(o, "latency_ns");
	struct alert_store_action a = {
		.time_ns = json_is_string(json_object_get(o, "time")) ? hub_parse_time(field(o, "time"))
								       : json_integer_value(json_object_get(o, "time_ns")),
		.rule = field(o, "rule"), .action = field(o, "action"), .target = field(o, "target"),
		.container_id = field(o, "container_id"),
		.container_name = json_string_value(json_object_get(o, "container_name")),
		.cgroup = field(o, "cgroup"), .outcome = field(o, "outcome"), .detail = field(o, "detail"),
		.path = field(o, "path"),
		.latency_ns = lat ? json_integer_value(lat) : json_integer_value(json_object_get(o, "latency_us")) * 1000,
	};
	(*(bool *)ctx ? action_json : action_text)(NULL, &a);
}

static int actions_from_hub(const struct hub_client *hc, const char *container, const char *node,
			    const char *cluster, bool json)
{
	struct vg_buf qs = { 0 };
	hub_client_param(&qs, "node", node);
	hub_client_param(&qs, "cluster", cluster);
	hub_client_param(&qs, "container", container);
	char err[512];
	int n = hub_client_get(hc, "actions", qs.data ? qs.data : "", 0, print_hub_action, &json, err, sizeof(err));
	buf_free(&qs);
	if (n < 0) {
		fprintf(stderr, "vigil: %s\n", err);
		return VG_EXIT_ERROR;
	}
	return VG_EXIT_OK;
}

int cmd_actions(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 'S' }, { "container", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },	   { "help", no_argument, NULL, 'h' },
		{ "hub", required_argument, NULL, 'H' },   { "token-file", required_argument, NULL, 'T' },
		{ "ca", required_argument, NULL, 'A' },	   { "node", required_argument, NULL, 'N' },
		{ "cluster", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = ALERT_STORE_DEFAULT_PATH, *container = NULL;
	struct hub_client hc = { 0 };
	const char *node = NULL, *cluster = NULL;
	bool json = false;
	int opt;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'S': path = optarg; break;
		case 'c': container = optarg; break;
		case 'j': json = true; break;
		case 'H': hc.url = optarg; break;
		case 'T': hc.token_file = optarg; break;
		case 'A': hc.ca = optarg; break;
		case 'N': node = optarg; break;
		case 'C': cluster = optarg; break;
		case 'h': actions_usage(stdout); return VG_EXIT_OK;
		default: actions_usage(stderr); return VG_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		actions_usage(stderr);
		return VG_EXIT_USAGE;
	}
	if (!hc.url && (hc.token_file || hc.ca || node || cluster)) {
		fprintf(stderr, "vigil: --token-file, --ca, --node and --cluster go with --hub\n");
		return VG_EXIT_USAGE;
	}
	if (hc.url)
		return actions_from_hub(&hc, container, node, cluster, json);
	char err[512];
	struct alert_store *s = alert_store_open(path, true, err, sizeof(err));
	if (!s) {
		fprintf(stderr, "vigil: %s\n", err);
		return VG_EXIT_ERROR;
	}
	long n = alert_store_query_actions(s, container, json ? action_json : action_text, NULL);
	if (n < 0)
		fprintf(stderr, "vigil: %s\n", alert_store_error(s));
	alert_store_close(s);
	return n < 0 ? VG_EXIT_ERROR : VG_EXIT_OK;
}

/* Each recorded action of the container, for the undo (respond/undo.h). */
static void note_action(void *ctx, const struct alert_store_action *a)
{
	undo_note(ctx, a->action, a->outcome, a->cgroup, a->container_id, a->container_name, a->rule);
}

static void respond_usage(FILE *f)
{
	fputs("usage: vigil respond thaw CONTAINER [--store PATH]\n"
	      "       vigil respond release CONTAINER [--store PATH]\n"
	      "       vigil respond thaw|release CONTAINER --hub URL --node N [--cluster C]\n"
	      "                     [--token-file F] [--ca F]\n"
	      "thaw: unfreeze a container the agent froze; release: give back the network of a\n"
	      "container the agent isolated (isolation outlives the agent: running or not). CONTAINER is an id\n"
	      "prefix or a name, as recorded in the store; the undoing is recorded as an action.\n"
	      "With --hub, the hub sends the command to node N's agent (a responder token is needed);\n"
	      "the agent undoes it on its node and records it, as here.\n",
	      f);
}

/* Through a hub: POST /api/v1/commands; the agent's outcome decides the exit status. */
static int respond_via_hub(const struct hub_client *hc, const char *command, const char *container, const char *node,
			   const char *cluster)
{
	struct vg_buf body = { 0 }, reply = { 0 };
	struct vg_json j;
	char err[512];
	long status = 0;
	jw_init(&j, &body);
	jw_obj_begin(&j, NULL);
	jw_str(&j, "cluster", cluster ? cluster : "default");
	jw_str(&j, "node", node);
	jw_str(&j, "command", command);
	jw_str(&j, "container", container);
	jw_obj_end(&j);
	int rc = hub_client_post(hc, "commands", body.data, body.len, &status, &reply, err, sizeof(err));
	buf_free(&body);
	if (rc) {
		fprintf(stderr, "vigil: %s\n", err);
		buf_free(&reply);
		return VG_EXIT_ERROR;
	}
	json_error_t je;
	json_t *o = reply.len ? json_loadb(reply.data, reply.len, 0, &je) : NULL;
	buf_free(&reply);
	const char *e = json_string_value(json_object_get(o, "error"));
	const char *outcome = json_string_value(json_object_get(o, "outcome"));
	const char *detail = json_string_value(json_object_get(o, "detail"));
	int ret = VG_EXIT_ERROR;
	if (status != 200 || !outcome)
		fprintf(stderr, "vigil: the hub answered %ld: %s\n", status, e ? e : "no reason given");
	else if (strcmp(outcome, "ok"))
		fprintf(stderr, "vigil: node %s: %s: %s\n", node, outcome, detail ? detail : "");
	else {
		printf("%s on node %s: %s\n", !strcmp(command, "thaw") ? "thawed" : "released", node, detail ? detail : "");
		ret = VG_EXIT_OK;
	}
	json_decref(o);
	return ret;
}

int cmd_respond(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 'S' },  { "help", no_argument, NULL, 'h' },
		{ "hub", required_argument, NULL, 'H' },    { "token-file", required_argument, NULL, 'T' },
		{ "ca", required_argument, NULL, 'A' },     { "node", required_argument, NULL, 'N' },
		{ "cluster", required_argument, NULL, 'C' }, { NULL, 0, NULL, 0 },
	};
	const char *path = ALERT_STORE_DEFAULT_PATH, *node = NULL, *cluster = NULL;
	struct hub_client hc = { 0 };
	bool store_given = false;
	int opt;
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		respond_usage(stdout);
		return VG_EXIT_OK;
	}
	if (argc < 2 || (strcmp(argv[1], "thaw") && strcmp(argv[1], "release"))) {
		respond_usage(stderr);
		return VG_EXIT_USAGE;
	}
	bool thaw = !strcmp(argv[1], "thaw");
	optind = 2;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'S': path = optarg; store_given = true; break;
		case 'H': hc.url = optarg; break;
		case 'T': hc.token_file = optarg; break;
		case 'A': hc.ca = optarg; break;
		case 'N': node = optarg; break;
		case 'C': cluster = optarg; break;
		case 'h': respond_usage(stdout); return VG_EXIT_OK;
		default: respond_usage(stderr); return VG_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		respond_usage(stderr);
		return VG_EXIT_USAGE;
	}
	const char *container = argv[optind];
	if (!hc.url && (hc.token_file || hc.ca || node || cluster)) {
		fprintf(stderr, "vigil: --token-file, --ca, --node and --cluster go with --hub\n");
		return VG_EXIT_USAGE;
	}
	if (hc.url) {
		if (store_given || !node) {
			fprintf(stderr, "vigil: --hub needs --node (and takes no --store: the node's agent uses its own)\n");
			return VG_EXIT_USAGE;
		}
		if (!fleet_name_valid(node) || (cluster && !fleet_name_valid(cluster))) {
			fprintf(stderr, "vigil: --node and --cluster must be 1 to 64 of A-Z a-z 0-9 - _\n");
			return VG_EXIT_USAGE;
		}
		if (!fleet_cmd_container_valid(container)) {
			fprintf(stderr, "vigil: through a hub, CONTAINER is an id prefix or a name "
					"(A-Z a-z 0-9 _ . -), not a pattern\n");
			return VG_EXIT_USAGE;
		}
		return respond_via_hub(&hc, argv[1], container, node, cluster);
	}
	char err[512];
	struct alert_store *s = alert_store_open(path, false, err, sizeof(err));
	if (!s) {
		fprintf(stderr, "vigil: %s\n", err);
		return VG_EXIT_ERROR;
	}
	struct undo u;
	undo_init(&u, thaw ? UNDO_THAW : UNDO_RELEASE);
	if (alert_store_query_actions(s, container, note_action, &u) < 0 || !u.found) {
		fprintf(stderr, "vigil: no %s of container '%s' in %s\n", thaw ? "freeze" : "isolate", container, path);
		alert_store_close(s);
		return VG_EXIT_ERROR;
	}
	enum undo_outcome o = undo_run(&u, "vigil respond");
	struct undo_row row;
	undo_record(&u, &row);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	struct alert_store_action undo_act = {
		.time_ns = (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec,
		.rule = row.rule, .action = row.action, .target = row.target,
		.container_id = row.container_id, .container_name = row.container_name, .cgroup = row.cgroup,
		.outcome = row.outcome, .detail = row.detail, .path = row.path,
	};
	alert_store_add_action(s, &undo_act);
	alert_store_commit(s);
	alert_store_close(s);
	if (o != UNDO_OK) {
		fprintf(stderr, "vigil: %s\n", u.detail);
		return VG_EXIT_ERROR;
	}
	printf("%s %s (%s)\n", thaw ? "thawed" : "released", u.name[0] ? u.name : u.id, u.cgroup);
	return VG_EXIT_OK;
}
