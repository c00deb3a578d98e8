/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Version comparison, exactly as each ecosystem's own tools order versions.
 * One file per ecosystem (vercmp_<name>.c), dispatched by OSV ecosystem
 * name; the same functions serve matching and `vigil vercmp`:
 *
 *   dpkg      deb-version(7): epoch, upstream, revision, '~'
 *   apk       apk-tools' tokenizer: letters, _alpha.._rc / _p suffixes, -rN
 *   rpm       rpmvercmp and rpm's own [epoch:]version[-release] split
 *   semver    SemVer 2.0.0 (npm, crates.io, Hex, SwiftURL)
 *   go        SemVer with "v" and "+incompatible", toolchain "go1.x"
 *   pep440    PEP 440 (the specification's grammar and ordering)
 *   maven     the POM reference's "Version Order Specification"
 *   gem       RubyGems' Gem::Version
 *   nuget     NuGet.Versioning: four numbers, case-insensitive labels
 *   composer  Composer's normalisation, then PHP's version_compare
 *   pub       pub_semver: build metadata orders after the bare version
 *
 * Every function returns <0, 0 or >0, never fails and is antisymmetric;
 * what a version the rules cannot parse does is said per function.
 */
#ifndef VIGIL_SCAN_VERCMP_H
#define VIGIL_SCAN_VERCMP_H

#include <stdbool.h>
#include <stddef.h>

enum vercmp_scheme {
	VERCMP_NONE = -1,
	VERCMP_DPKG,
	VERCMP_APK,
	VERCMP_RPM,
	VERCMP_SEMVER,
	VERCMP_PEP440,
	VERCMP_GO,
	VERCMP_MAVEN,
	VERCMP_GEM,
	VERCMP_NUGET,
	VERCMP_COMPOSER,
	VERCMP_PUB,
	VERCMP_COUNT,
};

/* The scheme of an OSV ecosystem ("Debian:12", "PyPI", ...) or of a short name (dpkg, rpm, ...). */
enum vercmp_scheme vercmp_scheme(const char *ecosystem);
/* The short name of a scheme ("dpkg", ...), "bytes" for VERCMP_NONE. */
const char *vercmp_scheme_name(enum vercmp_scheme s);

int vercmp_dpkg(const char *a, const char *b);
int vercmp_apk(const char *a, const char *b);
int vercmp_rpm(const char *a, const char *b);
int vercmp_semver(const char *a, const char *b);
int vercmp_go(const char *a, const char *b);
int vercmp_maven(const char *a, const char *b);
int vercmp_gem(const char *a, const char *b);
int vercmp_nuget(const char *a, const char *b);
int vercmp_composer(const char *a, const char *b);
int vercmp_pub(const char *a, const char *b);
/* PEP 440; an invalid version (not matching the spec) sorts before every valid one. */
int vercmp_pep440(const char *a, const char *b);
bool vercmp_pep440_valid(const char *v);
/* Whether apk-tools accepts v (apk_version_validate, letters followed by digits allowed). */
bool vercmp_apk_valid(const char *v);

/* Compare under a scheme; VERCMP_NONE compares bytes. */
int vercmp(enum vercmp_scheme s, const char *a, const char *b);

/*
 * Whether v is a version the scheme's own grammar accepts. Schemes whose
 * tools order any string (dpkg, rpm, maven, gem, composer) accept all but
 * the empty string. Used for warnings only: comparison never refuses.
 */
bool vercmp_valid(enum vercmp_scheme s, const char *v);

/* Helpers the orders share. */
static inline int vercmp_sign(long v)
{
	return (v > 0) - (v < 0);
}
/* ASCII classes: the orders are defined on bytes, never on the locale. */
static inline bool vc_digit(int c)
{
	return c >= '0' && c <= '9';
}
static inline bool vc_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static inline int vc_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}
/* Compare two runs of decimal digits of any length by value. Can't fail. */
int vercmp_digits(const char *a, size_t an, const char *b, size_t bn);
/* Whether p[0..n) is one or more decimal digits. */
bool vercmp_all_digits(const char *p, size_t n);
/* Compare byte strings p[0..pn) and q[0..qn): memcmp, then the shorter first. */
int vercmp_bytes(const char *p, size_t pn, const char *q, size_t qn);
/* SemVer pre-release identifier lists (dot-separated): numbers by value below text
 * (text by bytes, or ASCII case folded when nocase), fewer identifiers lower. */
int vercmp_semver_idents(const char *p, size_t pn, const char *q, size_t qn, bool nocase);
/* Byte strings compared with ASCII case folded, then the shorter first. */
int vercmp_bytes_nocase(const char *p, size_t pn, const char *q, size_t qn);

/*
 * "N[.N...][-pre][+build]" as SemVer, NuGet and Pub write it: up to nparts
 * (at most 4) numbers, then text that is not "-pre" ("1.0rc1") taken as the
 * pre-release. Pointers into the string; NULL: absent.
 */
struct vercmp_dotted {
	const char *num[4];
	size_t numlen[4];
	const char *pre, *build;
	size_t prelen, buildlen;
};
void vercmp_dotted_parse(const char *v, size_t len, int nparts, struct vercmp_dotted *d);
/* The numbers by value, a missing one 0. */
int vercmp_dotted_nums(const struct vercmp_dotted *x, const struct vercmp_dotted *y, int nparts);

#endif
