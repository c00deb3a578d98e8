/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dpkg status files (deb822 paragraphs): var/lib/dpkg/status and the
 * one-paragraph files of var/lib/dpkg/status.d/ (distroless images, which
 * have no Status field). A package counts when its Status is absent or its
 * state (the third word) is "installed" or a trigger state of an installed
 * package: unpacked, half-installed or config-files packages are not
 * configured on the system (dpkg-query's "ii" packages are what counts).
 * Source: "name" or "name (version)"; absent means the binary package is its
 * own source.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "scan/catalogers/cat_text.h"
#include "scan/catalogers/catalog.h"

static bool installed(const char *status)
{
	/* "want flag state": the state is the third word */
	const char *state = status ? strrchr(status, ' ') : NULL;

	if (!status)
		return true;
	state = state ? state + 1 : status;
	return !strcmp(state, "installed") || !strcmp(state, "triggers-pending") ||
	       !strcmp(state, "triggers-awaited");
}

enum { F_PACKAGE, F_VERSION, F_STATUS, F_SOURCE, F_ARCH, F_N };
static const char *const fields[F_N] = { "Package", "Version", "Status", "Source", "Architecture" };

static void dpkg_emit(char **f, size_t line, const char *path, struct scan_result *r)
{
	const char *package = f[F_PACKAGE], *version = f[F_VERSION], *source = f[F_SOURCE];

	if (!package && !version)
		return;
	if (!package || !version || !package[0] || !version[0]) {
		scan_warn(r, "cannot parse %s:%zu: package without %s", path, line,
			  package ? "Version" : "Package");
		return;
	}
	if (!installed(f[F_STATUS]))
		return;
	struct scan_pkg *pkg = scan_add_pkg(r, "deb", package, version, path);
	if (f[F_ARCH])
		pkg->arch = xstrdup(f[F_ARCH]);
	if (source && source[0]) {
		const char *paren = strchr(source, '(');
		if (paren) {
			const char *close = strchr(paren, ')');
			pkg->src_name = cat_text_trimdup(source, (size_t)(paren - source));
			pkg->src_version = close ? cat_text_trimdup(paren + 1,
								    (size_t)(close - paren - 1))
						 : xstrdup(version);
		} else {
			pkg->src_name = xstrdup(source);
			pkg->src_version = xstrdup(version);
		}
	} else {
		pkg->src_name = xstrdup(package);
		pkg->src_version = xstrdup(version);
	}
}

static void dpkg_parse(const char *data, size_t len, const char *path, struct scan_result *r)
{
	cat_text_stanzas(CAT_STANZA_DEB822, fields, F_N, dpkg_emit, data, len, path, r);
}

/* var/lib/dpkg/status, and var/lib/dpkg/status.d/<pkg> but not its .md5sums */
static bool dpkg_match(const char *path)
{
	if (!strcmp(path, "var/lib/dpkg/status"))
		return true;
	return !strncmp(path, "var/lib/dpkg/status.d/", 22) && !strchr(path + 22, '/') &&
	       !cat_text_ends_with(path, ".md5sums");
}

const struct cataloger cat_dpkg = { "dpkg", dpkg_match, dpkg_parse };
