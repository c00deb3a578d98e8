/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Registry pulls over the OCI distribution API with libcurl (HTTPS only).
 *
 *   GET /v2/REPO/manifests/TAG|DIGEST   an index (then the linux/amd64 entry
 *                                       by digest) or an image manifest
 *   GET /v2/REPO/blobs/DIGEST           config and layers, redirects followed
 *
 * Authentication: a 401 answer's WWW-Authenticate challenge is followed once
 * per request: "Bearer realm=...,service=...,scope=..." fetches a token from
 * the realm (with the credentials as HTTP basic auth when there are any) and
 * retries with "Authorization: Bearer TOKEN"; "Basic" retries with the
 * credentials. libcurl does not send our Authorization header to another host
 * when a blob request is redirected (to a CDN, say).
 *
 * Everything lands in a private directory as an OCI layout; nothing is kept in
 * memory but manifests (at most 4 MiB each). A blob is written to
 * blobs/sha256/HEX.part, hashed as it arrives, refused as soon as it exceeds
 * its descriptor's size, and renamed into place only when size and sha256
 * match. The sum of the descriptors' sizes is checked against max_bytes first.
 *
 * Near 1,000 lines and kept whole: reference parsing, authentication and the
 * blob transfer are one protocol, and their checks (which host a credential
 * goes to, which digest a blob must have) read best side by side.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>
#include <openssl/evp.h>
#include "scan/sources/image.h"
#include "common/libcurl.h"
#include "scan/sources/registry.h"

#define MANIFEST_MAX (4u << 20)
#define TOKEN_MAX (1u << 20)
#define ERRBODY_MAX 4096

static const char *const manifest_accept =
	"Accept: application/vnd.oci.image.index.v1+json, "
	"application/vnd.oci.image.manifest.v1+json, "
	"application/vnd.docker.distribution.manifest.list.v2+json, "
	"application/vnd.docker.distribution.manifest.v2+json";

void registry_opts_default(struct registry_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->max_bytes = 16ULL << 30;
}

void registry_ref_free(struct registry_ref *r)
{
	free(r->host);
	free(r->repo);
	free(r->tag);
	free(r->digest);
	memset(r, 0, sizeof(*r));
}

/* A repository path: components of [a-z0-9] runs joined by '.', '_', '__' or '-'s, split by '/'. */
static bool repo_valid(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > 255)
		return false;
	for (const char *c = s; *c;) {
		if (!(islower((unsigned char)*c) || isdigit((unsigned char)*c)))
			return false; /* a component or a run starts with a letter or digit */
		while (islower((unsigned char)*c) || isdigit((unsigned char)*c))
			c++;
		if (!*c)
			break;
		if (*c == '/' || *c == '.')
			c++;
		else if (*c == '_')
			c += c[1] == '_' ? 2 : 1;
		else if (*c == '-')
			while (*c == '-')
				c++;
		else
			return false;
		if (!*c)
			return false;
	}
	return true;
}

static bool tag_valid(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > 128 || !(isalnum((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return false;
	return true;
}

/* HOST[:PORT], a DNS name or IPv4 address, or [IPv6][:PORT]. */
static bool host_valid(const char *s)
{
	const char *p = s;
	if (*p == '[') {
		p++;
		while (isxdigit((unsigned char)*p) || *p == ':' || *p == '.')
			p++;
		if (*p++ != ']' || p == s + 2)
			return false;
	} else {
		while (isalnum((unsigned char)*p) || *p == '.' || *p == '-')
			p++;
		if (p == s)
			return false;
	}
	if (*p == ':') {
		p++;
		int digits = 0;
		while (isdigit((unsigned char)*p) && digits < 6)
			p++, digits++;
		if (!digits)
			return false;
	}
	return *p == 0;
}

int registry_ref_parse(const char *s, struct registry_ref *r, struct vg_buf *err)
{
	memset(r, 0, sizeof(*r));
	if (!strncmp(s, REGISTRY_PREFIX, strlen(REGISTRY_PREFIX)))
		s += strlen(REGISTRY_PREFIX);
	if (strlen(s) > 1024) {
		buf_printf(err, "image reference is too long");
		return -1;
	}
	char *copy = xstrdup(s), *name = copy;
	char *at = strchr(name, '@');
	if (at) {
		*at = 0;
		if (!image_digest_valid(at + 1)) {
			buf_printf(err, "image reference '%s': digest is not sha256:<64 hex digits>", s);
			goto fail;
		}
		r->digest = xstrdup(at + 1);
	}
	char *slash = strchr(name, '/');
	if (slash && (memchr(name, '.', (size_t)(slash - name)) ||
		      memchr(name, ':', (size_t)(slash - name)) ||
		      (slash - name == 9 && !strncmp(name, "localhost", 9)))) {
		*slash = 0;
		r->host = xstrdup(name);
		name = slash + 1;
		if (!host_valid(r->host)) {
			buf_printf(err, "image reference '%s': bad registry host '%s'", s, r->host);
			goto fail;
		}
	} else {
		r->host = xstrdup("registry-1.docker.io");
	}
	char *colon = strrchr(name, ':');
	if (colon) {
		*colon = 0;
		if (!tag_valid(colon + 1)) {
			buf_printf(err, "image reference '%s': bad tag '%s'", s, colon + 1);
			goto fail;
		}
		r->tag = xstrdup(colon + 1);
	} else if (!r->digest) {
		r->tag = xstrdup("latest");
	}
	if (!repo_valid(name)) {
		buf_printf(err, "image reference '%s': bad repository name '%s'", s, name);
		goto fail;
	}
	if (!strcmp(r->host, "registry-1.docker.io") && !strchr(name, '/')) {
		struct vg_buf b = { 0 };
		buf_printf(&b, "library/%s", name);
		r->repo = b.data;
	} else {
		r->repo = xstrdup(name);
	}
	free(copy);
	return 0;
fail:
	free(copy);
	registry_ref_free(r);
	return -1;
}

int registry_challenge_parse(const char *h, char **scheme, char **realm, char **service,
			     char **scope)
{
	*scheme = *realm = *service = *scope = NULL;
	while (*h == ' ' || *h == '\t')
		h++;
	size_t n = 0;
	while (isalnum((unsigned char)h[n]) || h[n] == '-' || h[n] == '_')
		n++;
	if (!n)
		return -1;
	*scheme = xstrndup(h, n);
	const char *p = h + n;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			return 0;
		const char *k = p;
		while (isalnum((unsigned char)*p) || *p == '-' || *p == '_')
			p++;
		size_t klen = (size_t)(p - k);
		if (!klen || *p != '=')
			return 0; /* not a parameter: the rest is ignored */
		p++;
		struct vg_buf v = { 0 };
		if (*p == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && p[1])
					p++;
				buf_addc(&v, *p);
			}
			if (*p == '"')
				p++;
		} else {
			while (*p && *p != ',' && *p != ' ' && *p != '\t')
				buf_addc(&v, *p++);
		}
		char **slot = NULL;
		if (klen == 5 && !strncasecmp(k, "realm", 5))
			slot = realm;
		else if (klen == 7 && !strncasecmp(k, "service", 7))
			slot = service;
		else if (klen == 5 && !strncasecmp(k, "scope", 5))
			slot = scope;
		if (slot && !*slot) {
			*slot = v.data ? v.data : xstrdup("");
		} else {
			buf_free(&v);
		}
	}
}

/* The state of one pull: a curl handle and what the last response said. */
struct reg {
	CURL *curl;
	const struct registry_ref *ref;
	const struct registry_opts *o;
	char *creds;      /* "user:password" or NULL */
	char *authz;      /* "Authorization: ..." header for the registry, or NULL */
	char curl_err[CURL_ERROR_SIZE];
	/* of the response being received (reset at each status line) */
	long status;
	char *challenge, *content_digest;
	struct vg_buf errbody; /* the body of a non-2xx answer, truncated */
};

/* Where a 2xx body goes: memory (bounded) or a file, hashed either way. */
struct sink {
	struct reg *g;
	struct vg_buf *mem;
	int fd;
	uint64_t max, n;
	bool over, werr;
	EVP_MD_CTX *md;
};

static void trim(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\r' || s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = 0;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
	struct reg *g = ud;
	size_t n = size * nmemb;
	char line[2048];

	if (n >= sizeof(line))
		return n; /* no header we read is that long */
	memcpy(line, data, n);
	line[n] = 0;
	trim(line);
	if (!strncmp(line, "HTTP/", 5)) {
		const char *sp = strchr(line, ' ');
		g->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		free(g->challenge);
		free(g->content_digest);
		g->challenge = g->content_digest = NULL;
		buf_reset(&g->errbody);
	} else if (!strncasecmp(line, "WWW-Authenticate:", 17) && !g->challenge) {
		g->challenge = xstrdup(line + 17 + strspn(line + 17, " \t"));
	} else if (!strncasecmp(line, "Docker-Content-Digest:", 22)) {
		free(g->content_digest);
		g->content_digest = xstrdup(line + 22 + strspn(line + 22, " \t"));
	}
	return n;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	struct sink *s = ud;
	size_t n = size * nmemb;

	if (s->g->status < 200 || s->g->status > 299) {
		if (s->g->errbody.len + n <= ERRBODY_MAX)
			buf_add(&s->g->errbody, data, n);
		return n;
	}
	if (s->n + n > s->max) {
		s->over = true;
		return 0; /* aborts the transfer */
	}
	s->n += n;
	EVP_DigestUpdate(s->md, data, n);
	if (s->mem) {
		buf_add(s->mem, data, n);
		return n;
	}
	for (size_t off = 0; off < n;) {
		ssize_t w = write(s->fd, data + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			s->werr = true;
			return 0;
		}
		off += (size_t)w;
	}
	return n;
}

static void hex_digest(EVP_MD_CTX *md, char out[72])
{
	unsigned char d[32];
	unsigned int len = 0;

	EVP_DigestFinal_ex(md, d, &len);
	strcpy(out, "sha256:");
	for (int i = 0; i < 32; i++)
		sprintf(out + 7 + 2 * i, "%02x", d[i]);
}

/* One GET; what comes back is in g->status and the sink. Returns 0 when
 * the request completed (any status), -1 with err set when it did not. */
static int http_get(struct reg *g, const char *url, const char *const *headers,
		    const char *userpwd, struct sink *s, struct vg_buf *err)
{
	struct curl_slist *hl = NULL;
	CURL *c = g->curl;

	for (const char *const *h = headers; h && *h; h++)
		hl = curl_slist_append(hl, *h);
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	/* a server that stops sending (or trickles) is given up after a minute */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "vigil");
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, g->curl_err);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, g);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	if (g->o->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, g->o->ca_file);
	if (g->o->insecure) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (userpwd) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
	}
	g->status = 0;
	g->curl_err[0] = 0;
	CURLcode rc = curl_easy_perform(c);
	curl_slist_free_all(hl);
	if (rc == CURLE_OK)
		return 0;
	if (s->over)
		buf_printf(err, "more data than the %llu bytes expected",
			   (unsigned long long)s->max);
	else if (s->werr)
		buf_printf(err, "cannot write: %s", strerror(errno));
	else
		buf_printf(err, "%s", g->curl_err[0] ? g->curl_err : curl_easy_strerror(rc));
	return -1;
}

/* Fetch a token for the challenge from its realm; sets g->authz. */
static int bearer_token(struct reg *g, const char *realm, const char *service, const char *scope,
			struct vg_buf *err)
{
	struct vg_buf url = { 0 }, body = { 0 };
	struct sink s = { .g = g, .mem = &body, .max = TOKEN_MAX, .md = EVP_MD_CTX_new() };
	int ret = -1;

	EVP_DigestInit_ex(s.md, EVP_sha256(), NULL);
	buf_adds(&url, realm);
	char sep = strchr(realm, '?') ? '&' : '?';
	if (service) {
		char *e = curl_easy_escape(g->curl, service, 0);
		buf_printf(&url, "%cservice=%s", sep, e);
		curl_free(e);
		sep = '&';
	}
	struct vg_buf defscope = { 0 };
	if (!scope) {
		buf_printf(&defscope, "repository:%s:pull", g->ref->repo);
		scope = defscope.data;
	}
	char *e = curl_easy_escape(g->curl, scope, 0);
	buf_printf(&url, "%cscope=%s", sep, e);
	curl_free(e);
	buf_free(&defscope);
	if (http_get(g, url.data, NULL, g->creds, &s, err)) {
		char tmp[512];
		snprintf(tmp, sizeof(tmp), "%s", err->data);
		buf_reset(err);
		buf_printf(err, "cannot get a token from %s: %s", realm, tmp);
		goto out;
	}
	if (g->status != 200) {
		buf_printf(err, "token server %s answered HTTP %ld%s", realm, g->status,
			   g->status == 401 ? " (wrong or missing credentials)" : "");
		goto out;
	}
	json_error_t je;
	json_t *doc = json_loadb(body.data ? body.data : "", body.len, 0, &je);
	const char *tok = json_string_value(json_object_get(doc, "token"));
	if (!tok)
		tok = json_string_value(json_object_get(doc, "access_token"));
	if (!tok || !*tok || strpbrk(tok, "\r\n")) {
		buf_printf(err, "token server %s: no token in its answer", realm);
		json_decref(doc);
		goto out;
	}
	free(g->authz);
	struct vg_buf h = { 0 };
	buf_printf(&h, "Authorization: Bearer %s", tok);
	g->authz = h.data;
	json_decref(doc);
	ret = 0;
out:
	EVP_MD_CTX_free(s.md);
	buf_free(&url);
	buf_free(&body);
	return ret;
}

/* Answer a 401's challenge: sets g->authz, or fails with the reason. */
static int authenticate(struct reg *g, struct vg_buf *err)
{
	char *scheme, *realm, *service, *scope;
	int ret = -1;

	if (!g->challenge || registry_challenge_parse(g->challenge, &scheme, &realm, &service, &scope)) {
		buf_printf(err, "registry %s answered HTTP 401 without a challenge", g->ref->host);
		return -1;
	}
	if (!strcasecmp(scheme, "Bearer") && realm) {
		ret = bearer_token(g, realm, service, scope, err);
	} else if (!strcasecmp(scheme, "Basic")) {
		if (!g->creds) {
			buf_printf(err, "registry %s needs credentials (VIGIL_REGISTRY_AUTH or --authfile)",
				   g->ref->host);
		} else {
			size_t n = strlen(g->creds);
			char *b64 = xmalloc(4 * ((n + 2) / 3) + 1);
			EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)g->creds, (int)n);
			struct vg_buf h = { 0 };
			buf_printf(&h, "Authorization: Basic %s", b64);
			free(b64);
			free(g->authz);
			g->authz = h.data;
			ret = 0;
		}
	} else {
		buf_printf(err, "registry %s: unsupported authentication scheme '%s'", g->ref->host,
			   scheme);
	}
	free(scheme);
	free(realm);
	free(service);
	free(scope);
	return ret;
}

/* GET a registry API path, authenticating once when asked to. what names the object in errors. */
static int reg_get(struct reg *g, const char *path, const char *accept, struct sink *s,
		   const char *what, struct vg_buf *err)
{
	struct vg_buf url = { 0 };
	int ret = -1;

	buf_printf(&url, "https://%s/v2/%s", g->ref->host, path);
	for (int attempt = 0;; attempt++) {
		const char *headers[3] = { accept, g->authz, NULL };
		if (!accept) {
			headers[0] = g->authz;
			headers[1] = NULL;
		}
		EVP_DigestInit_ex(s->md, EVP_sha256(), NULL);
		s->n = 0;
		if (s->mem)
			buf_reset(s->mem);
		struct vg_buf e = { 0 };
		if (http_get(g, url.data, headers, NULL, s, &e)) {
			buf_printf(err, "cannot fetch %s from %s: %s", what, url.data, e.data);
			buf_free(&e);
			goto out;
		}
		if (g->status == 401 && attempt == 0) {
			if (authenticate(g, err))
				goto out;
			continue;
		}
		break;
	}
	if (g->status != 200) {
		/* the distribution API's error body: {"errors":[{"code":..,"message":..}]} */
		json_t *doc = json_loadb(g->errbody.data ? g->errbody.data : "", g->errbody.len, 0, NULL);
		json_t *e0 = json_array_get(json_object_get(doc, "errors"), 0);
		const char *code = json_string_value(json_object_get(e0, "code"));
		const char *msg = json_string_value(json_object_get(e0, "message"));
		buf_printf(err, "cannot fetch %s from %s: HTTP %ld", what, url.data, g->status);
		if (code)
			buf_printf(err, " %s", code);
		if (msg)
			buf_printf(err, ": %s", msg);
		if (g->status == 401 && g->authz)
			buf_printf(err, " (the registry refused the credentials or token)");
		json_decref(doc);
		goto out;
	}
	ret = 0;
out:
	buf_free(&url);
	return ret;
}

/* Write a whole file under dir (O_EXCL: the directory is ours and new). */
static int write_file(const char *dir, const char *name, const void *data, size_t len,
		      struct vg_buf *err)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		buf_printf(err, "cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	const char *p = data;
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, p + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			buf_printf(err, "cannot write %s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		off += (size_t)w;
	}
	if (close(fd)) {
		buf_printf(err, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Fetch a manifest (by tag or digest) into body; check its digest when one is
 * expected (or the registry names one). Sets got[72] to its sha256. */
static int get_manifest(struct reg *g, const char *ref, const char *expect, struct vg_buf *body,
			char got[72], struct vg_buf *err)
{
	struct sink s = { .g = g, .mem = body, .max = MANIFEST_MAX, .md = EVP_MD_CTX_new() };
	struct vg_buf path = { 0 }, what = { 0 };
	int ret = -1;

	buf_printf(&path, "%s/manifests/%s", g->ref->repo, ref);
	buf_printf(&what, "manifest %s", ref);
	if (reg_get(g, path.data, manifest_accept, &s, what.data, err))
		goto out;
	hex_digest(s.md, got);
	if (expect && strcmp(expect, got)) {
		buf_printf(err, "manifest %s: digest mismatch: content is %s", expect, got);
		goto out;
	}
	if (!expect && g->content_digest && !strncmp(g->content_digest, "sha256:", 7) &&
	    strcmp(g->content_digest, got)) {
		buf_printf(err, "manifest %s: digest mismatch: registry says %s, content is %s", ref,
			   g->content_digest, got);
		goto out;
	}
	ret = 0;
out:
	EVP_MD_CTX_free(s.md);
	buf_free(&path);
	buf_free(&what);
	return ret;
}

/* Download one blob to DIR/blobs/sha256/HEX, size and digest checked. what: "layer 2". */
static int get_blob(struct reg *g, const char *dir, const char *digest, uint64_t size,
		    const char *what, struct vg_buf *err)
{
	char final[PATH_MAX], part[PATH_MAX], got[72];
	struct vg_buf path = { 0 }, label = { 0 };
	int ret = -1;

	if (snprintf(final, sizeof(final), "%s/blobs/sha256/%s", dir, digest + 7) >=
		    (int)sizeof(final) - 5) {
		buf_printf(err, "temporary directory name is too long");
		return -1;
	}
	if (access(final, F_OK) == 0)
		return 0; /* the same blob twice in one image */
	snprintf(part, sizeof(part), "%.*s.part", (int)(sizeof(part) - 6), final);
	struct sink s = { .g = g, .max = size, .md = EVP_MD_CTX_new() };
	s.fd = open(part, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (s.fd < 0) {
		buf_printf(err, "cannot create %s: %s", part, strerror(errno));
		EVP_MD_CTX_free(s.md);
		return -1;
	}
	buf_printf(&path, "%s/blobs/%s", g->ref->repo, digest);
	buf_printf(&label, "%s blob %s", what, digest);
	/* (the body of a 401 answered before a retry is not written: see on_body) */
	if (reg_get(g, path.data, NULL, &s, label.data, err))
		goto out;
	hex_digest(s.md, got);
	if (s.n != size) {
		buf_printf(err, "%s blob %s: %llu bytes, the manifest says %llu", what, digest,
			   (unsigned long long)s.n, (unsigned long long)size);
		goto out;
	}
	if (strcmp(got, digest)) {
		buf_printf(err, "%s blob %s: digest mismatch: content is %s", what, digest, got);
		goto out;
	}
	if (close(s.fd)) {
		s.fd = -1;
		buf_printf(err, "cannot write %s: %s", part, strerror(errno));
		goto out;
	}
	s.fd = -1;
	if (rename(part, final)) {
		buf_printf(err, "cannot rename %s: %s", part, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (s.fd >= 0)
		close(s.fd);
	if (ret)
		unlink(part);
	EVP_MD_CTX_free(s.md);
	buf_free(&path);
	buf_free(&label);
	return ret;
}

/* A descriptor's digest and size, checked. */
static int descriptor(json_t *d, const char **digest, uint64_t *size, const char *what,
		      struct vg_buf *err)
{
	*digest = json_string_value(json_object_get(d, "digest"));
	json_t *sz = json_object_get(d, "size");
	if (!image_digest_valid(*digest)) {
		buf_printf(err, "%s: unsupported or malformed digest '%s'", what,
			   *digest ? *digest : "");
		return -1;
	}
	if (!json_is_integer(sz) || json_integer_value(sz) < 0) {
		buf_printf(err, "%s %s: no valid size", what, *digest);
		return -1;
	}
	*size = (uint64_t)json_integer_value(sz);
	return 0;
}

/* Credentials: VIGIL_REGISTRY_AUTH-style "user:password", else the auth file's
 * auths[HOST].auth (base64 of user:password). NULL when there are none. */
static char *find_creds(const struct registry_opts *o, const char *host, struct vg_buf *err,
			int *failed)
{
	*failed = 0;
	if (o->creds && *o->creds)
		return xstrdup(o->creds);
	if (!o->auth_file)
		return NULL;
	json_error_t je;
	json_t *doc = json_load_file(o->auth_file, 0, &je);
	if (!doc) {
		buf_printf(err, "cannot parse %s:%d:%d: %s", o->auth_file, je.line, je.column,
			   je.text);
		*failed = 1;
		return NULL;
	}
	json_t *auths = json_object_get(doc, "auths"), *entry = json_object_get(auths, host);
	if (!entry) {
		struct vg_buf k = { 0 };
		buf_printf(&k, "https://%s", host);
		entry = json_object_get(auths, k.data);
		buf_free(&k);
	}
	const char *b64 = json_string_value(json_object_get(entry, "auth"));
	char *out = NULL;
	if (b64) {
		size_t n = strlen(b64);
		unsigned char *raw = xmalloc(n / 4 * 3 + 4);
		int len = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)n);
		if (len < 0 || n % 4) {
			buf_printf(err, "%s: auths.%s.auth is not base64", o->auth_file, host);
			*failed = 1;
		} else {
			while (len > 0 && raw[len - 1] == 0)
				len--; /* padding decodes to NULs */
			raw[len] = 0;
			if (!strchr((char *)raw, ':')) {
				buf_printf(err, "%s: auths.%s.auth is not user:password", o->auth_file,
					   host);
				*failed = 1;
			} else {
				out = xstrdup((char *)raw);
			}
		}
		free(raw);
	}
	json_decref(doc);
	return out;
}

/* Pick linux/amd64, else the first, among an index's manifests (as image.c does). */
static json_t *pick_platform(json_t *manifests)
{
	size_t i;
	json_t *e;
	json_array_foreach(manifests, i, e) {
		json_t *plat = json_object_get(e, "platform");
		const char *os = json_string_value(json_object_get(plat, "os"));
		const char *arch = json_string_value(json_object_get(plat, "architecture"));
		if (os && arch && !strcmp(os, "linux") && !strcmp(arch, "amd64"))
			return e;
	}
	return json_array_get(manifests, 0);
}

int registry_pull(const struct registry_ref *ref, const struct registry_opts *o,
		  const char *dir, struct vg_buf *err)
{
	struct reg g = { .ref = ref, .o = o };
	struct vg_buf body = { 0 }, index = { 0 };
	char top[72], got[72], name[PATH_MAX];
	char *top_type = NULL; /* the top manifest's mediaType, for index.json */
	json_t *doc = NULL;
	int ret = -1, failed;

	const char *why = libcurl_load();
	if (why) {
		buf_printf(err, "%s", why);
		return -1;
	}
	g.creds = find_creds(o, ref->host, err, &failed);
	if (failed)
		return -1;
	g.curl = curl_easy_init();
	if (!g.curl) {
		buf_printf(err, "cannot initialise libcurl");
		free(g.creds);
		return -1;
	}
	snprintf(name, sizeof(name), "%s/blobs", dir);
	if (mkdir(name, 0700) || (strcat(name, "/sha256"), mkdir(name, 0700))) {
		buf_printf(err, "cannot create %s: %s", name, strerror(errno));
		goto out;
	}
	/* the top manifest, by digest or tag */
	if (get_manifest(&g, ref->digest ? ref->digest : ref->tag, ref->digest, &body, top, err))
		goto out;
	for (int depth = 0;; depth++) {
		json_error_t je;
		json_decref(doc);
		doc = json_loadb(body.data ? body.data : "", body.len, 0, &je);
		if (!doc) {
			buf_printf(err, "manifest %s: cannot parse: %d:%d: %s", depth ? got : top,
				   je.line, je.column, je.text);
			goto out;
		}
		const char *mt = json_string_value(json_object_get(doc, "mediaType"));
		if (!depth && mt)
			top_type = xstrdup(mt);
		snprintf(name, sizeof(name), "blobs/sha256/%s", (depth ? got : top) + 7);
		if (write_file(dir, name, body.data, body.len, err))
			goto out;
		json_t *manifests = json_object_get(doc, "manifests");
		if (!json_is_array(manifests))
			break;
		if (depth > 0) {
			buf_printf(err, "manifest %s: an index inside an index", got);
			goto out;
		}
		json_t *m = pick_platform(manifests);
		const char *dg;
		uint64_t sz;
		if (!m || descriptor(m, &dg, &sz, "index entry", err))
			goto out;
		buf_reset(&body);
		if (get_manifest(&g, dg, dg, &body, got, err))
			goto out;
		if (body.len != sz) {
			buf_printf(err, "manifest %s: %zu bytes, the index says %llu", dg, body.len,
				   (unsigned long long)sz);
			goto out;
		}
	}
	if (json_integer_value(json_object_get(doc, "schemaVersion")) != 2) {
		buf_printf(err, "manifest of %s: only schema 2 manifests are supported", ref->repo);
		goto out;
	}
	/* the image manifest: size budget first, then config and layers */
	json_t *cfg = json_object_get(doc, "config"), *layers = json_object_get(doc, "layers");
	const char *dg;
	uint64_t sz, total = 0;
	if (!json_is_array(layers) || descriptor(cfg, &dg, &sz, "config", err)) {
		if (!err->len)
			buf_printf(err, "manifest of %s: no layers", ref->repo);
		goto out;
	}
	total = sz;
	size_t i;
	json_t *l;
	json_array_foreach(layers, i, l) {
		char what[32];
		snprintf(what, sizeof(what), "layer %zu", i + 1);
		if (descriptor(l, &dg, &sz, what, err))
			goto out;
		total += sz;
	}
	if (total > o->max_bytes) {
		buf_printf(err, "image %s is %llu bytes, more than the %llu allowed (--max-pull-bytes)",
			   ref->repo, (unsigned long long)total, (unsigned long long)o->max_bytes);
		goto out;
	}
	descriptor(cfg, &dg, &sz, "config", err);
	if (get_blob(&g, dir, dg, sz, "config", err))
		goto out;
	json_array_foreach(layers, i, l) {
		char what[32];
		snprintf(what, sizeof(what), "layer %zu", i + 1);
		descriptor(l, &dg, &sz, what, err);
		if (get_blob(&g, dir, dg, sz, what, err))
			goto out;
	}
	/* the layout: index.json names the top manifest with its tag */
	struct vg_json j;
	jw_init(&j, &index);
	jw_obj_begin(&j, NULL);
	jw_int(&j, "schemaVersion", 2);
	jw_arr_begin(&j, "manifests");
	jw_obj_begin(&j, NULL);
	jw_str(&j, "mediaType", top_type ? top_type : "application/vnd.oci.image.manifest.v1+json");
	jw_str(&j, "digest", top);
	struct stat st;
	snprintf(name, sizeof(name), "%s/blobs/sha256/%s", dir, top + 7);
	jw_uint(&j, "size", stat(name, &st) ? 0 : (uint64_t)st.st_size);
	if (ref->tag) {
		jw_obj_begin(&j, "annotations");
		jw_str(&j, "org.opencontainers.image.ref.name", ref->tag);
		jw_obj_end(&j);
	}
	jw_obj_end(&j);
	jw_arr_end(&j);
	jw_obj_end(&j);
	static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	if (write_file(dir, "index.json", index.data, index.len, err) ||
	    write_file(dir, "oci-layout", layout, sizeof(layout) - 1, err))
		goto out;
	ret = 0;
out:
	free(top_type);
	json_decref(doc);
	curl_easy_cleanup(g.curl);
	free(g.creds);
	free(g.authz);
	free(g.challenge);
	free(g.content_digest);
	buf_free(&g.errbody);
	buf_free(&body);
	buf_free(&index);
	return ret;
}

/* Remove the layout registry_pull made (and any partial blob): our files only. */
static void remove_layout(const char *dir)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/blobs/sha256", dir);
	DIR *d = opendir(path);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d)))
			if (e->d_name[0] != '.')
				unlinkat(dirfd(d), e->d_name, 0);
		closedir(d);
	}
	rmdir(path);
	snprintf(path, sizeof(path), "%s/blobs", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/index.json", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/oci-layout", dir);
	unlink(path);
	rmdir(dir);
}

int registry_scan(const char *refstr, const struct registry_opts *ro, const struct scan_opts *so,
		  struct scan_result *r, struct vg_buf *err)
{
	struct registry_ref ref;
	char dir[PATH_MAX];
	int ret = -1;

	if (registry_ref_parse(refstr, &ref, err))
		return -1;
	const char *tmp = ro->tmpdir ? ro->tmpdir : getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/vigil-pull.XXXXXX", tmp && *tmp ? tmp : "/var/tmp");
	if (!mkdtemp(dir)) { /* mode 0700 */
		buf_printf(err, "cannot create a temporary directory in %s: %s",
			   tmp && *tmp ? tmp : "/var/tmp", strerror(errno));
		registry_ref_free(&ref);
		return -1;
	}
	struct vg_buf e = { 0 };
	if (registry_pull(&ref, ro, dir, &e)) {
		buf_printf(err, "cannot pull %s: %s", refstr, e.data ? e.data : "failed");
		goto out;
	}
	buf_reset(&e);
	ret = scan_image(dir, so, r, &e);
	if (ret) {
		/* name the reference, not our temporary directory */
		const char *msg = e.data ? e.data : "scan failed";
		size_t dl = strlen(dir);
		if (!strncmp(msg, dir, dl))
			buf_printf(err, "%s%s", refstr, msg + dl);
		else
			buf_printf(err, "%s: %s", refstr, msg);
	}
	free(r->target);
	r->target = xstrdup(refstr);
	free(r->kind);
	r->kind = xstrdup("registry");
out:
	buf_free(&e);
	remove_layout(dir);
	registry_ref_free(&ref);
	return ret;
}
