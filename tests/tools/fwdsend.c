/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fwdsend: drive one forwarder (output/forwarders.h) as the outbox will:
 * open it with NAME:SPEC, hand it N generated records in batches, move a
 * cursor past what deliver() says arrived, retry what did not (up to a bound),
 * close. Prints one line per deliver() call ("deliver FROM+N -> R[: err]"),
 * "cursor C" at the end and the forwarder's vigil_output_* metrics; exit 0 when every record arrived, 1 otherwise, 2 on
 * usage or open errors. The tests start the receivers.
 *
 * Usage: fwdsend NAME:SPEC [--count N] [--batch B] [--first SEQ] [--tries T]
 *                [--kind alert|action|loss] [--big BYTES]
 *
 * Record SEQ (from --first): uuid = SEQ as 32 hex digits, priority SEQ % 8,
 * time 2026-12-06T00:00:00Z + SEQ ms, json an alert of rule "Rule SEQ" whose
 * output holds characters that need escaping ("quotes", ] \ é), padded with
 * --big bytes of 'x' in "pad" when given.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/buf.h"
#include "output/forwarders.h"
#include "output/metrics.h"

int main(int argc, char **argv)
{
	long count = 10, batch = 4, first = 1, tries = 50, big = 0;
	enum outbox_kind kind = OUTBOX_ALERT;
	const struct vg_forwarder_ops *ops;
	const char *spec;
	char err[1024];
	void *ctx;

	if (argc < 2) {
		fprintf(stderr, "usage: fwdsend NAME:SPEC [--count N] [--batch B] [--first SEQ] [--tries T] [--kind K] [--big BYTES]\n");
		return 2;
	}
	for (int i = 2; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--count"))
			count = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--batch"))
			batch = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--first"))
			first = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--tries"))
			tries = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--big"))
			big = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--kind"))
			kind = !strcmp(argv[i + 1], "action") ? OUTBOX_ACTION : !strcmp(argv[i + 1], "loss") ? OUTBOX_LOSS : OUTBOX_ALERT;
		else {
			fprintf(stderr, "fwdsend: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (forwarder_parse_arg(argv[1], &ops, &spec, err, sizeof(err)) || ops->open(&ctx, spec, err, sizeof(err))) {
		fprintf(stderr, "fwdsend: %s\n", err);
		return 2;
	}
	struct outbox_record *recs = calloc(count ? count : 1, sizeof(*recs));
	char (*uuids)[33] = calloc(count ? count : 1, 33);
	for (long i = 0; i < count; i++) {
		long seq = first + i;
		struct vg_buf b = { 0 };
		char *pad = calloc(1, big + 1);
		memset(pad, 'x', big);
		buf_printf(&b, "{\"time\":\"2026-12-06T00:00:%02ld.%03ldZ\",\"rule\":\"Rule %ld\",\"priority\":\"Warning\","
			       "\"output\":\"seq %ld \\\"quoted\\\" ] \\\\ \\u00e9\",\"output_fields\":{\"container.id\":"
			       "\"c0ffee%ld\",\"container.name\":\"web]\\\"x\"},\"hostname\":\"node-a\",\"pad\":\"%s\"}",
			   seq / 1000 % 60, seq % 1000, seq, seq, seq, pad);
		free(pad);
		snprintf(uuids[i], 33, "%032lx", seq);
		recs[i] = (struct outbox_record){ .kind = kind, .seq = seq, .uuid = uuids[i],
						  .time_ns = 1796515200000000000LL + seq * 1000000LL,
						  .priority = (int)(seq % 8), .json = b.data, .json_len = b.len };
	}
	long cursor = 0;
	for (long t = 0; cursor < count && t < tries; t++) {
		size_t n = (size_t)(count - cursor < batch ? count - cursor : batch);
		err[0] = 0;
		long r = ops->deliver(ctx, recs + cursor, n, err, sizeof(err));
		printf("deliver %ld+%zu -> %ld%s%s\n", first + cursor, n, r, err[0] ? ": " : "", err);
		fflush(stdout);
		if (r < -1 || r > (long)n) {
			printf("bad deliver result %ld for %zu records\n", r, n);
			return 1;
		}
		if (r > 0)
			cursor += r;
	}
	printf("cursor %ld\n", first + cursor);
	/* the forwarder's own counters (metrics.h), for the tests */
	struct vg_buf m = { 0 };
	metrics_render(&m);
	buf_addc(&m, 0);
	for (char *save = NULL, *l = strtok_r(m.data, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		if (!strncmp(l, "vigil_output_", 13))
			printf("%s\n", l);
	buf_free(&m);
	ops->close(ctx);
	for (long i = 0; i < count; i++)
		free((void *)recs[i].json);
	free(recs);
	free(uuids);
	return cursor == count ? 0 : 1;
}
