/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Version orders: the scheme of an ecosystem, the dispatch, and the helpers
 * the orders share. Each order lives in its own vercmp_<scheme>.c.
 */
#include <string.h>
#include "scan/matching/vercmp.h"

int vercmp_digits(const char *a, size_t an, const char *b, size_t bn)
{
	while (an && *a == '0')
		a++, an--;
	while (bn && *b == '0')
		b++, bn--;
	if (an != bn)
		return an < bn ? -1 : 1;
	return vercmp_sign(memcmp(a, b, an));
}

bool vercmp_all_digits(const char *p, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!vc_digit((unsigned char)p[i]))
			return false;
	return true;
}

int vercmp_bytes(const char *p, size_t pn, const char *q, size_t qn)
{
	int c = memcmp(p, q, pn < qn ? pn : qn);
	return c ? vercmp_sign(c) : (pn > qn) - (pn < qn);
}

int vercmp_bytes_nocase(const char *p, size_t pn, const char *q, size_t qn)
{
	for (size_t i = 0; i < pn && i < qn; i++) {
		int x = vc_lower((unsigned char)p[i]), y = vc_lower((unsigned char)q[i]);
		if (x != y)
			return x < y ? -1 : 1;
	}
	return (pn > qn) - (pn < qn);
}

static const struct {
	const char *prefix;
	enum vercmp_scheme s;
} scheme_map[] = {
	{ "Debian", VERCMP_DPKG },	{ "Ubuntu", VERCMP_DPKG },	   { "dpkg", VERCMP_DPKG },
	{ "deb", VERCMP_DPKG },		{ "Alpine", VERCMP_APK },	   { "Wolfi", VERCMP_APK },
	{ "Chainguard", VERCMP_APK },	{ "apk", VERCMP_APK },		   { "Red Hat", VERCMP_RPM },
	{ "Rocky Linux", VERCMP_RPM },	{ "AlmaLinux", VERCMP_RPM },	   { "openSUSE", VERCMP_RPM },
	{ "SUSE", VERCMP_RPM },		{ "Mariner", VERCMP_RPM },	   { "Photon OS", VERCMP_RPM },
	{ "Azure Linux", VERCMP_RPM },	{ "openEuler", VERCMP_RPM },	   { "rpm", VERCMP_RPM },
	{ "PyPI", VERCMP_PEP440 },	{ "pypi", VERCMP_PEP440 },	   { "pep440", VERCMP_PEP440 },
	{ "Go", VERCMP_GO },		{ "go", VERCMP_GO },		   { "golang", VERCMP_GO },
	{ "Maven", VERCMP_MAVEN },	{ "maven", VERCMP_MAVEN },	   { "npm", VERCMP_SEMVER },
	{ "crates.io", VERCMP_SEMVER }, { "cargo", VERCMP_SEMVER },	   { "SemVer", VERCMP_SEMVER },
	{ "semver", VERCMP_SEMVER },	{ "Hex", VERCMP_SEMVER },	   { "hex", VERCMP_SEMVER },
	{ "SwiftURL", VERCMP_SEMVER },	{ "swift", VERCMP_SEMVER },	   { "RubyGems", VERCMP_GEM },
	{ "gem", VERCMP_GEM },		{ "NuGet", VERCMP_NUGET },	   { "nuget", VERCMP_NUGET },
	{ "Packagist", VERCMP_COMPOSER }, { "packagist", VERCMP_COMPOSER }, { "composer", VERCMP_COMPOSER },
	{ "Pub", VERCMP_PUB },		{ "pub", VERCMP_PUB },
};

enum vercmp_scheme vercmp_scheme(const char *e)
{
	if (!e)
		return VERCMP_NONE;
	for (size_t i = 0; i < sizeof(scheme_map) / sizeof(*scheme_map); i++) {
		size_t n = strlen(scheme_map[i].prefix);
		if (!strncmp(e, scheme_map[i].prefix, n) && (e[n] == 0 || e[n] == ':'))
			return scheme_map[i].s;
	}
	return VERCMP_NONE;
}

const char *vercmp_scheme_name(enum vercmp_scheme s)
{
	static const char *const names[VERCMP_COUNT] = {
		[VERCMP_DPKG] = "dpkg",	    [VERCMP_APK] = "apk",	  [VERCMP_RPM] = "rpm",
		[VERCMP_SEMVER] = "semver", [VERCMP_PEP440] = "pep440", [VERCMP_GO] = "go",
		[VERCMP_MAVEN] = "maven",   [VERCMP_GEM] = "gem",	  [VERCMP_NUGET] = "nuget",
		[VERCMP_COMPOSER] = "composer", [VERCMP_PUB] = "pub",
	};
	return s >= 0 && s < VERCMP_COUNT ? names[s] : "bytes";
}

bool vercmp_valid(enum vercmp_scheme s, const char *v)
{
	if (!v || !*v)
		return false;
	switch (s) {
	case VERCMP_PEP440: return vercmp_pep440_valid(v);
	case VERCMP_APK: return vercmp_apk_valid(v);
	default: return true;
	}
}

int vercmp(enum vercmp_scheme s, const char *a, const char *b)
{
	switch (s) {
	case VERCMP_DPKG: return vercmp_dpkg(a, b);
	case VERCMP_APK: return vercmp_apk(a, b);
	case VERCMP_RPM: return vercmp_rpm(a, b);
	case VERCMP_SEMVER: return vercmp_semver(a, b);
	case VERCMP_PEP440: return vercmp_pep440(a, b);
	case VERCMP_GO: return vercmp_go(a, b);
	case VERCMP_MAVEN: return vercmp_maven(a, b);
	case VERCMP_GEM: return vercmp_gem(a, b);
	case VERCMP_NUGET: return vercmp_nuget(a, b);
	case VERCMP_COMPOSER: return vercmp_composer(a, b);
	case VERCMP_PUB: return vercmp_pub(a, b);
	default: return vercmp_sign(strcmp(a, b));
	}
}
