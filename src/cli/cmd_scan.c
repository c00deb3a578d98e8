/* SPDX-License-Identifier: Apache-2.0 */
/* vigil scan image|rootfs: parse arguments, scan, match, print the report. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/cli.h"
#include "scan/report.h"
#include "scan/scan.h"

static void scan_usage(FILE *f)
{
	fputs("usage: vigil scan image PATH [options]   docker-archive, OCI layout or OCI archive\n"
	      "       vigil scan rootfs DIR [options]   a root file system\n"
	      "\n"
	      "options:\n"
	      "  -f, --format FMT       table (default), json, cyclonedx, spdx, sarif\n"
	      "  -o, --output FILE      write the report to FILE instead of stdout\n"
	      "      --select REF       the image to scan when the archive or index holds several\n"
	      "                         (tag, org.opencontainers.image.ref.name or digest)\n"
	      "      --no-secrets       do not search files for secrets\n"
	      "      --max-layer-bytes N  refuse a layer that expands beyond N bytes\n"
	      "      --max-entries N    refuse an image with more than N entries\n"
	      "\n"
	      "exit status: 0 success, 1 runtime error (unreadable or hostile image), 2 usage error\n",
	      f);
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
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct scan_opts o = { .secrets = true };
	int format = REPORT_TABLE, c;
	const char *output = NULL;
	char *end;

	scan_limits_default(&o.limits);
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		scan_usage(stdout);
		return VG_EXIT_OK;
	}
	if (argc < 3 || (strcmp(argv[1], "image") && strcmp(argv[1], "rootfs"))) {
		scan_usage(stderr);
		return VG_EXIT_USAGE;
	}
	const char *what = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "f:o:h", longopts, NULL)) != -1) {
		switch (c) {
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
		case 'L':
		case 'E': {
			unsigned long long v = strtoull(optarg, &end, 10);
			if (*end || !optarg[0] || !v) {
				fprintf(stderr, "vigil: bad number '%s'\n", optarg);
				return VG_EXIT_USAGE;
			}
			if (c == 'L')
				o.limits.max_layer_bytes = v;
			else
				o.limits.max_entries = v;
			break;
		}
		case 'h': scan_usage(stdout); return VG_EXIT_OK;
		default: scan_usage(stderr); return VG_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		scan_usage(stderr);
		return VG_EXIT_USAGE;
	}
	const char *target = argv[optind];
	struct scan_result r = { 0 };
	struct vg_buf err = { 0 }, out = { 0 };
	int rc = !strcmp(what, "image") ? scan_image(target, &o, &r, &err) :
					  scan_rootfs(target, &o, &r, &err);
	if (r.warnings.len)
		fputs(r.warnings.data, stderr);
	if (rc) {
		fprintf(stderr, "vigil: %s\n", err.data ? err.data : "scan failed");
		scan_result_free(&r);
		buf_free(&err);
		return VG_EXIT_ERROR;
	}
	FILE *f = output ? fopen(output, "w") : stdout;
	if (!f) {
		perror(output);
		scan_result_free(&r);
		return VG_EXIT_ERROR;
	}
	report_write(&r, format, !output && isatty(1) && format == REPORT_TABLE, &out);
	fwrite(out.data ? out.data : "", 1, out.len, f);
	int ret = VG_EXIT_OK;
	if ((output ? fclose(f) : fflush(f)) != 0) {
		fprintf(stderr, "vigil: cannot write the report\n");
		ret = VG_EXIT_ERROR;
	}
	buf_free(&out);
	buf_free(&err);
	scan_result_free(&r);
	return ret;
}
