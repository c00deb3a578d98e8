/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: the file policy parser and matcher (src/respond/file_policy.c), through a memfd path. */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>
#include "respond/file_policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[512];
	int fd = memfd_create("policy", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		struct file_policy *p = file_policy_load(path, err, sizeof(err));
		struct vg_container_meta m = { .id = "0123456789abcdef", .name = "web-1" };
		const struct file_rules *r = file_policy_match(p, &m);
		file_rules_deny_open(r, "/etc/shadow");
		file_rules_deny_exec(r, "/usr/bin/wget");
		for (size_t i = 0; file_rules_literal_open(r, i); i++)
			;
		file_policy_free(p);
	}
	close(fd);
	return 0;
}
