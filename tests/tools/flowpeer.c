/* SPDX-License-Identifier: Apache-2.0 */
/*
 * flowpeer: the two ends of known network exchanges for the flow tests
 * (tests/integration/test_flows*.sh), built static by the test and run in
 * busybox containers. Every amount is exact, so that the flow records can be
 * checked byte for byte. Exit status 0 when the exchange went as asked.
 *
 *   flowpeer tcp-server PORT IN OUT COUNT   accept COUNT connections one after another;
 *                                           read IN bytes from each, write OUT, close
 *   flowpeer tcp-client HOST PORT OUT IN    connect, write OUT bytes, read to EOF (must be IN)
 *   flowpeer tcp-hold HOST PORT OUT FILE    connect, write OUT bytes, keep the connection
 *                                           until FILE exists (at most 120 s), close
 *   flowpeer tcp-storm HOST PORT N          N connections, each closed at once; prints how many
 *   flowpeer tcp-many HOST PORT N FILE      N connections from one process, 10 bytes
 *                                           written on each, held until FILE exists (120 s)
 *   flowpeer tcp-accept-hold PORT N FILE    accept N connections and keep them until FILE exists
 *   flowpeer tcp-backlog PORT FILE          listen and never accept (the kernel completes the
 *                                           handshakes: live inbound flows) until FILE exists
 *   flowpeer udp-server PORT COUNT OUT      answer COUNT datagrams with OUT bytes each
 *   flowpeer udp-client HOST PORT COUNT OUT IN   COUNT datagrams of OUT bytes, each answered
 *                                                (IN bytes), on one connected socket
 *
 * Servers print "listening" once they accept.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static char buf[65536];

static void die(const char *what)
{
	fprintf(stderr, "flowpeer: %s: %s\n", what, strerror(errno));
	exit(2);
}

static struct sockaddr_in addr_of(const char *host, const char *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
	if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
		fprintf(stderr, "flowpeer: not an IPv4 address: %s\n", host);
		exit(2);
	}
	return a;
}

static int listen_on(const char *port, int type)
{
	struct sockaddr_in a = addr_of("0.0.0.0", port);
	int one = 1, fd = socket(AF_INET, type, 0);
	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)))
		die("bind");
	if (type == SOCK_STREAM && listen(fd, 1024))
		die("listen");
	printf("listening\n");
	fflush(stdout);
	return fd;
}

static int connect_to(const char *host, const char *port, int type)
{
	struct sockaddr_in a = addr_of(host, port);
	int fd = socket(AF_INET, type, 0);
	if (fd < 0)
		die("socket");
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)))
		die("connect");
	return fd;
}

static void write_n(int fd, size_t n)
{
	memset(buf, 'v', sizeof(buf));
	while (n) {
		ssize_t w = write(fd, buf, n < sizeof(buf) ? n : sizeof(buf));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die("write");
		n -= (size_t)w;
	}
}

/* Read up to n bytes (n = (size_t)-1: to EOF); returns how many. */
static size_t read_n(int fd, size_t n)
{
	size_t got = 0;
	while (got < n) {
		size_t want = n - got < sizeof(buf) ? n - got : sizeof(buf);
		ssize_t r = read(fd, buf, want);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("read");
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return got;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	if (!strcmp(mode, "tcp-server") && argc == 6) {
		int lfd = listen_on(argv[2], SOCK_STREAM);
		long count = atol(argv[5]);
		for (long i = 0; i < count; i++) {
			int fd = accept(lfd, NULL, NULL);
			if (fd < 0)
				die("accept");
			size_t in = (size_t)atol(argv[3]);
			if (read_n(fd, in) != in)
				fprintf(stderr, "flowpeer: short read\n");
			write_n(fd, (size_t)atol(argv[4]));
			close(fd);
		}
		return 0;
	}
	if (!strcmp(mode, "tcp-client") && argc == 6) {
		int fd = connect_to(argv[2], argv[3], SOCK_STREAM);
		write_n(fd, (size_t)atol(argv[4]));
		size_t got = read_n(fd, (size_t)-1);
		close(fd);
		printf("got %zu\n", got);
		return got == (size_t)atol(argv[5]) ? 0 : 1;
	}
	if (!strcmp(mode, "tcp-hold") && argc == 6) {
		int fd = connect_to(argv[2], argv[3], SOCK_STREAM);
		struct stat st;
		write_n(fd, (size_t)atol(argv[4]));
		printf("holding\n");
		fflush(stdout);
		for (int i = 0; i < 2400 && stat(argv[5], &st); i++)
			usleep(50000);
		close(fd);
		return 0;
	}
	if (!strcmp(mode, "tcp-storm") && argc == 5) {
		long n = atol(argv[4]), ok = 0;
		for (long i = 0; i < n; i++) {
			struct sockaddr_in a = addr_of(argv[2], argv[3]);
			int fd = socket(AF_INET, SOCK_STREAM, 0);
			if (fd < 0)
				die("socket");
			if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
				ok++;
			close(fd);
		}
		printf("connected %ld\n", ok);
		return ok == n ? 0 : 1;
	}
	if (!strcmp(mode, "tcp-many") && argc == 6) {
		long n = atol(argv[4]);
		struct stat st;
		for (long i = 0; i < n; i++) {
			int fd = connect_to(argv[2], argv[3], SOCK_STREAM);
			write_n(fd, 10); /* kept open: exit closes them */
		}
		printf("holding %ld\n", n);
		fflush(stdout);
		for (int i = 0; i < 2400 && stat(argv[5], &st); i++)
			usleep(50000);
		return 0;
	}
	if (!strcmp(mode, "tcp-accept-hold") && argc == 5) {
		int lfd = listen_on(argv[2], SOCK_STREAM);
		long n = atol(argv[3]);
		struct stat st;
		for (long i = 0; i < n; i++)
			if (accept(lfd, NULL, NULL) < 0)
				die("accept");
		printf("accepted %ld\n", n);
		fflush(stdout);
		for (int i = 0; i < 2400 && stat(argv[4], &st); i++)
			usleep(50000);
		return 0;
	}
	if (!strcmp(mode, "tcp-backlog") && argc == 4) {
		struct sockaddr_in a = addr_of("0.0.0.0", argv[2]);
		int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
		struct stat st;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 65535))
			die("listen");
		printf("listening\n");
		fflush(stdout);
		for (int i = 0; i < 2400 && stat(argv[3], &st); i++)
			usleep(50000);
		return 0;
	}
	if (!strcmp(mode, "udp-server") && argc == 5) {
		int fd = listen_on(argv[2], SOCK_DGRAM);
		long count = atol(argv[3]);
		size_t out = (size_t)atol(argv[4]);
		memset(buf, 'u', sizeof(buf));
		for (long i = 0; i < count; i++) {
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			if (recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl) < 0)
				die("recvfrom");
			memset(buf, 'u', out);
			if (sendto(fd, buf, out, 0, (struct sockaddr *)&from, fl) != (ssize_t)out)
				die("sendto");
		}
		close(fd);
		return 0;
	}
	if (!strcmp(mode, "udp-client") && argc == 7) {
		int fd = connect_to(argv[2], argv[3], SOCK_DGRAM);
		long count = atol(argv[4]);
		size_t out = (size_t)atol(argv[5]), in = (size_t)atol(argv[6]);
		struct timeval tv = { .tv_sec = 5 };
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		memset(buf, 'c', sizeof(buf));
		for (long i = 0; i < count; i++) {
			if (send(fd, buf, out, 0) != (ssize_t)out)
				die("send");
			ssize_t r = recv(fd, buf, sizeof(buf), 0);
			if (r != (ssize_t)in)
				die("recv");
		}
		close(fd);
		printf("exchanged %ld\n", count);
		return 0;
	}
	fprintf(stderr, "usage: flowpeer tcp-server|tcp-client|tcp-hold|tcp-storm|udp-server|udp-client ...\n");
	return 2;
}
