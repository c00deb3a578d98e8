/* SPDX-License-Identifier: Apache-2.0 */
/* vigil vercmp ECOSYSTEM A B: print <, = or > (like dpkg --compare-versions). */
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"
#include "scan/matching/vercmp.h"

/*
 * The one path both forms take: compare a and b under s and print the
 * result. A version the scheme's grammar does not accept (a PEP 440 or apk
 * version that is not one) is still compared, as matching compares it, and
 * said on stderr, prefixed by `where`.
 */
static void vercmp_print(enum vercmp_scheme s, const char *a, const char *b, const char *where)
{
	const char *v[2] = { a, b };
	for (int i = 0; i < 2; i++)
		if (!vercmp_valid(s, v[i]))
			fprintf(stderr, "vigil: %snot a valid %s version '%s': compared as matching compares it\n",
				where, vercmp_scheme_name(s), v[i]);
	int c = vercmp(s, a, b);
	puts(c < 0 ? "<" : c > 0 ? ">" : "=");
}

/* Batch mode: "A B" per line on stdin, "<", "=" or ">" per line out (for cross-checks). */
static int vercmp_lines(enum vercmp_scheme s)
{
	char line[1024];
	unsigned long n = 0;

	while (fgets(line, sizeof(line), stdin)) {
		char a[512], b[512], extra[2], where[64];
		n++;
		if (!strchr(line, '\n') && !feof(stdin)) {
			fprintf(stderr, "vigil: <stdin>:%lu: line too long\n", n);
			return VG_EXIT_ERROR;
		}
		if (sscanf(line, "%511s %511s %1s", a, b, extra) != 2) {
			fprintf(stderr, "vigil: <stdin>:%lu: expected two versions\n", n);
			return VG_EXIT_ERROR;
		}
		snprintf(where, sizeof(where), "<stdin>:%lu: ", n);
		vercmp_print(s, a, b, where);
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
		     "npm, crates.io, Maven, NuGet, Packagist, Pub, RubyGems, Hex, ...) or dpkg, apk,\n"
		     "rpm, semver, pep440, go, maven, gem, nuget, composer, pub.\n"
		     "A version the ecosystem's grammar rejects is compared all the same (as scans\n"
		     "compare it) and named on stderr; both forms accept the same versions.");
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
	vercmp_print(s, argv[2], argv[3], "");
	return VG_EXIT_OK;
}
