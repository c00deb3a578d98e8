/* SPDX-License-Identifier: Apache-2.0 */
#include <strings.h>
#include "common/severity.h"

static const char *const names[SEV_COUNT] = { "UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL" };

const char *severity_name(enum vg_severity s)
{
	return (unsigned)s < SEV_COUNT ? names[s] : "UNKNOWN";
}

int severity_parse(const char *s)
{
	for (int i = 0; i < SEV_COUNT; i++)
		if (s && !strcasecmp(s, names[i]))
			return i;
	return -1;
}

const char *severity_sarif_level(enum vg_severity s)
{
	return s >= SEV_HIGH ? "error" : s == SEV_MEDIUM ? "warning" : "note";
}

const char *severity_sarif_score(enum vg_severity s)
{
	static const char *const score[SEV_COUNT] = { "0.0", "3.0", "5.5", "8.0", "9.5" };
	return score[(unsigned)s < SEV_COUNT ? s : SEV_UNKNOWN];
}
