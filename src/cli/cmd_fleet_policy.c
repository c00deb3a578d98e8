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
	      "  --dry-run            validate only\n" FLEET_CONN_HELP,
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

int fleet_push(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "nodes", required_argument, NULL, 'n' },
		{ "default-rules", no_argument, NULL, 'D' },
		{ "dry-run", no_argument, NULL, 'y' },
		FLEET_CONN_OPTIONS,
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
			if (fleet_conn_option(opt, optarg, &o))
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
	if (!(c = fleet_conn_open(&o)))
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

int fleet_history(int argc, char **argv)
{
	static const struct option opts[] = {
		FLEET_CONN_OPTIONS,
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
			      "key, kind, nodes, digest, who pushed it and when, its files' names and sizes.\n" FLEET_CONN_HELP,
			      stdout);
			return VG_EXIT_OK;
		}
		if (!fleet_conn_option(opt, optarg, &o))
			return VG_EXIT_USAGE;
	}
	if (optind != argc || !o.servers) {
		fputs("usage: vigil fleet history --nats URL [options]\n", stderr);
		return VG_EXIT_USAGE;
	}
	if (!(c = fleet_conn_open(&o)))
		return VG_EXIT_ERROR;
	n = policy_history(c, stdout, err, sizeof(err));
	fleet_close(c);
	if (n < 0) {
		fprintf(stderr, "vigil: %s\n", err);
		return VG_EXIT_ERROR;
	}
	return VG_EXIT_OK;
}
