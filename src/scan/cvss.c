/* SPDX-License-Identifier: Apache-2.0 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "scan/cvss.h"

/* CVSS v3.1 Roundup: the smallest one-decimal number >= x, free of float error. */
static double roundup31(double x)
{
	int64_t i = (int64_t)llround(x * 100000);
	if (i % 10000 == 0)
		return (double)i / 100000.0;
	return (double)(i / 10000 + 1) / 10.0;
}

double cvss3_base_score(const char *v)
{
	char m[8] = { 0 }; /* AV AC PR UI S C I A */
	static const char *const keys[] = { "AV", "AC", "PR", "UI", "S", "C", "I", "A" };
	bool v31;

	if (!strncmp(v, "CVSS:3.1/", 9))
		v31 = true;
	else if (!strncmp(v, "CVSS:3.0/", 9))
		v31 = false;
	else
		return -1;
	for (const char *p = v + 9; *p;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		const char *colon = memchr(p, ':', n);
		if (!colon || (size_t)(colon - p) + 2 != n)
			return -1; /* every metric value is one letter */
		for (int k = 0; k < 8; k++)
			if (strlen(keys[k]) == (size_t)(colon - p) && !memcmp(p, keys[k], (size_t)(colon - p))) {
				if (m[k])
					return -1; /* repeated metric */
				m[k] = colon[1];
			}
		p += n + (slash ? 1 : 0);
	}
	for (int k = 0; k < 8; k++)
		if (!m[k])
			return -1;
	double av, ac, pr, ui, cia[3];
	bool changed = m[4] == 'C';
	if (m[4] != 'U' && m[4] != 'C')
		return -1;
	switch (m[0]) {
	case 'N': av = 0.85; break;
	case 'A': av = 0.62; break;
	case 'L': av = 0.55; break;
	case 'P': av = 0.2; break;
	default: return -1;
	}
	switch (m[1]) {
	case 'L': ac = 0.77; break;
	case 'H': ac = 0.44; break;
	default: return -1;
	}
	switch (m[2]) {
	case 'N': pr = 0.85; break;
	case 'L': pr = changed ? 0.68 : 0.62; break;
	case 'H': pr = changed ? 0.5 : 0.27; break;
	default: return -1;
	}
	switch (m[3]) {
	case 'N': ui = 0.85; break;
	case 'R': ui = 0.62; break;
	default: return -1;
	}
	for (int k = 0; k < 3; k++) {
		switch (m[5 + k]) {
		case 'H': cia[k] = 0.56; break;
		case 'L': cia[k] = 0.22; break;
		case 'N': cia[k] = 0; break;
		default: return -1;
		}
	}
	double iss = 1 - (1 - cia[0]) * (1 - cia[1]) * (1 - cia[2]);
	double impact = changed ? 7.52 * (iss - 0.029) - 3.25 * pow(iss - 0.02, 15) : 6.42 * iss;
	double expl = 8.22 * av * ac * pr * ui;
	if (impact <= 0)
		return 0;
	double base = changed ? fmin(1.08 * (impact + expl), 10) : fmin(impact + expl, 10);
	return v31 ? roundup31(base) : ceil(base * 10 - 1e-9) / 10;
}

const char *cvss_severity(double s)
{
	if (s >= 9.0)
		return "CRITICAL";
	if (s >= 7.0)
		return "HIGH";
	if (s >= 4.0)
		return "MEDIUM";
	if (s >= 0)
		return "LOW";
	return "UNKNOWN";
}
