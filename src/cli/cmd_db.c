/* SPDX-License-Identifier: Apache-2.0 */
/* vigil db import|status: the OSV vulnerability database. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "scan/matching/vulndb.h"

static void db_usage(FILE *f)
{
	fputs("usage: vigil db import [--db FILE] PATH...   load OSV records: a directory of JSON\n"
	      "                                             files, osv.dev's all.zip, or one file\n"
	      "       vigil db status [--db FILE]           counts per ecosystem, newest record\n"
	      "\n"
	      "FILE defaults to $VIGIL_DB or vigil-vulns.db. Importing a record again replaces it.\n"
	      "exit status: 0 success, 1 runtime error, 2 usage error\n",
	      f);
}

/* The database path: --db FILE, else $VIGIL_DB, else ./vigil-vulns.db. */
const char *db_default_path(void)
{
	const char *e = getenv("VIGIL_DB");
	return e && e[0] ? e : "vigil-vulns.db";
}

int cmd_db(int argc, char **argv)
{
	const char *path = db_default_path();
	struct vg_buf err = { 0 }, out = { 0 };
	int first = 2, rc = VG_EXIT_OK;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		db_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? VG_EXIT_USAGE : VG_EXIT_OK;
	}
	if (argc >= 4 && !strcmp(argv[2], "--db")) {
		path = argv[3];
		first = 4;
	}
	if (!strcmp(argv[1], "import")) {
		if (first >= argc) {
			db_usage(stderr);
			return VG_EXIT_USAGE;
		}
		sqlite3 *db = vulndb_open(path, true, &err);
		if (!db) {
			fprintf(stderr, "vigil: %s\n", err.data);
			buf_free(&err);
			return VG_EXIT_ERROR;
		}
		for (int i = first; i < argc && rc == VG_EXIT_OK; i++) {
			struct vulndb_stats st = { 0 };
			if (vulndb_import(db, argv[i], &st, &err)) {
				fprintf(stderr, "vigil: %s\n", err.data);
				rc = VG_EXIT_ERROR;
			} else {
				printf("%s: %lu records imported, %lu skipped\n", argv[i], st.records,
				       st.skipped);
			}
		}
		vulndb_close(db);
	} else if (!strcmp(argv[1], "status")) {
		if (first != argc) {
			db_usage(stderr);
			return VG_EXIT_USAGE;
		}
		sqlite3 *db = vulndb_open(path, false, &err);
		if (!db || vulndb_status(db, &out, &err)) {
			fprintf(stderr, "vigil: %s\n", err.data);
			rc = VG_EXIT_ERROR;
		} else {
			printf("database: %s\n%s", path, out.data);
		}
		if (db)
			vulndb_close(db);
	} else {
		fprintf(stderr, "vigil: unknown db command '%s'\n", argv[1]);
		db_usage(stderr);
		rc = VG_EXIT_USAGE;
	}
	buf_free(&err);
	buf_free(&out);
	return rc;
}
