/* SPDX-License-Identifier: Apache-2.0 */
/*
 * storm: a single-core syscall storm for the sensor benchmarks (bench/storm.sh).
 *
 *   storm open N   N x (openat(AT_FDCWD, "/tmp/storm-file", O_RDONLY) + close)
 *   storm exec N   N x (fork + execve("/bin/true") + waitpid)
 *   storm pace HZ S  openat+close of the same file HZ times a second for S
 *                    seconds (a light, steady event stream; see bench/README.md)
 *
 * The process pins itself to CPU 0 first, so the storm comes from one core
 * and the agent has the other one(s). On success it prints, on stdout, one
 * line with its pid, the syscalls of interest it made (failed calls
 * included), and the wall and CPU time of the storm:
 *
 *   pid=P openat=N ok=N seconds=S cpu=C
 *   pid=P execve=N clone=N ok=N seconds=S cpu=C
 *   pid=P openat=N ok=N seconds=S          (pace)
 *
 * "ok" counts the successful calls (open: fd >= 0; exec: children that
 * exited 0, i.e. whose execve succeeded); "cpu" is the CPU time (user +
 * system, children included) the storm consumed, less sensitive than
 * "seconds" to other load on the same core. Exit status: 0 success, 1 runtime
 * error, 2 usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STORM_FILE "/tmp/storm-file"
#define STORM_EXE "/bin/true"
#define STORM_MAX_N 100000000UL

static void usage(FILE *f)
{
	fputs("usage: storm open N | storm exec N | storm pace HZ SECONDS\n"
	      "  open N        N x openat(AT_FDCWD, \"" STORM_FILE "\", O_RDONLY) + close\n"
	      "  exec N        N x fork + execve(\"" STORM_EXE "\") + waitpid\n"
	      "  pace HZ S     the open+close of 'open', HZ times a second for S seconds\n"
	      "                (stops early on SIGINT/SIGTERM)\n"
	      "Pins itself to CPU 0; prints the syscalls it made.\n",
	      f);
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* CPU seconds (user + system) of this process, plus its waited-for children. */
static double cpu_s(void)
{
	struct rusage self, kids;

	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	return (double)(self.ru_utime.tv_sec + self.ru_stime.tv_sec + kids.ru_utime.tv_sec + kids.ru_stime.tv_sec) +
	       (double)(self.ru_utime.tv_usec + self.ru_stime.tv_usec + kids.ru_utime.tv_usec + kids.ru_stime.tv_usec) /
		       1e6;
}

static int pin_cpu0(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0) {
		fprintf(stderr, "storm: cannot pin to CPU 0: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static int ensure_file(void)
{
	int fd = open(STORM_FILE, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0) {
		fprintf(stderr, "storm: cannot create %s: %s\n", STORM_FILE, strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

static int storm_open(unsigned long n)
{
	unsigned long calls = 0, ok = 0;
	double t0, t1, c0;

	if (ensure_file())
		return 1;
	c0 = cpu_s();
	t0 = now_s();
	for (unsigned long i = 0; i < n; i++) {
		int fd = openat(AT_FDCWD, STORM_FILE, O_RDONLY);
		calls++;
		if (fd >= 0) {
			ok++;
			close(fd);
		}
	}
	t1 = now_s();
	printf("pid=%ld openat=%lu ok=%lu seconds=%.3f cpu=%.3f\n", (long)getpid(), calls, ok, t1 - t0,
	       cpu_s() - c0);
	return ok == calls ? 0 : 1;
}

static int storm_exec(unsigned long n)
{
	unsigned long execs = 0, clones = 0, ok = 0;
	char *const argv[] = { (char *)"true", NULL };
	char *const envp[] = { NULL };
	double t0, t1, c0;

	c0 = cpu_s();
	t0 = now_s();
	for (unsigned long i = 0; i < n; i++) {
		int status;
		pid_t pid = fork();
		clones++;
		if (pid < 0) {
			fprintf(stderr, "storm: fork: %s\n", strerror(errno));
			break;
		}
		if (pid == 0) {
			execve(STORM_EXE, argv, envp);
			_exit(127);
		}
		execs++; /* the child made exactly one execve */
		while (waitpid(pid, &status, 0) < 0) {
			if (errno != EINTR) {
				fprintf(stderr, "storm: waitpid: %s\n", strerror(errno));
				return 1;
			}
		}
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			ok++;
	}
	t1 = now_s();
	printf("pid=%ld execve=%lu clone=%lu ok=%lu seconds=%.3f cpu=%.3f\n", (long)getpid(), execs, clones, ok,
	       t1 - t0, cpu_s() - c0);
	return ok == n ? 0 : 1;
}

static volatile sig_atomic_t pace_stop;

static void on_stop(int sig)
{
	(void)sig;
	pace_stop = 1;
}

static void ts_add_ns(struct timespec *t, long ns)
{
	t->tv_nsec += ns;
	while (t->tv_nsec >= 1000000000L) {
		t->tv_nsec -= 1000000000L;
		t->tv_sec++;
	}
}

/* A steady trickle of events: HZ open+close a second, on absolute deadlines. */
static int storm_pace(unsigned long hz, unsigned long seconds)
{
	struct sigaction sa = { .sa_handler = on_stop };
	unsigned long calls = 0, ok = 0, total = hz * seconds;
	long period_ns = 1000000000L / (long)hz;
	struct timespec next;
	double t0, t1;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (ensure_file())
		return 1;
	t0 = now_s();
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (unsigned long i = 0; i < total && !pace_stop; i++) {
		int fd = openat(AT_FDCWD, STORM_FILE, O_RDONLY);
		calls++;
		if (fd >= 0) {
			ok++;
			close(fd);
		}
		ts_add_ns(&next, period_ns);
		while (!pace_stop && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
	}
	t1 = now_s();
	printf("pid=%ld openat=%lu ok=%lu seconds=%.3f\n", (long)getpid(), calls, ok, t1 - t0);
	return ok == calls ? 0 : 1;
}

static int parse_count(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || *end || end == s || s[0] == '-' || *out == 0 || *out > max) {
		fprintf(stderr, "storm: expected an integer from 1 to %lu, not '%s'\n", max, s);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long n;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "pace")) {
		unsigned long hz, seconds;
		if (parse_count(argv[2], 100000, &hz) || parse_count(argv[3], 86400, &seconds))
			return 2;
		if (pin_cpu0())
			return 1;
		setvbuf(stdout, NULL, _IOLBF, 0);
		return storm_pace(hz, seconds);
	}
	if (argc != 3 || (strcmp(argv[1], "open") && strcmp(argv[1], "exec"))) {
		usage(stderr);
		return 2;
	}
	if (parse_count(argv[2], STORM_MAX_N, &n))
		return 2;
	if (pin_cpu0())
		return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	return !strcmp(argv[1], "open") ? storm_open(n) : storm_exec(n);
}
