/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil admission serve: the validating admission webhook (src/admission/).
 * vigil admission review: judge one AdmissionReview file with a policy, as
 * the webhook would, and print the response (for policy authors and CI).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "admission/admission_review.h"
#include "admission/admission_server.h"
#include "cli/cli.h"
#include "common/buf.h"
#include "cli/fleet_opts.h"
#include "fleet/record_pub.h"
#include <jansson.h>
#include <sys/random.h>
#include <time.h>

static volatile sig_atomic_t stop_flag, reload_flag;

static void on_stop(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void on_reload(int sig)
{
	(void)sig;
	reload_flag = 1;
}

static void usage(FILE *f)
{
	fputs("usage: vigil admission serve --tls-cert FILE --tls-key FILE [options]\n"
	      "       vigil admission serve --insecure-http [options]   (tests only)\n"
	      "       vigil admission review [--policy FILE] REVIEW.json\n"
	      "\n"
	      "serve: a Kubernetes validating admission webhook (POST /validate; GET /healthz,\n"
	      "/readyz, /metrics). SIGHUP reloads the policy without dropping requests;\n"
	      "SIGINT/SIGTERM stop after the requests in flight.\n"
	      "  --listen ADDR:PORT   address to serve on (default 0.0.0.0:8443; port 0 picks one)\n"
	      "  --tls-cert FILE      PEM certificate (chain) for HTTPS\n"
	      "  --tls-key FILE       PEM private key for HTTPS\n"
	      "  --insecure-http      serve plain HTTP (for tests; the API server requires HTTPS)\n"
	      "  --policy FILE        policy file (docs/admission.md); default: enforce privileged\n"
	      "  --max-body BYTES     refuse larger requests with 413 (default 3145728)\n"
	      "  --timeout S          close connections idle for S seconds (default 10)\n"
	      "  --threads N          worker threads (default 2)\n"
	      "  --decision-log FILE  append one JSON line per decision ('-' for stdout)\n"
	      "  --nats URL[,URL...]  also publish each decision on vigil.<cluster>.<node>.admission\n"
	      "                       (asynchronously: a NATS outage never delays or changes an\n"
	      "                       answer; at most 4096 wait, more are dropped and counted)\n"
	      "  --node NAME, --cluster NAME, --nats-creds FILE, --nats-nkey FILE, --nats-ca FILE,\n"
	      "  --nats-cert FILE --nats-key FILE   as for 'vigil run'\n"
	      "\n"
	      "review: prints the AdmissionReview response for REVIEW.json ('-' for stdin).\n"
	      "\n"
	      "exit status: 0 stopped cleanly / review answered; 1 cannot start, bad certificate\n"
	      "or policy, review body not an AdmissionReview; 2 usage error\n",
	      f);
}

/* Reads a whole file (at most max bytes) into a NUL-terminated buffer; NULL with errno-based message. */
static char *slurp(const char *path, size_t max, size_t *len)
{
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : dup(0);
	if (fd < 0) {
		fprintf(stderr, "vigil: cannot read %s: %s\n", path, strerror(errno));
		return NULL;
	}
	struct vg_buf b = { 0 };
	char chunk[65536];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "vigil: cannot read %s: %s\n", path, strerror(errno));
			goto fail;
		}
		if (!n)
			break;
		if (b.len + (size_t)n > max) {
			fprintf(stderr, "vigil: cannot read %s: larger than %zu bytes\n", path, max);
			goto fail;
		}
		buf_add(&b, chunk, (size_t)n);
	}
	close(fd);
	buf_addc(&b, 0);
	*len = b.len - 1;
	return b.data;
fail:
	close(fd);
	buf_free(&b);
	return NULL;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || !*s || *s == '-' || v > max)
		return -1;
	*out = v;
	return 0;
}

#define ADMISSION_QUEUE 4096

/* One decision as its NATS record (docs/fleet.md, "Scan results and admission decisions"). */
static void publish_decision(void *ctx, const struct admission_decision *d, const char *policy_version)
{
	struct fleet_async_pub *p = ctx;
	unsigned char rnd[16];
	char uuid[33], ts[48];
	if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
		return;
	for (int i = 0; i < 16; i++)
		snprintf(uuid + 2 * i, 3, "%02x", rnd[i]);
	struct timespec now;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	size_t n = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + n, sizeof(ts) - n, ".%09ldZ", now.tv_nsec);
	/* the reasons as the API server shows them: the answer's status message and warnings */
	json_error_t je;
	json_t *resp = json_loadb(d->response.data ? d->response.data : "", d->response.len, 0, &je);
	json_t *r = json_object_get(resp, "response");
	const char *msg = json_string_value(json_object_get(json_object_get(r, "status"), "message"));
	json_t *warn = json_object_get(r, "warnings");
	struct vg_buf b = { 0 };
	struct vg_json j;
	jw_init(&j, &b);
	jw_obj_begin(&j, NULL);
	jw_str(&j, "uuid", uuid);
	jw_str(&j, "time", ts);
	jw_str(&j, "uid", d->uid);
	jw_str(&j, "operation", d->operation);
	jw_str(&j, "kind", d->kind);
	jw_str(&j, "namespace", d->ns);
	jw_str(&j, "name", d->name);
	jw_str(&j, "user", d->user);
	jw_bool(&j, "allowed", d->allowed);
	jw_str(&j, "reason", d->reason);
	jw_str(&j, "message", msg ? msg : "");
	jw_arr_begin(&j, "warnings");
	size_t i;
	json_t *w;
	json_array_foreach(warn, i, w)
		if (json_is_string(w))
			jw_str(&j, NULL, json_string_value(w));
	jw_arr_end(&j);
	jw_str(&j, "policy_version", policy_version);
	jw_uint(&j, "enforce_violations", d->enforce_violations);
	jw_uint(&j, "audit_violations", d->audit_violations);
	jw_uint(&j, "warn_violations", d->warn_violations);
	jw_bool(&j, "internal_error", d->internal_error);
	jw_obj_end(&j);
	json_decref(resp);
	fleet_async_pub_offer(p, uuid, b.data, b.len);
	buf_free(&b);
}

static int serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "tls-cert", required_argument, NULL, 'c' },
		{ "tls-key", required_argument, NULL, 'k' },
		{ "insecure-http", no_argument, NULL, 'I' },
		{ "policy", required_argument, NULL, 'p' },
		{ "max-body", required_argument, NULL, 'm' },
		{ "timeout", required_argument, NULL, 't' },
		{ "threads", required_argument, NULL, 'T' },
		{ "decision-log", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ "node", required_argument, NULL, 0x106 },
		{ "cluster", required_argument, NULL, 0x107 },
		FLEET_CONN_OPTIONS,
		{ 0 },
	};
	struct admission_server_opts o = { "0.0.0.0:8443", NULL, NULL, 0, NULL,
					   ADMISSION_DEFAULT_MAX_BODY, ADMISSION_DEFAULT_TIMEOUT, 2, NULL };
	const char *cert = NULL, *key = NULL, *log = NULL;
	struct fleet_conn_opts fo = { 0 };
	unsigned long v;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (fleet_conn_option(c, optarg, &fo))
			continue;
		switch (c) {
		case 0x106: fo.node = optarg; break;
		case 0x107: fo.cluster = optarg; break;
		case 'l': o.listen = optarg; break;
		case 'c': cert = optarg; break;
		case 'k': key = optarg; break;
		case 'I': o.insecure_http = 1; break;
		case 'p': o.policy_path = optarg; break;
		case 'L': log = optarg; break;
		case 'm':
			if (parse_uint(optarg, 1ul << 30, &v) || !v) {
				fprintf(stderr, "vigil: bad --max-body '%s' (1 to 1073741824 bytes)\n", optarg);
				return VG_EXIT_USAGE;
			}
			o.max_body = v;
			break;
		case 't':
			if (parse_uint(optarg, 3600, &v) || !v) {
				fprintf(stderr, "vigil: bad --timeout '%s' (1 to 3600 seconds)\n", optarg);
				return VG_EXIT_USAGE;
			}
			o.timeout_s = (unsigned)v;
			break;
		case 'T':
			if (parse_uint(optarg, 256, &v) || !v) {
				fprintf(stderr, "vigil: bad --threads '%s' (1 to 256)\n", optarg);
				return VG_EXIT_USAGE;
			}
			o.threads = (unsigned)v;
			break;
		case 'h': usage(stdout); return VG_EXIT_OK;
		default: usage(stderr); return VG_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vigil: unexpected argument '%s'\n", argv[optind]);
		return VG_EXIT_USAGE;
	}
	if (o.insecure_http ? (cert || key) : (!cert || !key)) {
		fprintf(stderr, o.insecure_http ? "vigil: --insecure-http does not take --tls-cert/--tls-key\n"
						: "vigil: admission serve needs --tls-cert and --tls-key "
						  "(or --insecure-http for tests)\n");
		return VG_EXIT_USAGE;
	}
	if (!fo.servers && (fo.node || fo.cluster || fo.creds || fo.nkey_seed || fo.tls_ca || fo.tls_cert)) {
		fprintf(stderr, "vigil: --node, --cluster and --nats-* need --nats\n");
		return VG_EXIT_USAGE;
	}
	char *cert_pem = NULL, *key_pem = NULL;
	size_t len;
	int rc = VG_EXIT_ERROR;
	FILE *logf = NULL;
	struct fleet_async_pub *pub = NULL;
	if (fo.servers) {
		char err[512];
		/* in the background: the webhook answers whether or not NATS is there */
		fo.client = "vigil-admission";
		fo.connect_now = false;
		struct fleet_conn *fc = fleet_connect(&fo, err, sizeof(err));
		if (!fc) {
			fprintf(stderr, "vigil: %s\n", err);
			return VG_EXIT_USAGE;
		}
		pub = fleet_async_pub_start(fc, "admission", ADMISSION_QUEUE);
		if (!pub) {
			fleet_close(fc);
			return VG_EXIT_ERROR;
		}
		o.on_decision = publish_decision;
		o.on_decision_ctx = pub;
	}
	if (cert && (!(cert_pem = slurp(cert, 1u << 20, &len)) || !(key_pem = slurp(key, 1u << 20, &len))))
		goto out;
	o.cert_pem = cert_pem;
	o.key_pem = key_pem;
	if (log) {
		logf = strcmp(log, "-") ? fopen(log, "ae") : stdout;
		if (!logf) {
			fprintf(stderr, "vigil: cannot open decision log %s: %s\n", log, strerror(errno));
			goto out;
		}
		o.decision_log = logf;
	}
	struct sigaction sa = { 0 };
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_reload;
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (admission_server_run(&o, &stop_flag, &reload_flag) == 0)
		rc = VG_EXIT_OK;
out:
	fleet_async_pub_stop(pub, 2000);
	if (logf && logf != stdout)
		fclose(logf);
	if (key_pem) {
		explicit_bzero(key_pem, strlen(key_pem));
		free(key_pem);
	}
	free(cert_pem);
	return rc;
}

static int review(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *policy = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'p')
			policy = optarg;
		else if (c == 'h') {
			usage(stdout);
			return VG_EXIT_OK;
		} else {
			usage(stderr);
			return VG_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "vigil: admission review needs one AdmissionReview file\n");
		return VG_EXIT_USAGE;
	}
	char err[512];
	struct admission_policy *p = policy ? admission_policy_load(policy, err, sizeof(err))
					    : admission_policy_default();
	if (!p) {
		fprintf(stderr, "vigil: %s\n", err);
		return VG_EXIT_ERROR;
	}
	size_t len;
	char *body = slurp(argv[optind], ADMISSION_DEFAULT_MAX_BODY, &len);
	if (!body) {
		admission_policy_free(p);
		return VG_EXIT_ERROR;
	}
	struct admission_decision d;
	admission_review_handle(p, body, len, &d);
	fwrite(d.response.data, 1, d.response.len, stdout);
	fputc('\n', stdout);
	int rc = d.http_status == 200 ? VG_EXIT_OK : VG_EXIT_ERROR;
	if (d.http_status != 200)
		fprintf(stderr, "vigil: cannot judge %s: not a valid AdmissionReview\n", argv[optind]);
	admission_decision_free(&d);
	free(body);
	admission_policy_free(p);
	return rc;
}

int cmd_admission(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? VG_EXIT_USAGE : VG_EXIT_OK;
	}
	if (!strcmp(argv[1], "serve"))
		return serve(argc - 1, argv + 1);
	if (!strcmp(argv[1], "review"))
		return review(argc - 1, argv + 1);
	fprintf(stderr, "vigil: unknown admission command '%s' (serve, review)\n", argv[1]);
	return VG_EXIT_USAGE;
}
