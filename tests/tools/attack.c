/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attack: small, real attack techniques for the end-to-end rule tests,
 * built static so it runs in any container image.
 *   attack memfd-exec PROG [ARGS...]   copy PROG into a memfd and execute it from there
 *   attack ptrace-attach PID           attach to PID with ptrace, then detach
 *   attack connect IP PORT             one TCP connection attempt (1 s), then close
 *   attack packet-socket               open (or try to open) a raw AF_PACKET socket: sniffing
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

static int memfd_exec(int argc, char **argv)
{
	char buf[65536];
	ssize_t n;
	int in = open(argv[0], O_RDONLY);
	int fd = memfd_create("payload", MFD_CLOEXEC);
	if (in < 0 || fd < 0) {
		perror("attack: memfd-exec");
		return 1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(fd, buf, n) != n) {
			perror("attack: write");
			return 1;
		}
	close(in);
	(void)argc;
	extern char **environ;
	fexecve(fd, argv, environ);
	perror("attack: fexecve");
	return 1;
}

static int ptrace_attach(const char *pid_s)
{
	pid_t pid = (pid_t)atoi(pid_s);
	if (ptrace(PTRACE_ATTACH, pid, NULL, NULL) != 0) {
		perror("attack: PTRACE_ATTACH");
		return 1;
	}
	waitpid(pid, NULL, 0);
	ptrace(PTRACE_DETACH, pid, NULL, NULL);
	return 0;
}

static int connect_once(const char *ip, const char *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0 || inet_pton(AF_INET, ip, &sin.sin_addr) != 1) {
		fputs("attack: connect needs an IPv4 address\n", stderr);
		return 2;
	}
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 && errno == EINPROGRESS) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		poll(&p, 1, 1000);
	}
	close(fd);
	return 0;
}

/* Exit 0 when the socket was created, 1 when the kernel refused (no CAP_NET_RAW): both are the technique. */
static int packet_socket(void)
{
	int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (fd < 0) {
		perror("attack: packet socket");
		return 1;
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "packet-socket"))
		return packet_socket();
	if (argc == 4 && !strcmp(argv[1], "connect"))
		return connect_once(argv[2], argv[3]);
	if (argc >= 3 && !strcmp(argv[1], "memfd-exec"))
		return memfd_exec(argc - 2, argv + 2);
	if (argc == 3 && !strcmp(argv[1], "ptrace-attach"))
		return ptrace_attach(argv[2]);
	fputs("usage: attack memfd-exec PROG [ARGS...] | ptrace-attach PID | connect IP PORT | packet-socket\n", stderr);
	return 2;
}
