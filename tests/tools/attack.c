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
#include <sys/syscall.h>
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

/* PTRACE_TRACEME: the anti-debugging trick (a second tracer cannot attach). */
static int ptrace_traceme(void)
{
	if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0) {
		perror("attack: ptrace(PTRACE_TRACEME)");
		return 1;
	}
	return 0;
}

/* userfaultfd(2): kernel exploits stall a copy_from_user with it to win a race. */
static int userfaultfd_once(void)
{
	long fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		perror("attack: userfaultfd");
		return 1;
	}
	close((int)fd);
	return 0;
}

/* Execute PATH with an empty argv (argc 0), as the pkexec exploit (CVE-2021-4034) does. */
static int exec_noargv(const char *path)
{
	char *argv[] = { NULL };
	char *envp[] = { "PATH=GCONV_PATH=.", NULL };
	execve(path, argv, envp);
	perror("attack: execve");
	return 1;
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
	if (argc == 2 && !strcmp(argv[1], "ptrace-traceme"))
		return ptrace_traceme();
	if (argc == 2 && !strcmp(argv[1], "userfaultfd"))
		return userfaultfd_once();
	if (argc == 3 && !strcmp(argv[1], "exec-noargv"))
		return exec_noargv(argv[2]);
	fputs("usage: attack memfd-exec PROG [ARGS...] | ptrace-attach PID | connect IP PORT | packet-socket\n"
	      "       | ptrace-traceme | userfaultfd | exec-noargv PATH\n", stderr);
	return 2;
}
