/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rpm's package databases. Each keeps one rpm header a package, without the
 * header's 8-byte magic:
 *   be32 il (index entries), be32 dl (data bytes),
 *   il x { be32 tag, be32 type, be32 offset, be32 count }, then dl bytes.
 * Tags read: NAME 1000, VERSION 1001, RELEASE 1002, EPOCH 1003 (INT32),
 * LICENSE 1014, ARCH 1022, SOURCERPM 1044; gpg-pubkey pseudo-packages are
 * skipped. Three containers:
 *
 * - SQLite (rpmdb.sqlite, rpm >= 4.16): table Packages(hnum, blob), opened
 *   from memory, read-only (sqlite3_deserialize).
 * - Berkeley DB hash (Packages, RHEL/CentOS <= 8, SLES < 15 SP3, Amazon Linux
 *   2): pages of pagesize bytes; page 0 is the hash metadata page (magic
 *   0x061561 at offset 12 in the file's byte order, page size at 20, last
 *   page number at 32, type 8 at 25). Hash pages (type 13, or 2 unsorted)
 *   have a 26-byte header (entries u16 at 20, type u8 at 25) and an array of
 *   u16 item offsets: key, value, key, value... A value item is either
 *   H_KEYDATA (type 1, the bytes follow up to the previous item) or H_OFFPAGE
 *   (type 3; u32 first page at +4, u32 total length at +8) whose data is on
 *   a chain of overflow pages (type 7; next page u32 at 16, bytes on the page
 *   u16 at 22, data from 26). Keys are header instance numbers (u32, the
 *   host's order); key 0 holds the next instance number and is skipped.
 * - NDB (Packages.db, SUSE's rpm >= 4.16): a 32-byte header ("RpmP" magic,
 *   version 0, u32 slot page count at 12), slot pages of 256 16-byte slots
 *   ("Slot" magic, package index, block offset, block count; the header takes
 *   the first two), blocks of 16 bytes: a blob header ("BlbS" magic, package
 *   index, checksum, u32 length) then the header blob. Little-endian.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "scan/catalogers/cat_text.h"
#include "scan/catalogers/catalog.h"

enum { T_NAME = 1000, T_VERSION = 1001, T_RELEASE = 1002, T_EPOCH = 1003, T_LICENSE = 1014,
       T_ARCH = 1022, T_SOURCERPM = 1044 };
enum { TYPE_INT32 = 4, TYPE_STRING = 6, TYPE_I18N = 9 };

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

struct rpmhdr {
	const char *s[8]; /* NAME VERSION RELEASE LICENSE ARCH SOURCERPM, by slot */
	long epoch;       /* -1: none */
};

/* Parse one header blob; 0 ok, -1 malformed. Strings point into blob. */
static int rpm_header(const unsigned char *b, size_t n, struct rpmhdr *h)
{
	memset(h, 0, sizeof(*h));
	h->epoch = -1;
	if (n < 8)
		return -1;
	uint32_t il = be32(b), dl = be32(b + 4);
	if (il > 0x10000 || dl > 256u << 20 || 8 + (uint64_t)il * 16 + dl > n)
		return -1;
	const unsigned char *data = b + 8 + (size_t)il * 16;
	for (uint32_t i = 0; i < il; i++) {
		const unsigned char *e = b + 8 + (size_t)i * 16;
		uint32_t tag = be32(e), type = be32(e + 4), off = be32(e + 8);
		int slot = -1;
		switch (tag) {
		case T_NAME: slot = 0; break;
		case T_VERSION: slot = 1; break;
		case T_RELEASE: slot = 2; break;
		case T_LICENSE: slot = 3; break;
		case T_ARCH: slot = 4; break;
		case T_SOURCERPM: slot = 5; break;
		case T_EPOCH:
			if (type == TYPE_INT32 && off <= dl && dl - off >= 4)
				h->epoch = (long)be32(data + off);
			continue;
		default: continue;
		}
		if ((type != TYPE_STRING && type != TYPE_I18N) || off >= dl)
			return -1;
		/* the string must end inside the data store */
		if (!memchr(data + off, 0, dl - off))
			return -1;
		h->s[slot] = (const char *)data + off;
	}
	return 0;
}

/* "openssl-3.0.7-24.el9.src.rpm" -> name "openssl", version "3.0.7-24.el9". */
static void srpm_split(const char *srpm, char **name, char **ver)
{
	size_t n = strlen(srpm);
	*name = *ver = NULL;
	if (n > 8 && !strcmp(srpm + n - 8, ".src.rpm"))
		n -= 8;
	else if (n > 10 && !strcmp(srpm + n - 10, ".nosrc.rpm"))
		n -= 10;
	else
		return;
	const char *end = srpm + n, *rel = NULL, *ver_start = NULL;
	for (const char *p = end; p > srpm; p--)
		if (p[-1] == '-') {
			if (!rel)
				rel = p;
			else {
				ver_start = p;
				break;
			}
		}
	if (!rel || !ver_start)
		return;
	*name = xstrndup(srpm, (size_t)(ver_start - 1 - srpm));
	*ver = xstrndup(ver_start, (size_t)(end - ver_start));
}

/* Add the package of one header blob to r; -1 when the blob is malformed. */
static int rpm_add(struct scan_result *r, const unsigned char *b, size_t n, const char *path)
{
	struct rpmhdr h;
	if (rpm_header(b, n, &h) || !h.s[0] || !h.s[1])
		return -1;
	if (!strcmp(h.s[0], "gpg-pubkey"))
		return 0;
	char ver[512];
	if (h.epoch >= 0)
		snprintf(ver, sizeof(ver), "%ld:%s%s%s", h.epoch, h.s[1], h.s[2] ? "-" : "",
			 h.s[2] ? h.s[2] : "");
	else
		snprintf(ver, sizeof(ver), "%s%s%s", h.s[1], h.s[2] ? "-" : "", h.s[2] ? h.s[2] : "");
	struct scan_pkg *p = scan_add_pkg(r, "rpm", h.s[0], ver, path);
	if (h.s[4])
		p->arch = xstrdup(h.s[4]);
	if (h.s[3])
		p->license = xstrdup(h.s[3]);
	if (h.s[5])
		srpm_split(h.s[5], &p->src_name, &p->src_version);
	if (p->src_version && h.epoch >= 0) {
		char *v = p->src_version;
		snprintf(ver, sizeof(ver), "%ld:%s", h.epoch, v);
		p->src_version = xstrdup(ver);
		free(v);
	}
	return 0;
}

static void rpm_parse_sqlite(const char *data, size_t len, const char *path, struct scan_result *r)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	unsigned char *copy;

	if (len < 100 || memcmp(data, "SQLite format 3", 16)) {
		scan_warn(r, "cannot parse %s: not an SQLite database", path);
		return;
	}
	if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		goto fail;
	copy = sqlite3_malloc64(len);
	if (!copy)
		goto fail;
	memcpy(copy, data, len);
	copy[18] = copy[19] = 1; /* a WAL database read as a rollback-journal one */
	if (sqlite3_deserialize(db, "main", copy, (sqlite3_int64)len, (sqlite3_int64)len,
				SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_READONLY) !=
	    SQLITE_OK)
		goto fail;
	if (sqlite3_prepare_v2(db, "SELECT blob FROM Packages ORDER BY hnum", -1, &st, NULL) !=
	    SQLITE_OK)
		goto fail;
	int rc;
	size_t bad = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *b = sqlite3_column_blob(st, 0);
		int n = sqlite3_column_bytes(st, 0);
		if (!b || n <= 0 || rpm_add(r, b, (size_t)n, path))
			bad++;
	}
	if (rc != SQLITE_DONE)
		scan_warn(r, "cannot read %s: %s", path, sqlite3_errmsg(db));
	if (bad)
		scan_warn(r, "cannot parse %s: %zu malformed package headers", path, bad);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return;
fail:
	scan_warn(r, "cannot read %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* A u32 or u16 in a Berkeley DB file's byte order. */
static uint32_t bdb32(const unsigned char *p, bool swapped)
{
	return swapped ? be32(p) : (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
					     (uint32_t)p[3] << 24;
}

static uint16_t bdb16(const unsigned char *p, bool swapped)
{
	return swapped ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[0] | p[1] << 8);
}

enum { BDB_HDR = 26, BDB_P_HASH_UNSORTED = 2, BDB_P_OVERFLOW = 7, BDB_P_HASHMETA = 8,
       BDB_P_HASH = 13, BDB_H_KEYDATA = 1, BDB_H_OFFPAGE = 3 };

/* Gather an H_OFFPAGE item's bytes from its overflow chain into out;
 * -1 when the chain is broken, loops or does not add up to len. */
static int bdb_overflow(const unsigned char *d, size_t npages, size_t psize, bool sw,
			uint32_t pgno, uint32_t len, struct vg_buf *out)
{
	buf_reset(out);
	for (size_t hops = 0; pgno && hops < npages; hops++) {
		if (pgno >= npages)
			return -1;
		const unsigned char *pg = d + (size_t)pgno * psize;
		if (pg[25] != BDB_P_OVERFLOW)
			return -1;
		size_t n = bdb16(pg + 22, sw);
		if (n > psize - BDB_HDR || out->len + n > len)
			return -1;
		buf_add(out, pg + BDB_HDR, n);
		pgno = bdb32(pg + 16, sw);
	}
	return pgno || out->len != len ? -1 : 0;
}

static void rpm_parse_bdb(const char *data, size_t len, const char *path, struct scan_result *r)
{
	const unsigned char *d = (const unsigned char *)data;
	bool sw;

	if (len < 512 || d[25] != BDB_P_HASHMETA) {
		scan_warn(r, "cannot parse %s: not a Berkeley DB hash database", path);
		return;
	}
	if (bdb32(d + 12, false) == 0x061561)
		sw = false;
	else if (bdb32(d + 12, true) == 0x061561)
		sw = true;
	else {
		scan_warn(r, "cannot parse %s: not a Berkeley DB hash database", path);
		return;
	}
	size_t psize = bdb32(d + 20, sw), last = bdb32(d + 32, sw);
	if (psize < 512 || psize > 65536 || (psize & (psize - 1)) || d[24] != 0) {
		scan_warn(r, "cannot parse %s: unsupported page size or encryption", path);
		return;
	}
	size_t npages = len / psize;
	if (last + 1 < npages)
		npages = last + 1; /* pages past the last one are not part of the database */
	struct vg_buf val = { 0 };
	size_t bad = 0;
	for (size_t pn = 1; pn < npages; pn++) {
		const unsigned char *pg = d + pn * psize;
		if (pg[25] != BDB_P_HASH && pg[25] != BDB_P_HASH_UNSORTED)
			continue;
		size_t nent = bdb16(pg + 20, sw);
		if (BDB_HDR + nent * 2 > psize) {
			bad++;
			continue;
		}
		for (size_t i = 1; i < nent; i += 2) { /* values: every second item */
			size_t off = bdb16(pg + BDB_HDR + i * 2, sw);
			size_t end = bdb16(pg + BDB_HDR + (i - 1) * 2, sw); /* the key before it */
			if (off < BDB_HDR + nent * 2 || off >= psize) {
				bad++;
				continue;
			}
			/* key 0 is rpm's record 0: the next header instance number,
			 * not a header (rpm skips it too) */
			size_t kend = i >= 2 ? bdb16(pg + BDB_HDR + (i - 2) * 2, sw) : psize;
			if (end < psize && pg[end] == BDB_H_KEYDATA && kend <= psize &&
			    kend == end + 5 && !memcmp(pg + end + 1, "\0\0\0\0", 4))
				continue;
			if (pg[off] == BDB_H_OFFPAGE) {
				if (off + 12 > psize ||
				    bdb_overflow(d, npages, psize, sw, bdb32(pg + off + 4, sw),
						 bdb32(pg + off + 8, sw), &val) ||
				    rpm_add(r, (const unsigned char *)val.data, val.len, path))
					bad++;
			} else if (pg[off] == BDB_H_KEYDATA) {
				if (end <= off || end > psize ||
				    rpm_add(r, pg + off + 1, end - off - 1, path))
					bad++;
			}
		}
	}
	buf_free(&val);
	if (bad)
		scan_warn(r, "cannot parse %s: %zu malformed package headers", path, bad);
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void rpm_parse_ndb(const char *data, size_t len, const char *path, struct scan_result *r)
{
	const unsigned char *d = (const unsigned char *)data;

	if (len < 32 || memcmp(d, "RpmP", 4) || le32(d + 4) != 0) {
		scan_warn(r, "cannot parse %s: not an rpm NDB database", path);
		return;
	}
	uint64_t npages = le32(d + 12);
	if (!npages || npages * 4096 > len) {
		scan_warn(r, "cannot parse %s: slot pages beyond the end of the file", path);
		return;
	}
	size_t bad = 0;
	for (uint64_t i = 2; i < npages * 256; i++) { /* slots 0 and 1 are the header */
		const unsigned char *slot = d + i * 16;
		if (memcmp(slot, "Slot", 4)) {
			scan_warn(r, "cannot parse %s: bad slot %llu", path, (unsigned long long)i);
			break;
		}
		uint32_t pkg = le32(slot + 4);
		uint64_t blk = le32(slot + 8);
		if (!pkg)
			continue; /* a free slot */
		const unsigned char *bh = d + blk * 16;
		if (blk * 16 + 16 > len || memcmp(bh, "BlbS", 4) || le32(bh + 4) != pkg ||
		    le32(bh + 12) > len - blk * 16 - 16 ||
		    rpm_add(r, bh + 16, le32(bh + 12), path))
			bad++;
	}
	if (bad)
		scan_warn(r, "cannot parse %s: %zu malformed package entries", path, bad);
}

/* rpm keeps its database under var/lib/rpm, or usr/lib/sysimage/rpm (newer Fedora, SUSE) */
static bool rpm_db(const char *path, const char *name)
{
	const char *rest = NULL;

	if (!strncmp(path, "var/lib/rpm/", 12))
		rest = path + 12;
	else if (!strncmp(path, "usr/lib/sysimage/rpm/", 21))
		rest = path + 21;
	return rest && !strcmp(rest, name);
}

static bool rpm_sqlite_match(const char *path)
{
	return rpm_db(path, "rpmdb.sqlite");
}

static bool rpm_bdb_match(const char *path)
{
	return rpm_db(path, "Packages");
}

static bool rpm_ndb_match(const char *path)
{
	return rpm_db(path, "Packages.db");
}

const struct cataloger cat_rpm_sqlite = { "rpm-sqlite", rpm_sqlite_match, rpm_parse_sqlite };
const struct cataloger cat_rpm_bdb = { "rpm-bdb", rpm_bdb_match, rpm_parse_bdb };
const struct cataloger cat_rpm_ndb = { "rpm-ndb", rpm_ndb_match, rpm_parse_ndb };
