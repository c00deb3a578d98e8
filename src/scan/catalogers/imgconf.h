/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Image configuration checks on the config blob (OCI/docker image config):
 * runs as root, SSH port exposed, secrets in ENV, no HEALTHCHECK, a remote
 * script piped to a shell in the build history.
 */
#ifndef VIGIL_SCAN_IMGCONF_H
#define VIGIL_SCAN_IMGCONF_H

#include "scan/scan.h"

/* Add findings for config (JSON text) to r->config. Bad JSON is a warning. */
void imgconf_check(const char *config, struct scan_result *r);

#endif
