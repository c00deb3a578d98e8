/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Record decoder: checks a raw record (from the kernel or a capture file,
 * so untrusted) against the event ABI and exposes its parameters.
 */
#ifndef VIGIL_DECODE_H
#define VIGIL_DECODE_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/event.h"
#include "sensor/event_table.h"

struct vg_param_val {
	const struct vg_param_info *info;
	const char *data; /* points into the record; NULL when the parameter is absent */
	uint16_t len;
};

struct vg_event {
	struct vg_event_hdr hdr; /* a copy: the record need not be aligned */
	const struct vg_event_info *info;
	unsigned int nparams; /* parameters known to this build that the record holds */
	struct vg_param_val params[VG_MAX_PARAMS];
	const void *raw;      /* the whole record */
	size_t raw_len;
};

/*
 * Check the `len` bytes at `data` and fill *ev with pointers into them.
 * Returns 0, or -1 with a reason (lowercase, no offset) in err. Never reads
 * outside [data, data+len); can't crash on any input.
 */
int event_decode(const void *data, size_t len, struct vg_event *ev, char *err, size_t errlen);

/* Parameter accessors. A missing or malformed parameter gives 0 / "" / NULL. */
const struct vg_param_val *event_param(const struct vg_event *ev, const char *name);
int64_t event_param_int(const struct vg_event *ev, unsigned int i);
/* First NUL-terminated string of a string, path or exe parameter. */
const char *event_param_str(const struct vg_event *ev, unsigned int i);
/* Second string of a PATH/EXE parameter (the base directory), "" if none. */
const char *event_param_base(const struct vg_event *ev, unsigned int i);

#endif
