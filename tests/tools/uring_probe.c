/* SPDX-License-Identifier: Apache-2.0 */
/*
 * uring_probe: what an attacker hiding from syscall sensors does, through
 * io_uring only (liburing), for tests/integration/test_io_uring.sh. Built
 * static by the test so that it runs in a busybox container.
 *
 *   uring_probe open PATH          IORING_OP_OPENAT, then IORING_OP_READ of it
 *   uring_probe skipopen PATH      the same open with IOSQE_CQE_SKIP_SUCCESS (and a NOP)
 *   uring_probe connect IP PORT    IORING_OP_SOCKET, then IORING_OP_CONNECT
 *   ... --wait SECS                then sleep SECS and print "survived"
 *
 * Prints one line per operation ("open res=3", "read res=12", ...) and
 * exits 0 when every operation succeeded.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <liburing.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct io_uring ring;

/* Submit the prepared SQE, wait for its completion and return its result. */
static int run(const char *what)
{
	struct io_uring_cqe *cqe;
	int ret = io_uring_submit_and_wait(&ring, 1);
	if (ret < 0) {
		fprintf(stderr, "uring_probe: cannot submit %s: %s\n", what, strerror(-ret));
		return ret;
	}
	ret = io_uring_wait_cqe(&ring, &cqe);
	if (ret < 0) {
		fprintf(stderr, "uring_probe: no completion for %s: %s\n", what, strerror(-ret));
		return ret;
	}
	ret = cqe->res;
	io_uring_cqe_seen(&ring, cqe);
	printf("%s res=%d\n", what, ret);
	fflush(stdout);
	return ret;
}

static int do_open(const char *path, int skip)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
	char buf[256];
	int fd;

	io_uring_prep_openat(sqe, AT_FDCWD, path, O_RDONLY, 0);
	if (skip) {
		/* no completion when it succeeds: a linked NOP after it says when it is done */
		sqe->flags |= IOSQE_CQE_SKIP_SUCCESS | IOSQE_IO_LINK;
		io_uring_prep_nop(io_uring_get_sqe(&ring));
		return run("skipopen+nop") < 0;
	}
	fd = run("open");
	if (fd < 0)
		return 1;
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_read(sqe, fd, buf, sizeof(buf), 0);
	return run("read") < 0;
}

static int do_connect(const char *ip, const char *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
	struct io_uring_sqe *sqe;
	int fd;

	if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1) {
		fprintf(stderr, "uring_probe: bad address %s\n", ip);
		return 2;
	}
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_socket(sqe, AF_INET, SOCK_STREAM, 0, 0);
	fd = run("socket");
	if (fd < 0)
		return 1;
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_connect(sqe, fd, (struct sockaddr *)&sa, sizeof(sa));
	return run("connect") < 0;
}

int main(int argc, char **argv)
{
	int ret, wait = 0;

	if (argc >= 3 && !strcmp(argv[argc - 2], "--wait")) {
		wait = atoi(argv[argc - 1]);
		argc -= 2;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: uring_probe open|skipopen PATH | connect IP PORT [--wait SECS]\n");
		return 2;
	}
	ret = io_uring_queue_init(8, &ring, 0);
	if (ret < 0) {
		fprintf(stderr, "uring_probe: io_uring_setup: %s\n", strerror(-ret));
		return 3;
	}
	if (!strcmp(argv[1], "open") || !strcmp(argv[1], "skipopen"))
		ret = do_open(argv[2], argv[1][0] == 's');
	else if (!strcmp(argv[1], "connect") && argc >= 4)
		ret = do_connect(argv[2], argv[3]);
	else
		ret = 2;
	for (int i = 0; i < wait * 10; i++)
		usleep(100000);
	if (wait) {
		printf("survived\n");
		fflush(stdout);
	}
	io_uring_queue_exit(&ring);
	return ret;
}
