/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Secret rules (our own; docs/scanning.md lists them): PCRE2 patterns, each
 * behind keywords that must occur in the file (case-insensitive) before its
 * pattern runs, all found in one pass over the file; a pattern is tried only
 * where its keywords say a match can start. Binary files (a NUL
 * byte in the first 8 KiB) are skipped. Findings are redacted.
 */
#ifndef VIGIL_SCAN_SECRETS_H
#define VIGIL_SCAN_SECRETS_H

#include "scan/scan.h"

struct secrets;

/* Compile the rules; aborts if a built-in pattern does not compile (a bug). */
struct secrets *secrets_new(void);
void secrets_free(struct secrets *s);
/* Add the findings in one file's contents to r (layer `blob`, entry `seq`). */
void secrets_scan(struct secrets *s, const char *data, size_t len, const char *path,
		  struct scan_result *r, size_t blob, uint64_t seq);
/*
 * The same findings found the plain way: each rule's pattern searched over the
 * whole file, no keyword pass. What secrets_scan must equal (tests, fuzzer).
 */
void secrets_scan_plain(struct secrets *s, const char *data, size_t len, const char *path,
			struct scan_result *r, size_t blob, uint64_t seq);
/* Use the AVX2 keyword pass when the CPU has it (the default); returns whether it is used. */
bool secrets_vector(struct secrets *s, bool on);

#endif
