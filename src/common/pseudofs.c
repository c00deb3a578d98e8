/* SPDX-License-Identifier: Apache-2.0 */
#include <sys/mount.h>
#include <sys/vfs.h>
#include "common/pseudofs.h"

bool pseudofs_mounted(const char *dir, unsigned long magic)
{
	struct statfs sf;
	return statfs(dir, &sf) == 0 && (unsigned long)sf.f_type == magic;
}

int pseudofs_ensure(const char *dir, const char *source, const char *type, unsigned long magic, const char *data)
{
	if (pseudofs_mounted(dir, magic))
		return 0;
	return mount(source, dir, type, 0, data) == 0 ? 1 : -1;
}
