/* SPDX-License-Identifier: Apache-2.0 */
/* vigil scan config: check Kubernetes manifests and Dockerfiles (src/policy/config_scan.c). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "policy/config_scan.h"

static void usage(FILE *f)
{
	fputs("usage: vigil scan config [options] PATH...\n"
	      "\n"
	      "Checks Kubernetes manifests (*.yaml, *.yml, *.json; Pod, Deployment, ReplicaSet,\n"
	      "StatefulSet, DaemonSet, Job, CronJob, ReplicationController, PodTemplate, List) and\n"
	      "Dockerfiles (Dockerfile*, Containerfile*, *.dockerfile). Directories are searched\n"
	      "recursively (hidden entries and symbolic links met on the way are skipped).\n"
	      "\n"
	      "options:\n"
	      "  --pss LEVEL          Pod Security Standards level: baseline (default), restricted,\n"
	      "                       privileged (no PSS checks)\n"
	      "  --pss-version V      policy version: latest (default) or v1.N\n"
	      "  --checks WHICH       all (default) or pss (only the Pod Security Standards)\n"
	      "  -f, --format FMT     table (default), json or sarif\n"
	      "  --exit-code N        exit with N when there is at least one finding\n"
	      "  -h, --help           this help\n"
	      "\n"
	      "exit status: N (--exit-code) when something was found; otherwise 1 when a file\n"
	      "could not be read or parsed (each is reported as file:line:column and the scan\n"
	      "goes on), 0 when all is clean; 2 usage error\n",
	      f);
}

int cmd_scan_config(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pss", required_argument, NULL, 'p' },
		{ "pss-version", required_argument, NULL, 'V' },
		{ "checks", required_argument, NULL, 'c' },
		{ "format", required_argument, NULL, 'f' },
		{ "exit-code", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct config_opts o = { PSS_BASELINE, PSS_VERSION_LATEST, 0 };
	const char *format = "table";
	int exit_code = 0, c;
	char *end;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (pss_level_parse(optarg) < 0) {
				fprintf(stderr, "vigil: unknown --pss level '%s' (baseline, restricted, privileged)\n",
					optarg);
				return VG_EXIT_USAGE;
			}
			o.level = (enum pss_level)pss_level_parse(optarg);
			break;
		case 'V':
			o.version = pss_version_parse(optarg);
			if (o.version < 0) {
				fprintf(stderr, "vigil: bad --pss-version '%s' (latest or v1.N)\n", optarg);
				return VG_EXIT_USAGE;
			}
			break;
		case 'c':
			if (!strcmp(optarg, "pss"))
				o.pss_only = 1;
			else if (strcmp(optarg, "all")) {
				fprintf(stderr, "vigil: unknown --checks '%s' (all, pss)\n", optarg);
				return VG_EXIT_USAGE;
			}
			break;
		case 'f':
			if (strcmp(optarg, "table") && strcmp(optarg, "json") && strcmp(optarg, "sarif")) {
				fprintf(stderr, "vigil: unknown --format '%s' (table, json, sarif)\n", optarg);
				return VG_EXIT_USAGE;
			}
			format = optarg;
			break;
		case 'e':
			exit_code = (int)strtol(optarg, &end, 10);
			if (*end || !*optarg || exit_code < 0 || exit_code > 255) {
				fprintf(stderr, "vigil: bad --exit-code '%s' (0-255)\n", optarg);
				return VG_EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			return VG_EXIT_OK;
		default:
			usage(stderr);
			return VG_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "vigil: scan config needs at least one PATH\n");
		usage(stderr);
		return VG_EXIT_USAGE;
	}

	struct config_report r = { 0 };
	for (int i = optind; i < argc; i++)
		config_scan_path(argv[i], &o, &r);
	for (size_t i = 0; i < r.nerrs; i++) {
		if (r.errs[i].line)
			fprintf(stderr, "vigil: cannot parse %s:%u:%u: %s\n", r.errs[i].file, r.errs[i].line,
				r.errs[i].col, r.errs[i].msg);
		else
			fprintf(stderr, "vigil: cannot scan %s: %s\n", r.errs[i].file, r.errs[i].msg);
	}
	if (!strcmp(format, "json"))
		config_report_json(stdout, &r, &o);
	else if (!strcmp(format, "sarif"))
		config_report_sarif(stdout, &r, VIGIL_VERSION);
	else
		config_report_table(stdout, &r);
	int rc = VG_EXIT_OK;
	if (r.f.n && exit_code)
		rc = exit_code;
	else if (r.nerrs)
		rc = VG_EXIT_ERROR;
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "vigil: cannot write the report: output error\n");
		rc = VG_EXIT_ERROR;
	}
	config_report_free(&r);
	return rc;
}
