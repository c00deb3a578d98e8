/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil run | trace | capture | replay: the options of the four configs of the
 * agent (src/agent/), parsed into a struct agent_config; the agent does the rest.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "agent/agent.h"
#include "cli/cli.h"
#include "cli/run_console.h"
#include "common/log.h"
#include "fleet/nats_conn.h"
#include "fleet/streams.h"
#include "output/alert_store.h"
#include "output/forwarders.h"
#include "respond/bundle.h"
#include "sensor/event_table.h"
#include "state/flow_stats.h"

/* The running agent, for the signal handlers; a signal that comes while it is
 * being created is passed on as soon as it exists. */
static struct agent *volatile running;
static volatile sig_atomic_t stop_early, reload_early;

static void on_signal(int sig)
{
	struct agent *a = running;
	if (sig == SIGHUP) {
		if (a)
			agent_reload(a);
		else
			reload_early = 1;
	} else if (a) {
		agent_stop(a);
	} else {
		stop_early = 1;
	}
}

static const char rules_help[] =
	"  --rules FILE         a rules file (Falco's format); repeat for several, loaded in order\n"
	"  --match-all          alert for every matching rule (default: the first, as Falco)\n"
	"  --rate-limit R[:B]   per rule at most R alerts/s after a burst of B (default 100:1000;\n"
	"                       0 disables); suppressed counts are reported\n"
	"  --min-priority P     load only rules at least as severe as P (default debug)\n"
	"  --store PATH         keep alerts in this SQLite file\n";

static const char fleet_help[] =
	"  --nats URL[,URL...]  also publish alerts and actions (from the store: nothing is lost)\n"
	"                       and heartbeats to NATS JetStream (docs/fleet.md)\n"
	"  --node NAME          this node's name in the fleet (default: the host name)\n"
	"  --cluster NAME       its cluster (default: default)\n"
	"  --nats-creds FILE    a NATS .creds file; --nats-nkey FILE: an NKey user seed instead\n"
	"  --nats-ca FILE       CA to verify the servers (TLS); --nats-cert FILE --nats-key FILE:\n"
	"                       a client certificate\n"
	"  --outbox-budget SIZE the store's disk budget with --nats (default 1G): the oldest\n"
	"                       records go first, undelivered ones are reported as lost\n"
	"  --policy-dir DIR     run: where the fleet's central policy is kept on this node\n"
	"                       (default: 'policy' beside the store)\n";

#define ATTACH_HELP                                                                                  \
	"  --attach MODE        how the kernel program is attached: auto (default: per syscall\n"  \
	"                       where 32-bit syscalls cannot run, else sys-exit), sys-exit (one\n"  \
	"                       program on every syscall, sees 32-bit ones), syscalls (only the\n"  \
	"                       wanted syscalls' tracepoints; 32-bit syscalls are not seen);\n" \
	"                       VIGIL_ATTACH in the environment sets the default\n"

#define FLOW_STATS_HELP                                                                              \
	"  --cluster-cidr LIST  addresses inside the cluster, comma-separated CIDRs; flows to\n"    \
	"                       others are external (default: RFC 1918, loopback, link-local,\n"  \
	"                       ULA; docs/flows.md)\n"                                               \
	"  --flow-window S      window of flow.exfil.bytes and flow.dns.unique (default 300)\n"     \
	"  --flow-learn S       a new workload's learning period: no flow.new_dest (default 600)\n" \
	"  --beacon-min N       connections that make a regular series a beacon (default 8)\n"     \
	"  --beacon-jitter PCT  the most jitter (coefficient of variation) of a beacon (default 10)\n"

static void usage(FILE *f, enum vg_mode mode)
{
	if (mode == VG_MODE_REPLAY) {
		fprintf(f, "usage: vigil replay FILE [--json] [--container ID|NAME|host] [--rules FILE]...\n"
		      "Print the events of a capture file, enriched exactly as the live agent saw them;\n"
		      "with --rules (or --default-rules), the alerts the rules raise on them instead.\n"
		      "  --json               JSON lines (default: text)\n"
		      "  --container X        only events of the container whose id starts with X or whose\n"
		      "                       name is X; 'host' for processes outside containers\n"
		      "  --default-rules      detect with Vigil's default rules (before any --rules files)\n"
		      FLOW_STATS_HELP
		      "  --profiles           also learn behaviour profiles from the capture, in memory\n"
		      "                       (docs/profiles.md; the cost of profiles: bench/profile.sh)\n"
		      "  --kernel-filter-sim  leave out the events run's in-kernel filter would drop\n"
		      "                       (docs/performance.md)\n%s"
		      "With --nats and --store, the alerts are published as the node --node names (the\n"
		      "command ends when the stream has acknowledged them all):\n%s", rules_help, fleet_help);
		return;
	}
	if (mode == VG_MODE_RUN) {
		fprintf(f, "usage: vigil run [--rules FILE]... [--store PATH | --no-store] [--json] [options]\n"
		      "The runtime agent: capture live events, detect with the rules (Vigil's defaults\n"
		      "when no --rules is given), print alerts and keep them in the store.\n"
		      "Alerts go to stdout as text on a terminal, JSON lines otherwise or with --json.\n"
		      "SIGHUP reloads the rules (a bad new set keeps the old one); SIGINT/SIGTERM stop.\n"
		      "%s"
		      "                       (default " ALERT_STORE_DEFAULT_PATH ")\n"
		      "  --no-store           do not keep alerts\n"
		      "  --response MODE      carry out rules' actions (kill, freeze, isolate, capture):\n"
		      "                       enforce (default),\n"
		      "                       audit (record what would be done, do nothing) or off\n"
		      "  --allow-host-actions let actions target processes outside containers\n"
		      "  --response-policy FILE  bind actions to rules, tags or priorities per container\n"
		      "                       or namespace, each binding enforce or audit (docs/response.md)\n"
		      "  --deny-drift[=fail-open|fail-closed]\n"
		      "                       refuse (EPERM) to execute files written in a container after\n"
		      "                       it started (fanotify); undecidable events: allow (default) or deny\n"
		      "  --file-policy FILE   per-container paths that must not be opened and programs that\n"
		      "                       must not run: refused (EPERM) by fanotify (docs/response.md)\n"
		      "  --evidence-dir DIR   where the capture action writes forensic bundles\n"
		      "                       (default " BUNDLE_DEFAULT_DIR ")\n"
		      "  --egress-policy FILE per-container egress allow/deny lists, enforced in the kernel:\n"
		      "                       a denied connect() fails with EPERM (docs/response.md)\n"
		      "  --json               JSON lines even on a terminal\n"
		      "  --duration S         stop after S seconds\n"
		      "  --ring-mb N          kernel ring buffer size in MiB, a power of two (default 16)\n"
		      ATTACH_HELP
		      "  -w, --write FILE     also write a capture file (replay it with --rules later)\n"
		      "  --no-flows           do not capture network flows (flow_tcp, flow_udp, flow_dns;\n"
		      "                       docs/flows.md)\n"
		      "  --flow-interval S    report live flows every S seconds (default 30)\n"
		      FLOW_STATS_HELP
		      "  --fair-rate KIB      under ring pressure a container may write KIB KiB/s (default\n"
		      "                       ring/16; 0: no fairness; docs/cli.md)\n"
		      "  --fair-burst KIB     ... in bursts of KIB KiB (default one second's worth)\n"
		      "  --fair-pressure PCT  the ring's fill from which shares apply (default 50)\n"
		      "  --no-profiles        do not learn behaviour profiles (docs/profiles.md; on by default)\n"
		      "  --profile-learn S    a workload's profile learns for S seconds, then monitors (default\n"
		      "                       86400; 0: no time limit)\n"
		      "  --profile-quiet S    ... or once S seconds brought nothing new (default 3600; 0: off)\n"
		      "  --profile-inherit    a new image digest starts from its workload's last profile\n"
		      "  --metrics ADDR:PORT  serve Prometheus metrics at http://ADDR:PORT/metrics (docs/metrics.md)\n"
		      "  --no-kernel-filter   send every wanted event up, also those no rule can use\n"
		      "                       (docs/performance.md)\n"
		      "  --output NAME:SPEC   also forward alerts from the store: syslog:udp://HOST:514,\n"
		      "                       webhook:https://..., file:/PATH; repeatable (docs/outputs.md)\n"
		      "  --console ADDR:PORT  serve the web console and the hub's API (HTTPS) for this agent\n"
		      "                       alone, with --console-tls-cert F --console-tls-key F\n"
		      "                       --console-token-file F [--console-store PATH] (docs/console.md)\n"
		      "%s"
		      "Needs root and a kernel with BTF.\n", rules_help, fleet_help);
		return;
	}
	fprintf(f,
		"usage: vigil %s [options]\n"
		"%s"
		"  --syscalls LIST      comma-separated event types to capture (see 'vigil events');\n"
		"                       'all' adds the opt-in ones (sendto, recvfrom, ioctl); default:\n"
		"                       every default event type\n"
		"  --duration S         stop after S seconds (default: until SIGINT/SIGTERM)\n"
		"  --ring-mb N          kernel ring buffer size in MiB, a power of two (default 16)\n"
		ATTACH_HELP
		"  --flows              also capture network flows (flow_tcp, flow_udp, flow_dns;\n"
		"                       docs/flows.md)\n"
		"  --flow-interval S    report live flows every S seconds (default 30)\n"
		"  --fair-rate KIB      under ring pressure a container may write KIB KiB/s (default\n"
		"                       ring/16; 0: no fairness; docs/cli.md)\n"
		"  --fair-burst KIB     ... in bursts of KIB KiB (default one second's worth)\n"
		"  --fair-pressure PCT  the ring's fill from which shares apply (default 50)\n"
		"%s",
		mode == VG_MODE_CAPTURE ? "capture -w FILE" : "trace",
		mode == VG_MODE_CAPTURE
			? "Write live events, with the process and container state they need, to a capture file.\n"
			  "  -w, --write FILE     the capture file to create\n"
			: "Print live, container-aware events.\n"
			  "  --json               JSON lines (the default is one line of text per event)\n"
			  "  --container X        only events of the container whose id starts with X or\n"
			  "                       whose name is X; 'host' for processes outside containers\n"
			  "  -w, --write FILE     also write a capture file\n",
		"Needs root and a kernel with BTF. Loss counters are printed on exit.\n");
}

/* The index of s in the NULL-terminated words, or -1. */
static int word_index(const char *s, const char *const *words)
{
	for (int i = 0; words[i]; i++)
		if (!strcmp(words[i], s))
			return i;
	return -1;
}

/* --attach (or VIGIL_ATTACH, its default): 0, or -1 for an unknown mode. */
static int parse_attach(const char *s, enum vg_attach *out)
{
	/* in the order of enum vg_attach */
	static const char *const modes[] = { "auto", "sys-exit", "syscalls", NULL };
	int i = word_index(s, modes);
	if (i < 0)
		return -1;
	*out = (enum vg_attach)i;
	return 0;
}

/* Parse "openat,execve" into want[]; returns 0 or -1 after naming the bad entry. */
static int parse_syscalls(const char *list, uint8_t *want)
{
	char *copy = xstrdup(list), *save = NULL, *tok;
	int ret = 0;

	memset(want, 0, VG_EVT_MAX);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "all")) {
			for (int t = 1; t < VG_EVT_MAX; t++)
				want[t] = !(event_table_get(t)->flags & VG_EF_USERSPACE);
			continue;
		}
		int t = event_table_find(tok);
		if (t < 0 || event_table_get(t)->category == VG_CAT_INTERNAL) {
			fprintf(stderr, "vigil: unknown event type '%s' in --syscalls (see 'vigil events')\n", tok);
			ret = -1;
			break;
		}
		want[t] = 1;
	}
	free(copy);
	return ret;
}

static int parse_rate(const char *s, struct engine_opts *eo)
{
	char *end;
	eo->rate = strtod(s, &end);
	eo->burst = eo->rate * 10;
	if (*end == ':')
		eo->burst = strtod(end + 1, &end);
	if (*end || eo->rate < 0 || eo->burst < 0 || (eo->rate > 0 && eo->burst < 1)) {
		fprintf(stderr, "vigil: --rate-limit takes RATE or RATE:BURST (alerts per second), not '%s'\n", s);
		return -1;
	}
	return 0;
}

static const enum agent_mode agent_modes[] = {
	[VG_MODE_TRACE] = AGENT_TRACE,
	[VG_MODE_CAPTURE] = AGENT_CAPTURE,
	[VG_MODE_REPLAY] = AGENT_REPLAY,
	[VG_MODE_RUN] = AGENT_RUN,
};

/* Run the agent with signals wired to it: SIGHUP reloads, SIGINT and SIGTERM stop. */
static int run_agent(const struct agent_config *cfg)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct agent *a = agent_create(cfg);
	if (!a)
		return VG_EXIT_ERROR;
	running = a;
	if (stop_early)
		agent_stop(a);
	if (reload_early)
		agent_reload(a);
	if (run_console_start(a)) {
		running = NULL;
		agent_destroy(a);
		return VG_EXIT_ERROR;
	}
	int ret = agent_run(a) ? VG_EXIT_ERROR : VG_EXIT_OK;
	running = NULL;
	run_console_stop(); /* before the agent goes: its commands come through the console */
	if (agent_destroy(a))
		ret = VG_EXIT_ERROR;
	return ret;
}

/* Long options without a letter. */
enum { OPT_METRICS = 0x1001, OPT_OUTPUT, OPT_NO_KFILTER, OPT_KFILTER_SIM };
enum { OPT_PROFILES = 0x1101, OPT_NO_PROFILES, OPT_PROFILE_LEARN, OPT_PROFILE_QUIET, OPT_PROFILE_INHERIT };

/* --profile-learn/--profile-quiet: seconds (0: off), at most a year. */
static int profile_seconds(const char *opt, const char *arg, double *out)
{
	char *end;
	double v = strtod(arg, &end);
	if (end == arg || *end || !(v >= 0) || v > 366.0 * 86400) {
		fprintf(stderr, "vigil: %s takes seconds from 0 (off) to 31622400, not '%s'\n", opt, arg);
		return -1;
	}
	*out = v;
	return 0;
}

enum { OPT_FAIR_RATE = 0x1201, OPT_FAIR_BURST, OPT_FAIR_PRESSURE };
enum { OPT_CONSOLE = 0x1301, OPT_CONSOLE_CERT, OPT_CONSOLE_KEY, OPT_CONSOLE_TOKENS, OPT_CONSOLE_STORE };

/* An unsigned option from lo to hi, or -1 after saying so. */
static int parse_uint_opt(const char *opt, const char *arg, unsigned long lo, unsigned long hi, unsigned int *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || v < lo || v > hi) {
		fprintf(stderr, "vigil: %s takes a number from %lu to %lu, not '%s'\n", opt, lo, hi, arg);
		return -1;
	}
	*out = (unsigned int)v;
	return 0;
}

/* --output NAME:SPEC: the forwarder exists and takes the spec (opened and closed at once). */
static int check_output(const char *arg)
{
	const struct vg_forwarder_ops *ops;
	const char *spec;
	char err[1024];
	void *ctx;

	if (forwarder_parse_arg(arg, &ops, &spec, err, sizeof(err)) || ops->open(&ctx, spec, err, sizeof(err))) {
		fprintf(stderr, "vigil: %s\n", err);
		return -1;
	}
	ops->close(ctx);
	return 0;
}

int cmd_run(int argc, char **argv, enum vg_mode mode)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },	   { "container", required_argument, NULL, 'c' },
		{ "syscalls", required_argument, NULL, 's' }, { "duration", required_argument, NULL, 'd' },
		{ "ring-mb", required_argument, NULL, 'r' },  { "write", required_argument, NULL, 'w' },
		{ "rules", required_argument, NULL, 'R' },    { "default-rules", no_argument, NULL, 'D' },
		{ "store", required_argument, NULL, 'S' },    { "no-store", no_argument, NULL, 'N' },
		{ "match-all", no_argument, NULL, 'M' },      { "rate-limit", required_argument, NULL, 'L' },
		{ "min-priority", required_argument, NULL, 'P' },
		{ "response", required_argument, NULL, 'A' },  { "allow-host-actions", no_argument, NULL, 'H' },
		{ "egress-policy", required_argument, NULL, 'E' }, { "deny-drift", optional_argument, NULL, 'X' },
		{ "evidence-dir", required_argument, NULL, 'V' }, { "response-policy", required_argument, NULL, 'Q' },
		{ "file-policy", required_argument, NULL, 'F' }, { "attach", required_argument, NULL, 'T' },
		{ "nats", required_argument, NULL, 0x100 }, { "nats-creds", required_argument, NULL, 0x101 },
		{ "nats-nkey", required_argument, NULL, 0x102 }, { "nats-ca", required_argument, NULL, 0x103 },
		{ "nats-cert", required_argument, NULL, 0x104 }, { "nats-key", required_argument, NULL, 0x105 },
		{ "node", required_argument, NULL, 0x106 }, { "cluster", required_argument, NULL, 0x107 },
		{ "outbox-budget", required_argument, NULL, 0x108 },
		{ "policy-dir", required_argument, NULL, 0x109 },
		{ "metrics", required_argument, NULL, OPT_METRICS }, { "output", required_argument, NULL, OPT_OUTPUT },
		{ "flows", no_argument, NULL, 'f' },	   { "no-flows", no_argument, NULL, 'n' },
		{ "flow-interval", required_argument, NULL, 'I' },
		{ "cluster-cidr", required_argument, NULL, 0x1f0 }, { "flow-window", required_argument, NULL, 0x1f1 },
		{ "flow-learn", required_argument, NULL, 0x1f2 }, { "beacon-min", required_argument, NULL, 0x1f3 },
		{ "beacon-jitter", required_argument, NULL, 0x1f4 },
		{ "profiles", no_argument, NULL, OPT_PROFILES }, { "no-profiles", no_argument, NULL, OPT_NO_PROFILES },
		{ "profile-learn", required_argument, NULL, OPT_PROFILE_LEARN },
		{ "profile-quiet", required_argument, NULL, OPT_PROFILE_QUIET },
		{ "profile-inherit", no_argument, NULL, OPT_PROFILE_INHERIT },
		{ "fair-rate", required_argument, NULL, OPT_FAIR_RATE },
		{ "fair-burst", required_argument, NULL, OPT_FAIR_BURST },
		{ "fair-pressure", required_argument, NULL, OPT_FAIR_PRESSURE },
		{ "no-kernel-filter", no_argument, NULL, OPT_NO_KFILTER },
		{ "kernel-filter-sim", no_argument, NULL, OPT_KFILTER_SIM },
		{ "console", required_argument, NULL, OPT_CONSOLE },
		{ "console-tls-cert", required_argument, NULL, OPT_CONSOLE_CERT },
		{ "console-tls-key", required_argument, NULL, OPT_CONSOLE_KEY },
		{ "console-token-file", required_argument, NULL, OPT_CONSOLE_TOKENS },
		{ "console-store", required_argument, NULL, OPT_CONSOLE_STORE },
		{ "help", no_argument, NULL, 'h' },	   { NULL, 0, NULL, 0 },
	};
	struct agent_config c = {
		.mode = agent_modes[mode],
		.attach = VG_ATTACH_AUTO,
		.detect = mode == VG_MODE_RUN,
		.store_path = mode == VG_MODE_RUN ? ALERT_STORE_DEFAULT_PATH : NULL,
		.eo = { .min_priority = PRIO_DEBUG, .rate = 100, .burst = 1000 },
		.response = RESPOND_ENFORCE,
		.evidence_dir = BUNDLE_DEFAULT_DIR,
		.fleet = { .drain_ms = mode == VG_MODE_REPLAY ? -1 : 5000 },
		.flows = mode == VG_MODE_RUN, /* docs/flows.md: on in run, asked for in trace and capture */
		/* docs/profiles.md: learning on in run, for a day or until an hour brings nothing new */
		.profiles = { .on = mode == VG_MODE_RUN, .learn_s = 86400, .quiet_s = 3600 },
	};
	bool profile_opts = false;
	struct run_console_opts console = { 0 };
	bool fleet_opts = false;
	const char *attach_env = getenv("VIGIL_ATTACH");
	bool syscalls_given = false, json_given = false;
	int opt, ret;

	for (int t = 1; t < VG_EVT_MAX; t++)
		c.want[t] = (event_table_get(t)->flags & VG_EF_DEFAULT) != 0;
	if (mode != VG_MODE_REPLAY && attach_env && *attach_env && parse_attach(attach_env, &c.attach)) {
		fprintf(stderr, "vigil: VIGIL_ATTACH takes auto, sys-exit or syscalls, not '%s'\n", attach_env);
		return VG_EXIT_USAGE;
	}
	while ((opt = getopt_long(argc, argv, "w:h", opts, NULL)) != -1) {
		char *end;
		switch (opt) {
		case 'j':
			c.json = json_given = true;
			break;
		case 'c':
			c.container = optarg;
			break;
		case 's':
			if (parse_syscalls(optarg, c.want))
				goto usage_error;
			syscalls_given = true;
			break;
		case 'd':
			c.duration = strtod(optarg, &end);
			if (*end || c.duration <= 0) {
				fprintf(stderr, "vigil: --duration takes a positive number of seconds, not '%s'\n", optarg);
				goto usage_error;
			}
			break;
		case 'r':
			c.ring_mb = strtoul(optarg, &end, 10);
			if (*end || c.ring_mb == 0 || c.ring_mb > 4096 || (c.ring_mb & (c.ring_mb - 1))) {
				fprintf(stderr, "vigil: --ring-mb takes a power of two from 1 to 4096, not '%s'\n", optarg);
				goto usage_error;
			}
			break;
		case 'T':
			if (parse_attach(optarg, &c.attach)) {
				fprintf(stderr, "vigil: --attach takes auto, sys-exit or syscalls, not '%s'\n", optarg);
				goto usage_error;
			}
			break;
		case 'w':
			c.write_path = optarg;
			break;
		case 'R':
			c.rule_paths = xrealloc(c.rule_paths, (c.nrule_paths + 1) * sizeof(*c.rule_paths));
			c.rule_paths[c.nrule_paths++] = optarg;
			c.detect = true;
			break;
		case 'D':
			c.detect = c.with_defaults = true;
			break;
		case 'S':
			c.store_path = optarg;
			break;
		case 'N':
			c.store_path = NULL;
			break;
		case 'M':
			c.eo.match_all = true;
			break;
		case 'L':
			if (parse_rate(optarg, &c.eo))
				goto usage_error;
			break;
		case 'P': {
			int p = priority_parse(optarg);
			if (p < 0) {
				fprintf(stderr, "vigil: --min-priority takes emergency, alert, critical, error, warning, "
						"notice, informational or debug, not '%s'\n", optarg);
				goto usage_error;
			}
			c.eo.min_priority = p;
			break;
		}
		case 'A': {
			/* in the order of enum respond_mode */
			static const char *const modes[] = { "off", "audit", "enforce", NULL };
			int i = word_index(optarg, modes);
			if (i < 0) {
				fprintf(stderr, "vigil: --response takes enforce, audit or off, not '%s'\n", optarg);
				goto usage_error;
			}
			c.response = (enum respond_mode)i;
			break;
		}
		case 'H':
			c.allow_host = true;
			break;
		case 'E':
			c.egress_path = optarg;
			break;
		case 'V':
			c.evidence_dir = optarg;
			break;
		case 'Q':
			c.rpolicy_path = optarg;
			break;
		case 'F':
			c.files_path = optarg;
			break;
		case 'X': {
			/* after AGENT_DRIFT_OFF, in the order of enum agent_deny_drift */
			static const char *const modes[] = { "fail-open", "fail-closed", NULL };
			int i = optarg ? word_index(optarg, modes) : 0;
			if (i < 0) {
				fprintf(stderr, "vigil: --deny-drift takes fail-open or fail-closed, not '%s'\n", optarg);
				goto usage_error;
			}
			c.deny_drift = (enum agent_deny_drift)(AGENT_DRIFT_FAIL_OPEN + i);
			break;
		}
		case 0x100:
			c.fleet.servers = optarg;
			break;
		case 0x101:
			c.fleet.creds = optarg;
			fleet_opts = true;
			break;
		case 0x102:
			c.fleet.nkey = optarg;
			fleet_opts = true;
			break;
		case 0x103:
			c.fleet.ca = optarg;
			fleet_opts = true;
			break;
		case 0x104:
			c.fleet.cert = optarg;
			fleet_opts = true;
			break;
		case 0x105:
			c.fleet.key = optarg;
			fleet_opts = true;
			break;
		case 0x106:
		case 0x107:
			if (!fleet_name_valid(optarg)) {
				fprintf(stderr, "vigil: --%s takes 1 to 64 of A-Z a-z 0-9 - _, not '%s'\n",
					opt == 0x106 ? "node" : "cluster", optarg);
				goto usage_error;
			}
			*(opt == 0x106 ? &c.fleet.node : &c.fleet.cluster) = optarg;
			fleet_opts = true;
			break;
		case 0x108: {
			int64_t b = fleet_parse_size(optarg);
			if (b < (1 << 20)) {
				fprintf(stderr, "vigil: --outbox-budget takes a size of at least 1M (e.g. 512M, 2G), not '%s'\n",
					optarg);
				goto usage_error;
			}
			c.fleet.budget_bytes = (uint64_t)b;
			fleet_opts = true;
			break;
		}
		case 0x109:
			c.fleet.policy_dir = optarg;
			fleet_opts = true;
			break;
		case OPT_METRICS:
			c.metrics_addr = optarg;
			break;
		case OPT_NO_KFILTER:
			c.no_kernel_filter = true;
			break;
		case OPT_KFILTER_SIM:
			c.kernel_filter_sim = true;
			break;
		case OPT_CONSOLE:
			console.listen = optarg;
			break;
		case OPT_CONSOLE_CERT:
			console.tls_cert = optarg;
			break;
		case OPT_CONSOLE_KEY:
			console.tls_key = optarg;
			break;
		case OPT_CONSOLE_TOKENS:
			console.token_file = optarg;
			break;
		case OPT_CONSOLE_STORE:
			console.store = optarg;
			break;
		case OPT_OUTPUT:
			if (check_output(optarg))
				goto usage_error;
			c.outputs = xrealloc(c.outputs, (c.noutputs + 1) * sizeof(*c.outputs));
			c.outputs[c.noutputs++] = optarg;
			break;
		case 'f':
			c.flows = true;
			break;
		case 'n':
			c.flows = false;
			c.no_flows = true;
			break;
		case 'I': {
			unsigned long s = strtoul(optarg, &end, 10);
			if (*end || s == 0 || s > 86400) {
				fprintf(stderr, "vigil: --flow-interval takes seconds from 1 to 86400, not '%s'\n", optarg);
				goto usage_error;
			}
			c.flow_interval_s = (unsigned int)s;
			break;
		}
		case 0x1f0: {
			char cerr[160];
			struct flow_cidr cidrs[FLOW_STATS_MAX_CIDRS];
			if (flow_cidrs_parse(optarg, cidrs, FLOW_STATS_MAX_CIDRS, cerr, sizeof(cerr)) < 0) {
				fprintf(stderr, "vigil: --cluster-cidr: %s\n", cerr);
				goto usage_error;
			}
			c.cluster_cidrs = optarg;
			break;
		}
		case 0x1f1:
		case 0x1f2:
		case 0x1f3:
		case 0x1f4: {
			static const char *const names[] = { "--flow-window", "--flow-learn", "--beacon-min",
							     "--beacon-jitter" };
			static const unsigned long lo[] = { 1, 0, 3, 1 }, hi[] = { 86400, 2592000, 16, 100 };
			int k = opt - 0x1f1;
			unsigned long v = strtoul(optarg, &end, 10);
			if (!*optarg || *end || v < lo[k] || v > hi[k]) {
				fprintf(stderr, "vigil: %s takes a number from %lu to %lu, not '%s'\n", names[k], lo[k],
					hi[k], optarg);
				goto usage_error;
			}
			if (k == 0)
				c.flow_window_s = (unsigned int)v;
			else if (k == 1) {
				c.flow_learn_s = (unsigned int)v;
				c.flow_learn_set = true;
			} else if (k == 2)
				c.beacon_min = (unsigned int)v;
			else
				c.beacon_jitter_pct = (unsigned int)v;
			break;
		}
		case OPT_PROFILES:
			c.profiles.on = true;
			break;
		case OPT_NO_PROFILES:
			c.profiles.on = false;
			break;
		case OPT_PROFILE_LEARN:
		case OPT_PROFILE_QUIET:
			if (profile_seconds(opt == OPT_PROFILE_LEARN ? "--profile-learn" : "--profile-quiet", optarg,
					    opt == OPT_PROFILE_LEARN ? &c.profiles.learn_s : &c.profiles.quiet_s))
				goto usage_error;
			profile_opts = true;
			break;
		case OPT_PROFILE_INHERIT:
			c.profiles.inherit = true;
			profile_opts = true;
			break;
		case OPT_FAIR_RATE:
			if (parse_uint_opt("--fair-rate", optarg, 0, 4194304, &c.fair_rate))
				goto usage_error;
			if (c.fair_rate == 0)
				c.fair_rate = VG_FAIR_OFF;
			break;
		case OPT_FAIR_BURST:
			if (parse_uint_opt("--fair-burst", optarg, 1, 4194304, &c.fair_burst))
				goto usage_error;
			break;
		case OPT_FAIR_PRESSURE:
			if (parse_uint_opt("--fair-pressure", optarg, 1, 100, &c.fair_pressure_pct))
				goto usage_error;
			break;
		case 'h':
			usage(stdout, mode);
			free(c.rule_paths);
			free(c.outputs);
			return VG_EXIT_OK;
		default:
			goto usage_error;
		}
	}
	if ((fleet_opts && !c.fleet.servers) ||
	    (c.fleet.servers && mode != VG_MODE_RUN && mode != VG_MODE_REPLAY)) {
		fprintf(stderr, "vigil: %s\n", c.fleet.servers ? "--nats is for run and replay"
						       : "--node, --cluster, --nats-*, --outbox-budget and --policy-dir need --nats");
		goto usage_error;
	}
	if (c.fleet.servers && (!c.store_path || !c.detect)) {
		fprintf(stderr, "vigil: --nats publishes the alert store: it needs rules%s and a store%s\n",
			mode == VG_MODE_REPLAY ? " (--rules or --default-rules)" : "",
			mode == VG_MODE_REPLAY ? " (--store PATH)" : " (not --no-store)");
		goto usage_error;
	}
	bool rules_opts = c.nrule_paths || c.store_path || c.eo.match_all;
	if (mode == VG_MODE_REPLAY) {
		c.flows = false; /* a capture holds the flow records it was made with */
		if (optind != argc - 1 || c.write_path)
			goto usage_error;
		c.replay_path = argv[optind];
	} else if (optind != argc || (mode == VG_MODE_CAPTURE && !c.write_path) ||
		   (mode != VG_MODE_RUN &&
		    (rules_opts || c.egress_path || c.deny_drift || c.rpolicy_path || c.files_path)) ||
		   (mode == VG_MODE_RUN && syscalls_given)) {
		goto usage_error;
	}
	if (c.fleet.policy_dir && mode != VG_MODE_RUN) {
		fprintf(stderr, "vigil: --policy-dir is for run: replay takes no central policy\n");
		goto usage_error;
	}
	if ((c.metrics_addr || c.noutputs || c.no_kernel_filter) && mode != VG_MODE_RUN)
		goto usage_error;
	if ((profile_opts || c.profiles.on) && mode != VG_MODE_RUN && mode != VG_MODE_REPLAY) {
		fprintf(stderr, "vigil: --profiles and --profile-* are for run (and replay)\n");
		goto usage_error;
	}
	if (profile_opts && !c.profiles.on) {
		fprintf(stderr, "vigil: --profile-* need profiles (not --no-profiles; replay: --profiles)\n");
		goto usage_error;
	}
	if (c.kernel_filter_sim && (mode != VG_MODE_REPLAY || !c.detect)) {
		fprintf(stderr, "vigil: --kernel-filter-sim is for replay with rules (--rules or --default-rules)\n");
		goto usage_error;
	}
	if (c.noutputs && !c.store_path) {
		fprintf(stderr, "vigil: --output forwards from the store: it cannot go with --no-store\n");
		goto usage_error;
	}
	if (mode == VG_MODE_RUN && !json_given)
		c.json = !isatty(STDOUT_FILENO); /* a pipe or file gets JSON lines, a person gets text */
	if ((ret = run_console_prepare(&console, &c)) == -1)
		goto usage_error;
	ret = ret ? VG_EXIT_ERROR : run_agent(&c);
	free(c.rule_paths);
	free(c.outputs);
	return ret;

usage_error:
	usage(stderr, mode);
	free(c.rule_paths);
	free(c.outputs);
	return VG_EXIT_USAGE;
}
