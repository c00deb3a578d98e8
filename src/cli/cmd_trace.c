/* SPDX-License-Identifier: Apache-2.0 */
/* vigil trace | capture | replay: one loop over an event source. */
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
#include "common/log.h"
#include "output/event_json.h"
#include "sensor/capture.h"
#include "sensor/decode.h"
#include "sensor/event_table.h"
#include "sensor/source.h"
#include "state/state.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

struct trace_ctx {
	bool print;
	bool json;
	const char *container; /* filter: id prefix, name, or "host" */
	struct vg_source *src;
	struct vg_state *state;
	struct vg_capture_writer *writer;
	struct vg_buf line;
	uint64_t shown, bad;
	int output_error;
};

static void usage(FILE *f, enum vg_mode mode)
{
	if (mode == VG_MODE_REPLAY) {
		fputs("usage: vigil replay FILE [--json] [--container ID|NAME|host]\n"
		      "Print the events of a capture file, enriched exactly as the live agent saw them.\n"
		      "  --json               JSON lines (the default output is one line of text per event)\n"
		      "  --container X        only events of the container whose id starts with X or whose\n"
		      "                       name is X; 'host' for processes outside containers\n",
		      f);
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

static bool container_matches(const struct trace_ctx *c, const struct vg_event *ev)
{
	const struct vg_cgroup *cg;
	size_t n;

	if (!c->container)
		return true;
	cg = state_cgroup(c->state, ev->hdr.cgroup_id);
	if (!cg || !cg->meta.id[0])
		return !strcmp(c->container, "host");
	n = strlen(c->container);
	return !strncmp(cg->meta.id, c->container, n) || (cg->meta.name && !strcmp(cg->meta.name, c->container));
}

/* A short human-readable line: time, type, process, container, result. */
static void text_line(struct vg_buf *out, const struct vg_event *ev, const struct vg_state *st, uint64_t b2r)
{
	const struct vg_proc *p = state_proc(st, ev->hdr.pid);
	const struct vg_cgroup *cg = state_cgroup(st, ev->hdr.cgroup_id);
	uint64_t wall = ev->hdr.ts + b2r;
	time_t sec = wall / 1000000000ULL;
	struct tm tm;
	char ts[32];

	localtime_r(&sec, &tm);
	strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
	buf_printf(out, "%s.%06llu %-12s %-16.16s pid=%u exe=%s container=%s res=%lld", ts,
		   (unsigned long long)(wall % 1000000000ULL / 1000), ev->info->name, ev->hdr.comm, ev->hdr.pid,
		   p ? p->exe : "?", cg && cg->meta.id[0] ? (cg->meta.name ? cg->meta.name : cg->meta.id) : "host",
		   (long long)ev->hdr.retval);
	buf_addc(out, ' ');
	event_json_args(out, ev);
}

static int on_record(void *ctx, const void *rec, size_t len)
{
	struct trace_ctx *c = ctx;
	struct vg_event ev;
	char err[160];

	if (event_decode(rec, len, &ev, err, sizeof(err)) != 0) {
		if (c->bad++ < 10)
			vg_warn("dropping a malformed record: %s", err);
		return 0;
	}
	bool show = state_ingest(c->state, &ev);
	if (c->writer)
		capture_writer_add(c->writer, rec, len);
	if (show && c->print && container_matches(c, &ev)) {
		buf_reset(&c->line);
		if (c->json)
			event_json(&c->line, &ev, c->state, c->src->boot_to_realtime);
		else
			text_line(&c->line, &ev, c->state, c->src->boot_to_realtime);
		buf_addc(&c->line, '\n');
		if (fwrite(c->line.data, c->line.len, 1, stdout) != 1) {
			c->output_error = errno ? errno : EIO;
			return 1;
		}
		c->shown++;
	}
	state_done(c->state, &ev);
	return 0;
}

static void emit_state(void *ctx, const void *rec, size_t len)
{
	struct trace_ctx *c = ctx;
	if (c->writer)
		capture_writer_add(c->writer, rec, len);
}

static void forget_cgroup(void *ctx, uint64_t id)
{
	struct trace_ctx *c = ctx;
	source_bpf_forget_cgroup(c->src, id);
}

static uint64_t now_boot_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_BOOTTIME, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + t.tv_nsec;
}

static void print_stats(struct trace_ctx *c)
{
	struct vg_source_stats st;

	source_stats(c->src, &st);
	fprintf(stderr, "vigil: %s: received=%llu lost=%llu truncated=%llu missed=%llu malformed=%llu",
		c->src->ops->name, (unsigned long long)st.received, (unsigned long long)st.lost,
		(unsigned long long)st.truncated, (unsigned long long)st.missed, (unsigned long long)c->bad);
	if (c->writer)
		fprintf(stderr, " written=%llu", (unsigned long long)capture_writer_records(c->writer));
	if (st.lost) {
		fputs(" lost_per_cpu=", stderr);
		for (unsigned int i = 0; i < st.ncpus && i < 64; i++)
			fprintf(stderr, "%s%llu", i ? "," : "", (unsigned long long)st.lost_per_cpu[i]);
	}
	fprintf(stderr, " processes=%zu cgroups=%zu\n", c->state->procs.map.count, c->state->cgroups.map.count);
	if (st.lost)
		vg_warn("%llu records were lost: the ring buffer was full (try --ring-mb)",
			(unsigned long long)st.lost);
}

int cmd_trace(int argc, char **argv, enum vg_mode mode)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },	   { "container", required_argument, NULL, 'c' },
		{ "syscalls", required_argument, NULL, 's' }, { "duration", required_argument, NULL, 'd' },
		{ "ring-mb", required_argument, NULL, 'r' },  { "write", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },	   { NULL, 0, NULL, 0 },
	};
	struct trace_ctx c = { .print = mode != VG_MODE_CAPTURE };
	uint8_t want[VG_EVT_MAX];
	const char *write_path = NULL;
	double duration = 0;
	unsigned long ring_mb = 0;
	int opt, ret = VG_EXIT_OK;

	for (int t = 1; t < VG_EVT_MAX; t++)
		want[t] = (event_table_get(t)->flags & VG_EF_DEFAULT) != 0;
	while ((opt = getopt_long(argc, argv, "w:h", opts, NULL)) != -1) {
		char *end;
		switch (opt) {
		case 'j':
			c.json = true;
			break;
		case 'c':
			c.container = optarg;
			break;
		case 's':
			if (parse_syscalls(optarg, want))
				return VG_EXIT_USAGE;
			break;
		case 'd':
			duration = strtod(optarg, &end);
			if (*end || duration <= 0) {
				fprintf(stderr, "vigil: --duration takes a positive number of seconds, not '%s'\n", optarg);
				return VG_EXIT_USAGE;
			}
			break;
		case 'r':
			ring_mb = strtoul(optarg, &end, 10);
			if (*end || ring_mb == 0 || ring_mb > 4096 || (ring_mb & (ring_mb - 1))) {
				fprintf(stderr, "vigil: --ring-mb takes a power of two from 1 to 4096, not '%s'\n", optarg);
				return VG_EXIT_USAGE;
			}
			break;
		case 'w':
			write_path = optarg;
			break;
		case 'h':
			usage(stdout, mode);
			return VG_EXIT_OK;
		default:
			usage(stderr, mode);
			return VG_EXIT_USAGE;
		}
	}
	if (mode == VG_MODE_REPLAY) {
		if (optind != argc - 1 || write_path) {
			usage(stderr, mode);
			return VG_EXIT_USAGE;
		}
	} else if (optind != argc || (mode == VG_MODE_CAPTURE && !write_path)) {
		usage(stderr, mode);
		return VG_EXIT_USAGE;
	}

	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (mode == VG_MODE_REPLAY) {
		c.src = source_capture_open(argv[optind]);
	} else {
		struct vg_bpf_opts bo = { .want = want, .ring_mb = ring_mb };
		c.src = source_bpf_open(&bo);
	}
	if (!c.src)
		return VG_EXIT_ERROR;
	if (write_path) {
		c.writer = capture_writer_open(write_path, c.src->boot_to_realtime, c.src->hostname);
		if (!c.writer) {
			source_close(c.src);
			return VG_EXIT_ERROR;
		}
	}
	struct vg_container_watch *watch = mode != VG_MODE_REPLAY ? container_watch_start("/") : NULL;
	struct vg_state_opts so = {
		.watch = watch,
		.live = mode != VG_MODE_REPLAY,
		.emit = emit_state,
		.forget_cgroup = mode != VG_MODE_REPLAY ? forget_cgroup : NULL,
		.ctx = &c,
	};
	c.state = state_new(&so);
	if (so.live)
		state_seed(c.state);

	uint64_t deadline = duration > 0 ? now_boot_ns() + (uint64_t)(duration * 1e9) : 0;
	while (!stop_requested) {
		int n = source_poll(c.src, 100, on_record, &c);
		fflush(stdout);
		if (n == VG_SOURCE_EOF)
			break;
		if (n < 0) {
			ret = VG_EXIT_ERROR;
			break;
		}
		if (c.output_error) {
			if (c.output_error != EPIPE) {
				vg_err("cannot write output: %s", strerror(c.output_error));
				ret = VG_EXIT_ERROR;
			}
			break;
		}
		uint64_t now = now_boot_ns();
		state_sweep(c.state, now);
		if (deadline && now >= deadline)
			break;
	}
	if (mode != VG_MODE_REPLAY) {
		/* what is still queued in the kernel belongs to the capture too;
		 * bounded, since under a storm the queue never empties */
		uint64_t drain_end = now_boot_ns() + 2000000000ULL;
		while (source_poll(c.src, 0, on_record, &c) > 0 && !c.output_error && now_boot_ns() < drain_end)
			;
		fflush(stdout);
		print_stats(&c);
	}
	if (c.state->bad_state_records)
		vg_warn("%llu state records did not parse: the processes or containers they describe lack details",
			(unsigned long long)c.state->bad_state_records);
	if (c.writer && capture_writer_close(c.writer) != 0)
		ret = VG_EXIT_ERROR;
	state_free(c.state);
	container_watch_stop(watch);
	source_close(c.src);
	buf_free(&c.line);
	return ret;
}

int cmd_events(int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		fputs("usage: vigil events\n", stderr);
		return VG_EXIT_USAGE;
	}
	for (int t = 1; t < VG_EVT_MAX; t++) {
		const struct vg_event_info *e = event_table_get(t);
		if (e->category == VG_CAT_INTERNAL)
			continue;
		printf("%-14s %-10s %s", e->name, event_table_category_name(e->category),
		       e->flags & VG_EF_DEFAULT ? "default" : "opt-in ");
		for (int i = 0; i < e->nparams; i++)
			printf("%s%s", i ? "," : " ", e->params[i].name);
		putchar('\n');
	}
	return VG_EXIT_OK;
}
