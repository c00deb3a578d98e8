/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Catalogers: which files hold package metadata, and their parsers. Each
 * cataloger is one file (cat_*.c) defining one struct cataloger, listed once
 * in catalog.c's table; the layer walk asks the table which cataloger wants a
 * file and hands it the contents. Adding a cataloger is a new file, its
 * declaration below and one table entry.
 *
 * Every parser reads untrusted bytes (data, len; not NUL-terminated), appends
 * packages to r with scan_add_pkg and reports bad input as one warning naming
 * path and line; none can fail otherwise.
 *
 * Go build information and cargo-auditable sections are not in the table:
 * they are searched in binaries while the file streams by (cat_go.h,
 * cat_auditable.h), without holding the file in memory.
 */
#ifndef VIGIL_SCAN_CATALOG_H
#define VIGIL_SCAN_CATALOG_H

#include <stdbool.h>
#include "scan/scan.h"

struct cataloger {
	const char *name;
	/* Whether path (relative to the image root, no leading '/') is one of its files. */
	bool (*match)(const char *path);
	/* Parse one whole file; packages are appended to r. Can't fail. */
	void (*parse)(const char *data, size_t len, const char *path, struct scan_result *r);
};

extern const struct cataloger cat_dpkg;        /* var/lib/dpkg/status, status.d/<pkg> */
extern const struct cataloger cat_apk;         /* lib/apk/db/installed */
extern const struct cataloger cat_python;      /* *.dist-info/METADATA, *.egg-info[/PKG-INFO] */
extern const struct cataloger cat_npm_package; /* node_modules/<name>/package.json */
extern const struct cataloger cat_npm_lock;    /* package-lock.json */
extern const struct cataloger cat_rpm_sqlite;  /* {var/lib,usr/lib/sysimage}/rpm/rpmdb.sqlite */
extern const struct cataloger cat_rpm_bdb;     /* .../rpm/Packages */
extern const struct cataloger cat_rpm_ndb;     /* .../rpm/Packages.db */
extern const struct cataloger cat_java;        /* *.jar, *.war, *.ear, loose pom.properties */
extern const struct cataloger cat_cargo;       /* Cargo.lock */
extern const struct cataloger cat_gem;         /* specifications/NAME.gemspec */
extern const struct cataloger cat_yarn;        /* yarn.lock (v1 and Berry) */
extern const struct cataloger cat_pnpm;        /* pnpm-lock.yaml (v5, v6, v9) */
extern const struct cataloger cat_poetry;      /* poetry.lock */
extern const struct cataloger cat_uv;          /* uv.lock */
extern const struct cataloger cat_pipfile;     /* Pipfile.lock */
extern const struct cataloger cat_requirements; /* requirements*.txt, pinned lines */
extern const struct cataloger cat_composer;    /* composer.lock, vendor/composer/installed.json */
extern const struct cataloger cat_dotnet_deps; /* *.deps.json */
extern const struct cataloger cat_nuget_lock;  /* packages.lock.json */
extern const struct cataloger cat_gemlock;     /* Gemfile.lock, gems.locked */
extern const struct cataloger cat_pubspec;     /* pubspec.lock */
extern const struct cataloger cat_swift;       /* Package.resolved */
extern const struct cataloger cat_mix;         /* mix.lock */
extern const struct cataloger cat_rebar;       /* rebar.lock */
extern const struct cataloger cat_conan;       /* conan.lock */
extern const struct cataloger cat_gradle;      /* gradle.lockfile, gradle/dependency-locks/ */
extern const struct cataloger cat_podfile;     /* Podfile.lock */
extern const struct cataloger cat_maven_pom;   /* a project's pom.xml: its dependencies */
extern const struct cataloger cat_runtime;     /* python, node, java, go runtimes */

/* The cataloger of path (the first in table order that matches), or NULL. */
const struct cataloger *catalog_find(const char *path);
/* Parse one file with c; packages get layer `blob` and entry `seq`. Can't fail. */
void catalog_parse(const struct cataloger *c, const char *data, size_t len, const char *path,
		   struct scan_result *r, size_t blob, uint64_t seq);

#endif
