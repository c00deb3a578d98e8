/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Registry pulls: an image fetched over the OCI distribution API (HTTPS) into a
 * private temporary OCI layout, then scanned like any OCI layout.
 *
 * References: docker://[HOST[:PORT]/]NAME[:TAG][@sha256:HEX]. A first
 * component with a '.' or a ':' or "localhost" is a registry host; otherwise
 * the image is on Docker Hub (registry-1.docker.io, "library/" for one-part
 * names). The default tag is "latest".
 */
#ifndef VIGIL_SCAN_REGISTRY_H
#define VIGIL_SCAN_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>
#include "common/buf.h"
#include "scan/scan.h"

#define REGISTRY_PREFIX "docker://"

struct registry_ref {
	char *host;   /* "registry.example:5000" (how it is reached: https://HOST/v2/) */
	char *repo;   /* "team/app" */
	char *tag;    /* may be NULL when a digest is given */
	char *digest; /* "sha256:..." or NULL */
};

struct registry_opts {
	const char *ca_file;   /* PEM CA bundle to verify the registry with; NULL: system CAs */
	bool insecure;         /* do not verify the registry's certificate */
	const char *auth_file; /* containers auth.json / docker config.json; may be NULL */
	const char *creds;     /* "user:password" (VIGIL_REGISTRY_AUTH); wins over auth_file */
	uint64_t max_bytes;    /* all blobs of the image together */
	const char *tmpdir;    /* where the private layout is made; NULL: $TMPDIR or /var/tmp */
};

void registry_opts_default(struct registry_opts *o);

/*
 * Parse a reference (with or without the docker:// prefix) into r (strings
 * owned by r). Returns 0, or -1 with the reason in err.
 */
int registry_ref_parse(const char *s, struct registry_ref *r, struct vg_buf *err);
void registry_ref_free(struct registry_ref *r);

/*
 * Parse a WWW-Authenticate challenge: its scheme ("Bearer", "Basic") into
 * scheme and the realm, service and scope parameters (each NULL when absent;
 * all owned by the caller). Returns 0, or -1 when it is not a challenge.
 */
int registry_challenge_parse(const char *h, char **scheme, char **realm, char **service,
			     char **scope);

/*
 * Pull the image named by ref into dir (an existing, empty, private directory)
 * as an OCI image layout: the top manifest (an index or an image manifest),
 * for an index the linux/amd64 (else the first) image manifest, its config and
 * layers; every blob's size and sha256 checked while it streams to disk.
 * Returns 0, or -1 with the reason in err (naming the blob).
 */
int registry_pull(const struct registry_ref *ref, const struct registry_opts *o,
		  const char *dir, struct vg_buf *err);

/*
 * Pull ref into a temporary directory (mode 0700, removed afterwards) and scan
 * it into r; r->target is the reference and r->kind "registry". Returns 0, or
 * -1 with the reason in err.
 */
int registry_scan(const char *ref, const struct registry_opts *ro, const struct scan_opts *so,
		  struct scan_result *r, struct vg_buf *err);

#endif
