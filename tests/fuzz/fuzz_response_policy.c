/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: the response policy parser (src/respond/response_policy.c), through a memfd path. */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>
#include "respond/response_policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[512];
	int fd = memfd_create("policy", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		response_policy_free(response_policy_load(path, err, sizeof(err)));
	}
	close(fd);
	return 0;
}
