/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: the hub's checks of scan results and admission decisions
 * (src/hub/hub_scans.c) on what a node sends: the input as the body of a scan
 * message and of an admission message (the checked fields read back and
 * stored into an in-memory store, then listed), as a compressed single scan
 * (Vigil-Encoding: zlib through hub_batch_open/next), and as the images' and
 * admissions' query parameters.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "hub/hub_api_int.h"
#include "hub/hub_msg.h"
#include "hub/hub_scans.h"


static sqlite3 *db;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	if (!db) {
		sqlite3_open(":memory:", &db);
		hub_scans_schema(db, err, sizeof(err));
	}
	static const char *const kinds[2] = { "scan", "admission" };
	for (int k = 0; k < 2; k++) {
		char subject[64];
		snprintf(subject, sizeof(subject), "vigil.c.n.%s", kinds[k]);
		struct hub_headers h = { "0123456789abcdef", "n", "c", kinds[k], "1", "0" };
		struct hub_msg m;
		if (hub_msg_parse(subject, &h, (const char *)data, size, 1 << 20, &m, err, sizeof(err)) == HUB_OK) {
			const struct hub_scan_fields *f = m.scan;
			if (!f)
				abort();
			if (k == 0 && (!f->reference || !f->digest || !f->report || !f->sbom || strlen(f->digest) != 71))
				abort(); /* a checked scan reads back whole */
			if (k == 1 && (!f->uid || !f->ns || !f->name || !f->reason || !f->message || !f->policy_version))
				abort();
			if (hub_scans_add(db, &m, 1) < 0)
				abort();
			hub_msg_free(&m);
		}
	}
	/* a compressed single scan */
	uLongf zl = compressBound(size);
	unsigned char *z = malloc(zl ? zl : 1);
	if (compress2(z, &zl, data, size, 1) == Z_OK) {
		struct hub_headers h = { "0123456789abcdef", "n", "c", "scan", "1", "0", NULL, "zlib" };
		struct hub_batch b;
		struct hub_msg m;
		if (hub_batch_open("vigil.c.n.scan", &h, (const char *)z, zl, 1 << 16, &b, err, sizeof(err)) == HUB_OK)
			while (b.next < b.count)
				if (hub_batch_next(&b, "vigil.c.n.scan", 1 << 16, &m, err, sizeof(err)) == HUB_OK)
					hub_msg_free(&m);
		hub_batch_close(&b);
	}
	free(z);
	/* as query parameters */
	char *q = malloc(size + 1), *save = NULL;
	memcpy(q, data, size);
	q[size] = 0;
	struct hub_args args = { 0 };
	for (char *kv = strtok_r(q, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
		if (args.n == HUB_API_MAX_ARGS) {
			args.overflow = true;
			break;
		}
		char *eq = strchr(kv, '=');
		if (eq)
			*eq++ = 0;
		args.k[args.n] = kv;
		args.v[args.n++] = eq;
	}
	struct hub_images_query iq;
	struct hub_adm_query aq;
	struct vg_buf out = { 0 };
	if (hub_api_images_parse(&args, &iq, err, sizeof(err)) == 0) {
		if (iq.limit < 1 || iq.limit > HUB_LIMIT_MAX)
			abort();
		hub_images_list(db, &iq, &out, err, sizeof(err));
	}
	buf_reset(&out);
	if (hub_api_admissions_parse(&args, &aq, err, sizeof(err)) == 0) {
		if (aq.limit < 1 || aq.limit > HUB_LIMIT_MAX)
			abort();
		hub_admissions_list(db, &aq, &out, err, sizeof(err));
	}
	buf_free(&out);
	free(q);
	return 0;
}
