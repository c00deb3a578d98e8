/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Forensic bundles (the `capture` action): for the alert's container, a
 * directory under the evidence directory holding
 *   events.vcap    a capture file: the state the agent had of the container
 *                  (cgroup, metadata, user names, processes and their
 *                  ancestors) followed by the container's last records from
 *                  the flight recorder, the triggering one included, so that
 *                  `vigil replay events.vcap --rules ...` raises the alert again;
 *   manifest.json  the alert, the container, its process tree and the open files
 *                  and sockets of its processes (read from /proc at capture time).
 * Both are created mode 0600 in a 0700 directory.
 */
#ifndef VIGIL_BUNDLE_H
#define VIGIL_BUNDLE_H

#include <stddef.h>
#include <stdint.h>
#include "common/buf.h"
#include "engine/engine.h"
#include "respond/recorder.h"

#define BUNDLE_DEFAULT_DIR "/var/lib/vigil/evidence"

struct bundle_opts {
	const char *dir;
	struct recorder *recorder;
	uint64_t boot_to_realtime;
	const char *hostname;
	const char *procfs;
	/* the alert as manifest.json's "alert" (one JSON object, no newline): the caller's
	 * formatter (output/alert_json.c's alert_json), since respond sits below output */
	void (*format_alert)(struct vg_buf *out, const struct alert *a, const char *hostname,
			     uint64_t boot_to_realtime);
};

/* Write a bundle for the alert. 0 with its directory in out, or -1 with the reason in err. */
int bundle_write(const struct bundle_opts *o, const struct alert *a, char *out, size_t outlen, char *err,
		 size_t errlen);

/*
 * The bundle NAME (one directory of dir, never a path; no symbolic link
 * followed) as a POSIX ustar archive appended to out: NAME/ and its regular
 * files, sorted, at most max bytes in all. 0, or -1 with the reason in err.
 */
int bundle_pack(const char *dir, const char *name, size_t max, struct vg_buf *out, char *err, size_t errlen);

#endif
