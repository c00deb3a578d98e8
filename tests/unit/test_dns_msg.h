/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Builders of DNS messages byte by byte, as RFC 1035 section 4 lays them out,
 * for the DNS parser and cache tests: a header, names as labels (optionally
 * ending in a compression pointer), questions and resource records.
 */
#ifndef VIGIL_TEST_DNS_MSG_H
#define VIGIL_TEST_DNS_MSG_H

#include <stdint.h>
#include <string.h>

struct dmsg {
	uint8_t b[4096];
	size_t n;
};

static inline void dm_u8(struct dmsg *m, unsigned v)
{
	m->b[m->n++] = (uint8_t)v;
}

static inline void dm_u16(struct dmsg *m, unsigned v)
{
	dm_u8(m, v >> 8);
	dm_u8(m, v & 0xff);
}

static inline void dm_u32(struct dmsg *m, uint32_t v)
{
	dm_u16(m, v >> 16);
	dm_u16(m, v & 0xffff);
}

/* id, flags (QR|opcode|AA|TC|RD, RA|Z|RCODE as one 16-bit word), counts */
static inline void dm_header(struct dmsg *m, unsigned flags, unsigned qd, unsigned an, unsigned ns, unsigned ar)
{
	m->n = 0;
	dm_u16(m, 0x1234);
	dm_u16(m, flags);
	dm_u16(m, qd);
	dm_u16(m, an);
	dm_u16(m, ns);
	dm_u16(m, ar);
}

#define DM_RESPONSE 0x8180 /* QR, RD, RA, NOERROR */

/* Dotted name as labels, ending with the root label; returns its offset. */
static inline size_t dm_name(struct dmsg *m, const char *dotted)
{
	size_t at = m->n;
	const char *p = dotted;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		dm_u8(m, (unsigned)l);
		memcpy(m->b + m->n, p, l);
		m->n += l;
		p += l;
		if (*p == '.')
			p++;
	}
	dm_u8(m, 0);
	return at;
}

/* Labels of `dotted` (may be "") then a pointer to `target`; returns its offset. */
static inline size_t dm_name_ptr(struct dmsg *m, const char *dotted, size_t target)
{
	size_t at = m->n;
	const char *p = dotted;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		dm_u8(m, (unsigned)l);
		memcpy(m->b + m->n, p, l);
		m->n += l;
		p += l;
		if (*p == '.')
			p++;
	}
	dm_u16(m, 0xc000 | (unsigned)target);
	return at;
}

static inline void dm_question(struct dmsg *m, unsigned qtype)
{
	dm_u16(m, qtype);
	dm_u16(m, 1);
}

/* After the owner name: type, class IN, ttl, then an A record's 4 bytes */
static inline void dm_a(struct dmsg *m, uint32_t ttl, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	dm_u16(m, 1);
	dm_u16(m, 1);
	dm_u32(m, ttl);
	dm_u16(m, 4);
	dm_u8(m, a);
	dm_u8(m, b);
	dm_u8(m, c);
	dm_u8(m, d);
}

static inline void dm_aaaa(struct dmsg *m, uint32_t ttl, const uint8_t addr[16])
{
	dm_u16(m, 28);
	dm_u16(m, 1);
	dm_u32(m, ttl);
	dm_u16(m, 16);
	memcpy(m->b + m->n, addr, 16);
	m->n += 16;
}

/* After the owner name: a CNAME record whose target is `dotted` (uncompressed) */
static inline void dm_cname(struct dmsg *m, uint32_t ttl, const char *dotted)
{
	dm_u16(m, 5);
	dm_u16(m, 1);
	dm_u32(m, ttl);
	size_t len_at = m->n;
	dm_u16(m, 0);
	size_t start = m->n;
	dm_name(m, dotted);
	m->b[len_at] = (uint8_t)((m->n - start) >> 8);
	m->b[len_at + 1] = (uint8_t)((m->n - start) & 0xff);
}

#endif
