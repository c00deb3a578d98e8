/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Version comparison, exactly as each ecosystem's own tools order versions:
 * dpkg (deb-version(7): epoch, upstream, revision, '~'), apk (apk-tools'
 * tokenizer: letters, _alpha.._rc / _p suffixes, -rN), rpm (rpmvercmp with
 * '~' and '^', epoch:version-release), SemVer 2.0.0, PEP 440 (the spec's own
 * grammar and ordering), Go (SemVer with "v" and "+incompatible") and Maven
 * (ComparableVersion) and RubyGems (Gem::Version). Every function returns <0, 0 or >0 and never fails;
 * a version the rules cannot parse orders by its bytes after valid ones only
 * where the function says so.
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
};

/* The scheme of an OSV ecosystem ("Debian:12", "PyPI", ...) or of a short name (dpkg, rpm, ...). */
enum vercmp_scheme vercmp_scheme(const char *ecosystem);

int vercmp_dpkg(const char *a, const char *b);
int vercmp_apk(const char *a, const char *b);
int vercmp_rpm(const char *a, const char *b);
int vercmp_semver(const char *a, const char *b);
int vercmp_go(const char *a, const char *b);
int vercmp_maven(const char *a, const char *b);
int vercmp_gem(const char *a, const char *b);
/* PEP 440; an invalid version (not matching the spec) sorts before every valid one. */
int vercmp_pep440(const char *a, const char *b);
bool vercmp_pep440_valid(const char *v);

/* Compare under a scheme; VERCMP_NONE compares bytes. */
int vercmp(enum vercmp_scheme s, const char *a, const char *b);

/* Helpers the orders share (vercmp.c, vercmp_pep440.c, vercmp_maven.c). */
static inline int vercmp_sign(long v)
{
	return (v > 0) - (v < 0);
}
/* Compare two runs of decimal digits of any length by value. Can't fail. */
int vercmp_digits(const char *a, size_t an, const char *b, size_t bn);
/* Whether p[0..n) is one or more decimal digits. */
bool vercmp_all_digits(const char *p, size_t n);

#endif
