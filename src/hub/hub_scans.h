/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Image scan results and admission decisions in the hub (docs/fleet.md,
 * "Scan results and admission decisions"; docs/hub.md, "Images and
 * admissions"): the messages' checks, the store's tables image_scans and
 * admissions, and the queries behind /api/v1/images and /api/v1/admissions.
 */
#ifndef VIGIL_HUB_SCANS_H
#define VIGIL_HUB_SCANS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>
#include "common/buf.h"
#include "hub/hub_msg.h"

/* Bounds of a scan message's report (an agent's scan of a large image has some thousands). */
#define HUB_SCAN_MAX_ITEMS 200000
#define HUB_SCAN_MAX_STR 4096

enum { HUB_SEV_CRITICAL, HUB_SEV_HIGH, HUB_SEV_MEDIUM, HUB_SEV_LOW, HUB_SEV_UNKNOWN, HUB_SEV__N };

/* What hub_scans_check found in a scan or admission message (strings point into m->body). */
struct hub_scan_fields {
	/* scan */
	const char *reference, *digest, *os, *sbom_format, *sbom;
	size_t sbom_len;
	char *report; /* owned: the report as compact JSON */
	char osbuf[160];
	int64_t sev[HUB_SEV__N], packages, secrets, misconfigs;
	/* admission */
	const char *uid, *operation, *obj_kind, *ns, *name, *user, *reason, *message, *policy_version;
	bool allowed;
};

/* Check a scan or admission message (m->body parsed); fills m->scan. 0, or -1 with err. */
int hub_scans_check(struct hub_msg *m, char *err, size_t errlen);
void hub_scans_fields_free(struct hub_msg *m);

/* The tables (the writer's connection). 0, or -1 with err. */
int hub_scans_schema(sqlite3 *db, char *err, size_t errlen);
/* Store a checked scan or admission message: 1 stored, 0 already there, -1 error. */
int hub_scans_add(sqlite3 *db, const struct hub_msg *m, int64_t recv_ns);

struct hub_images_query {
	const char *cluster, *node, *reference, *digest; /* reference: a substring; digest: a prefix */
	int min_sev;     /* -1 any, else images with a vulnerability at least this severe (HUB_SEV_*) */
	int64_t after_id;
	long limit;
};
/* {"images":[...],"next_cursor":"N"|null}: each image's latest scan. Rows, or -1 with err. */
long hub_images_list(sqlite3 *db, const struct hub_images_query *q, struct vg_buf *out, char *err, size_t errlen);
/* {"image":{...},"report":{...}} of the digest's latest scan: 1, 0 none, -1 error. */
int hub_image_get(sqlite3 *db, const char *digest, struct vg_buf *out, char *err, size_t errlen);
/* The SBOM as scanned (its text into out, its format "cyclonedx"|"spdx"): 1, 0 none, -1 error. */
int hub_image_sbom(sqlite3 *db, const char *digest, struct vg_buf *out, char *format, size_t flen, char *err,
		   size_t errlen);

struct hub_adm_query {
	const char *cluster, *node, *ns;
	int allowed; /* -1 any, 0 denied, 1 allowed */
	int64_t since_ns, until_ns, after_id;
	long limit;
};
/*
 * --retain: delete at most batch scans and batch decisions received before
 * cutoff_ns (small transactions). The larger of the two counts, or -1 with err.
 */
long hub_scans_retain(sqlite3 *db, int64_t cutoff_ns, long batch, char *err, size_t errlen);
/* {"admissions":[...],"next_cursor":"N"|null}. Rows, or -1 with err. */
long hub_admissions_list(sqlite3 *db, const struct hub_adm_query *q, struct vg_buf *out, char *err, size_t errlen);

#endif
