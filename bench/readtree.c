/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/readtree DIR: the floor of a secret-searching scan of a directory
 * tree, for bench/scan.sh: the same walk as `vigil scan rootfs` (openat,
 * fstatat without following links, no crossing of mount points), the first
 * 64 KiB of every regular file, and the whole of every text file (no NUL in
 * its first 8 KiB) up to 8 MiB, as the secret rules need. Prints files and
 * bytes read.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static unsigned long long files, bytes;
static char buf[65536];

static void readfile(int dfd, const char *name, off_t size)
{
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, sizeof(buf));
	files++;
	if (n > 0) {
		bytes += (unsigned long long)n;
		size_t head = (size_t)n < 8192 ? (size_t)n : 8192;
		if (!memchr(buf, 0, head) && size <= (8 << 20))
			while ((n = read(fd, buf, sizeof(buf))) > 0)
				bytes += (unsigned long long)n;
	}
	close(fd);
}

static void walk(int dfd, dev_t dev, int depth)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;

	if (!d) {
		close(dfd);
		return;
	}
	while ((de = readdir(d))) {
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW))
			continue;
		if (S_ISDIR(st.st_mode) && st.st_dev == dev && depth < 256) {
			int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				walk(sub, dev, depth + 1);
		} else if (S_ISREG(st.st_mode)) {
			readfile(dirfd(d), de->d_name, st.st_size);
		}
	}
	closedir(d);
}

int main(int argc, char **argv)
{
	struct stat st;
	if (argc != 2) {
		fputs("usage: readtree DIR\n", stderr);
		return 2;
	}
	int fd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		perror(argv[1]);
		return 1;
	}
	walk(fd, st.st_dev, 0);
	printf("%llu files, %llu MB read\n", files, bytes >> 20);
	return 0;
}
