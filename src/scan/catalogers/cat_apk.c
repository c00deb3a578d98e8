/* SPDX-License-Identifier: Apache-2.0 */
/*
 * apk's installed database (lib/apk/db/installed): one "X:value" line per
 * field, a blank line between packages. P name, V version, A arch, o origin
 * (the source package), L license.
 */
#include <stdlib.h>
#include <string.h>
#include "scan/catalogers/cat_text.h"
#include "scan/catalogers/catalog.h"

enum { F_NAME, F_VERSION, F_ARCH, F_ORIGIN, F_LICENSE, F_N };
static const char *const fields[F_N] = { "P", "V", "A", "o", "L" };

static void apk_emit(char **f, size_t line, const char *path, struct scan_result *r)
{
	const char *name = f[F_NAME], *version = f[F_VERSION];

	if (!line)
		return;
	if (!name || !version || !name[0] || !version[0]) {
		scan_warn(r, "cannot parse %s:%zu: package without %s", path, line,
			  name ? "V: (version)" : "P: (name)");
		return;
	}
	struct scan_pkg *p = scan_add_pkg(r, "apk", name, version, path);
	if (f[F_ARCH])
		p->arch = xstrdup(f[F_ARCH]);
	if (f[F_LICENSE])
		p->license = xstrdup(f[F_LICENSE]);
	p->src_name = xstrdup(f[F_ORIGIN] ? f[F_ORIGIN] : name);
	p->src_version = xstrdup(version);
}

static void apk_parse(const char *data, size_t len, const char *path, struct scan_result *r)
{
	cat_text_stanzas(CAT_STANZA_APK, fields, F_N, apk_emit, data, len, path, r);
}

static bool apk_match(const char *path)
{
	return !strcmp(path, "lib/apk/db/installed");
}

const struct cataloger cat_apk = { "apk", apk_match, apk_parse };
