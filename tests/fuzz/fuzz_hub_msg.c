/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: what a hub receives from the network (src/hub/hub_msg.c) and what
 * an API client sends (hub_api_parse_query, the flows routes' parameters,
 * hub_tokens_parse). The input is split on NUL bytes: subject, the eight
 * headers (Vigil-Count, Vigil-Encoding last), the body, read as one message and
 * as a batch (hub_batch_open/next); the same bytes are also read as query
 * parameters (key=value&...) and as a token file, and the whole input as a
 * flows body.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "hub/hub_api.h"
#include "hub/hub_api_int.h"
#include "hub/hub_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1);
	memcpy(copy, data, size);
	copy[size] = 0;
	const char *part[9] = { 0 };
	size_t np = 0, off = 0;
	while (np < 9 && off <= size) {
		part[np++] = copy + off;
		off += strlen(copy + off) + 1;
	}
	const char *body = off <= size ? copy + off : "";
	size_t blen = off <= size ? size - off : 0;
	struct hub_headers h = { part[1], part[2], part[3], part[4], part[5], part[6], part[7], part[8] };
	struct hub_msg m;
	char err[256];
	if (hub_msg_parse(part[0], &h, body, blen, 1 << 16, &m, err, sizeof(err)) == HUB_OK)
		hub_msg_free(&m);
	/* the whole input as the body of a flows message (docs/fleet.md, "Flows"), its rows read back */
	struct hub_headers fh = { "0123456789abcdef", "n", "c", "flows", "1", "0" };
	if (hub_msg_parse("vigil.c.n.flows", &fh, copy, size, 1 << 20, &m, err, sizeof(err)) == HUB_OK) {
		for (size_t i = 0; i < m.nflows; i++) {
			struct hub_flow_row r;
			hub_msg_flow_row(&m, i, &r);
			if (!r.direction || !r.proto || !r.cid || !r.local_addr || !r.peer_addr || r.minute % 60 || r.port > 65535)
				abort(); /* a checked row reads back whole */
		}
		hub_msg_free(&m);
	}
	struct hub_batch b;
	if (hub_batch_open(part[0], &h, body, blen, 1 << 16, &b, err, sizeof(err)) == HUB_OK)
		while (b.next < b.count)
			if (hub_batch_next(&b, part[0], 1 << 16, &m, err, sizeof(err)) == HUB_OK)
				hub_msg_free(&m);
	hub_batch_close(&b);

	/* as a query string */
	char *q = strdup(copy), *save = NULL;
	const char *keys[32], *vals[32];
	size_t n = 0;
	for (char *kv = strtok_r(q, "&", &save); kv && n < 32; kv = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(kv, '=');
		if (eq)
			*eq++ = 0;
		keys[n] = kv;
		vals[n++] = eq;
	}
	struct hub_query hq;
	for (int t = HUB_T_ALERTS; t <= HUB_T_LOSSES; t++)
		hub_api_parse_query(t, keys, vals, n, &hq, err, sizeof(err));
	/* and as the flows routes' (/api/v1/flows, /api/v1/servicemap) */
	struct hub_args ha = { .n = n };
	for (size_t i = 0; i < n; i++) {
		ha.k[i] = keys[i];
		ha.v[i] = vals[i];
	}
	struct flow_args fa;
	for (int map = 0; map < 2; map++)
		if (hub_api_flows_parse(&ha, map, &fa, err, sizeof(err)) == 0 &&
		    (fa.q.limit < 1 || fa.q.limit > HUB_LIMIT_MAX || fa.q.offset < 0 ||
		     (fa.q.until_ns && fa.q.until_ns <= fa.q.since_ns)))
			abort(); /* accepted only within its bounds */
	free(q);

	/* as a token file */
	struct hub_tokens *tok = hub_tokens_parse(copy, size, "tokens", err, sizeof(err));
	if (tok) {
		hub_tokens_check(tok, part[0], NULL);
		hub_tokens_free(tok);
	}
	hub_parse_time(part[0]);
	free(copy);
	return 0;
}
