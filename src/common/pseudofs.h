/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kernel pseudo filesystems the agent relies on at their usual places
 * (tracefs for tracepoint ids, bpffs for pins). A node may not have mounted
 * them (a fresh machine does not), so the agent mounts them when absent, as
 * other agents do; the mount stays after the agent, like one made at boot.
 */
#ifndef VIGIL_PSEUDOFS_H
#define VIGIL_PSEUDOFS_H

#include <stdbool.h>

#define PSEUDOFS_TRACEFS "/sys/kernel/tracing"
#define PSEUDOFS_BPFFS "/sys/fs/bpf"

/* Whether a filesystem whose statfs f_type is magic is mounted at dir. Can't fail. */
bool pseudofs_mounted(const char *dir, unsigned long magic);

/*
 * A filesystem of type (statfs f_type magic) at dir: 0 when it was there,
 * 1 when this call mounted it (mount(source, dir, type, 0, data); data may be
 * NULL), -1 with errno set when it is absent and cannot be mounted.
 */
int pseudofs_ensure(const char *dir, const char *source, const char *type, unsigned long magic, const char *data);

#endif
