/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: every package database parser; the first byte picks the parser:
 * below 0x40 one of the hand-listed ones (byte % 13, as the seed corpus has
 * it); from 0x40, (byte - 0x40) / 2 picks the cataloger of a path in
 * lock_paths (or, one past them, the XML reader) and its low bit turns on
 * development dependencies.
 */
#include <stddef.h>
#include <stdint.h>
#include "scan/catalogers/cat_auditable.h"
#include "scan/catalogers/cat_go.h"
#include "scan/catalogers/cat_xml.h"
#include "scan/catalogers/catalog.h"
#include "scan/reports/purl.h"

static const char *const lock_paths[] = {
	"srv/package-lock.json", /* npm with aliases and dev flags */
	"srv/yarn.lock",
	"srv/pnpm-lock.yaml",
	"srv/poetry.lock",
	"srv/uv.lock",
	"srv/Pipfile.lock",
	"srv/requirements.txt",
	"srv/composer.lock",
	"srv/vendor/composer/installed.json",
	"srv/app.deps.json",
	"srv/packages.lock.json",
	"srv/Gemfile.lock",
	"srv/pubspec.lock",
	"srv/Package.resolved",
	"srv/mix.lock",
	"srv/rebar.lock",
	"srv/conan.lock",
	"srv/gradle.lockfile",
	"srv/Podfile.lock",
	"srv/pom.xml",
	"usr/local/bin/python3.11",
	"usr/local/bin/node",
	"opt/java/openjdk/release",
	"usr/local/go/VERSION",
};
#define NLOCK (sizeof(lock_paths) / sizeof(lock_paths[0]))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scan_result r = { 0 };
	const char *d = (const char *)data + 1;

	if (!size)
		return 0;
	size--;
	unsigned pick = data[0] < 0x40 ? data[0] % 13u : 13;
	if (data[0] >= 0x40) {
		unsigned k = ((unsigned)data[0] - 0x40) / 2 % (NLOCK + 1);
		r.include_dev = data[0] & 1;
		if (k < NLOCK) {
			const struct cataloger *c = catalog_find(lock_paths[k]);
			if (c)
				c->parse(d, size, lock_paths[k], &r);
		} else {
			char err[160];
			xml_free(xml_parse(d, size, err, sizeof(err)));
		}
	}
	switch (pick) {
	case 0: cat_dpkg.parse(d, size, "var/lib/dpkg/status", &r); break;
	case 1: cat_apk.parse(d, size, "lib/apk/db/installed", &r); break;
	case 2: cat_python.parse(d, size, "x.dist-info/METADATA", &r); break;
	case 3: cat_npm_package.parse(d, size, "node_modules/x/package.json", &r); break;
	case 4: cat_npm_lock.parse(d, size, "package-lock.json", &r); break;
	case 5:
		cat_go_parse(d, size, "usr/bin/x", &r);
		(void)gobi_elf_is_go(d, size);
		cat_go_parse_elf(d, size, "usr/bin/y", &r);
		break;
	case 6: cat_rpm_sqlite.parse(d, size, "var/lib/rpm/rpmdb.sqlite", &r); break;
	case 7: cat_java.parse(d, size, size & 1 ? "a.jar" : "META-INF/maven/g/a/pom.properties", &r); break;
	case 8: cat_cargo.parse(d, size, "Cargo.lock", &r); break;
	case 9: cat_gem.parse(d, size, "specifications/x.gemspec", &r); break;
	case 10: cat_rpm_bdb.parse(d, size, "var/lib/rpm/Packages", &r); break;
	case 11: cat_rpm_ndb.parse(d, size, "var/lib/rpm/Packages.db", &r); break;
	case 12: cat_auditable_parse_file(d, size, "usr/bin/rust", &r); break;
	}
	for (size_t i = 0; i < r.npkgs; i++)
		purl_fill(&r, &r.pkgs[i]);
	scan_result_free(&r);
	return 0;
}
