/* SPDX-License-Identifier: Apache-2.0 */
/*
 * close_race URL ROUNDS: a publisher closed while its acknowledgements arrive
 * (tests/integration/test_fleet_pipeline.sh). Each round opens a NATS
 * forwarder on one connection, sends 200 alerts (one a message, no store) and
 * closes it at once, while the stream's acks come in on libnats' thread: an
 * ack handler still running after the close must not touch the freed
 * publisher (the sanitizer build reports it when it does). Exit 0 and "ok ...",
 * or 1 and why.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet/nats_conn.h"
#include "fleet/publisher.h"
#include "output/forwarder.h"

#define PER_ROUND 200

int main(int argc, char **argv)
{
	char err[512];
	if (argc != 3) {
		fputs("usage: close_race URL ROUNDS\n", stderr);
		return 2;
	}
	int rounds = atoi(argv[2]);
	struct fleet_conn_opts co = { .servers = argv[1], .node = "race", .cluster = "race" };
	struct fleet_conn *c = fleet_connect(&co, err, sizeof(err));
	if (!c) {
		fprintf(stderr, "close_race: %s\n", err);
		return 1;
	}
	fleet_conn_wait(c, 10000);
	static struct outbox_record recs[PER_ROUND];
	static char uuids[PER_ROUND][33], json[PER_ROUND][96];
	long sent = 0;
	int64_t seq = 0;
	for (int r = 0; r < rounds; r++) {
		void *p = fleet_publisher_new(c, 0, err, sizeof(err));
		if (!p) {
			fprintf(stderr, "close_race: %s\n", err);
			return 1;
		}
		for (int i = 0; i < PER_ROUND; i++) {
			seq++;
			snprintf(uuids[i], sizeof(uuids[i]), "%032llx", (unsigned long long)seq);
			int n = snprintf(json[i], sizeof(json[i]), "{\"uuid\":\"%s\",\"rule\":\"race\"}", uuids[i]);
			recs[i] = (struct outbox_record){ .kind = OUTBOX_ALERT, .seq = seq, .uuid = uuids[i],
							  .priority = 4, .json = json[i], .json_len = (size_t)n };
		}
		long got = fleet_publisher_ops.send(p, recs, PER_ROUND, err, sizeof(err));
		if (got < 0) {
			fprintf(stderr, "close_race: round %d: %s\n", r, err);
			return 1;
		}
		sent += got;
		fleet_publisher_ops.close(p); /* acks on their way */
	}
	fleet_close(c);
	printf("ok %d publishers closed with their acks in flight (%ld alerts sent)\n", rounds, sent);
	return 0;
}
