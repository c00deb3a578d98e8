/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tamper_probe: acts against a process, for tests/integration/test_tamper.sh.
 * Built static by the test so that it runs in a busybox container too. Each
 * act is harmless to the target: a signal it ignores (SIGURG), a ptrace
 * seize and detach (the target never stops), a read of 8 bytes of its memory,
 * an umount2 with flags the kernel refuses.
 *
 *   tamper_probe kill|tkill|tgkill|pidfd PID   send SIGURG that way
 *   tamper_probe ptrace PID                    PTRACE_SEIZE, then PTRACE_DETACH
 *   tamper_probe vmread PID                    process_vm_readv of 8 bytes at its stack
 *   tamper_probe mem PID                       open /proc/PID/mem for reading
 *   tamper_probe mapid ID                      bpf(BPF_MAP_GET_FD_BY_ID)
 *   tamper_probe umount PATH                   umount2(PATH, MNT_EXPIRE|MNT_DETACH): EINVAL
 *
 * Prints "<act> ret=N errno=E" and exits 0 (the act was made; its result is
 * the kernel's).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static long report(const char *act, long ret)
{
	printf("%s ret=%ld errno=%d\n", act, ret, ret < 0 ? errno : 0);
	return ret;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: tamper_probe ACT ARG\n");
		return 2;
	}
	const char *act = argv[1];
	long pid = strtol(argv[2], NULL, 10);

	if (!strcmp(act, "kill"))
		report(act, kill((pid_t)pid, SIGURG));
	else if (!strcmp(act, "tkill"))
		report(act, syscall(SYS_tkill, pid, SIGURG));
	else if (!strcmp(act, "tgkill"))
		report(act, syscall(SYS_tgkill, pid, pid, SIGURG));
	else if (!strcmp(act, "pidfd")) {
		long fd = syscall(SYS_pidfd_open, pid, 0);
		if (fd < 0)
			return report("pidfd_open", fd) < 0;
		report(act, syscall(SYS_pidfd_send_signal, fd, SIGURG, NULL, 0));
	} else if (!strcmp(act, "ptrace")) {
		if (report(act, ptrace(PTRACE_SEIZE, (pid_t)pid, NULL, NULL)) == 0)
			ptrace(PTRACE_DETACH, (pid_t)pid, NULL, NULL);
	} else if (!strcmp(act, "vmread")) {
		char buf[8], path[64], line[256];
		unsigned long lo = 0;
		snprintf(path, sizeof(path), "/proc/%ld/maps", pid);
		FILE *f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f))
			if (strstr(line, "[stack]"))
				sscanf(line, "%lx", &lo);
		if (f)
			fclose(f);
		struct iovec local = { buf, sizeof(buf) }, remote = { (void *)lo, sizeof(buf) };
		report(act, syscall(SYS_process_vm_readv, pid, &local, 1, &remote, 1, 0));
	} else if (!strcmp(act, "mem")) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%ld/mem", pid);
		int fd = open(path, O_RDONLY);
		report(act, fd);
		if (fd >= 0)
			close(fd);
	} else if (!strcmp(act, "mapid")) {
		union bpf_attr attr;
		memset(&attr, 0, sizeof(attr));
		attr.map_id = (unsigned int)pid;
		long fd = syscall(SYS_bpf, BPF_MAP_GET_FD_BY_ID, &attr, sizeof(attr));
		report(act, fd);
		if (fd >= 0)
			close((int)fd);
	} else if (!strcmp(act, "umount")) {
		report(act, umount2(argv[2], MNT_EXPIRE | MNT_DETACH));
	} else {
		fprintf(stderr, "tamper_probe: unknown act %s\n", act);
		return 2;
	}
	return 0;
}
