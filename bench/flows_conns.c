/* SPDX-License-Identifier: Apache-2.0 */
/*
 * flows_conns: many concurrent loopback TCP connections for bench/flows_100k.sh.
 * A process here holds at most what its open-file limit allows (raised to its
 * own hard limit, within this process only), so the bench runs several.
 *
 *   flows_conns server ADDR PORT N STOPFILE
 *        listen on ADDR:PORT, accept N connections, read 10 bytes from each,
 *        print "accepted N", hold them until STOPFILE exists (at most 900 s)
 *   flows_conns client SRC ADDR PORT N STOPFILE
 *        N connections from address SRC (a port the kernel picks per
 *        destination: IP_BIND_ADDRESS_NO_PORT), 10 bytes written on each,
 *        print "holding N", hold them until STOPFILE exists (at most 900 s)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

static void raise_nofile(long n)
{
	struct rlimit r;
	if (getrlimit(RLIMIT_NOFILE, &r))
		return;
	rlim_t want = (rlim_t)n + 64;
	if (want > r.rlim_max)
		want = r.rlim_max;
	if (want > r.rlim_cur) {
		r.rlim_cur = want;
		setrlimit(RLIMIT_NOFILE, &r);
	}
}

static void hold(const char *stop)
{
	for (int i = 0; i < 9000 && access(stop, F_OK); i++) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
}

static int addr_of(const char *ip, int port, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, ip, &sa->sin_addr) == 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa;
	char buf[10] = "0123456789";
	if (argc == 6 && !strcmp(argv[1], "server")) {
		long n = atol(argv[4]);
		raise_nofile(n);
		int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
		setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (addr_of(argv[2], atoi(argv[3]), &sa) || bind(l, (struct sockaddr *)&sa, sizeof(sa)) || listen(l, 4096)) {
			perror("listen");
			return 1;
		}
		printf("listening\n");
		fflush(stdout);
		for (long i = 0; i < n; i++) {
			int c = accept(l, NULL, NULL);
			if (c < 0) {
				fprintf(stderr, "accept %ld: %s\n", i, strerror(errno));
				return 1;
			}
			size_t got = 0;
			while (got < sizeof(buf)) {
				ssize_t r = read(c, buf, sizeof(buf) - got);
				if (r <= 0)
					break;
				got += (size_t)r;
			}
		}
		printf("accepted %ld\n", n);
		fflush(stdout);
		hold(argv[5]);
		return 0;
	}
	if (argc == 7 && !strcmp(argv[1], "client")) {
		long n = atol(argv[5]);
		struct sockaddr_in src;
		raise_nofile(n);
		if (addr_of(argv[2], 0, &src) || addr_of(argv[3], atoi(argv[4]), &sa)) {
			fprintf(stderr, "bad address\n");
			return 2;
		}
		for (long i = 0; i < n; i++) {
			int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
			setsockopt(s, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
			if (s < 0 || bind(s, (struct sockaddr *)&src, sizeof(src)) ||
			    connect(s, (struct sockaddr *)&sa, sizeof(sa)) || write(s, buf, sizeof(buf)) != sizeof(buf)) {
				fprintf(stderr, "connection %ld: %s\n", i, strerror(errno));
				return 1;
			}
		}
		printf("holding %ld\n", n);
		fflush(stdout);
		hold(argv[6]);
		return 0;
	}
	fputs("usage: flows_conns server ADDR PORT N STOPFILE | client SRC ADDR PORT N STOPFILE\n", stderr);
	return 2;
}
