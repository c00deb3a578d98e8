/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kill_latency NAME N: time from an offending syscall's entry to the death of
 * the process that made it, as seen by its parent, N times.
 *
 * Each round forks a child that names itself NAME (its comm, what the rules
 * of bench/response.sh test), opens an AF_INET socket, writes the clock into
 * shared memory and calls dup2(socket, 0): the offending syscall. If dup2
 * returns, the child records that it did and spins until it is killed (or
 * gives up after 2 s and exits 0). The parent waits for the child and takes
 * the clock when waitpid returns. Prints one line per round:
 *   <microseconds from syscall entry to reaped> <1 if the syscall returned to the child, else 0> <signal>
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct shared {
	volatile long long t0_ns;
	volatile int returned;
};

static long long now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: kill_latency NAME N\n");
		return 2;
	}
	int n = atoi(argv[2]);
	struct shared *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	for (int i = 0; i < n; i++) {
		memset((void *)sh, 0, sizeof(*sh));
		pid_t pid = fork();
		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0) {
			prctl(PR_SET_NAME, argv[1]);
			int s = socket(AF_INET, SOCK_STREAM, 0);
			if (s < 0)
				_exit(3);
			sh->t0_ns = now_ns();
			dup2(s, 0);
			sh->returned = 1;
			long long give_up = now_ns() + 2000000000LL;
			while (now_ns() < give_up)
				;
			_exit(0);
		}
		int status;
		if (waitpid(pid, &status, 0) != pid) {
			perror("waitpid");
			return 1;
		}
		long long t1 = now_ns();
		printf("%lld %d %d\n", (t1 - sh->t0_ns) / 1000, sh->returned,
		       WIFSIGNALED(status) ? WTERMSIG(status) : 0);
		fflush(stdout);
		usleep(20000); /* let the agent catch up between rounds */
	}
	return 0;
}
