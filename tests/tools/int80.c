/* SPDX-License-Identifier: Apache-2.0 */
/*
 * int80: make a syscall through the 32-bit ABI (int 0x80) from a 64-bit
 * process, as an attacker would to slip past a sensor that only knows the
 * 64-bit syscall table. Usage: int80 open PATH | int80 mkdir PATH
 * Prints the raw result. Arguments must sit below 4 GiB: int 0x80 passes
 * 32-bit registers, so PATH is copied into a MAP_32BIT page.
 *
 * int80 probe: whether int 0x80 works here at all. Exit 0, or 1 with the
 * reason on stdout: the kernel may lack the emulation (ENOSYS), and on some
 * machines the process dies with SIGSEGV at the instruction (the hypervisor
 * does not deliver it), so the probe runs in a child, as the agent's does.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

static long int80(long nr, long a, long b, long c)
{
	long ret;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
	return ret;
}

static int probe(void)
{
	pid_t pid = fork();
	if (pid < 0) {
		perror("int80: fork");
		return 2;
	}
	if (pid == 0) {
		signal(SIGSEGV, SIG_DFL);           /* the kernel's answer, not a handler's (ASan's) */
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); /* no core file when it dies */
		_exit(int80(20, 0, 0, 0) == -ENOSYS ? 3 : 0); /* i386 getpid */
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			perror("int80: waitpid");
			return 2;
		}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 3)
		puts("this kernel has no 32-bit syscall emulation (ENOSYS)");
	else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV)
		puts("int 0x80 dies with SIGSEGV on this machine (the 32-bit syscall gate is not delivered)");
	else if (WIFSIGNALED(status))
		printf("int 0x80 dies with signal %d on this machine\n", WTERMSIG(status));
	else
		printf("the int 0x80 probe exited %d\n", WEXITSTATUS(status));
	return 1;
}

int main(int argc, char **argv)
{
	char *low;

	if (argc == 2 && !strcmp(argv[1], "probe"))
		return probe();
	if (argc != 3 || (strcmp(argv[1], "open") && strcmp(argv[1], "mkdir"))) {
		fputs("usage: int80 open PATH | int80 mkdir PATH | int80 probe\n", stderr);
		return 2;
	}
	low = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	if (low == MAP_FAILED || strlen(argv[2]) >= 4096) {
		perror("int80: mmap");
		return 1;
	}
	strcpy(low, argv[2]);
	/* i386 numbers: open 5, mkdir 39 */
	long ret = !strcmp(argv[1], "open") ? int80(5, (long)low, 0, 0) : int80(39, (long)low, 0755, 0);
	printf("%ld\n", ret);
	return 0;
}
