/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil fleet SUBCOMMAND: the fleet's JetStream objects and keys
 * (docs/fleet.md). Each subcommand is a row of fleet_cmds; they share the
 * connection options (cli/fleet_opts.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/fleet_opts.h"
#include "common/buf.h"
#include "fleet/nats_conn.h"
#include "fleet/streams.h"

static void init_usage(FILE *f)
{
	fputs("usage: vigil fleet init --nats URL [--replicas 1|3] [--max-age D] [--max-bytes N]\n"
	      "                        [--duplicate-window D] [--flows-max-age D]\n"
	      "Create or update the streams VIGIL_ALERTS, VIGIL_HEARTBEATS and VIGIL_FLOWS and the key-value bucket\n"
	      "VIGIL_POLICY, and say what changed (nothing, when run again with the same options).\n"
	      "Options not given keep an existing stream's value (defaults on creation: replicas 1,\n"
	      "max age 7d, max bytes none, duplicate window 2m).\n"
	      FLEET_CONN_HELP
	      "  --replicas N         1, or 3 for a 3-node cluster\n"
	      "  --max-age D          how long alerts are kept: 30d, 12h, ...; none: no limit\n"
	      "  --max-bytes N        the stream's size limit: 10G, 512M, ...; none: no limit\n"
	      "  --duplicate-window D how long JetStream remembers message ids to drop duplicates\n"
	      "                       (longer than the outages an agent rides out; default 2m)\n"
	      "  --flows-max-age D    how long VIGIL_FLOWS keeps the flow rollups for hubs (default 1d)\n",
	      f);
}

static int fleet_init(int argc, char **argv)
{
	static const struct option opts[] = {
		FLEET_CONN_OPTIONS,
		{ "replicas", required_argument, NULL, 'r' },
		{ "max-age", required_argument, NULL, 'a' },
		{ "max-bytes", required_argument, NULL, 'b' },
		{ "duplicate-window", required_argument, NULL, 'd' },
		{ "flows-max-age", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct fleet_conn_opts co = { 0 };
	struct fleet_stream_opts so = { .max_bytes = -2 };
	int opt;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (fleet_conn_option(opt, optarg, &co))
			continue;
		switch (opt) {
		case 'r':
			if (strcmp(optarg, "1") && strcmp(optarg, "3")) {
				fprintf(stderr, "vigil: fleet init: --replicas takes 1 or 3, not '%s'\n", optarg);
				return VG_EXIT_USAGE;
			}
			so.replicas = atoi(optarg);
			break;
		case 'a':
			if ((so.max_age_ns = fleet_parse_duration(optarg)) == -2) {
				fprintf(stderr, "vigil: fleet init: --max-age takes a duration (7d, 12h, 30m) or none, not '%s'\n",
					optarg);
				return VG_EXIT_USAGE;
			}
			break;
		case 'b':
			if ((so.max_bytes = fleet_parse_size(optarg)) == -2) {
				fprintf(stderr, "vigil: fleet init: --max-bytes takes a size (10G, 512M) or none, not '%s'\n",
					optarg);
				return VG_EXIT_USAGE;
			}
			break;
		case 'd':
			if ((so.dup_window_ns = fleet_parse_duration(optarg)) < 1000000000) {
				fprintf(stderr, "vigil: fleet init: --duplicate-window takes a duration of 1s or more, not '%s'\n",
					optarg);
				return VG_EXIT_USAGE;
			}
			break;
		case 'f':
			if ((so.flows_max_age_ns = fleet_parse_duration(optarg)) == -2) {
				fprintf(stderr,
					"vigil: fleet init: --flows-max-age takes a duration (1d, 12h, 30m) or none, not '%s'\n",
					optarg);
				return VG_EXIT_USAGE;
			}
			break;
		case 'h':
			init_usage(stdout);
			return VG_EXIT_OK;
		default:
			init_usage(stderr);
			return VG_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		init_usage(stderr);
		return VG_EXIT_USAGE;
	}
	struct fleet_conn *c = fleet_conn_open(&co);
	if (!c)
		return VG_EXIT_ERROR;
	struct vg_buf report = { 0 };
	char err[512];
	int rc = fleet_streams_init(c, &so, &report, err, sizeof(err));
	if (report.len)
		fwrite(report.data, 1, report.len, stdout);
	if (rc)
		fprintf(stderr, "vigil: fleet init: %s\n", err);
	buf_free(&report);
	fleet_close(c);
	return rc ? VG_EXIT_ERROR : VG_EXIT_OK;
}

static int fleet_nkey(int argc, char **argv)
{
	char pub[64], err[512];
	if (argc != 2 || !strcmp(argv[1], "--help")) {
		fputs("usage: vigil fleet nkey SEEDFILE\n"
		      "Print the public key (U...) of an NKey user seed (SU...), for the server's configuration.\n",
		      argc == 2 ? stdout : stderr);
		return argc == 2 ? VG_EXIT_OK : VG_EXIT_USAGE;
	}
	if (fleet_nkey_public(argv[1], pub, sizeof(pub), err, sizeof(err))) {
		fprintf(stderr, "vigil: fleet nkey: %s\n", err);
		return VG_EXIT_ERROR;
	}
	printf("%s\n", pub);
	return VG_EXIT_OK;
}

/* The subcommands: a new one is a row (and its function) here. */
static const struct {
	const char *name;
	int (*fn)(int argc, char **argv); /* argv[0] is the subcommand */
	const char *help;
} fleet_cmds[] = {
	{ "init", fleet_init, "create or update the streams and the policy bucket" },
	{ "nkey", fleet_nkey, "print the public key of an NKey user seed file" },
	{ "push", fleet_push, "validate a policy (rules, response, files, egress) and publish it to the fleet" },
	{ "history", fleet_history, "every policy push the bucket keeps: who, when, digest" },
	{ NULL, NULL, NULL },
};

static void usage(FILE *f)
{
	fputs("usage: vigil fleet SUBCOMMAND [options]\n"
	      "The fleet's NATS JetStream objects and keys (docs/fleet.md).\n",
	      f);
	for (size_t i = 0; fleet_cmds[i].name; i++)
		fprintf(f, "  %-9s %s\n", fleet_cmds[i].name, fleet_cmds[i].help);
	fputs("'vigil fleet SUBCOMMAND --help' describes its options.\n", f);
}

int cmd_fleet(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return VG_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return VG_EXIT_OK;
	}
	for (size_t i = 0; fleet_cmds[i].name; i++)
		if (!strcmp(argv[1], fleet_cmds[i].name))
			return fleet_cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "vigil: fleet: unknown subcommand '%s'\n", argv[1]);
	usage(stderr);
	return VG_EXIT_USAGE;
}
