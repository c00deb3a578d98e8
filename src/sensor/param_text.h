/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Event parameters as text, the way Falco renders them (so that rules written
 * for Falco compare against the same strings): open flags as
 * "O_RDWR|O_CREAT", modes as "S_IRUSR|S_IWUSR", ptrace requests as
 * "PTRACE_ATTACH", socket domains as "AF_INET", bpf commands as
 * "BPF_PROG_LOAD", signals as "SIGKILL", paths resolved to absolute.
 */
#ifndef VIGIL_PARAM_TEXT_H
#define VIGIL_PARAM_TEXT_H

#include <stdint.h>
#include "common/buf.h"
#include "sensor/decode.h"

struct flag_name {
	uint64_t bit;
	const char *name;
};

extern const struct flag_name param_open_flags[], param_clone_flags[];

/* Append names of the bits of v joined by '|' after base (may be NULL); unnamed bits as hex. */
void param_flags_text(struct vg_buf *b, uint64_t v, const struct flag_name *names, const char *base);
/* Append parameter i of ev as text. */
void param_text(struct vg_buf *b, const struct vg_event *ev, unsigned int i);
/* Falco's execve flags: EXE_UPPER_LAYER, EXE_FROM_MEMFD, EXE_LOWER_LAYER ... */
void param_text_exe_flags(struct vg_buf *b, uint32_t vg_exe_flags);

#endif
