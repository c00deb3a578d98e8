/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Catalogers: which files hold package metadata, and their parsers. Every
 * parser reads untrusted bytes (data, len; not NUL-terminated), appends
 * packages to r with scan_add_pkg and reports bad input as one warning
 * naming path and line; none can fail otherwise.
 */
#ifndef VIGIL_SCAN_CATALOG_H
#define VIGIL_SCAN_CATALOG_H

#include "scan/scan.h"

enum cat_kind {
	CAT_NONE,
	CAT_DPKG,       /* var/lib/dpkg/status, var/lib/dpkg/status.d/<pkg> */
	CAT_APK,        /* lib/apk/db/installed */
	CAT_RPM_SQLITE, /* var/lib/rpm/rpmdb.sqlite, usr/lib/sysimage/rpm/rpmdb.sqlite */
	CAT_RPM_BDB,    /* var/lib/rpm/Packages, usr/lib/sysimage/rpm/Packages */
	CAT_RPM_NDB,    /* var/lib/rpm/Packages.db, usr/lib/sysimage/rpm/Packages.db */
	CAT_PYTHON,     /* *.dist-info/METADATA, *.egg-info/PKG-INFO, *.egg-info */
	CAT_NPM_PKG,    /* node_modules/<name>/package.json */
	CAT_NPM_LOCK,   /* package-lock.json */
	CAT_JAVA,       /* *.jar, *.war, *.ear and loose pom.properties */
	CAT_CARGO_LOCK, /* Cargo.lock */
	CAT_GEMSPEC,    /* specifications/NAME.gemspec */
};

enum cat_kind catalog_kind(const char *path);
/* Parse one file; packages get layer `blob` and entry `seq`. Can't fail. */
void catalog_parse(enum cat_kind kind, const char *data, size_t len, const char *path,
		   struct scan_result *r, size_t blob, uint64_t seq);

void cat_dpkg_parse(const char *data, size_t len, const char *path, struct scan_result *r);
void cat_apk_parse(const char *data, size_t len, const char *path, struct scan_result *r);
void cat_python_parse(const char *data, size_t len, const char *path, struct scan_result *r);
void cat_npm_parse_package(const char *data, size_t len, const char *path,
			   struct scan_result *r);
void cat_npm_parse_lock(const char *data, size_t len, const char *path, struct scan_result *r);
void cat_rpm_parse_sqlite(const char *data, size_t len, const char *path, struct scan_result *r);
void cat_rpm_parse_bdb(const char *data, size_t len, const char *path, struct scan_result *r);
void cat_rpm_parse_ndb(const char *data, size_t len, const char *path, struct scan_result *r);
void cat_java_parse(const char *data, size_t len, const char *path, struct scan_result *r);
void cat_cargo_parse(const char *data, size_t len, const char *path, struct scan_result *r);
void cat_gem_parse(const char *data, size_t len, const char *path, struct scan_result *r);

/*
 * Line iteration over untrusted text shared by the parsers: *pos advances
 * past the next line (without its '\n', '\r' trimmed); returns 0 at the end.
 */
int cat_next_line(const char *data, size_t len, size_t *pos, const char **line, size_t *llen);

#endif
