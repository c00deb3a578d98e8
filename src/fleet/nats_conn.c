/* SPDX-License-Identifier: Apache-2.0 */
#include "fleet/nats_conn.h"

#include <errno.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/log.h"

struct fleet_conn {
	natsOptions *opts;
	natsConnection *nc;
	jsCtx *js;
	char node[FLEET_NAME_MAX + 1];
	char cluster[FLEET_NAME_MAX + 1];
	char **servers;
	int nservers;
	volatile bool closing; /* fleet_close: the disconnection is ours, not worth a warning */
	int closed;            /* the closed callback ran: no callback comes after it (atomic) */
};

bool fleet_name_valid(const char *s)
{
	size_t n = 0;

	if (!s)
		return false;
	for (; s[n]; n++) {
		char ch = s[n];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '-' || ch == '_'))
			return false;
	}
	return n >= 1 && n <= FLEET_NAME_MAX;
}

const char *fleet_default_node(char *buf, size_t len)
{
	char host[256] = "";
	size_t i, n = 0;

	if (len == 0)
		return buf;
	if (gethostname(host, sizeof(host) - 1) != 0 || !host[0])
		snprintf(host, sizeof(host), "node");
	for (i = 0; host[i] && n + 1 < len && n < FLEET_NAME_MAX; i++) {
		char ch = host[i];
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
			  ch == '-' || ch == '_';
		buf[n++] = ok ? ch : '-';
	}
	buf[n] = '\0';
	return buf;
}

const char *fleet_status_text(natsStatus s, char *buf, size_t len)
{
	natsStatus last = NATS_OK;
	const char *detail = nats_GetLastError(&last);

	if (detail && *detail && last == s)
		snprintf(buf, len, "%s (%s)", natsStatus_GetText(s), detail);
	else
		snprintf(buf, len, "%s", natsStatus_GetText(s));
	return buf;
}

int fleet_subject(char *buf, size_t len, const char *cluster, const char *node, const char *kind)
{
	int n = snprintf(buf, len, "vigil.%s.%s.%s", cluster, node, kind);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Split "a,b,c" into the server list (empty items skipped). */
static int split_servers(struct fleet_conn *c, const char *list)
{
	const char *p = list;

	while (*p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n > 0) {
			char **grown = realloc(c->servers, (c->nservers + 1) * sizeof(*grown));
			if (!grown)
				return -1;
			c->servers = grown;
			if (!(c->servers[c->nservers] = strndup(p, n)))
				return -1;
			c->nservers++;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

static bool readable(const char *path, char *err, size_t errlen, const char *what)
{
	if (access(path, R_OK) == 0)
		return true;
	snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
	return false;
}

/* CRC-16/XMODEM, the checksum of NKey strings. */
static uint16_t crc16(const uint8_t *p, size_t n)
{
	uint16_t crc = 0;
	while (n--) {
		crc ^= (uint16_t)(*p++) << 8;
		for (int i = 0; i < 8; i++)
			crc = crc & 0x8000 ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
	}
	return crc;
}

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/*
 * The user public key ("U...") of an NKey user seed ("SU..."): the client
 * library wants both, users keep only the seed. The seed is base32 of two
 * prefix bytes, the 32-byte Ed25519 seed and a CRC-16; the public key is base32
 * of the user prefix, the Ed25519 public key and a CRC-16.
 */
static int nkey_user_public(const char *path, char *pub, size_t publen, char *err, size_t errlen)
{
	char text[128] = "";
	uint8_t raw[80], key[35];
	size_t nraw = 0, len, pklen = 32;
	unsigned acc = 0;
	int bits = 0, rc = -1;
	FILE *f = fopen(path, "re");
	EVP_PKEY *pk = NULL;

	if (!f) {
		snprintf(err, errlen, "NKey seed file %s: %s", path, strerror(errno));
		return -1;
	}
	/* the seed is the first line that starts with "SU" (a .nk file or a bare seed) */
	while (fgets(text, sizeof(text), f) && strncmp(text, "SU", 2) != 0)
		text[0] = '\0';
	fclose(f);
	len = strcspn(text, " \t\r\n");
	text[len] = '\0';
	for (size_t i = 0; i < len && nraw < sizeof(raw); i++) {
		const char *at = strchr(b32, text[i]);
		if (!at || !text[i])
			break;
		acc = (acc << 5) | (unsigned)(at - b32);
		bits += 5;
		if (bits >= 8) {
			raw[nraw++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	if (len < 2 || nraw != 36 || (raw[0] & 0xf8) != (18 << 3) ||
	    (((raw[0] & 7) << 5) | ((raw[1] & 0xf8) >> 3)) != (20 << 3) ||
	    crc16(raw, 34) != (uint16_t)(raw[34] | raw[35] << 8)) {
		snprintf(err, errlen, "NKey seed file %s: no valid user seed (a line starting SU...)", path);
		goto out;
	}
	pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, raw + 2, 32);
	key[0] = 20 << 3;
	if (!pk || EVP_PKEY_get_raw_public_key(pk, key + 1, &pklen) != 1 || pklen != 32) {
		snprintf(err, errlen, "NKey seed file %s: cannot derive the public key", path);
		goto out;
	}
	uint16_t crc = crc16(key, 33);
	key[33] = (uint8_t)crc;
	key[34] = (uint8_t)(crc >> 8);
	if (publen < 57) {
		snprintf(err, errlen, "internal: public key buffer too small");
		goto out;
	}
	acc = 0;
	bits = 0;
	len = 0;
	for (size_t i = 0; i < sizeof(key); i++) {
		acc = (acc << 8) | key[i];
		bits += 8;
		while (bits >= 5) {
			pub[len++] = b32[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		pub[len++] = b32[(acc << (5 - bits)) & 31];
	pub[len] = '\0';
	rc = 0;
out:
	EVP_PKEY_free(pk);
	explicit_bzero(raw, sizeof(raw));
	explicit_bzero(text, sizeof(text));
	return rc;
}

int fleet_nkey_public(const char *seed_path, char *pub, size_t publen, char *err, size_t errlen)
{
	return nkey_user_public(seed_path, pub, publen, err, errlen);
}

static void on_connected(natsConnection *nc, void *closure)
{
	(void)nc;
	(void)closure;
}

static void on_disconnected(natsConnection *nc, void *closure)
{
	struct fleet_conn *c = closure;
	(void)nc;
	if (c->closing)
		return;
	vg_warn("nats: node %s disconnected; reconnecting (the outbox keeps what is not acknowledged)",
		    c->node);
}

/* The last callback of a connection: fleet_close waits for it before freeing c,
 * which the library's callback thread may still be reading. */
static void on_closed(natsConnection *nc, void *closure)
{
	struct fleet_conn *c = closure;
	(void)nc;
	__atomic_store_n(&c->closed, 1, __ATOMIC_RELEASE);
}

static void on_reconnected(natsConnection *nc, void *closure)
{
	struct fleet_conn *c = closure;
	char url[256] = "";
	natsConnection_GetConnectedUrl(nc, url, sizeof(url));
	vg_info("nats: node %s reconnected to %s", c->node, url);
}

struct fleet_conn *fleet_connect(const struct fleet_conn_opts *o, char *err, size_t errlen)
{
	struct fleet_conn *c = calloc(1, sizeof(*c));
	natsStatus s;
	char text[512];

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (o->node)
		snprintf(c->node, sizeof(c->node), "%s", o->node);
	else
		fleet_default_node(c->node, sizeof(c->node));
	snprintf(c->cluster, sizeof(c->cluster), "%s", o->cluster ? o->cluster : "default");
	if (!fleet_name_valid(c->node) || (o->node && strlen(o->node) > FLEET_NAME_MAX)) {
		snprintf(err, errlen, "node name '%s' is not 1 to 64 of A-Z a-z 0-9 - _",
			 o->node ? o->node : c->node);
		goto fail;
	}
	if (!fleet_name_valid(o->cluster ? o->cluster : c->cluster)) {
		snprintf(err, errlen, "cluster name '%s' is not 1 to 64 of A-Z a-z 0-9 - _", o->cluster);
		goto fail;
	}
	if (!o->servers || split_servers(c, o->servers) != 0 || c->nservers == 0) {
		snprintf(err, errlen, "no NATS server given (nats://HOST:PORT[,...])");
		goto fail;
	}
	if ((o->creds && !readable(o->creds, err, errlen, "credentials file")) ||
	    (o->nkey_seed && !readable(o->nkey_seed, err, errlen, "NKey seed file")) ||
	    (o->tls_ca && !readable(o->tls_ca, err, errlen, "TLS CA file")) ||
	    (o->tls_cert && !readable(o->tls_cert, err, errlen, "TLS certificate")) ||
	    (o->tls_key && !readable(o->tls_key, err, errlen, "TLS key")))
		goto fail;
	if (!!o->tls_cert != !!o->tls_key) {
		snprintf(err, errlen, "a TLS client certificate needs its key, and a key its certificate");
		goto fail;
	}
	if (o->creds && o->nkey_seed) {
		snprintf(err, errlen, "give a credentials file or an NKey seed, not both");
		goto fail;
	}

	s = natsOptions_Create(&c->opts);
	if (s == NATS_OK)
		s = natsOptions_SetServers(c->opts, (const char **)c->servers, c->nservers);
	if (s == NATS_OK) {
		snprintf(text, sizeof(text), "%s %s/%s", o->client ? o->client : "vigil", c->cluster, c->node);
		s = natsOptions_SetName(c->opts, text);
	}
	/* Reconnect forever, every 250 ms with jitter; buffer nothing while away:
	 * what is not acknowledged stays in the outbox, not in the client's memory. */
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(c->opts, -1);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectWait(c->opts, 250);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectJitter(c->opts, 100, 500);
	if (s == NATS_OK && !o->connect_now)
		s = natsOptions_SetRetryOnFailedConnect(c->opts, true, on_connected, c);
	if (s == NATS_OK)
		s = natsOptions_SetDisconnectedCB(c->opts, on_disconnected, c);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectedCB(c->opts, on_reconnected, c);
	if (s == NATS_OK)
		s = natsOptions_SetClosedCB(c->opts, on_closed, c);
	if (s == NATS_OK && (o->tls_ca || o->tls_cert))
		s = natsOptions_SetSecure(c->opts, true);
	if (s == NATS_OK && o->tls_ca)
		s = natsOptions_LoadCATrustedCertificates(c->opts, o->tls_ca);
	if (s == NATS_OK && o->tls_cert)
		s = natsOptions_LoadCertificatesChain(c->opts, o->tls_cert, o->tls_key);
	if (s == NATS_OK && o->creds)
		s = natsOptions_SetUserCredentialsFromFiles(c->opts, o->creds, NULL);
	if (s == NATS_OK && o->nkey_seed) {
		char pub[64];
		if (nkey_user_public(o->nkey_seed, pub, sizeof(pub), err, errlen) != 0)
			goto fail;
		s = natsOptions_SetNKeyFromSeed(c->opts, pub, o->nkey_seed);
	}
	if (s != NATS_OK) {
		snprintf(err, errlen, "NATS options: %s", fleet_status_text(s, text, sizeof(text)));
		goto fail;
	}
	s = natsConnection_Connect(&c->nc, c->opts);
	if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED) {
		snprintf(err, errlen, "NATS connect to %s: %s", o->servers,
			 fleet_status_text(s, text, sizeof(text)));
		goto fail;
	}
	if (s == NATS_NOT_YET_CONNECTED)
		vg_warn("nats: no server of %s answers yet; retrying in the background", o->servers);
	s = natsConnection_JetStream(&c->js, c->nc, NULL);
	if (s != NATS_OK) {
		snprintf(err, errlen, "JetStream context: %s", fleet_status_text(s, text, sizeof(text)));
		goto fail;
	}
	return c;
fail:
	fleet_close(c);
	return NULL;
}

void fleet_close(struct fleet_conn *c)
{
	if (!c)
		return;
	if (c->js)
		jsCtx_Destroy(c->js);
	c->closing = true;
	bool closed = true;
	if (c->nc) {
		natsConnection_Close(c->nc);
		/* the callbacks run on the library's thread, after Close returns: wait for the
		 * last one, so that none reads c once it is freed. On a machine so loaded that it
		 * has not come in 10 s of wall time, c is left allocated (a leak of one small
		 * struct, once, at the end) rather than freed under a callback that will still
		 * write to it: that write into freed memory is what corrupted the heap once
		 * ("double free or corruption") at a load average of 800 */
		int64_t end = nats_Now() + 10000;
		while (!__atomic_load_n(&c->closed, __ATOMIC_ACQUIRE) && nats_Now() < end)
			nats_Sleep(5);
		closed = __atomic_load_n(&c->closed, __ATOMIC_ACQUIRE);
		natsConnection_Destroy(c->nc);
	}
	if (c->opts)
		natsOptions_Destroy(c->opts);
	for (int i = 0; i < c->nservers; i++)
		free(c->servers[i]);
	free(c->servers);
	c->servers = NULL;
	c->nservers = 0;
	if (closed)
		free(c);
	else
		vg_warn("nats: the connection's last callback did not come within 10 s; its state is left allocated");
}

natsConnection *fleet_nc(struct fleet_conn *c)
{
	return c->nc;
}

jsCtx *fleet_js(struct fleet_conn *c)
{
	return c->js;
}

const char *fleet_node(const struct fleet_conn *c)
{
	return c->node;
}

const char *fleet_cluster(const struct fleet_conn *c)
{
	return c->cluster;
}

bool fleet_conn_up(struct fleet_conn *c)
{
	return c->nc && natsConnection_Status(c->nc) == NATS_CONN_STATUS_CONNECTED;
}

bool fleet_conn_wait(struct fleet_conn *c, long timeout_ms)
{
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		if (fleet_conn_up(c))
			return true;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long waited = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
		if (waited >= timeout_ms)
			return false;
		nats_Sleep(20);
	}
}
