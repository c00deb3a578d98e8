/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil fleet push | policy | history: the fleet's central policy (docs/fleet.md).
 * A push is validated here exactly as an agent loads it, before it is published.
 */
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include "cli/cli.h"
#include "cli/fleet_opts.h"
#include "fleet/policy.h"

static void push_usage(FILE *f)
{
	fputs("usage: vigil fleet push rules|response|files|egress FILE... --nats URL [options]\n"
	      "Validate a policy as every agent will load it, then publish it to the fleet's\n"
	      "key-value bucket " POLICY_BUCKET "; agents whose node name matches --nodes apply it\n"
	      "as SIGHUP does (rules, response) or at their next start (files, egress).\n"
	      "  --nodes GLOB         the nodes it is for (default: all, '*')\n"
	      "  --default-rules      rules: Vigil's default rules load before the files\n"
	      "  --dry-run            validate only\n" FLEET_OPTIONS_HELP,
	      f);
}

/* user@host of whoever pushes: the sudo caller when there is one. */
static char *pusher(void)
{
	char host[256] = "?", *out = NULL;
	const char *user = getenv("SUDO_USER");
	struct passwd *pw = NULL;

	if (!user || !*user) {
		pw = getpwuid(getuid());
		user = pw ? pw->pw_name : "?";
	}
	gethostname(host, sizeof(host) - 1);
	if (asprintf(&out, "%s@%s", user, host) < 0)
		return NULL;
	return out;
}

static struct fleet_conn *connect_or_say(struct fleet_conn_opts *o)
{
	char err[1024];
	struct fleet_conn *c;

	o->client = "vigil-fleet";
	if (!(c = fleet_connect(o, err, sizeof(err)))) {
		fprintf(stderr, "vigil: %s\n", err);
		return NULL;
	}
	if (!fleet_conn_wait(c, 10000)) {
		fprintf(stderr, "vigil: no NATS server of %s answered in 10 s\n", o->servers);
		fleet_close(c);
		return NULL;
	}
	return c;
}

static int cmd_push(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "nodes", required_argument, NULL, 'n' },
		{ "default-rules", no_argument, NULL, 'D' },
		{ "dry-run", no_argument, NULL, 'y' },
		FLEET_LONG_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct fleet_conn_opts o = { 0 };
	struct policy_push p = { 0 };
	bool dry = false;
	char err[2048];
	int opt, kind, ret = VG_EXIT_ERROR;
	struct fleet_conn *c = NULL;

	p.nodes = NULL;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			free(p.nodes);
			p.nodes = strdup(optarg);
			break;
		case 'D':
			p.defaults = true;
			break;
		case 'y':
			dry = true;
			break;
		case 'h':
			push_usage(stdout);
			free(p.nodes);
			return VG_EXIT_OK;
		default:
			if (fleet_option(opt, optarg, &o))
				break;
			goto usage;
		}
	}
	if (argc - optind < 2 || (kind = policy_kind_parse(argv[optind])) < 0 || (!o.servers && !dry) ||
	    (p.defaults && kind != POLICY_RULES))
		goto usage;
	p.kind = (enum policy_kind)kind;
	if (!p.nodes)
		p.nodes = strdup("*");
	if (!*p.nodes || strlen(p.nodes) > 256) {
		fprintf(stderr, "vigil: --nodes takes a glob of 1 to 256 characters\n");
		goto usage;
	}
	const char *const *paths = (const char *const *)argv + optind + 1;
	size_t n = (size_t)(argc - optind - 1);
	if (policy_validate(p.kind, paths, n, p.defaults, err, sizeof(err))) {
		fprintf(stderr, "vigil: %s\n", err);
		goto out;
	}
	if (policy_read_files(&p, paths, n, err, sizeof(err))) {
		fprintf(stderr, "vigil: %s\n", err);
		goto out;
	}
	policy_digest(p.files, p.nfiles, p.defaults, p.digest);
	p.pushed_by = pusher();
	p.pushed_at = (int64_t)time(NULL);
	if (dry) {
		printf("%s %s for nodes '%s': valid\n", policy_kind_name(p.kind), p.digest, p.nodes);
		ret = VG_EXIT_OK;
		goto out;
	}
	if (!(c = connect_or_say(&o)))
		goto out;
	if (policy_publish(c, &p, err, sizeof(err))) {
		fprintf(stderr, "vigil: %s\n", err);
		goto out;
	}
	printf("%s %s for nodes '%s' pushed by %s (revision %llu)\n", policy_kind_name(p.kind), p.digest, p.nodes,
	       p.pushed_by ? p.pushed_by : "?", (unsigned long long)p.revision);
	ret = VG_EXIT_OK;
out:
	fleet_close(c);
	policy_push_free(&p);
	return ret;
usage:
	push_usage(stderr);
	policy_push_free(&p);
	return VG_EXIT_USAGE;
}

static int cmd_history(int argc, char **argv)
{
	static const struct option opts[] = {
		FLEET_LONG_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct fleet_conn_opts o = { 0 };
	struct fleet_conn *c;
	char err[1024];
	long n;
	int opt;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (opt == 'h') {
			fputs("usage: vigil fleet history --nats URL [options]\n"
			      "Every policy push the bucket keeps, oldest first, as JSON lines: revision,\n"
			      "key, kind, nodes, digest, who pushed it and when, its files' names and sizes.\n" FLEET_OPTIONS_HELP,
			      stdout);
			return VG_EXIT_OK;
		}
		if (!fleet_option(opt, optarg, &o))
			return VG_EXIT_USAGE;
	}
	if (optind != argc || !o.servers) {
		fputs("usage: vigil fleet history --nats URL [options]\n", stderr);
		return VG_EXIT_USAGE;
	}
	if (!(c = connect_or_say(&o)))
		return VG_EXIT_ERROR;
	n = policy_history(c, stdout, err, sizeof(err));
	fleet_close(c);
	if (n < 0) {
		fprintf(stderr, "vigil: %s\n", err);
		return VG_EXIT_ERROR;
	}
	return VG_EXIT_OK;
}

/* Until 'fleet init' makes the streams too: the policy bucket only. */
static int cmd_init(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "replicas", required_argument, NULL, 'r' },
		FLEET_LONG_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct fleet_conn_opts o = { 0 };
	struct fleet_conn *c;
	kvStore *kv = NULL;
	char err[1024];
	int opt, replicas = 1;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'r' && (strcmp(optarg, "1") == 0 || strcmp(optarg, "3") == 0))
			replicas = atoi(optarg);
		else if (!fleet_option(opt, optarg, &o))
			return VG_EXIT_USAGE;
	}
	if (optind != argc || !o.servers)
		return VG_EXIT_USAGE;
	if (!(c = connect_or_say(&o)))
		return VG_EXIT_ERROR;
	if (policy_bucket(c, true, replicas, &kv, err, sizeof(err))) {
		fprintf(stderr, "vigil: %s\n", err);
		fleet_close(c);
		return VG_EXIT_ERROR;
	}
	printf("key-value bucket %s ready\n", POLICY_BUCKET);
	kvStore_Destroy(kv);
	fleet_close(c);
	return VG_EXIT_OK;
}

int cmd_fleet(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "push") == 0)
		return cmd_push(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "history") == 0)
		return cmd_history(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "init") == 0)
		return cmd_init(argc - 1, argv + 1);
	fputs("usage: vigil fleet init|push|history [options]   ('vigil fleet CMD --help')\n", stderr);
	return VG_EXIT_USAGE;
}
