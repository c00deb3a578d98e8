/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_CLI_H
#define VIGIL_CLI_H

#include "common/version.h"

/* Exit codes, documented in `vigil --help` and docs/cli.md. */
enum vg_exit {
	VG_EXIT_OK = 0,
	VG_EXIT_ERROR = 1, /* runtime error */
	VG_EXIT_USAGE = 2, /* bad command line */
	VG_EXIT_NOT_FOUND = 3, /* scan lookup: nothing stored for that digest */
};

enum vg_mode { VG_MODE_TRACE, VG_MODE_CAPTURE, VG_MODE_REPLAY, VG_MODE_RUN };

int cmd_run(int argc, char **argv, enum vg_mode mode); /* run, trace, capture, replay (cmd_run.c) */
int cmd_events(int argc, char **argv);
int cmd_rules(int argc, char **argv);
int cmd_alerts(int argc, char **argv);
int cmd_actions(int argc, char **argv);
int cmd_flows(int argc, char **argv); /* cmd_flows.c */
int cmd_profile(int argc, char **argv); /* cmd_profile.c: vigil profile (docs/profiles.md) */
int cmd_respond(int argc, char **argv);
/* vigil scan config (cmd_config.c) and vigil admission (cmd_admission.c) */
int cmd_scan_config(int argc, char **argv);
int cmd_admission(int argc, char **argv);
int cmd_scan(int argc, char **argv);
int cmd_vercmp(int argc, char **argv);
int cmd_db(int argc, char **argv);
const char *db_default_path(void); /* --db default: $VIGIL_DB or vigil-vulns.db */
int cmd_fleet(int argc, char **argv); /* vigil fleet init|nkey|push|history (cmd_fleet.c) */

/* vigil hub (cmd_hub.c), and the client of its API that alerts/actions --hub share */
int cmd_hub(int argc, char **argv);
#include <jansson.h>
#include "common/buf.h"
struct hub_client {
	const char *url;        /* https://host:port */
	const char *token_file; /* its first token is sent; NULL: $VIGIL_HUB_TOKEN */
	const char *ca;         /* CA bundle that signed the hub's certificate */
};
#define HUB_CLIENT_PAGE 1000
/* GET /api/v1/<route>?<query> page after page (up to limit records, 0: all); fn gets
 * each record. Returns the count, or -1 with err. */
int hub_client_get(const struct hub_client *hc, const char *route, const char *query, long limit,
		   void (*fn)(void *ctx, json_t *record), void *ctx, char *err, size_t errlen);
void hub_client_param(struct vg_buf *q, const char *key, const char *value);
/* GET /api/v1/<route>?<query> once, the body as it came into out (status 200 only). 0, or -1 with err. */
int hub_client_raw(const struct hub_client *hc, const char *route, const char *query, struct vg_buf *out, char *err,
		   size_t errlen);
/* POST body (len bytes, JSON) to /api/v1/<route>: the HTTP status and the reply's body
 * (the caller frees it). 0, or -1 with err when the hub cannot be reached. */
int hub_client_post(const struct hub_client *hc, const char *route, const char *body, size_t len, long *status,
		    struct vg_buf *reply, char *err, size_t errlen);
/* A record as Vigil's JSON writer prints it (NUL-terminated in out). */
void hub_client_encode(json_t *v, struct vg_buf *out);

#endif
