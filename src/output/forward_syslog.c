/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The syslog forwarder: each record as one RFC 5424 message, over a unix
 * socket (/dev/log: datagram, else stream), UDP (RFC 5426), TCP with
 * octet-counting framing (RFC 6587, 3.4.1) or TLS (RFC 5425, libssl opened on
 * first use, the server's certificate verified for its name). docs/outputs.md
 * has the spec.
 *
 * A message, worked example (one line; the MSG is the record's JSON as is):
 *
 *   <132>1 2026-12-06T08:46:11.123456Z node-1 vigil 4242 alert
 *   [vigil@32473 kind="alert" seq="17" uuid="3f2c..." rule="Terminal shell in container"
 *   priority="Warning" container_id="4e5f6a7b8c9d" container_name="web"]
 *   {"time":"2026-12-06T08:46:11.123456789Z","rule":"Terminal shell in container",...}
 *
 * PRI 132 = facility local0 (16) * 8 + severity 4 (warning, the alert's
 * priority). 32473 is the enterprise number RFC 5612 reserves for
 * documentation: SD-IDs with it are Vigil's own, not registered ones.
 *
 * What "delivered" means here: a unix datagram is in the receiver's queue; a
 * UDP datagram or a TCP write is in this host's kernel (syslog has no
 * acknowledgement: a TCP connection that breaks can lose what the kernel had
 * not yet sent). Use the webhook or NATS when that matters.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "common/buf.h"
#include "common/libssl.h"
#include "output/forwarders.h"
#include "output/metrics.h"

#define SYSLOG_DGRAM_MAX 65000  /* bytes of a datagram; longer messages are truncated */
#define SYSLOG_SD_VALUE_MAX 512 /* bytes of one SD-PARAM value */

enum transport { T_UDP, T_TCP, T_TLS, T_UNIX, T_UNIX_DGRAM, T_UNIX_STREAM };

struct syslog_fwd {
	enum transport t;
	char *host, *port, *path;
	int facility;
	char hostname[256], app[49];
	bool octet;          /* stream framing: octet counting, else LF */
	unsigned kinds;
	int timeout_ms;
	int fd, socktype;    /* -1 when not connected */
	struct vg_buf msg, frame;
	SSL_CTX *tls;        /* T_TLS */
	SSL *ssl;            /* while connected over TLS */
	uint64_t truncated;
	struct vg_series *m_truncated;
};

static const char *const facilities[] = {
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv",
	"ftp", "ntp", "audit", "alert", "clock", "local0", "local1", "local2", "local3", "local4", "local5",
	"local6", "local7", NULL,
};

/* Printable US-ASCII without space (RFC 5424 PRINTUSASCII), at most max bytes, "-" when empty. */
static void add_token(struct vg_buf *b, const char *s, size_t max)
{
	size_t n = 0;
	for (; s && *s && n < max; s++)
		if (*s >= 33 && *s <= 126) {
			buf_addc(b, *s);
			n++;
		}
	if (!n)
		buf_addc(b, '-');
}

/* An SD-PARAM value: '"', '\' and ']' escaped, cut at max bytes on a UTF-8 boundary. */
static void add_param(struct vg_buf *b, const char *name, const char *v)
{
	if (!v || !*v)
		return;
	size_t len = strlen(v);
	if (len > SYSLOG_SD_VALUE_MAX) {
		len = SYSLOG_SD_VALUE_MAX;
		while (len && ((unsigned char)v[len] & 0xc0) == 0x80)
			len--;
	}
	buf_printf(b, " %s=\"", name);
	for (size_t i = 0; i < len; i++) {
		if (v[i] == '"' || v[i] == '\\' || v[i] == ']')
			buf_addc(b, '\\');
		buf_addc(b, v[i]);
	}
	buf_addc(b, '"');
}

static const char *jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

void forward_syslog_format(struct vg_buf *out, const struct outbox_record *r, int facility, const char *hostname,
			   const char *app)
{
	static const char *const kinds[] = { [OUTBOX_ALERT] = "alert", [OUTBOX_ACTION] = "action",
					     [OUTBOX_LOSS] = "loss" };
	const char *kind = r->kind >= OUTBOX_ALERT && r->kind <= OUTBOX_LOSS ? kinds[r->kind] : "record";
	int sev = r->priority >= 0 && r->priority <= 7 ? r->priority : 6;
	json_t *j = json_loadb(r->json, r->json_len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}

	buf_printf(out, "<%d>1 ", facility * 8 + sev);
	time_t secs = (time_t)(r->time_ns / 1000000000);
	struct tm tm;
	char ts[40];
	if (r->time_ns > 0 && gmtime_r(&secs, &tm) && strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm))
		buf_printf(out, "%s.%06ldZ ", ts, (long)(r->time_ns % 1000000000 / 1000));
	else
		buf_adds(out, "- ");
	const char *h = hostname && *hostname ? hostname : j ? jstr(j, "hostname") : NULL;
	char own[256];
	if ((!h || !*h) && gethostname(own, sizeof(own)) == 0) {
		own[sizeof(own) - 1] = 0;
		h = own;
	}
	add_token(out, h, 255);
	buf_addc(out, ' ');
	add_token(out, app, 48);
	buf_printf(out, " %d ", (int)getpid());
	add_token(out, kind, 32);
	buf_printf(out, " [vigil@32473 kind=\"%s\" seq=\"%lld\"", kind, (long long)r->seq);
	add_param(out, "uuid", r->uuid);
	if (j) {
		json_t *of = json_object_get(j, "output_fields");
		add_param(out, "rule", jstr(j, "rule"));
		add_param(out, "priority", jstr(j, "priority"));
		add_param(out, "action", jstr(j, "action"));
		add_param(out, "outcome", jstr(j, "outcome"));
		add_param(out, "container_id", jstr(of, "container.id"));
		add_param(out, "container_name", jstr(of, "container.name"));
		add_param(out, "k8s_ns", jstr(of, "k8s.ns.name"));
		add_param(out, "k8s_pod", jstr(of, "k8s.pod.name"));
	}
	buf_adds(out, "] ");
	buf_add(out, r->json, r->json_len);
	json_decref(j);
}

static void disconnect(struct syslog_fwd *f)
{
	if (f->ssl) {
		/* close_notify, then read what the server sent and we never asked for (TLS 1.3
		 * session tickets): closing with unread data makes the kernel send a reset,
		 * and the server may drop the last messages it had not read yet */
		char drain[4096];
		SSL_shutdown(f->ssl);
		while (recv(f->fd, drain, sizeof(drain), MSG_DONTWAIT) > 0)
			;
		SSL_free(f->ssl);
		f->ssl = NULL;
	}
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

/* Wait for fd to become writable, up to the timeout: 0, or an errno. */
static int wait_out(struct syslog_fwd *f)
{
	struct pollfd p = { .fd = f->fd, .events = POLLOUT };
	int n = poll(&p, 1, f->timeout_ms);
	return n > 0 ? 0 : n == 0 ? ETIMEDOUT : errno;
}

static int connect_unix(struct syslog_fwd *f, int type)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(f->path) >= sizeof(sa.sun_path))
		return ENAMETOOLONG;
	strcpy(sa.sun_path, f->path);
	f->fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (f->fd < 0)
		return errno;
	if (connect(f->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int e = errno;
		disconnect(f);
		return e;
	}
	f->socktype = type;
	return 0;
}

/* TLS over the connected socket, blocking within the timeout: 0, or -1 (disconnected) with the reason. */
static int tls_handshake(struct syslog_fwd *f, char *err, size_t errlen)
{
	struct timeval tv = { .tv_sec = f->timeout_ms / 1000, .tv_usec = f->timeout_ms % 1000 * 1000 };
	struct in6_addr ip;
	int flags = fcntl(f->fd, F_GETFL);

	if (flags < 0 || fcntl(f->fd, F_SETFL, flags & ~O_NONBLOCK) ||
	    setsockopt(f->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(f->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) || !(f->ssl = SSL_new(f->tls)) ||
	    !SSL_set_fd(f->ssl, f->fd) || !SSL_set1_host(f->ssl, f->host)) {
		snprintf(err, errlen, "cannot start TLS to syslog %s:%s", f->host, f->port);
		disconnect(f);
		return -1;
	}
	/* the name it asked for (SNI), when it is a name and not an address */
	if (!inet_pton(AF_INET, f->host, &ip) && !inet_pton(AF_INET6, f->host, &ip))
		SSL_set_tlsext_host_name(f->ssl, f->host);
	ERR_clear_error();
	if (SSL_connect(f->ssl) != 1) {
		long v = SSL_get_verify_result(f->ssl);
		char why[256];
		ERR_error_string_n(ERR_get_error(), why, sizeof(why));
		snprintf(err, errlen, "TLS handshake with syslog %s:%s failed: %s", f->host, f->port,
			 v != X509_V_OK ? X509_verify_cert_error_string(v) : why);
		disconnect(f);
		return -1;
	}
	return 0;
}

/* Connect when not connected: 0, or -1 with the reason in err. */
static int ensure_connected(struct syslog_fwd *f, char *err, size_t errlen)
{
	int e = 0;

	if (f->fd >= 0)
		return 0;
	if (f->t == T_UNIX || f->t == T_UNIX_DGRAM || f->t == T_UNIX_STREAM) {
		e = connect_unix(f, f->t == T_UNIX_STREAM ? SOCK_STREAM : SOCK_DGRAM);
		if (e == EPROTOTYPE && f->t == T_UNIX) /* /dev/log is a stream socket here */
			e = connect_unix(f, SOCK_STREAM);
		if (e) {
			snprintf(err, errlen, "cannot connect to syslog socket %s: %s", f->path, strerror(e));
			return -1;
		}
		return 0;
	}
	struct addrinfo hints = { .ai_socktype = f->t == T_UDP ? SOCK_DGRAM : SOCK_STREAM }, *res = NULL;
	int g = getaddrinfo(f->host, f->port, &hints, &res);
	if (g) {
		snprintf(err, errlen, "cannot resolve syslog host %s: %s", f->host, gai_strerror(g));
		return -1;
	}
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		f->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (f->fd < 0) {
			e = errno;
			continue;
		}
		e = 0;
		if (connect(f->fd, ai->ai_addr, ai->ai_addrlen)) {
			e = errno;
			if (e == EINPROGRESS && !(e = wait_out(f))) {
				socklen_t sl = sizeof(e);
				if (getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &e, &sl))
					e = errno;
			}
		}
		if (!e)
			break;
		disconnect(f);
	}
	freeaddrinfo(res);
	if (f->fd < 0) {
		snprintf(err, errlen, "cannot connect to syslog %s:%s: %s", f->host, f->port, strerror(e ? e : EIO));
		return -1;
	}
	f->socktype = f->t == T_UDP ? SOCK_DGRAM : SOCK_STREAM;
	return f->t == T_TLS ? tls_handshake(f, err, errlen) : 0;
}

/* Write all of buf on a stream socket within the timeout: 0, or an errno. */
static int write_all(struct syslog_fwd *f, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(f->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return errno;
			int e = wait_out(f);
			if (e)
				return e;
			continue;
		}
		p += w;
		n -= w;
	}
	return 0;
}

/* Send one formatted message: 0, or an errno (the connection is then closed). */
static int send_one(struct syslog_fwd *f)
{
	int e;
	if (f->socktype == SOCK_DGRAM) {
		size_t n = f->msg.len;
		if (n > SYSLOG_DGRAM_MAX) {
			n = SYSLOG_DGRAM_MAX;
			f->truncated++;
			metrics_add(f->m_truncated, 1);
		}
		for (;;) {
			if (send(f->fd, f->msg.data, n, MSG_NOSIGNAL) >= 0)
				return 0;
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN || (e = wait_out(f)))
				break;
		}
		e = errno;
	} else if (f->ssl) {
		/* one record per message: the frame whole in one SSL_write (RFC 5425 octet counting) */
		buf_reset(&f->frame);
		buf_printf(&f->frame, "%zu ", f->msg.len);
		buf_add(&f->frame, f->msg.data, f->msg.len);
		ERR_clear_error();
		errno = 0;
		if (SSL_write(f->ssl, f->frame.data, (int)f->frame.len) == (int)f->frame.len)
			return 0;
		e = errno ? errno : EIO;
	} else if (f->octet) {
		char len[24];
		int ln = snprintf(len, sizeof(len), "%zu ", f->msg.len);
		if (!(e = write_all(f, len, ln)) && !(e = write_all(f, f->msg.data, f->msg.len)))
			return 0;
	} else {
		buf_addc(&f->msg, '\n');
		if (!(e = write_all(f, f->msg.data, f->msg.len)))
			return 0;
	}
	disconnect(f);
	return e ? e : EIO;
}

static long syslog_deliver(void *ctx, const struct outbox_record *recs, size_t n, char *err, size_t errlen)
{
	struct syslog_fwd *f = ctx;

	for (size_t i = 0; i < n; i++) {
		if (!(f->kinds & (1u << recs[i].kind)))
			continue;
		if (ensure_connected(f, err, errlen))
			return i ? (long)i : -1;
		buf_reset(&f->msg);
		forward_syslog_format(&f->msg, &recs[i], f->facility, f->hostname, f->app);
		int e = send_one(f);
		if (e) {
			snprintf(err, errlen, "cannot send to syslog %s: %s", f->path ? f->path : f->host, strerror(e));
			return i ? (long)i : -1;
		}
	}
	return (long)n;
}

static void syslog_close(void *ctx)
{
	struct syslog_fwd *f = ctx;
	if (!f)
		return;
	disconnect(f);
	if (f->tls)
		SSL_CTX_free(f->tls);
	buf_free(&f->frame);
	free(f->host);
	free(f->port);
	free(f->path);
	buf_free(&f->msg);
	free(f);
}

/* "host:port", "[v6]:port" or "host" into f->host, f->port: 0, or -1. */
static int split_host_port(struct syslog_fwd *f, const char *hp, const char *port)
{
	const char *end;
	if (*hp == '[') {
		end = strchr(hp, ']');
		if (!end || (end[1] && end[1] != ':'))
			return -1;
		f->host = xstrndup(hp + 1, end - hp - 1);
		if (end[1] == ':')
			port = end + 2;
	} else {
		end = strrchr(hp, ':');
		f->host = end ? xstrndup(hp, end - hp) : xstrdup(hp);
		if (end)
			port = end + 1;
	}
	char *pe;
	long p = strtol(port, &pe, 10);
	if (!*f->host || *pe || p < 1 || p > 65535 || strchr(f->host, '/'))
		return -1;
	f->port = xstrdup(port);
	return 0;
}

/* The TLS context: the server verified against ca (else the system's CAs), our certificate if given. */
static int tls_setup(struct syslog_fwd *f, const char *ca, const char *cert, const char *key, char *err, size_t errlen)
{
	const char *lerr = libssl_load();
	char why[256] = "";

	if (lerr) {
		snprintf(err, errlen, "syslog output: %s", lerr);
		return -1;
	}
	ERR_clear_error();
	if (!(f->tls = SSL_CTX_new(TLS_client_method()))) {
		snprintf(err, errlen, "syslog output: cannot start TLS");
		return -1;
	}
	SSL_CTX_set_verify(f->tls, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_min_proto_version(f->tls, TLS1_2_VERSION);
	if (ca ? SSL_CTX_load_verify_locations(f->tls, ca, NULL) != 1 : SSL_CTX_set_default_verify_paths(f->tls) != 1) {
		ERR_error_string_n(ERR_get_error(), why, sizeof(why));
		snprintf(err, errlen, "syslog output: cannot load CA %s: %s", ca ? ca : "(system)", why);
		return -1;
	}
	if (cert && (SSL_CTX_use_certificate_chain_file(f->tls, cert) != 1 ||
		     SSL_CTX_use_PrivateKey_file(f->tls, key, SSL_FILETYPE_PEM) != 1)) {
		ERR_error_string_n(ERR_get_error(), why, sizeof(why));
		snprintf(err, errlen, "syslog output: cannot load certificate %s and key %s: %s", cert, key, why);
		return -1;
	}
	return 0;
}

static int syslog_open(void **ctx, const char *spec, char *err, size_t errlen)
{
	static const struct {
		const char *prefix;
		enum transport t;
	} schemes[] = { { "udp://", T_UDP }, { "tcp://", T_TCP }, { "tls://", T_TLS }, { "unix-dgram://", T_UNIX_DGRAM },
			{ "unix-stream://", T_UNIX_STREAM }, { "unix://", T_UNIX } };
	static const char known[] = "facility, hostname, app-name, framing, kinds, timeout, ca, cert, key";
	struct fwd_spec s;
	struct syslog_fwd *f = xcalloc(1, sizeof(*f));
	const char *v;
	size_t i;

	f->fd = -1;
	*ctx = NULL;
	if (fwd_spec_parse(spec, &s, err, errlen)) {
		free(f);
		return -1;
	}
	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (!strncmp(s.target, schemes[i].prefix, strlen(schemes[i].prefix)))
			break;
	if (i == sizeof(schemes) / sizeof(schemes[0])) {
		snprintf(err, errlen, "syslog output takes udp://HOST[:PORT], tcp://HOST[:PORT], tls://HOST[:PORT] or unix://PATH, not '%.200s'",
			 s.target);
		goto fail;
	}
	f->t = schemes[i].t;
	const char *rest = s.target + strlen(schemes[i].prefix);
	if (f->t >= T_UNIX) {
		if (*rest != '/') {
			snprintf(err, errlen, "syslog socket path must be absolute, not '%.200s'", rest);
			goto fail;
		}
		f->path = xstrdup(rest);
	} else if (split_host_port(f, rest, f->t == T_TLS ? "6514" : "514")) {
		snprintf(err, errlen, "syslog output: bad HOST[:PORT] '%.200s'", rest);
		goto fail;
	}
	f->facility = 16; /* local0 */
	if ((v = fwd_spec_get(&s, "facility"))) {
		f->facility = -1;
		for (int k = 0; facilities[k]; k++)
			if (!strcmp(facilities[k], v))
				f->facility = k;
		if (f->facility < 0) {
			snprintf(err, errlen, "syslog output: unknown facility '%.64s' (kern, user, daemon, auth, "
					      "authpriv, local0..local7, ...)", v);
			goto fail;
		}
	}
	snprintf(f->hostname, sizeof(f->hostname), "%s", (v = fwd_spec_get(&s, "hostname")) ? v : "");
	snprintf(f->app, sizeof(f->app), "%s", (v = fwd_spec_get(&s, "app-name")) ? v : "vigil");
	f->octet = true;
	if ((v = fwd_spec_get(&s, "framing"))) {
		if (strcmp(v, "octet") && strcmp(v, "lf")) {
			snprintf(err, errlen, "syslog output: framing is octet or lf, not '%.64s'", v);
			goto fail;
		}
		f->octet = !strcmp(v, "octet");
	}
	f->kinds = 1u << OUTBOX_ALERT | 1u << OUTBOX_ACTION | 1u << OUTBOX_LOSS;
	if ((v = fwd_spec_get(&s, "kinds")) && fwd_parse_kinds(v, &f->kinds)) {
		snprintf(err, errlen, "syslog output: kinds is a list of alert, action, loss, not '%.64s'", v);
		goto fail;
	}
	double secs = 5;
	if ((v = fwd_spec_get(&s, "timeout")) && fwd_parse_seconds(v, &secs)) {
		snprintf(err, errlen, "syslog output: timeout takes seconds, not '%.64s'", v);
		goto fail;
	}
	f->timeout_ms = (int)(secs * 1000);
	const char *ca = fwd_spec_get(&s, "ca"), *cert = fwd_spec_get(&s, "cert"), *key = fwd_spec_get(&s, "key");
	if (fwd_spec_check_used(&s, "syslog", known, err, errlen))
		goto fail;
	if ((ca || cert || key) && f->t != T_TLS) {
		snprintf(err, errlen, "syslog output: ca, cert and key are for tls:// only");
		goto fail;
	}
	if (!cert != !key) {
		snprintf(err, errlen, "syslog output: cert and key go together");
		goto fail;
	}
	if (f->t == T_TLS && tls_setup(f, ca, cert, key, err, errlen))
		goto fail;
	f->m_truncated = fwd_metric("truncated", "syslog");
	fwd_spec_free(&s);
	*ctx = f;
	return 0;
fail:
	fwd_spec_free(&s);
	syslog_close(f);
	return -1;
}

const struct vg_forwarder_ops forward_syslog_ops = {
	.name = "syslog",
	.open = syslog_open,
	.deliver = syslog_deliver,
	.close = syslog_close,
};
