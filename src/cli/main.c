/* SPDX-License-Identifier: Apache-2.0 */
/* vigil: command-line front end. It parses arguments and prints; the work is in the library. */
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"

static void usage(FILE *f)
{
	fputs("usage: vigil <command> [options]\n"
	      "\n"
	      "commands:\n"
	      "  run       the runtime agent: detect with rules, print and store alerts\n"
	      "  alerts    query the alerts in the store\n"
	      "  actions   list the response actions taken (kill, freeze, isolate, capture)\n"
	      "  flows     network flows per workload and peer, live or from the store; the service map\n"
	      "  profile   behaviour profiles: list|show|diff|export|import|mode|reset (docs/profiles.md)\n"
	      "  respond   'respond thaw|release CONTAINER': undo a freeze or an isolation\n"
	      "  trace     print live, container-aware events as JSON lines\n"
	      "  capture   write live events to a capture file\n"
	      "  replay    print the events of a capture file, enriched as they were live\n"
	      "  events    list the event types the sensor can capture\n"
	      "  rules     check and list rule files (Falco's format)\n"
	      "  scan      'scan image|rootfs PATH': packages, vulnerabilities, secrets of an image;\n"
	      "            'scan config PATH...': check Kubernetes manifests and Dockerfiles\n"
	      "  db        import OSV vulnerability records, show the database's status\n"
	      "  vercmp    compare two versions as an ecosystem orders them\n"
	      "  fleet     'fleet init|push|history|nkey': the streams and central policy of a\n"
	      "            fleet on NATS JetStream (docs/fleet.md)\n"
	      "  admission 'admission serve': the Kubernetes validating admission webhook;\n"
	      "            'admission review FILE': judge one AdmissionReview offline\n"
	      "  hub       the fleet's hub: gather alerts from NATS JetStream, serve them over HTTPS\n"
	      "  version   print the version\n"
	      "\n"
	      "'vigil <command> --help' describes a command's options.\n"
	      "\n"
	      "exit status: 0 success, 1 runtime error (sensor cannot start, bad capture file),\n"
	      "2 usage error, 3 not found ('scan lookup': no stored result for that digest);\n"
	      "'scan config --exit-code N' exits N when findings remain\n",
	      f);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return VG_EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		usage(stdout);
		return VG_EXIT_OK;
	}
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("vigil %s\n", VIGIL_VERSION);
		return VG_EXIT_OK;
	}
	if (!strcmp(cmd, "run"))
		return cmd_run(argc - 1, argv + 1, VG_MODE_RUN);
	/* `scan config` is the configuration checker; other `scan` targets live in cmd_scan.c */
	if (!strcmp(cmd, "scan") && argc > 2 && !strcmp(argv[2], "config"))
		return cmd_scan_config(argc - 2, argv + 2);
	if (!strcmp(cmd, "admission"))
		return cmd_admission(argc - 1, argv + 1);
	if (!strcmp(cmd, "trace"))
		return cmd_run(argc - 1, argv + 1, VG_MODE_TRACE);
	if (!strcmp(cmd, "capture"))
		return cmd_run(argc - 1, argv + 1, VG_MODE_CAPTURE);
	if (!strcmp(cmd, "replay"))
		return cmd_run(argc - 1, argv + 1, VG_MODE_REPLAY);
	if (!strcmp(cmd, "alerts"))
		return cmd_alerts(argc - 1, argv + 1);
	if (!strcmp(cmd, "flows"))
		return cmd_flows(argc - 1, argv + 1);
	if (!strcmp(cmd, "profile"))
		return cmd_profile(argc - 1, argv + 1);
	if (!strcmp(cmd, "actions"))
		return cmd_actions(argc - 1, argv + 1);
	if (!strcmp(cmd, "respond"))
		return cmd_respond(argc - 1, argv + 1);
	if (!strcmp(cmd, "rules"))
		return cmd_rules(argc - 1, argv + 1);
	if (!strcmp(cmd, "events"))
		return cmd_events(argc - 1, argv + 1);
	if (!strcmp(cmd, "scan"))
		return cmd_scan(argc - 1, argv + 1);
	if (!strcmp(cmd, "db"))
		return cmd_db(argc - 1, argv + 1);
	if (!strcmp(cmd, "vercmp"))
		return cmd_vercmp(argc - 1, argv + 1);
	if (!strcmp(cmd, "fleet"))
		return cmd_fleet(argc - 1, argv + 1);
	if (!strcmp(cmd, "hub"))
		return cmd_hub(argc - 1, argv + 1);
	fprintf(stderr, "vigil: unknown command '%s'\n", cmd);
	usage(stderr);
	return VG_EXIT_USAGE;
}
