/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>
#include "scan/catalogers/catalog.h"

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !memcmp(s + n - m, suffix, m);
}

/* node_modules/<name>/package.json or node_modules/@scope/<name>/package.json */
static bool npm_package_root(const char *path)
{
	const char *nm = NULL;

	for (const char *p = path; (p = strstr(p, "node_modules/")); p++)
		if (p == path || p[-1] == '/')
			nm = p;
	if (!nm)
		return false;
	const char *rest = nm + strlen("node_modules/");
	const char *slash = strchr(rest, '/');
	if (!slash)
		return false;
	if (rest[0] == '@') {
		slash = strchr(slash + 1, '/');
		if (!slash)
			return false;
	}
	return !strcmp(slash + 1, "package.json");
}

enum cat_kind catalog_kind(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;

	if (!strcmp(path, "var/lib/dpkg/status"))
		return CAT_DPKG;
	if (!strncmp(path, "var/lib/dpkg/status.d/", 22) && !strchr(path + 22, '/') &&
	    !ends_with(path, ".md5sums"))
		return CAT_DPKG;
	if (!strcmp(path, "lib/apk/db/installed"))
		return CAT_APK;
	if (ends_with(path, ".dist-info/METADATA") || ends_with(path, ".egg-info/PKG-INFO") ||
	    ends_with(path, ".egg-info"))
		return CAT_PYTHON;
	if (!strcmp(base, "package.json") && npm_package_root(path))
		return CAT_NPM_PKG;
	if (!strcmp(base, "package-lock.json") && !strstr(path, "node_modules/"))
		return CAT_NPM_LOCK;
	if (!strcmp(path, "var/lib/rpm/rpmdb.sqlite") ||
	    !strcmp(path, "usr/lib/sysimage/rpm/rpmdb.sqlite"))
		return CAT_RPM_SQLITE;
	if (!strcmp(path, "var/lib/rpm/Packages") || !strcmp(path, "usr/lib/sysimage/rpm/Packages"))
		return CAT_RPM_BDB;
	if (!strcmp(path, "var/lib/rpm/Packages.db") ||
	    !strcmp(path, "usr/lib/sysimage/rpm/Packages.db"))
		return CAT_RPM_NDB;
	if (ends_with(path, ".jar") || ends_with(path, ".war") || ends_with(path, ".ear") ||
	    (!strcmp(base, "pom.properties") && strstr(path, "META-INF/maven/")))
		return CAT_JAVA;
	if (!strcmp(base, "Cargo.lock"))
		return CAT_CARGO_LOCK;
	if (ends_with(path, ".gemspec") && strstr(path, "/specifications/"))
		return CAT_GEMSPEC;
	return CAT_NONE;
}

void catalog_parse(enum cat_kind kind, const char *data, size_t len, const char *path,
		   struct scan_result *r, size_t blob, uint64_t seq)
{
	size_t first = r->npkgs;

	switch (kind) {
	case CAT_DPKG: cat_dpkg_parse(data, len, path, r); break;
	case CAT_APK: cat_apk_parse(data, len, path, r); break;
	case CAT_PYTHON: cat_python_parse(data, len, path, r); break;
	case CAT_NPM_PKG: cat_npm_parse_package(data, len, path, r); break;
	case CAT_NPM_LOCK: cat_npm_parse_lock(data, len, path, r); break;
	case CAT_RPM_SQLITE: cat_rpm_parse_sqlite(data, len, path, r); break;
	case CAT_RPM_BDB: cat_rpm_parse_bdb(data, len, path, r); break;
	case CAT_RPM_NDB: cat_rpm_parse_ndb(data, len, path, r); break;
	case CAT_JAVA: cat_java_parse(data, len, path, r); break;
	case CAT_CARGO_LOCK: cat_cargo_parse(data, len, path, r); break;
	case CAT_GEMSPEC: cat_gem_parse(data, len, path, r); break;
	default: break;
	}
	for (size_t i = first; i < r->npkgs; i++) {
		r->pkgs[i].layer = (unsigned)blob;
		r->pkgs[i].seq = seq;
	}
}

int cat_next_line(const char *data, size_t len, size_t *pos, const char **line, size_t *llen)
{
	if (*pos >= len)
		return 0;
	const char *start = data + *pos;
	const char *nl = memchr(start, '\n', len - *pos);
	size_t n = nl ? (size_t)(nl - start) : len - *pos;

	*pos += n + (nl ? 1 : 0);
	if (n && start[n - 1] == '\r')
		n--;
	*line = start;
	*llen = n;
	return 1;
}
