/* SPDX-License-Identifier: Apache-2.0 */
/* vigil vercmp ECOSYSTEM A B: print <, = or > (like dpkg --compare-versions). */
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"
#include "scan/matching/vercmp.h"

/* Batch mode: "A B" per line on stdin, "<", "=" or ">" per line out (for cross-checks). */
static int vercmp_lines(enum vercmp_scheme s)
{
	char line[1024];
	unsigned long n = 0;

	while (fgets(line, sizeof(line), stdin)) {
		char a[512], b[512];
		n++;
		if (!strchr(line, '\n') && !feof(stdin)) {
			fprintf(stderr, "vigil: <stdin>:%lu: line too long\n", n);
			return VG_EXIT_ERROR;
		}
		if (sscanf(line, "%511s %511s", a, b) != 2) {
			fprintf(stderr, "vigil: <stdin>:%lu: expected two versions\n", n);
			return VG_EXIT_ERROR;
		}
		int c = vercmp(s, a, b);
		puts(c < 0 ? "<" : c > 0 ? ">" : "=");
	}
	return VG_EXIT_OK;
}

int cmd_vercmp(int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		puts("usage: vigil vercmp ECOSYSTEM A B\n"
		     "       vigil vercmp ECOSYSTEM -      pairs \"A B\" on stdin, one result a line\n"
		     "prints <, = or > as ECOSYSTEM orders versions A and B.\n"
		     "ECOSYSTEM: an OSV ecosystem (Debian:12, Ubuntu, Alpine:v3.18, Red Hat, PyPI, Go,\n"
		     "npm, crates.io, Maven, ...) or dpkg, apk, rpm, semver, pep440, go, maven");
		return VG_EXIT_OK;
	}
	if (argc != 4 && !(argc == 3 && !strcmp(argv[2], "-"))) {
		fputs("usage: vigil vercmp ECOSYSTEM A B | vigil vercmp ECOSYSTEM - (pairs on stdin)\n",
		      stderr);
		return VG_EXIT_USAGE;
	}
	enum vercmp_scheme s = vercmp_scheme(argv[1]);
	if (s == VERCMP_NONE) {
		fprintf(stderr, "vigil: unknown ecosystem '%s'\n", argv[1]);
		return VG_EXIT_USAGE;
	}
	if (argc == 3)
		return vercmp_lines(s);
	if (s == VERCMP_PEP440)
		for (int i = 2; i < 4; i++)
			if (!vercmp_pep440_valid(argv[i])) {
				fprintf(stderr, "vigil: invalid PEP 440 version '%s'\n", argv[i]);
				return VG_EXIT_ERROR;
			}
	int c = vercmp(s, argv[2], argv[3]);
	puts(c < 0 ? "<" : c > 0 ? ">" : "=");
	return VG_EXIT_OK;
}
