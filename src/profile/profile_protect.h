/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a protecting profile's items mean to the allow lists
 * (docs/profiles.md, "Protecting"), as pure text functions: the program path
 * of an `exec` item, the host and port of a `connect` item, the nameservers
 * of a resolv.conf. Never read outside their input; any input is safe.
 */
#ifndef VIGIL_PROFILE_PROTECT_H
#define VIGIL_PROFILE_PROTECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * "PATH as NAME <- PARENT" (or "PATH <- PARENT") -> PATH into path and NAME
 * (or "") into name. false when the program is not an absolute path or a part
 * does not fit.
 */
bool profile_exec_program(const char *item, char *path, size_t pathlen, char *name, size_t namelen);

/* "tcp/HOST:PORT", "udp/[V6]:PORT" or "HOST:PORT" -> HOST and PORT (1..65535); false if not one. */
bool profile_dest_split(const char *item, char *host, size_t hostlen, uint16_t *port);

#define PROFILE_NS_LEN 64
/*
 * The addresses of the `nameserver` lines of a resolv.conf's text (len bytes,
 * NUL not needed), at most max, each an IPv4 or IPv6 literal (a `%scope` is
 * dropped) of fewer than PROFILE_NS_LEN bytes; how many.
 */
size_t profile_nameservers(const char *text, size_t len, char out[][PROFILE_NS_LEN], size_t max);

#endif
