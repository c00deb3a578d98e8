/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kvput: put the bytes of a file (or nothing: a delete) under a key of the
 * central policy bucket as they are, unchecked, so that tests can hand agents
 * what 'vigil fleet push' would refuse to publish: a corrupt envelope, a
 * digest that does not match, a set that only the node can refuse.
 *
 * usage: kvput URL KEY FILE|-delete
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fleet/policy.h"

int main(int argc, char **argv)
{
	struct fleet_conn_opts o = { .node = "kvput", .client = "vigil-test-kvput", .connect_now = true };
	struct fleet_conn *c;
	kvStore *kv = NULL;
	char err[1024];
	natsStatus s;

	if (argc != 4) {
		fprintf(stderr, "usage: kvput URL KEY FILE|-delete\n");
		return 2;
	}
	o.servers = argv[1];
	if (!(c = fleet_connect(&o, err, sizeof(err))) || !fleet_conn_wait(c, 10000) ||
	    policy_bucket(c, &kv, err, sizeof(err))) {
		fprintf(stderr, "kvput: %s\n", c ? err : err);
		return 1;
	}
	if (strcmp(argv[3], "-delete") == 0) {
		s = kvStore_Delete(kv, argv[2]);
	} else {
		FILE *f = fopen(argv[3], "rb");
		static char data[2u << 20];
		size_t n = f ? fread(data, 1, sizeof(data), f) : 0;
		if (!f) {
			perror(argv[3]);
			return 1;
		}
		fclose(f);
		uint64_t rev = 0;
		s = kvStore_Put(&rev, kv, argv[2], data, (int)n);
		if (s == NATS_OK)
			printf("%llu\n", (unsigned long long)rev);
	}
	kvStore_Destroy(kv);
	fleet_close(c);
	if (s != NATS_OK) {
		fprintf(stderr, "kvput: %s\n", natsStatus_GetText(s));
		return 1;
	}
	return 0;
}
