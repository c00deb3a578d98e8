/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The userspace view of events.def: names, categories, parameter names and
 * formats, and the syscall number behind each syscall event.
 */
#ifndef VIGIL_EVENT_TABLE_H
#define VIGIL_EVENT_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/event.h"

struct vg_param_info {
	const char *name;
	uint8_t kind;   /* enum vg_capture_kind */
	uint8_t arg, aux;
	uint8_t format; /* enum vg_param_format */
};

struct vg_event_info {
	const char *name;     /* Falco's evt.type name: "openat", "procexit" */
	uint8_t category;     /* enum vg_category */
	uint8_t flags;        /* VG_EF_* */
	uint8_t nparams;
	struct vg_param_info params[VG_MAX_PARAMS];
};

/* The entry for an event type, or NULL when the type is unknown. Can't fail otherwise. */
const struct vg_event_info *event_table_get(unsigned int type);
/* The event type called `name`, or -1. */
int event_table_find(const char *name);
/* The x86-64 syscall number of a syscall event type, or -1 for other events. */
int event_table_syscall_nr(unsigned int type);
/* The i386 syscall numbers of an event type (up to max of them); returns how many. */
size_t event_table_ia32_nrs(unsigned int type, int *nrs, size_t max);
const char *event_table_category_name(unsigned int category);

#endif
