/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Names for remote addresses, per container, learnt from the DNS answers the
 * container itself received: (container id, address) -> the name the workload
 * asked for. docs/service-map.md, "DNS names", states the rules:
 *
 *   - only responses (QR set) to a standard query (opcode 0) with NOERROR, one
 *     question, class IN, are learnt from;
 *   - only the answer section, and in it only the records on the CNAME chain
 *     that starts at the question's name (at most DNS_CACHE_MAX_CHAIN links):
 *     an A or AAAA record for an unrelated name in the same answer is ignored;
 *   - the address is named with the question's name (what the workload asked
 *     for, "api.example.com", not the CDN's canonical name);
 *   - an entry lives for the smallest TTL along its chain, raised to min_ttl
 *     and cut to max_ttl; a later answer for the same address replaces it;
 *   - memory is bounded by max_entries; when full, the least recently learnt or
 *     looked-up entry is evicted, and evictions are counted; a container holds at
 *     most max_per_container entries (a quarter by default), beyond which its own
 *     least recently used entry makes room, so that a container flooding answers
 *     cannot evict the names of the others.
 *
 * Times are nanoseconds of any clock the caller uses consistently (the agent
 * uses the records' CLOCK_BOOTTIME). Not thread-safe: one owner.
 */
#ifndef VIGIL_DNS_CACHE_H
#define VIGIL_DNS_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "state/dns_parse.h"
#include "state/flow.h"

#define DNS_CACHE_MAX_CHAIN 16

struct dns_cache_opts {
	size_t max_entries; /* 0: 16384 */
	uint32_t min_ttl_s; /* a name is kept at least this long (0 allowed); default below */
	uint32_t max_ttl_s; /* and at most this long; 0: 86400 */
	bool min_ttl_set;   /* min_ttl_s given (else 5 s: the connection right after a TTL 0 answer) */
	size_t max_per_container; /* entries one container may hold; 0: max_entries / 4 */
};

struct dns_cache_stats {
	uint64_t messages;  /* payloads fed */
	uint64_t malformed; /* payloads the parser refused */
	uint64_t ignored;   /* well-formed but not learnt from (query, error rcode, not IN, ...) */
	uint64_t learnt;    /* (container, address) names set or refreshed */
	uint64_t evicted;   /* entries dropped for room while still valid */
	uint64_t quota_evicted; /* of which for their container's quota */
	uint64_t expired;   /* entries dropped after their TTL */
	size_t entries;     /* entries now */
};

struct dns_cache;

/* A new, empty cache; opts may be NULL. Can't fail (allocation failure aborts). */
struct dns_cache *dns_cache_new(const struct dns_cache_opts *opts);
void dns_cache_free(struct dns_cache *c); /* NULL is fine */

/* An address: a name's, or the DNS server's that gave it. */
struct dns_cache_addr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
};

/*
 * Learn from one DNS message the container `container_id` ("" for the host)
 * received at time now_ns. Returns the number of addresses named (0 when the
 * message teaches nothing) or -1 when it is malformed (counted; nothing learnt).
 */
int dns_cache_learn(struct dns_cache *c, const char *container_id, const uint8_t *payload, size_t len,
		    uint64_t now_ns);

/*
 * dns_cache_learn() for an answer that came from `server` (the address it was
 * sent from; NULL when not known). Each name remembers the server that gave it
 * last, for dns_cache_addrs_of()'s choice of servers.
 */
int dns_cache_learn_from(struct dns_cache *c, const char *container_id, const struct dns_cache_addr *server,
			 const uint8_t *payload, size_t len, uint64_t now_ns);

/*
 * The same for DNS over TCP (RFC 1035 4.2.2, RFC 7766): bytes of the stream the
 * container received from port 53, starting at a message boundary, each
 * message preceded by its two-byte length. Every complete message is learnt
 * from; a message cut at the end is learnt from as far as it goes (a capture
 * holds the start of the stream). Returns the addresses named in all, or -1
 * when a message is malformed (those before it are kept).
 */
int dns_cache_learn_tcp(struct dns_cache *c, const char *container_id, const uint8_t *stream, size_t len,
			uint64_t now_ns);
/* dns_cache_learn_tcp() for a stream from `server` (as dns_cache_learn_from). */
int dns_cache_learn_tcp_from(struct dns_cache *c, const char *container_id, const struct dns_cache_addr *server,
			     const uint8_t *stream, size_t len, uint64_t now_ns);

/*
 * The name of address `addr` (4 bytes for AF_INET, 16 for AF_INET6) for the
 * container at time now_ns, copied into out (NUL-terminated): true, or false
 * when none is valid at that time (out set to ""). A hit counts as a use for
 * the LRU order.
 */
bool dns_cache_lookup(struct dns_cache *c, const char *container_id, int family, const uint8_t *addr,
		      uint64_t now_ns, char out[DNS_NAME_MAX]);

/*
 * Fill f->remote_name from the cache: the name of f's remote address for f's
 * container, as valid when the flow opened (f->start_ns, or f->ts_ns when
 * that is 0): a connection made while the answer was fresh keeps its name for
 * its whole life. Returns whether a name was found (else remote_name is "").
 */
bool dns_cache_name_flow(struct dns_cache *c, struct vg_flow *f);

/* Drop the entries whose TTL ended before now_ns (counted as expired). Returns how many. */
size_t dns_cache_expire(struct dns_cache *c, uint64_t now_ns);

void dns_cache_stats(const struct dns_cache *c, struct dns_cache_stats *out);

/*
 * The addresses that any container's answers name `name` (case-insensitive)
 * with, still held at now_ns (an expired entry lingers a minute): up to max into
 * out; how many. With `servers` (nservers of them), only the answers that came
 * from one of them: a protecting profile's egress list takes the names its
 * container's own resolvers gave, so that an answer a workload receives from
 * anywhere else (one its attacker sends from port 53) cannot open the list. A
 * walk of the whole cache (that list is rebuilt once a second).
 */
size_t dns_cache_addrs_of(const struct dns_cache *c, const char *name, const struct dns_cache_addr *servers,
			  size_t nservers, uint64_t now_ns, struct dns_cache_addr *out, size_t max);

#endif
