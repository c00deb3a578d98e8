/* SPDX-License-Identifier: Apache-2.0 */
/*
 * flood: a syscall flood from several processes, to blind a sensor
 * (tests/integration/test_flood_fairness.sh runs it in a container, built
 * static).
 *
 *   flood WORKERS SECONDS
 *
 * WORKERS processes each loop, for SECONDS: a successful openat of a file
 * with a path of about 3,900 bytes, made first (each record is about 4 KiB:
 * the ring buffer fills fast; a successful open in a container is a record
 * the agent keeps, as behaviour profiles learn from it, where the kernel
 * would drop a failed one no rule can use), every 64 rounds a connect to 127.0.0.1:9 (refused at once),
 * every 1024 rounds a fork + execve of /bin/true. Prints "flooding" once the
 * workers are started, then "done N" (workers that ran to the end). Exit status: 0, 1 on a
 * runtime error, 2 on a usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char path[3900];

/* /tmp/flood/aaaa.../aaaa...: components of 200 bytes (below NAME_MAX), the
 * directories and the file made; 0, or -1 after saying why. */
static int make_path(void)
{
	memcpy(path, "/tmp/flood", 10);
	for (size_t i = 10; i < sizeof(path) - 1; i++)
		path[i] = i % 201 == 0 ? '/' : 'a';
	for (size_t i = 1; i < sizeof(path) - 1; i++)
		if (path[i] == '/') {
			path[i] = 0;
			if (mkdir(path, 0755) && errno != EEXIST) {
				perror("flood: mkdir");
				return -1;
			}
			path[i] = '/';
		}
	int fd = open(path, O_WRONLY | O_CREAT, 0644);
	if (fd < 0) {
		perror("flood: create");
		return -1;
	}
	close(fd);
	return 0;
}

static unsigned long worker(time_t end)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(9) };
	unsigned long rounds = 0;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (;;) {
		int fd = open(path, O_RDONLY);
		if (fd >= 0)
			close(fd);
		if (++rounds % 64 == 0) {
			int s = socket(AF_INET, SOCK_STREAM, 0);
			if (s >= 0) {
				connect(s, (struct sockaddr *)&sa, sizeof(sa));
				close(s);
			}
		}
		if (rounds % 1024 == 0) {
			pid_t p = fork();
			if (p == 0) {
				execl("/bin/true", "true", (char *)NULL);
				_exit(127);
			}
			if (p > 0)
				waitpid(p, NULL, 0);
			if (time(NULL) >= end)
				return rounds;
		}
	}
}

int main(int argc, char **argv)
{
	if (argc != 3 || atoi(argv[1]) < 1 || atoi(argv[1]) > 64 || atoi(argv[2]) < 1) {
		fprintf(stderr, "usage: flood WORKERS(1-64) SECONDS\n");
		return 2;
	}
	int n = atoi(argv[1]);
	if (make_path())
		return 1;
	time_t end = time(NULL) + atoi(argv[2]);
	pid_t pids[64];

	for (int i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			perror("flood: fork");
			return 1;
		}
		if (pids[i] == 0)
			_exit(worker(end) ? 0 : 1);
	}
	printf("flooding\n");
	fflush(stdout);
	unsigned long ok = 0;
	for (int i = 0; i < n; i++) {
		int st;
		if (waitpid(pids[i], &st, 0) == pids[i] && WIFEXITED(st) && WEXITSTATUS(st) == 0)
			ok++;
	}
	printf("done %lu\n", ok);
	return ok == (unsigned long)n ? 0 : 1;
}
