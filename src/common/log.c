/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdio.h>
#include "common/log.h"

static enum vg_log_level log_level = VG_LOG_INFO;

void vg_log_set_level(enum vg_log_level level)
{
	log_level = level;
}

void vg_log(enum vg_log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	fputs(level == VG_LOG_WARN ? "vigil: warning: " : "vigil: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}
