/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>
#include "state/dns_parse.h"

#define DNS_HDR_LEN 12
#define DNS_WIRE_NAME_MAX 255

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int bad(char *err, size_t errlen, const char *what, size_t off)
{
	snprintf(err, errlen, "%s at %zu", what, off);
	return -1;
}

/* Append one label's bytes to out (presentation form); false when it does not fit. */
static bool put_label(char *out, size_t *n, const uint8_t *l, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t c = l[i];
		char tmp[5];
		size_t k;
		if (c >= 'A' && c <= 'Z') {
			tmp[0] = (char)(c + 'a' - 'A');
			k = 1;
		} else if (c == '.' || c == '\\') {
			tmp[0] = '\\';
			tmp[1] = (char)c;
			k = 2;
		} else if (c > ' ' && c <= '~') {
			tmp[0] = (char)c;
			k = 1;
		} else {
			snprintf(tmp, sizeof(tmp), "\\%03u", c);
			k = 4;
		}
		if (*n + k >= DNS_NAME_MAX)
			return false;
		memcpy(out + *n, tmp, k);
		*n += k;
	}
	return true;
}

int dns_read_name(const uint8_t *msg, size_t len, size_t *off, char out[DNS_NAME_MAX], char *err, size_t errlen)
{
	size_t p = *off, next = 0, n = 0, wire = 1, lowest = *off;
	int jumps = 0;
	bool jumped = false;

	for (;;) {
		if (p >= len)
			return 1;
		uint8_t c = msg[p];
		if ((c & 0xc0) == 0xc0) {
			if (p + 1 >= len)
				return 1;
			size_t target = (size_t)(c & 0x3f) << 8 | msg[p + 1];
			/* strictly before every byte of this name read so far: always terminates */
			if (target >= lowest || target < DNS_HDR_LEN || ++jumps > DNS_MAX_POINTERS)
				return bad(err, errlen, "bad compression pointer", p);
			if (!jumped) {
				next = p + 2;
				jumped = true;
			}
			p = lowest = target;
			continue;
		}
		if (c & 0xc0)
			return bad(err, errlen, "reserved label type", p);
		if (c == 0) {
			if (!jumped)
				next = p + 1;
			break;
		}
		if (p + 1 + c > len)
			return 1;
		wire += 1 + (size_t)c;
		if (wire > DNS_WIRE_NAME_MAX)
			return bad(err, errlen, "name longer than 255 octets", p);
		if (n > 0) {
			if (n + 1 >= DNS_NAME_MAX)
				return bad(err, errlen, "name too long once escaped", p);
			out[n++] = '.';
		}
		if (!put_label(out, &n, msg + p + 1, c))
			return bad(err, errlen, "name too long once escaped", p);
		p += 1 + (size_t)c;
	}
	if (n == 0)
		out[n++] = '.';
	out[n] = 0;
	*off = next;
	return 0;
}

int dns_parse(const uint8_t *data, size_t len, struct dns_msg *m, char *err, size_t errlen)
{
	size_t off = DNS_HDR_LEN;
	int rc;

	memset(m, 0, offsetof(struct dns_msg, answers));
	m->answers_dropped = 0;
	m->truncated = false;
	if (len < DNS_HDR_LEN) {
		snprintf(err, errlen, "message of %zu bytes is shorter than a DNS header", len);
		return -1;
	}
	m->id = rd16(data);
	m->qr = data[2] & 0x80;
	m->opcode = (data[2] >> 3) & 0x0f;
	m->tc = data[2] & 0x02;
	m->rcode = data[3] & 0x0f;
	m->qdcount = rd16(data + 4);
	m->ancount = rd16(data + 6);
	m->nscount = rd16(data + 8);
	m->arcount = rd16(data + 10);

	/* the question section: the first question is kept, the others skipped */
	for (unsigned i = 0; i < m->qdcount; i++) {
		char name[DNS_NAME_MAX];
		size_t at = off;
		rc = dns_read_name(data, len, &off, i == 0 ? m->qname : name, err, errlen);
		if (rc < 0)
			return -1;
		if (rc > 0 || off + 4 > len) {
			off = at;
			m->truncated = true;
			return 0;
		}
		if (i == 0) {
			m->qtype = rd16(data + off);
			m->qclass = rd16(data + off + 2);
			m->has_question = true;
		}
		off += 4;
	}
	/* the answer section; authority and additional records are never read: names
	 * are learnt only from the answers to the question asked */
	for (unsigned i = 0; i < m->ancount; i++) {
		struct dns_rr tmp, *rr = m->nanswers < DNS_MAX_ANSWERS ? &m->answers[m->nanswers] : &tmp;
		size_t at = off;
		rc = dns_read_name(data, len, &off, rr->name, err, errlen);
		if (rc < 0)
			return -1;
		if (rc > 0 || off + 10 > len) {
			m->truncated = true;
			return 0;
		}
		rr->type = rd16(data + off);
		rr->rclass = rd16(data + off + 2);
		rr->ttl = rd32(data + off + 4);
		if (rr->ttl & 0x80000000u)
			rr->ttl = 0;
		size_t rdlen = rd16(data + off + 8);
		off += 10;
		if (off + rdlen > len) {
			m->truncated = true;
			return 0;
		}
		size_t rdata = off;
		off += rdlen;
		switch (rr->type) {
		case DNS_TYPE_A:
		case DNS_TYPE_AAAA: {
			size_t want = rr->type == DNS_TYPE_A ? 4 : 16;
			if (rdlen != want)
				return bad(err, errlen, "address record of the wrong length", at);
			memset(rr->u.addr, 0, sizeof(rr->u.addr));
			memcpy(rr->u.addr, data + rdata, want);
			break;
		}
		case DNS_TYPE_CNAME: {
			size_t p = rdata;
			/* the target must lie within its RDATA (its pointers may point anywhere before) */
			rc = dns_read_name(data, rdata + rdlen, &p, rr->u.cname, err, errlen);
			if (rc < 0)
				return -1;
			if (rc > 0 || p != rdata + rdlen)
				return bad(err, errlen, "bad CNAME record length", at);
			break;
		}
		default:
			continue; /* another type: skipped */
		}
		if (rr == &tmp)
			m->answers_dropped++;
		else
			m->nanswers++;
	}
	return 0;
}
