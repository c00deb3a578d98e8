/* SPDX-License-Identifier: Apache-2.0 */
/* vigil scan image|rootfs: parse arguments, scan, match, print the report. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli/cli.h"
#include "cli/fleet_opts.h"
#include "fleet/record_pub.h"
#include "fleet/streams.h"
#include <openssl/evp.h>
#include "scan/matching/ignore.h"
#include "scan/matching/vex.h"
#include "scan/matching/vulndb.h"
#include "scan/reports/report.h"
#include "scan/reports/results_db.h"
#include "scan/reports/sbom.h"
#include "scan/scan.h"
#include "scan/scan_fs.h"
#include "scan/sources/registry.h"

static void scan_usage(FILE *f)
{
	fputs("usage: vigil scan image PATH [options]   docker-archive, OCI layout or OCI archive\n"
	      "       vigil scan image docker://[HOST[:PORT]/]NAME[:TAG][@DIGEST] [options]\n"
	      "                                          pulled from a registry over HTTPS\n"
	      "       vigil scan rootfs DIR [options]   a root file system\n"
	      "       vigil scan fs DIR [options]       a project checkout: lockfiles and manifests\n"
	      "                                          anywhere in the tree, .gitignore honoured\n"
	      "       vigil scan lookup DIGEST --store FILE   a stored result (exit 3: not stored)\n"
	      "\n"
	      "options:\n"
	      "  -f, --format FMT       table (default), json, cyclonedx, spdx, sarif\n"
	      "  -o, --output FILE      write the report to FILE instead of stdout\n"
	      "      --select REF       the image to scan when the archive or index holds several\n"
	      "                         (tag, org.opencontainers.image.ref.name or digest)\n"
	      "      --no-secrets       do not search files for secrets\n"
	      "      --include-dev      also report the development dependencies lock files\n"
	      "                         mark as such (left out by default)\n"
	      "      --db FILE          match packages against this OSV database (default\n"
	      "                         $VIGIL_DB or vigil-vulns.db, when it exists)\n"
	      "      --no-db            do not match vulnerabilities    \n"
	      "      --severity LEVEL   report findings at or above LEVEL (LOW, MEDIUM, HIGH,\n"
	      "                         CRITICAL; UNKNOWN reports everything)\n"
	      "      --ignore-unfixed   leave out vulnerabilities without a fixed version\n"
	      "      --exit-code N      exit with N when findings at or above --severity remain\n"
	      "      --store FILE       keep the result in FILE (SQLite), keyed by the image's\n"
	      "                         manifest digest and image ID, for 'scan lookup'\n"
	      "      --ignore-file FILE ids, aliases or path:GLOB to leave out, one a line,\n"
	      "                         each optionally with exp:YYYY-MM-DD and '# reason'\n"
	      "      --vex FILE         OpenVEX or CycloneDX VEX statements: not_affected/fixed\n"
	      "                         take findings out (listed as suppressed, with why),\n"
	      "                         affected/under_investigation annotate them; repeatable\n"
	      "      --max-layer-bytes N  refuse a layer that expands beyond N bytes\n"
	      "\n"
	      "source trees (fs):\n"
	      "      --skip PATTERN     leave out paths matching PATTERN (gitignore syntax,\n"
	      "                         relative to DIR; repeatable; applies to vendored\n"
	      "                         directories too)\n"
	      "      --no-ignore        do not read .gitignore files\n"
	      "      --max-entries N    refuse an image with more than N entries\n"
	      "\n"
	      "registry pulls (docker://):\n"
	      "      --ca-file FILE     verify the registry with the CAs in FILE (PEM)\n"
	      "      --insecure         do not verify the registry's TLS certificate\n"
	      "      --authfile FILE    credentials from a containers auth.json / docker\n"
	      "                         config.json (auths.HOST.auth); VIGIL_REGISTRY_AUTH=user:password\n"
	      "                         in the environment wins\n"
	      "      --max-pull-bytes N refuse an image whose blobs add up to more than N bytes\n"
	      "\n"
	      "publishing to the fleet (scan image):\n"
	      "      --nats URL[,URL...]  publish the result (the report and its CycloneDX SBOM)\n"
	      "                         on vigil.<cluster>.<node>.scan for the hubs\n"
	      "      --node NAME, --cluster NAME, --nats-creds FILE, --nats-nkey FILE, --nats-ca FILE,\n"
	      "      --nats-cert FILE --nats-key FILE   as for 'vigil run'\n"
	      "      --max-msg SIZE     refuse to publish a message larger than SIZE as sent\n"
	      "                         (compressed; default 256K, the hub's --max-msg)\n"
	      "\n"
	      "exit status: 0 success, 1 runtime error (unreadable or hostile image), 2 usage error,\n"
	      "N (--exit-code) findings at or above the threshold\n",
	      f);
}

/* A progress line on a terminal's stderr: layer, bytes read, a bar when the size is known. */
static void scan_progress(void *ctx, size_t layer, size_t nlayers, uint64_t bytes, uint64_t size)
{
	char bar[21];
	int fill = size ? (int)(bytes * 20 / size) : 0;

	(void)ctx;
	if (fill > 20)
		fill = 20;
	memset(bar, '#', (size_t)fill);
	memset(bar + fill, '.', (size_t)(20 - fill));
	bar[20] = 0;
	fprintf(stderr, "\r\033[Kvigil: layer %zu/%zu [%s] %llu MB", layer + 1, nlayers,
		size ? bar : "....................", (unsigned long long)(bytes >> 20));
}

static void hex(const unsigned char *md, unsigned n, char *out)
{
	for (unsigned i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL);
	hex(md, mdlen > 32 ? 32 : mdlen, out);
}

/*
 * Publish the scan result on vigil.<cluster>.<node>.scan (docs/fleet.md, "Scan
 * results and admission decisions"): the report as -f json writes it and the
 * CycloneDX SBOM, under a Nats-Msg-Id stable per (image digest, report digest).
 * 0, or -1 after saying why.
 */
static int scan_publish(const struct scan_result *r, struct fleet_conn_opts *fo, size_t max_msg)
{
	const char *digest = r->image_digest ? r->image_digest : r->image_id;
	if (!digest) {
		fprintf(stderr, "vigil: --nats: this image has neither a manifest digest nor an image ID: not published\n");
		return -1;
	}
	struct vg_buf rep = { 0 }, sbom = { 0 }, msg = { 0 }, key = { 0 };
	report_write(r, REPORT_JSON, false, &rep);
	report_write(r, REPORT_CYCLONEDX, false, &sbom);
	while (rep.len && (rep.data[rep.len - 1] == '\n' || rep.data[rep.len - 1] == ' '))
		rep.data[--rep.len] = 0;
	char rd[65], id[65], ts[48];
	sha256_hex(rep.data, rep.len, rd);
	buf_printf(&key, "%s\n%s", digest, rd);
	sha256_hex(key.data, key.len, id);
	struct timespec now;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	size_t n = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + n, sizeof(ts) - n, ".%09ldZ", now.tv_nsec);
	struct vg_json j;
	jw_init(&j, &msg);
	jw_obj_begin(&j, NULL);
	jw_str(&j, "uuid", id);
	jw_str(&j, "time", ts);
	jw_str(&j, "reference", r->target ? r->target : "");
	jw_str(&j, "digest", digest);
	jw_raw(&j, "report", rep.data);
	jw_str(&j, "sbom_format", "cyclonedx");
	jw_strn(&j, "sbom", sbom.data ? sbom.data : "", sbom.len);
	jw_obj_end(&j);
	int ret = -1;
	struct fleet_conn *c = fleet_conn_open(fo);
	if (c) {
		char err[512];
		size_t sent = 0;
		int rc = fleet_record_publish(c, "scan", id, (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000, msg.data,
					      msg.len, max_msg, 10000, &sent, err, sizeof(err));
		if (rc < 0)
			fprintf(stderr, "vigil: %s\n", err);
		else {
			fprintf(stderr, "vigil: scan of %s published on vigil.%s.%s.scan (%zu bytes%s)%s\n", digest,
				fleet_cluster(c), fleet_node(c), sent, sent < msg.len ? " compressed" : "",
				rc == 2 ? ": the stream already had it" : "");
			ret = 0;
		}
		fleet_close(c);
	}
	buf_free(&rep);
	buf_free(&sbom);
	buf_free(&msg);
	buf_free(&key);
	return ret;
}

/* vigil scan lookup DIGEST --store FILE: print the stored JSON report; 3 when absent. */
static int scan_lookup(const char *digest, const char *store)
{
	struct vg_buf out = { 0 }, err = { 0 };
	int rc;

	if (!store) {
		fputs("vigil: scan lookup needs --store FILE\n", stderr);
		return VG_EXIT_USAGE;
	}
	rc = results_db_get(store, digest, &out, &err);
	if (rc < 0)
		fprintf(stderr, "vigil: %s\n", err.data);
	else if (rc == 0)
		fprintf(stderr, "vigil: no stored scan of %s in %s\n", digest, store);
	else
		fwrite(out.data, 1, out.len, stdout);
	buf_free(&out);
	buf_free(&err);
	return rc < 0 ? VG_EXIT_ERROR : rc == 0 ? VG_EXIT_NOT_FOUND : VG_EXIT_OK;
}

int cmd_scan(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "select", required_argument, NULL, 'S' },
		{ "no-secrets", no_argument, NULL, 'N' },
		{ "max-layer-bytes", required_argument, NULL, 'L' },
		{ "max-entries", required_argument, NULL, 'E' },
		{ "db", required_argument, NULL, 'D' },
		{ "no-db", no_argument, NULL, 'n' },
		{ "severity", required_argument, NULL, 's' },
		{ "ignore-unfixed", no_argument, NULL, 'U' },
		{ "exit-code", required_argument, NULL, 'x' },
		{ "ignore-file", required_argument, NULL, 'I' },
		{ "store", required_argument, NULL, 'T' },
		{ "ca-file", required_argument, NULL, 'C' },
		{ "insecure", no_argument, NULL, 'K' },
		{ "authfile", required_argument, NULL, 'A' },
		{ "max-pull-bytes", required_argument, NULL, 'P' },
		{ "skip", required_argument, NULL, 'k' },
		{ "vex", required_argument, NULL, 'V' },
		{ "no-ignore", no_argument, NULL, 'G' },
		{ "help", no_argument, NULL, 'h' },
		{ "include-dev", no_argument, NULL, 1001 },
		{ "max-msg", required_argument, NULL, 1002 },
		{ "node", required_argument, NULL, 0x106 },
		{ "cluster", required_argument, NULL, 0x107 },
		FLEET_CONN_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct scan_opts o = { .secrets = true };
	struct registry_opts ro;
	int format = REPORT_TABLE, c;
	const char *output = NULL, *dbpath = NULL, *ignore_file = NULL, *store = NULL;
	char *end;
	int min_sev = SEV_UNKNOWN, exit_code = 0;
	bool ignore_unfixed = false, nodb = false, include_dev = false;
	struct fs_opts fo = { 0 };
	const char *skips[64], *vexes[16];
	size_t nvex = 0;
	struct fleet_conn_opts fleet = { 0 };
	size_t max_msg = 256u << 10;

	scan_limits_default(&o.limits);
	registry_opts_default(&ro);
	ro.creds = getenv("VIGIL_REGISTRY_AUTH");
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		scan_usage(stdout);
		return VG_EXIT_OK;
	}
	if (argc < 3 ||
	    (strcmp(argv[1], "image") && strcmp(argv[1], "rootfs") && strcmp(argv[1], "fs") &&
	     strcmp(argv[1], "lookup"))) {
		scan_usage(stderr);
		return VG_EXIT_USAGE;
	}
	const char *what = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "f:o:h", longopts, NULL)) != -1) {
		if (fleet_conn_option(c, optarg, &fleet))
			continue;
		switch (c) {
		case 0x106: fleet.node = optarg; break;
		case 0x107: fleet.cluster = optarg; break;
		case 1002: {
			int64_t v = fleet_parse_size(optarg);
			if (v < 1024 || v > (64 << 20)) {
				fprintf(stderr, "vigil: bad --max-msg '%s' (1K to 64M)\n", optarg);
				return VG_EXIT_USAGE;
			}
			max_msg = (size_t)v;
			break;
		}
		case 'f':
			format = report_format_parse(optarg);
			if (format < 0) {
				fprintf(stderr, "vigil: unknown format '%s'\n", optarg);
				return VG_EXIT_USAGE;
			}
			break;
		case 'o': output = optarg; break;
		case 'S': o.select = optarg; break;
		case 'N': o.secrets = false; break;
		case 'D': dbpath = optarg; break;
		case 'I': ignore_file = optarg; break;
		case 'T': store = optarg; break;
		case 'n': nodb = true; break;
		case 'C': ro.ca_file = optarg; break;
		case 'K': ro.insecure = true; break;
		case 'A': ro.auth_file = optarg; break;
		case 'U': ignore_unfixed = true; break;
		case 'G': fo.no_ignore = true; break;
		case 'V':
			if (nvex == sizeof(vexes) / sizeof(*vexes)) {
				fputs("vigil: at most 16 --vex documents\n", stderr);
				return VG_EXIT_USAGE;
			}
			vexes[nvex++] = optarg;
			break;
		case 'k':
			if (fo.nskip == sizeof(skips) / sizeof(*skips)) {
				fputs("vigil: at most 64 --skip patterns\n", stderr);
				return VG_EXIT_USAGE;
			}
			skips[fo.nskip++] = optarg;
			fo.skip = skips;
			break;
		case 's':
			min_sev = severity_parse(optarg);
			if (min_sev < 0) {
				fprintf(stderr, "vigil: unknown severity '%s'\n", optarg);
				return VG_EXIT_USAGE;
			}
			break;
		case 'x':
			exit_code = (int)strtol(optarg, &end, 10);
			if (*end || !optarg[0] || exit_code < 0 || exit_code > 255) {
				fprintf(stderr, "vigil: bad exit code '%s'\n", optarg);
				return VG_EXIT_USAGE;
			}
			break;
		case 'L':
		case 'P':
		case 'E': {
			unsigned long long v = strtoull(optarg, &end, 10);
			if (*end || !optarg[0] || !v) {
				fprintf(stderr, "vigil: bad number '%s'\n", optarg);
				return VG_EXIT_USAGE;
			}
			if (c == 'L')
				o.limits.max_layer_bytes = v;
			else if (c == 'P')
				ro.max_bytes = v;
			else
				o.limits.max_entries = v;
			break;
		}
		case 'h': scan_usage(stdout); return VG_EXIT_OK;
		case 1001: include_dev = true; break;
		default: scan_usage(stderr); return VG_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		scan_usage(stderr);
		return VG_EXIT_USAGE;
	}
	const char *target = argv[optind];
	if (!fleet.servers && (fleet.node || fleet.cluster || fleet.creds || fleet.nkey_seed || fleet.tls_ca ||
			       fleet.tls_cert)) {
		fputs("vigil: --node, --cluster and --nats-* need --nats\n", stderr);
		return VG_EXIT_USAGE;
	}
	if (fleet.servers && strcmp(what, "image")) {
		fputs("vigil: --nats publishes image scans only ('scan image')\n", stderr);
		return VG_EXIT_USAGE;
	}
	if (!strcmp(what, "lookup"))
		return scan_lookup(target, store);
	struct scan_result r = { .include_dev = include_dev };
	struct vg_buf err = { 0 }, out = { 0 };
	struct ignore_list ign = { 0 };
	if (ignore_file && ignore_load(ignore_file, &ign, &err)) {
		fprintf(stderr, "vigil: %s\n", err.data);
		buf_free(&err);
		return VG_EXIT_ERROR;
	}
	/* VEX documents are read before the scan: a bad one fails fast */
	struct vex_doc vex[16];
	for (size_t i = 0; i < nvex; i++)
		if (vex_load(vexes[i], &vex[i], &err)) {
			fprintf(stderr, "vigil: %s\n", err.data);
			for (size_t k = 0; k < i; k++)
				vex_free(&vex[k]);
			ignore_free(&ign);
			buf_free(&err);
			return VG_EXIT_ERROR;
		}
	if (isatty(2)) {
		o.progress = scan_progress;
		o.progress_ctx = NULL;
	}
	int rc;
	if (!strcmp(what, "fs"))
		rc = scan_fs(target, &fo, &o, &r, &err);
	else if (strcmp(what, "image"))
		rc = scan_rootfs(target, &o, &r, &err);
	else if (!strncmp(target, REGISTRY_PREFIX, strlen(REGISTRY_PREFIX)))
		rc = registry_scan(target, &ro, &o, &r, &err);
	else
		rc = scan_image(target, &o, &r, &err);
	if (o.progress)
		fputs("\r\033[K", stderr); /* the progress line goes away */
	if (r.warnings.len)
		fputs(r.warnings.data, stderr);
	if (rc) {
		scan_sanitize(err.data);
		fprintf(stderr, "vigil: %s\n", err.data ? err.data : "scan failed");
		for (size_t i = 0; i < nvex; i++)
			vex_free(&vex[i]);
		ignore_free(&ign);
		scan_result_free(&r);
		buf_free(&err);
		return VG_EXIT_ERROR;
	}
	/* The database: given, or the default one when it exists. */
	if (!nodb && (dbpath || access(db_default_path(), R_OK) == 0)) {
		sqlite3 *db = vulndb_open(dbpath ? dbpath : db_default_path(), false, &err);
		if (!db || vulndb_match(db, &r, &err)) {
			fprintf(stderr, "vigil: %s\n", err.data);
			if (db)
				vulndb_close(db);
			for (size_t i = 0; i < nvex; i++)
				vex_free(&vex[i]);
			ignore_free(&ign);
			scan_result_free(&r);
			buf_free(&err);
			return VG_EXIT_ERROR;
		}
		vulndb_close(db);
	}
	vex_apply(vex, nvex, &r);
	for (size_t i = 0; i < nvex; i++)
		vex_free(&vex[i]);
	nvex = 0;
	if (ign.n) {
		char today[16];
		time_t now = time(NULL);
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(today, sizeof(today), "%Y-%m-%d", &tm);
		ignore_apply(&ign, &r, today);
	}
	ignore_free(&ign);
	/* The store keeps the whole result: filters are the reader's choice. */
	if (store && results_db_put(store, &r, &err)) {
		fprintf(stderr, "vigil: %s\n", err.data);
		scan_result_free(&r);
		buf_free(&err);
		return VG_EXIT_ERROR;
	}
	size_t findings = scan_result_filter(&r, (enum vg_severity)min_sev, ignore_unfixed);
	FILE *f = output ? fopen(output, "w") : stdout;
	if (!f) {
		fprintf(stderr, "vigil: cannot write %s: %s\n", output, strerror(errno));
		scan_result_free(&r);
		buf_free(&err);
		return VG_EXIT_ERROR;
	}
	report_write(&r, format, !output && isatty(1) && format == REPORT_TABLE, &out);
	fwrite(out.data ? out.data : "", 1, out.len, f);
	int ret = VG_EXIT_OK;
	if ((output ? fclose(f) : fflush(f)) != 0) {
		fprintf(stderr, "vigil: cannot write the report\n");
		ret = VG_EXIT_ERROR;
	}
	if (fleet.servers && scan_publish(&r, &fleet, max_msg))
		ret = VG_EXIT_ERROR;
	buf_free(&out);
	buf_free(&err);
	scan_result_free(&r);
	if (ret == VG_EXIT_OK && findings && exit_code)
		ret = exit_code;
	return ret;
}
