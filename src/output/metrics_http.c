/* SPDX-License-Identifier: Apache-2.0 */
/* The /metrics endpoint (metrics_http.h): poll() on the listening socket and a stop pipe. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "common/buf.h"
#include "common/log.h"
#include "output/metrics.h"
#include "output/metrics_http.h"

#define REQUEST_MAX 8192
#define REQUEST_TIMEOUT_MS 5000

struct metrics_http {
	int fd, stop[2], port;
	pthread_t thread;
	struct vg_buf body;
};

static int64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Send all, within the deadline. */
static void send_all(int fd, const char *p, size_t n, int64_t deadline)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return;
		int64_t left = deadline - now_ms();
		struct pollfd pf = { .fd = fd, .events = POLLOUT };
		if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
			return;
	}
}

static void reply(struct metrics_http *h, int fd, int status, const char *reason, bool head, int64_t deadline)
{
	char hdr[256];
	bool ok = status == 200;
	const char *body = ok ? h->body.data : reason;
	size_t len = ok ? h->body.len : strlen(reason);
	int n = snprintf(hdr, sizeof(hdr),
			 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n",
			 status, reason, ok ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain; charset=utf-8",
			 len, status == 405 ? "Allow: GET, HEAD\r\n" : "");
	send_all(fd, hdr, (size_t)n, deadline);
	if (!head)
		send_all(fd, body, len, deadline);
}

int metrics_http_parse(const char *req, bool *head)
{
	/* the request line: METHOD SP TARGET SP HTTP/1.x */
	char method[8], target[256], version[16];
	*head = false;
	if (sscanf(req, "%7[A-Z] %255[^ \r\n] %15[^\r\n]", method, target, version) != 3 ||
	    strncmp(version, "HTTP/1.", 7))
		return 400;
	*head = !strcmp(method, "HEAD");
	if (strcmp(method, "GET") && !*head)
		return 405;
	if (strcspn(target, "?") != 8 || strncmp(target, "/metrics", 8))
		return 404;
	return 200;
}

/* Read one request's head (to the blank line) and answer it. */
static void serve(struct metrics_http *h, int fd)
{
	char req[REQUEST_MAX + 1];
	size_t len = 0;
	int64_t deadline = now_ms() + REQUEST_TIMEOUT_MS;

	for (;;) {
		req[len] = 0;
		if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
			break;
		if (len == REQUEST_MAX) {
			reply(h, fd, 431, "Request Header Fields Too Large", false, deadline);
			return;
		}
		int64_t left = deadline - now_ms();
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
			return; /* too slow: dropped without an answer */
		ssize_t r = recv(fd, req + len, REQUEST_MAX - len, MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
			return;
		if (r > 0)
			len += (size_t)r;
	}
	bool head;
	int status = metrics_http_parse(req, &head);
	if (status != 200) {
		reply(h, fd, status, status == 404 ? "Not Found" : status == 405 ? "Method Not Allowed" : "Bad Request",
		      head, deadline);
		return;
	}
	buf_reset(&h->body);
	metrics_render(&h->body);
	reply(h, fd, 200, "OK", head, deadline);
}

static void *run(void *arg)
{
	struct metrics_http *h = arg;
	struct pollfd p[2] = { { .fd = h->fd, .events = POLLIN }, { .fd = h->stop[0], .events = POLLIN } };

	for (;;) {
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		int c = accept4(h->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (c < 0)
			continue;
		serve(h, c);
		shutdown(c, SHUT_WR);
		close(c);
	}
	return NULL;
}

struct metrics_http *metrics_http_start(const char *addr, char *err, size_t errlen)
{
	char host[256];
	const char *port, *colon;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV }, *res = NULL;

	if (addr[0] == '[') {
		colon = strchr(addr, ']');
		if (!colon || colon[1] != ':') {
			snprintf(err, errlen, "--metrics takes HOST:PORT, [V6]:PORT or :PORT, not '%.200s'", addr);
			return NULL;
		}
		snprintf(host, sizeof(host), "%.*s", (int)(colon - addr - 1), addr + 1);
		port = colon + 2;
	} else {
		colon = strrchr(addr, ':');
		if (!colon || (size_t)(colon - addr) >= sizeof(host)) {
			snprintf(err, errlen, "--metrics takes HOST:PORT, [V6]:PORT or :PORT, not '%.200s'", addr);
			return NULL;
		}
		snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
		port = colon + 1;
	}
	char *end;
	long p = strtol(port, &end, 10);
	if (!*port || *end || p < 0 || p > 65535) {
		snprintf(err, errlen, "--metrics: bad port '%.32s'", port);
		return NULL;
	}
	int g = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (g) {
		snprintf(err, errlen, "--metrics: cannot resolve '%s': %s", host, gai_strerror(g));
		return NULL;
	}
	struct metrics_http *h = xcalloc(1, sizeof(*h));
	h->fd = h->stop[0] = h->stop[1] = -1;
	int e = 0;
	for (struct addrinfo *ai = res; ai && h->fd < 0; ai = ai->ai_next) {
		int one = 1;
		h->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (h->fd < 0) {
			e = errno;
			continue;
		}
		setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(h->fd, ai->ai_addr, ai->ai_addrlen) || listen(h->fd, 16)) {
			e = errno;
			close(h->fd);
			h->fd = -1;
		}
	}
	freeaddrinfo(res);
	if (h->fd < 0) {
		snprintf(err, errlen, "--metrics: cannot listen on %s: %s", addr, strerror(e ? e : EADDRNOTAVAIL));
		free(h);
		return NULL;
	}
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char shown[INET6_ADDRSTRLEN + 2] = "";
	getsockname(h->fd, (struct sockaddr *)&ss, &sl);
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		h->port = ntohs(s6->sin6_port);
		shown[0] = '[';
		inet_ntop(AF_INET6, &s6->sin6_addr, shown + 1, INET6_ADDRSTRLEN);
		strcat(shown, "]");
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		h->port = ntohs(s4->sin_port);
		inet_ntop(AF_INET, &s4->sin_addr, shown, sizeof(shown));
	}
	if (pipe2(h->stop, O_CLOEXEC) || pthread_create(&h->thread, NULL, run, h)) {
		snprintf(err, errlen, "--metrics: cannot start its thread: %s", strerror(errno));
		if (h->stop[0] >= 0) {
			close(h->stop[0]);
			close(h->stop[1]);
		}
		close(h->fd);
		free(h);
		return NULL;
	}
	vg_info("metrics: listening on http://%s:%d/metrics", shown, h->port);
	return h;
}

int metrics_http_port(const struct metrics_http *h)
{
	return h->port;
}

void metrics_http_stop(struct metrics_http *h)
{
	if (!h)
		return;
	if (write(h->stop[1], "x", 1) != 1)
		vg_warn("metrics: cannot stop the server thread cleanly");
	pthread_join(h->thread, NULL);
	close(h->stop[0]);
	close(h->stop[1]);
	close(h->fd);
	buf_free(&h->body);
	free(h);
}
