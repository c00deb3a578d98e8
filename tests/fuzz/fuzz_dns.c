/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: the DNS message parser (src/state/dns_parse.c) and the name cache
 * that learns from it (src/state/dns_cache.c), from a datagram and from a TCP stream. Every parsed name must be
 * printable ASCII that fits DNS_NAME_MAX; a learnt name must read back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "state/dns_cache.h"
#include "state/dns_parse.h"

static void check_name(const char *n)
{
	size_t len = strnlen(n, DNS_NAME_MAX);
	if (len == 0 || len >= DNS_NAME_MAX)
		abort();
	for (size_t i = 0; i < len; i++)
		if (n[i] <= ' ' || n[i] > '~')
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dns_msg m;
	static struct dns_cache *c;
	char err[128], name[DNS_NAME_MAX];

	if (dns_parse(data, size, &m, err, sizeof(err)) == 0) {
		if (m.has_question)
			check_name(m.qname);
		if (m.nanswers > DNS_MAX_ANSWERS)
			abort();
		for (size_t i = 0; i < m.nanswers; i++) {
			check_name(m.answers[i].name);
			if (m.answers[i].type == DNS_TYPE_CNAME)
				check_name(m.answers[i].u.cname);
		}
	}
	if (!c) {
		struct dns_cache_opts o = { .max_entries = 64 };
		c = dns_cache_new(&o);
	}
	int n = dns_cache_learn(c, "fuzz", data, size, 1000000000ull);
	if (n > 0) {
		for (size_t i = 0; i < m.nanswers; i++) {
			const struct dns_rr *rr = &m.answers[i];
			if (rr->type == DNS_TYPE_A || rr->type == DNS_TYPE_AAAA) {
				if (dns_cache_lookup(c, "fuzz", rr->type == DNS_TYPE_A ? AF_INET : AF_INET6, rr->u.addr,
						     1000000000ull, name))
					check_name(name);
			}
		}
	}
	dns_cache_learn_tcp(c, "fuzz-tcp", data, size, 1000000000ull);
	dns_cache_expire(c, 1000000000ull * 100000);
	return 0;
}
