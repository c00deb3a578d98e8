/* SPDX-License-Identifier: Apache-2.0 */
/*
 * admission_load: an HTTPS load generator for `vigil admission serve`.
 *
 *   admission_load HOST PORT CA.pem BODY.json CLIENTS RATE SECONDS
 *
 * CLIENTS threads each keep one TLS connection (HTTP/1.1 keep-alive,
 * reconnecting when the server closes it) and POST BODY to /validate. With
 * RATE > 0 the requests are paced open-loop at RATE per second in total and a
 * request's latency counts from when it was due (so a stall is not hidden
 * by the requests it delays); RATE 0 sends as fast as answers come back.
 * Prints one line: requests, errors, achieved rate, p50/p90/p99/max in ms.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *host;
static int port;
static SSL_CTX *ctx;
static char *request;
static size_t request_len;
static int clients;
static double rate, seconds;
static uint64_t t_start;

struct worker {
	pthread_t th;
	int id;
	uint64_t *lat; /* ns */
	size_t n, cap, errors;
};

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static SSL *dial(int *fdp)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	inet_pton(AF_INET, host, &a.sin_addr);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return NULL;
	}
	SSL *s = SSL_new(ctx);
	SSL_set_fd(s, fd);
	/* verify the certificate's IP address SAN (HOST is a numeric address) */
	X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s), host);
	if (SSL_connect(s) != 1) {
		SSL_free(s);
		close(fd);
		return NULL;
	}
	*fdp = fd;
	return s;
}

/* One request/response on s; 0 when the answer is a 200, -1 otherwise (connection unusable). */
static int exchange(SSL *s)
{
	char buf[65536];
	size_t got = 0;
	if (SSL_write(s, request, (int)request_len) != (int)request_len)
		return -1;
	char *end = NULL;
	while (!end) {
		int n = SSL_read(s, buf + got, (int)(sizeof(buf) - 1 - got));
		if (n <= 0)
			return -1;
		got += (size_t)n;
		buf[got] = 0;
		end = strstr(buf, "\r\n\r\n");
		if (!end && got >= sizeof(buf) - 1)
			return -1;
	}
	const char *cl = strcasestr(buf, "Content-Length:");
	if (!cl || cl > end)
		return -1;
	int ok = !strncmp(buf, "HTTP/1.1 200", 12);
	size_t len = strtoul(cl + 15, NULL, 10), have = got - (size_t)(end + 4 - buf);
	while (have < len) {
		int n = SSL_read(s, buf, (int)(sizeof(buf) < len - have ? sizeof(buf) : len - have));
		if (n <= 0)
			return -1;
		have += (size_t)n;
	}
	return ok ? 0 : -1;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	int fd = -1;
	SSL *s = NULL;
	double period = rate > 0 ? clients / rate * 1e9 : 0;
	uint64_t due = t_start + (uint64_t)(rate > 0 ? w->id * (1e9 / rate) : 0);
	uint64_t stop = t_start + (uint64_t)(seconds * 1e9);
	for (;;) {
		uint64_t t = now_ns();
		if (rate > 0) {
			if (due >= stop)
				break;
			if (t < due) {
				struct timespec ts = { 0, (long)(due - t) };
				nanosleep(&ts, NULL);
			}
		} else {
			if (t >= stop)
				break;
			due = t;
		}
		if (!s && !(s = dial(&fd))) {
			w->errors++;
			due += (uint64_t)period;
			continue;
		}
		if (exchange(s)) {
			w->errors++;
			SSL_free(s);
			close(fd);
			s = NULL;
		} else if (w->n < w->cap) {
			w->lat[w->n++] = now_ns() - due;
		}
		due += (uint64_t)period;
	}
	if (s) {
		SSL_shutdown(s);
		SSL_free(s);
		close(fd);
	}
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc != 8) {
		fprintf(stderr, "usage: admission_load HOST PORT CA.pem BODY.json CLIENTS RATE SECONDS\n");
		return 2;
	}
	host = argv[1];
	port = atoi(argv[2]);
	clients = atoi(argv[5]);
	rate = atof(argv[6]);
	seconds = atof(argv[7]);
	FILE *f = fopen(argv[4], "rb");
	if (!f || clients < 1 || clients > 1024 || seconds <= 0) {
		fprintf(stderr, "admission_load: bad arguments or unreadable body\n");
		return 2;
	}
	char *body = malloc(1 << 22);
	size_t blen = fread(body, 1, 1 << 22, f);
	fclose(f);
	request = malloc(blen + 512);
	request_len = (size_t)sprintf(request,
				      "POST /validate HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
				      "Content-Length: %zu\r\n\r\n",
				      host, blen);
	memcpy(request + request_len, body, blen);
	request_len += blen;
	free(body);

	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx || SSL_CTX_load_verify_locations(ctx, argv[3], NULL) != 1) {
		fprintf(stderr, "admission_load: cannot load CA %s\n", argv[3]);
		return 1;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	struct worker *w = calloc((size_t)clients, sizeof(*w));
	size_t cap = rate > 0 ? (size_t)(rate * seconds / clients) + 16 : 4000000 / (size_t)clients;
	t_start = now_ns() + 50000000; /* everyone starts together, 50 ms from now */
	for (int i = 0; i < clients; i++) {
		w[i].id = i;
		w[i].cap = cap;
		w[i].lat = malloc(cap * sizeof(uint64_t));
		pthread_create(&w[i].th, NULL, run, &w[i]);
	}
	size_t total = 0, errors = 0;
	for (int i = 0; i < clients; i++) {
		pthread_join(w[i].th, NULL);
		total += w[i].n;
		errors += w[i].errors;
	}
	uint64_t *all = malloc((total ? total : 1) * sizeof(uint64_t));
	size_t k = 0;
	for (int i = 0; i < clients; i++) {
		memcpy(all + k, w[i].lat, w[i].n * sizeof(uint64_t));
		k += w[i].n;
		free(w[i].lat);
	}
	qsort(all, total, sizeof(*all), cmp);
#define PCT(p) (total ? all[(size_t)((double)(total - 1) * (p))] / 1e6 : 0.0)
	printf("requests=%zu errors=%zu rate=%.0f/s p50=%.2fms p90=%.2fms p99=%.2fms max=%.2fms\n", total,
	       errors, total / seconds, PCT(0.50), PCT(0.90), PCT(0.99), PCT(1.0));
	free(all);
	free(w);
	free(request);
	SSL_CTX_free(ctx);
	return errors ? 1 : 0;
}
