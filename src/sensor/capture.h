/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Capture files: a header, then records exactly as the event ABI defines them.
 * The format is documented at the top of capture.c and in docs/capture-format.md.
 */
#ifndef VIGIL_CAPTURE_H
#define VIGIL_CAPTURE_H

#include <stdint.h>
#include <stdio.h>

#define VG_CAPTURE_MAGIC "VIGILCAP"
#define VG_CAPTURE_VERSION 1
#define VG_CAPTURE_RECORD_MAX (1u << 20) /* state records can exceed VG_RECORD_MAX */

struct vg_capture_header {
	char magic[8];                /* "VIGILCAP" */
	uint16_t version;             /* VG_CAPTURE_VERSION */
	uint16_t abi;                 /* VG_EVENT_ABI_VERSION of the records */
	uint32_t header_len;          /* sizeof(struct vg_capture_header) */
	uint64_t boot_to_realtime;    /* ns to add to a record ts for wall-clock time */
	uint64_t start_ts;            /* CLOCK_BOOTTIME at the start of the capture */
	char hostname[64];
};
_Static_assert(sizeof(struct vg_capture_header) == 96, "capture header is a file format");

struct vg_capture_writer;

/* Create (truncate) `path` and write the header. NULL with a logged error. */
struct vg_capture_writer *capture_writer_open(const char *path, uint64_t boot_to_realtime,
					      const char *hostname);
/* Append one record; returns 0 or -errno (logged once). */
int capture_writer_add(struct vg_capture_writer *w, const void *rec, size_t len);
/* Flush and close; returns 0 or -errno. Frees w in every case. */
int capture_writer_close(struct vg_capture_writer *w);
uint64_t capture_writer_records(const struct vg_capture_writer *w);

/* Wall-clock minus boot-time clock, in ns. */
uint64_t capture_boot_to_realtime(void);

#endif
