/* SPDX-License-Identifier: Apache-2.0 */
#include "scan/catalogers/catalog.h"

/* In the order they are asked: the first that matches a path parses it. */
static const struct cataloger *const catalogers[] = {
	&cat_dpkg, &cat_apk, &cat_python, &cat_npm_package, &cat_npm_lock, &cat_rpm_sqlite,
	&cat_rpm_bdb, &cat_rpm_ndb, &cat_java, &cat_cargo, &cat_gem,
	&cat_yarn, &cat_pnpm, &cat_poetry, &cat_uv, &cat_pipfile, &cat_requirements,
	&cat_composer, &cat_dotnet_deps, &cat_nuget_lock, &cat_gemlock, &cat_pubspec, &cat_swift,
	&cat_mix, &cat_rebar, &cat_conan, &cat_gradle, &cat_podfile, &cat_maven_pom,
	&cat_runtime,
};

const struct cataloger *catalog_find(const char *path)
{
	for (size_t i = 0; i < sizeof(catalogers) / sizeof(catalogers[0]); i++)
		if (catalogers[i]->match(path))
			return catalogers[i];
	return NULL;
}

void catalog_parse(const struct cataloger *c, const char *data, size_t len, const char *path,
		   struct scan_result *r, size_t blob, uint64_t seq)
{
	size_t first = r->npkgs;

	c->parse(data, len, path, r);
	for (size_t i = first; i < r->npkgs; i++) {
		r->pkgs[i].layer = (unsigned)blob;
		r->pkgs[i].seq = seq;
	}
}
