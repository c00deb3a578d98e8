/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil profile ... --hub URL, and vigil profile sync (docs/profiles.md, "In a
 * fleet"): the fleet's merged profiles as a hub serves them, a mode set
 * centrally, and one round of a node's sharing from its store.
 */
#include <getopt.h>
#include <signal.h>
#include <time.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/fleet_opts.h"
#include "common/buf.h"
#include "fleet/profile_sync.h"
#include "output/alert_store.h"

int cmd_profile_fleet(int argc, char **argv);

static volatile sig_atomic_t stop_follow;
static void on_signal(int sig)
{
	(void)sig;
	stop_follow = 1;
}

static void usage(FILE *f)
{
	fputs("usage: vigil profile list --hub URL [--token-file F] [--ca F] [--cluster C] [--namespace N]\n"
	      "                              [--image I] [--json]\n"
	      "       vigil profile show KEY --hub URL [--token-file F] [--ca F]\n"
	      "       vigil profile mode KEY learning|monitoring|protecting --hub URL [--token-file F] [--ca F]\n"
	      "       vigil profile sync [--store PATH] --nats URL [--node N] [--cluster C] [--follow] [--nats-creds F ...]\n"
	      "The fleet's merged profiles (docs/profiles.md, \"In a fleet\"): listed, shown, or their mode set\n"
	      "at a hub (a responder's token), which every node applies; `sync` publishes the store's\n"
	      "profiles as node N once and merges what the fleet learnt into them (a running agent with\n"
	      "--nats does this by itself); with --follow it keeps doing so, as the agent does, until\n"
	      "SIGINT or SIGTERM.\n"
	      "  KEY   a profile key, or its bucket key (64 hex digits) as list prints it\n" FLEET_CONN_HELP,
	      f);
}

static bool wants(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--hub") || !strncmp(argv[i], "--hub=", 6))
			return true;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--store") || !strcmp(argv[i], "-S") || !strcmp(argv[i], "-o") ||
		    !strcmp(argv[i], "--output")) {
			i++;
			continue;
		}
		if (argv[i][0] != '-')
			return !strcmp(argv[i], "sync");
	}
	return false;
}

static void print_profile(void *ctx, json_t *r)
{
	bool json = *(bool *)ctx;
	if (json) {
		struct vg_buf b = { 0 };
		hub_client_encode(r, &b);
		printf("%s\n", b.data ? b.data : "{}");
		buf_free(&b);
		return;
	}
	const char *mode = json_string_value(json_object_get(r, "mode"));
	struct vg_buf nodes = { 0 };
	json_t *n;
	size_t i;
	json_array_foreach(json_object_get(r, "nodes"), i, n) {
		buf_printf(&nodes, "%s%s/%s(%s)", i ? "," : "", json_string_value(json_object_get(n, "cluster")),
			   json_string_value(json_object_get(n, "node")), json_string_value(json_object_get(n, "mode")));
	}
	printf("%s  %s  %lld items  central mode %s  image %s  nodes %s\n",
	       json_string_value(json_object_get(r, "kv_key")), json_string_value(json_object_get(r, "key")),
	       (long long)json_integer_value(json_object_get(r, "items")), mode ? mode : "-",
	       json_string_value(json_object_get(r, "image")), nodes.data ? nodes.data : "");
	buf_free(&nodes);
}

/* A key as a path segment: percent-encoded (keys hold '/', ':', '@'). */
static void path_escape(struct vg_buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.')
			buf_addc(b, (char)c);
		else
			buf_printf(b, "%%%02X", c);
	}
}

int cmd_profile_fleet(int argc, char **argv)
{
	if (!wants(argc, argv))
		return -1;
	static const struct option opts[] = {
		{ "hub", required_argument, NULL, 'H' },      { "token-file", required_argument, NULL, 'T' },
		{ "ca", required_argument, NULL, 'A' },	      { "cluster", required_argument, NULL, 'C' },
		{ "namespace", required_argument, NULL, 'n' }, { "image", required_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },	      { "store", required_argument, NULL, 'S' },
		{ "node", required_argument, NULL, 'N' },     { "help", no_argument, NULL, 'h' },
		{ "follow", no_argument, NULL, 'F' },
		FLEET_CONN_OPTIONS,			      { NULL, 0, NULL, 0 },
	};
	struct hub_client hc = { 0 };
	struct fleet_conn_opts co = { 0 };
	const char *cluster = NULL, *ns = NULL, *image = NULL, *store = ALERT_STORE_DEFAULT_PATH, *node = NULL;
	const char *args[4];
	size_t nargs = 0;
	bool json = false, follow = false;
	char err[1024];
	optind = 1;
	while (optind < argc) {
		int o = getopt_long(argc, argv, "+h", opts, NULL);
		if (o == -1) {
			if (nargs == 4) {
				usage(stderr);
				return VG_EXIT_USAGE;
			}
			args[nargs++] = argv[optind++];
			continue;
		}
		if (fleet_conn_option(o, optarg, &co))
			continue;
		switch (o) {
		case 'H': hc.url = optarg; break;
		case 'T': hc.token_file = optarg; break;
		case 'A': hc.ca = optarg; break;
		case 'C': cluster = optarg; break;
		case 'n': ns = optarg; break;
		case 'i': image = optarg; break;
		case 'j': json = true; break;
		case 'S': store = optarg; break;
		case 'N': node = optarg; break;
		case 'F': follow = true; break;
		case 'h': usage(stdout); return VG_EXIT_OK;
		default: usage(stderr); return VG_EXIT_USAGE;
		}
	}
	if (!nargs) {
		usage(stderr);
		return VG_EXIT_USAGE;
	}
	const char *cmd = args[0];
	if (!strcmp(cmd, "sync")) {
		if (nargs != 1 || hc.url || !co.servers) {
			fprintf(stderr, "vigil: profile sync needs --nats (and no --hub)\n");
			return VG_EXIT_USAGE;
		}
		co.node = node;
		co.cluster = cluster;
		struct fleet_conn *fc = fleet_conn_open(&co);
		if (!fc)
			return VG_EXIT_ERROR;
		struct profile_sync_stats st = { 0 };
		int rc;
		if (follow) {
			struct sigaction sa = { .sa_handler = on_signal };
			sigaction(SIGINT, &sa, NULL);
			sigaction(SIGTERM, &sa, NULL);
			struct profile_sync *ps = profile_sync_start(fc, store, err, sizeof(err));
			rc = ps ? 0 : -1;
			if (ps) {
				fprintf(stderr, "vigil: sharing the profiles of %s as node %s of cluster %s\n", store,
					fleet_node(fc), fleet_cluster(fc));
				while (!stop_follow) {
					struct timespec t = { 0, 100 * 1000 * 1000 };
					nanosleep(&t, NULL);
				}
				profile_sync_get_stats(ps, &st);
				profile_sync_stop(ps);
			}
		} else {
			rc = profile_sync_once(fc, store, &st, err, sizeof(err));
		}
		fleet_close(fc);
		if (rc) {
			fprintf(stderr, "vigil: %s\n", err);
			return VG_EXIT_ERROR;
		}
		printf("published %llu messages; received %llu items and %llu modes; %llu refused\n",
		       (unsigned long long)st.messages, (unsigned long long)st.merged_items, (unsigned long long)st.modes,
		       (unsigned long long)st.refused);
		return VG_EXIT_OK;
	}
	if (follow) {
		fprintf(stderr, "vigil: --follow goes with sync\n");
		return VG_EXIT_USAGE;
	}
	if (!hc.url || co.servers || node) {
		fprintf(stderr, "vigil: %s with --hub takes --token-file, --ca (list: --cluster, --namespace, --image, --json)\n",
			cmd);
		return VG_EXIT_USAGE;
	}
	if (!strcmp(cmd, "list") && nargs == 1) {
		struct vg_buf q = { 0 };
		hub_client_param(&q, "cluster", cluster);
		hub_client_param(&q, "namespace", ns);
		hub_client_param(&q, "image", image);
		int n = hub_client_get(&hc, "profiles", q.data ? q.data : "", 0, print_profile, &json, err, sizeof(err));
		buf_free(&q);
		if (n < 0) {
			fprintf(stderr, "vigil: %s\n", err);
			return VG_EXIT_ERROR;
		}
		return VG_EXIT_OK;
	}
	if (cluster || ns || image) {
		fprintf(stderr, "vigil: --cluster, --namespace and --image go with list\n");
		return VG_EXIT_USAGE;
	}
	if (!strcmp(cmd, "show") && nargs == 2) {
		struct vg_buf route = { 0 }, out = { 0 };
		buf_adds(&route, "profiles/");
		path_escape(&route, args[1]);
		buf_addc(&route, '\0');
		int rc = hub_client_raw(&hc, route.data, "", &out, err, sizeof(err));
		if (!rc)
			printf("%.*s\n", (int)out.len, out.data ? out.data : "");
		else
			fprintf(stderr, "vigil: %s\n", err);
		buf_free(&route);
		buf_free(&out);
		return rc ? VG_EXIT_ERROR : VG_EXIT_OK;
	}
	if (!strcmp(cmd, "mode") && nargs == 3) {
		if (profile_mode_from_name(args[2]) < 0) {
			fprintf(stderr, "vigil: mode: learning, monitoring or protecting, not '%s'\n", args[2]);
			return VG_EXIT_USAGE;
		}
		struct vg_buf route = { 0 }, reply = { 0 }, body = { 0 };
		buf_adds(&route, "profiles/");
		path_escape(&route, args[1]);
		buf_adds(&route, "/mode");
		buf_addc(&route, '\0');
		buf_printf(&body, "{\"mode\":\"%s\"}", args[2]);
		long status = 0;
		int rc = hub_client_post(&hc, route.data, body.data, body.len, &status, &reply, err, sizeof(err));
		int ret = VG_EXIT_OK;
		if (rc) {
			fprintf(stderr, "vigil: %s\n", err);
			ret = VG_EXIT_ERROR;
		} else if (status != 200) {
			fprintf(stderr, "vigil: the hub answered %ld: %.*s\n", status, (int)reply.len, reply.data ? reply.data : "");
			ret = VG_EXIT_ERROR;
		} else {
			printf("%s: %s, set centrally (every node applies it)\n", args[1], args[2]);
		}
		buf_free(&route);
		buf_free(&reply);
		buf_free(&body);
		return ret;
	}
	usage(stderr);
	return VG_EXIT_USAGE;
}
