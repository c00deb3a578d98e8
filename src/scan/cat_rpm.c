/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rpm's SQLite database (rpmdb.sqlite, rpm >= 4.16): table Packages(hnum,
 * blob), each blob an rpm header without its 8-byte magic:
 *   be32 il (index entries), be32 dl (data bytes),
 *   il x { be32 tag, be32 type, be32 offset, be32 count }, then dl bytes.
 * Tags read: NAME 1000, VERSION 1001, RELEASE 1002, EPOCH 1003 (INT32),
 * LICENSE 1014, ARCH 1022, SOURCERPM 1044. The file is opened from memory,
 * read-only (sqlite3_deserialize); gpg-pubkey pseudo-packages are skipped.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "scan/catalog.h"

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

void cat_rpm_parse_sqlite(const char *data, size_t len, const char *path, struct scan_result *r)
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
		struct rpmhdr h;
		if (!b || n <= 0 || rpm_header(b, (size_t)n, &h) || !h.s[0] || !h.s[1]) {
			bad++;
			continue;
		}
		if (!strcmp(h.s[0], "gpg-pubkey"))
			continue;
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
