/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A DNS message parser (RFC 1035 section 4) for the answers workloads receive:
 * the header, the question, and the answer section's A, AAAA and CNAME
 * records. The bytes come from the network, that is from whoever answers the
 * workload's queries, an attacker included, so:
 *
 *   - it never reads outside [data, data + len);
 *   - a compression pointer (RFC 1035 4.1.4) must point strictly before the
 *     label it replaces, so following pointers always terminates (a loop, a
 *     pointer to itself or forwards is an error), and at most
 *     DNS_MAX_POINTERS are followed per name;
 *   - names are at most 255 octets on the wire, labels 63 (RFC 1035 2.3.4);
 *     the extended label types (0x40, 0x80) are errors;
 *   - at most DNS_MAX_ANSWERS answer records are kept; the others are counted.
 *
 * Names are returned in presentation form (RFC 1035 5.1), lowercased (DNS is
 * case-insensitive and resolvers randomise case, draft-vixie-dnsext-dns0x20):
 * labels joined by '.', no trailing dot, the root as ".", a '.' or '\' inside a
 * label escaped with '\', and any byte outside '!'..'~' as "\DDD" (decimal). A
 * name is thus printable ASCII without spaces, whatever the wire held; its
 * length still fits DNS_NAME_MAX (it is an error when escapes would not).
 *
 * A message cut short (a truncated capture, or a datagram with TC set) is not
 * an error: the records complete before the cut are returned and `truncated`
 * is set. The parser allocates nothing and keeps no state: thread-safe.
 */
#ifndef VIGIL_DNS_PARSE_H
#define VIGIL_DNS_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_NAME_MAX 254    /* presentation form and NUL (= VG_FLOW_NAME_LEN) */
#define DNS_MAX_ANSWERS 64  /* answer records kept per message */
#define DNS_MAX_POINTERS 32 /* compression pointers followed per name */

enum dns_type {
	DNS_TYPE_A = 1,
	DNS_TYPE_CNAME = 5,
	DNS_TYPE_AAAA = 28,
};

#define DNS_CLASS_IN 1

struct dns_rr {
	char name[DNS_NAME_MAX]; /* owner name */
	uint16_t type, rclass;
	uint32_t ttl; /* seconds; a TTL with the top bit set reads as 0 (RFC 2181 8) */
	union {
		uint8_t addr[16];          /* A: 4 bytes, AAAA: 16 */
		char cname[DNS_NAME_MAX];  /* CNAME: the canonical name */
	} u;
};

struct dns_msg {
	uint16_t id;
	bool qr;        /* a response */
	uint8_t opcode; /* 0: QUERY */
	bool tc;        /* TC: truncated by the server */
	uint8_t rcode;  /* 0: NOERROR, 3: NXDOMAIN */
	uint16_t qdcount, ancount, nscount, arcount;
	bool has_question;
	char qname[DNS_NAME_MAX]; /* the first question's name */
	uint16_t qtype, qclass;
	/* answer records of type A, AAAA or CNAME (others are skipped, not counted) */
	size_t nanswers;
	struct dns_rr answers[DNS_MAX_ANSWERS];
	size_t answers_dropped; /* A/AAAA/CNAME answers beyond DNS_MAX_ANSWERS */
	bool truncated;         /* the bytes ended before the counts said */
};

/*
 * Parse one DNS message (as carried in a UDP datagram; over TCP, strip the
 * two-byte length first). Fills *m and returns 0, or returns -1 with the
 * problem and its byte offset in err ("bad compression pointer at 37"): a
 * header shorter than 12 bytes, a label of a reserved type, a name longer than
 * 255 octets, a compression loop, an A/AAAA record of the wrong length. On -1
 * the contents of *m are unspecified.
 */
int dns_parse(const uint8_t *data, size_t len, struct dns_msg *m, char *err, size_t errlen);

/*
 * Read the name at *off of the message [msg, msg + len) into out (presentation
 * form as above) and advance *off past it (past the first pointer if the name
 * is compressed). Returns 0, 1 when the bytes end before the name does (*off
 * unchanged), or -1 with the reason in err. Exposed for the tests.
 */
int dns_read_name(const uint8_t *msg, size_t len, size_t *off, char out[DNS_NAME_MAX], char *err,
		  size_t errlen);

#endif
