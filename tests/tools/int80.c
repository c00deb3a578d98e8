/* SPDX-License-Identifier: Apache-2.0 */
/*
 * int80: make a syscall through the 32-bit ABI (int 0x80) from a 64-bit
 * process, as an attacker would to slip past a sensor that only knows the
 * 64-bit syscall table. Usage: int80 open PATH | int80 mkdir PATH
 * Prints the raw result. Arguments must sit below 4 GiB: int 0x80 passes
 * 32-bit registers, so PATH is copied into a MAP_32BIT page.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static long int80(long nr, long a, long b, long c)
{
	long ret;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
	return ret;
}

int main(int argc, char **argv)
{
	char *low;

	if (argc != 3 || (strcmp(argv[1], "open") && strcmp(argv[1], "mkdir"))) {
		fputs("usage: int80 open PATH | int80 mkdir PATH\n", stderr);
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
