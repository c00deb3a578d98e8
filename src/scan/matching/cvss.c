/* SPDX-License-Identifier: Apache-2.0 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "scan/matching/cvss.h"

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

/*
 * CVSS v4.0 (FIRST, CVSS v4.0 Specification Document, section 8 and the
 * reference calculator). A vector falls into a MacroVector of six
 * equivalence classes EQ1..EQ6; experts scored each MacroVector (the table
 * below, in tenths). Within its MacroVector a vector is scored down from that
 * value by its severity distance to the MacroVector's highest-severity
 * vectors, in proportion to the score gap to the next lower MacroVector of
 * each EQ, averaged over the EQs that have a lower MacroVector.
 */

/* The metrics of a v4.0 vector in the order the specification requires. */
enum {
	AV, AC, AT, PR, UI, VC, VI, VA, SC, SI, SA, /* base, all mandatory */
	E, CR, IR, AR, /* threat; environmental requirements */
	MAV, MAC, MAT, MPR, MUI, MVC, MVI, MVA, MSC, MSI, MSA, /* modified base, same order */
	S_, AU, R_, V_, RE, U_, /* supplemental: parsed, not scored */
	V4_NMETRICS
};

static const struct {
	const char *key;
	const char *values; /* allowed values, '|'-separated */
} v4_metrics[V4_NMETRICS] = {
	{ "AV", "N|A|L|P" }, { "AC", "L|H" }, { "AT", "N|P" }, { "PR", "N|L|H" },
	{ "UI", "N|P|A" }, { "VC", "H|L|N" }, { "VI", "H|L|N" }, { "VA", "H|L|N" },
	{ "SC", "H|L|N" }, { "SI", "H|L|N" }, { "SA", "H|L|N" },
	{ "E", "X|A|P|U" }, { "CR", "X|H|M|L" }, { "IR", "X|H|M|L" }, { "AR", "X|H|M|L" },
	{ "MAV", "X|N|A|L|P" }, { "MAC", "X|L|H" }, { "MAT", "X|N|P" }, { "MPR", "X|N|L|H" },
	{ "MUI", "X|N|P|A" }, { "MVC", "X|H|L|N" }, { "MVI", "X|H|L|N" }, { "MVA", "X|H|L|N" },
	{ "MSC", "X|H|L|N" }, { "MSI", "X|S|H|L|N" }, { "MSA", "X|S|H|L|N" },
	{ "S", "X|N|P" }, { "AU", "X|N|Y" }, { "R", "X|A|U|I" }, { "V", "X|D|C" },
	{ "RE", "X|L|M|H" }, { "U", "X|Clear|Green|Amber|Red" },
};

/* MacroVector scores in tenths, [EQ1][EQ2][EQ3][EQ4][EQ5][EQ6]; -1: no such
 * MacroVector (EQ3=2 implies EQ6=1). 270 entries, from the specification. */
static const signed char v4_macro[3][2][3][3][3][2] = {
	{ /* EQ1=0 */
		{ /* EQ2=0 */
			{ /* EQ3=0 */ { { 100, 99 }, { 98, 95 }, { 95, 92 } },
			  { { 100, 96 }, { 93, 87 }, { 91, 81 } },
			  { { 93, 90 }, { 89, 80 }, { 81, 68 } } },
			{ /* EQ3=1 */ { { 98, 95 }, { 95, 92 }, { 90, 84 } },
			  { { 93, 92 }, { 89, 81 }, { 81, 65 } },
			  { { 88, 80 }, { 78, 70 }, { 69, 48 } } },
			{ /* EQ3=2 */ { { -1, 92 }, { -1, 82 }, { -1, 72 } },
			  { { -1, 79 }, { -1, 69 }, { -1, 50 } },
			  { { -1, 69 }, { -1, 55 }, { -1, 27 } } },
		},
		{ /* EQ2=1 */
			{ /* EQ3=0 */ { { 99, 97 }, { 95, 92 }, { 92, 85 } },
			  { { 95, 91 }, { 90, 83 }, { 84, 71 } },
			  { { 92, 81 }, { 82, 71 }, { 72, 53 } } },
			{ /* EQ3=1 */ { { 95, 93 }, { 92, 85 }, { 85, 73 } },
			  { { 92, 82 }, { 80, 72 }, { 70, 59 } },
			  { { 84, 70 }, { 71, 52 }, { 50, 30 } } },
			{ /* EQ3=2 */ { { -1, 86 }, { -1, 75 }, { -1, 52 } },
			  { { -1, 71 }, { -1, 52 }, { -1, 29 } },
			  { { -1, 63 }, { -1, 29 }, { -1, 17 } } },
		},
	},
	{ /* EQ1=1 */
		{ /* EQ2=0 */
			{ /* EQ3=0 */ { { 98, 95 }, { 94, 87 }, { 91, 81 } },
			  { { 94, 89 }, { 86, 74 }, { 77, 64 } },
			  { { 87, 75 }, { 74, 63 }, { 63, 49 } } },
			{ /* EQ3=1 */ { { 94, 89 }, { 88, 77 }, { 76, 67 } },
			  { { 86, 76 }, { 74, 58 }, { 59, 50 } },
			  { { 72, 57 }, { 57, 52 }, { 52, 25 } } },
			{ /* EQ3=2 */ { { -1, 83 }, { -1, 70 }, { -1, 54 } },
			  { { -1, 65 }, { -1, 58 }, { -1, 26 } },
			  { { -1, 53 }, { -1, 21 }, { -1, 13 } } },
		},
		{ /* EQ2=1 */
			{ /* EQ3=0 */ { { 95, 90 }, { 88, 76 }, { 76, 70 } },
			  { { 90, 77 }, { 75, 62 }, { 61, 53 } },
			  { { 77, 66 }, { 68, 59 }, { 52, 30 } } },
			{ /* EQ3=1 */ { { 89, 78 }, { 76, 67 }, { 62, 58 } },
			  { { 74, 59 }, { 57, 57 }, { 47, 23 } },
			  { { 61, 52 }, { 57, 29 }, { 24, 16 } } },
			{ /* EQ3=2 */ { { -1, 71 }, { -1, 59 }, { -1, 30 } },
			  { { -1, 58 }, { -1, 26 }, { -1, 15 } },
			  { { -1, 23 }, { -1, 13 }, { -1, 6 } } },
		},
	},
	{ /* EQ1=2 */
		{ /* EQ2=0 */
			{ /* EQ3=0 */ { { 93, 87 }, { 86, 72 }, { 75, 58 } },
			  { { 86, 74 }, { 74, 61 }, { 56, 34 } },
			  { { 70, 54 }, { 52, 40 }, { 40, 22 } } },
			{ /* EQ3=1 */ { { 85, 75 }, { 74, 55 }, { 62, 51 } },
			  { { 72, 57 }, { 55, 41 }, { 46, 19 } },
			  { { 53, 36 }, { 34, 19 }, { 19, 8 } } },
			{ /* EQ3=2 */ { { -1, 64 }, { -1, 51 }, { -1, 20 } },
			  { { -1, 47 }, { -1, 21 }, { -1, 11 } },
			  { { -1, 24 }, { -1, 9 }, { -1, 4 } } },
		},
		{ /* EQ2=1 */
			{ /* EQ3=0 */ { { 88, 75 }, { 73, 53 }, { 60, 50 } },
			  { { 73, 55 }, { 59, 40 }, { 41, 20 } },
			  { { 54, 43 }, { 45, 22 }, { 20, 11 } } },
			{ /* EQ3=1 */ { { 75, 55 }, { 58, 45 }, { 40, 21 } },
			  { { 61, 51 }, { 48, 18 }, { 20, 9 } },
			  { { 46, 18 }, { 17, 7 }, { 8, 2 } } },
			{ /* EQ3=2 */ { { -1, 53 }, { -1, 24 }, { -1, 14 } },
			  { { -1, 24 }, { -1, 12 }, { -1, 5 } },
			  { { -1, 10 }, { -1, 3 }, { -1, 1 } } },
		},
	},
};

/* The score of a MacroVector, or -1 when there is none (an EQ past its last level). */
static int v4_lookup(int e1, int e2, int e3, int e4, int e5, int e6)
{
	if (e1 > 2 || e2 > 1 || e3 > 2 || e4 > 2 || e5 > 2 || e6 > 1)
		return -1;
	return v4_macro[e1][e2][e3][e4][e5][e6];
}

/*
 * Highest-severity vectors of each EQ level (the reference calculator's
 * max_composed): metric letters in the order the strings name them.
 */
static const char *const v4_max_eq1[3][3] = { /* AV PR UI */
	{ "NNN" }, { "ANN", "NLN", "NNP" }, { "PNN", "ALP" },
};
static const char *const v4_max_eq2[2][2] = { /* AC AT */
	{ "LN" }, { "HN", "LP" },
};
static const char *const v4_max_eq36[3][2][5] = { /* VC VI VA CR IR AR, by EQ3 then EQ6 */
	{ { "HHHHHH" }, { "HHLMMH", "HHHMMM" } },
	{ { "LHHHHH", "HLHHHH" }, { "LHLHMH", "LHHHMM", "HLHMHM", "HLLMHH", "LLHHHM" } },
	{ { NULL }, { "LLLHHH" } },
};
static const char *const v4_max_eq4[3] = { "HSS", "HHH", "LLL" }; /* SC SI SA */
static const char v4_max_eq5[3] = { 'A', 'P', 'U' }; /* E */
/* The depth of each EQ level's MacroVector: its largest severity distance + 1. */
static const int v4_depth_eq1[3] = { 1, 4, 5 };
static const int v4_depth_eq2[2] = { 1, 2 };
static const int v4_depth_eq36[3][2] = { { 7, 6 }, { 8, 8 }, { 0, 10 } };
static const int v4_depth_eq4[3] = { 6, 5, 4 };

/* A metric value's severity level (0.0 most severe, 0.1 per step), as the
 * reference calculator computes it, so that the float arithmetic matches. */
static double v4_level(int metric, char v)
{
	static const struct {
		int metric;
		const char *order; /* from level 0.0 up */
	} lv[] = {
		{ AV, "NALP" }, { PR, "NLH" }, { UI, "NPA" }, { AC, "LH" }, { AT, "NP" },
		{ VC, "HLN" }, { VI, "HLN" }, { VA, "HLN" }, { SC, " HLN" }, { SI, "SHLN" },
		{ SA, "SHLN" }, { CR, "HML" }, { IR, "HML" }, { AR, "HML" }, { E, "APU" },
	};
	static const double step[] = { 0.0, 0.1, 0.2, 0.3 };
	for (size_t i = 0; i < sizeof(lv) / sizeof(lv[0]); i++)
		if (lv[i].metric == metric) {
			const char *p = strchr(lv[i].order, v);
			return p && v ? step[p - lv[i].order] : 0.0;
		}
	return 0.0;
}

/* Parse a v4.0 vector into one letter a metric ('X' when absent; U's value
 * is reduced to its first letter). Returns false when the vector is invalid:
 * wrong prefix, a base metric missing, an unknown or repeated metric, metrics
 * out of the specification's order, or a value not allowed. */
static bool v4_parse(const char *v, char m[V4_NMETRICS])
{
	if (strncmp(v, "CVSS:4.0/", 9) != 0)
		return false;
	memset(m, 'X', V4_NMETRICS);
	int next = 0; /* metrics before this index are behind us */
	for (const char *p = v + 9;;) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		const char *colon = memchr(p, ':', n);
		if (!colon || colon == p || colon + 1 == p + n)
			return false;
		size_t klen = (size_t)(colon - p), vlen = n - klen - 1;
		int k = next;
		while (k < V4_NMETRICS && (strlen(v4_metrics[k].key) != klen ||
					   memcmp(v4_metrics[k].key, p, klen) != 0))
			k++;
		if (k == V4_NMETRICS || (k > next && next <= SA))
			return false; /* unknown, repeated, out of order, or a base metric skipped */
		bool ok = false;
		for (const char *a = v4_metrics[k].values; *a && !ok;) {
			size_t alen = strcspn(a, "|");
			ok = alen == vlen && !memcmp(a, colon + 1, vlen);
			a += alen + (a[alen] == '|');
		}
		if (!ok)
			return false;
		m[k] = colon[1];
		next = k + 1;
		if (!end)
			break;
		p = end + 1;
	}
	return next > SA;
}

/* The value a metric takes in scoring: a modified metric overrides its base
 * metric; an unset threat or requirement metric counts as its worst case. */
static char v4_eff(const char m[V4_NMETRICS], int k)
{
	if (k == E)
		return m[E] == 'X' ? 'A' : m[E];
	if (k == CR || k == IR || k == AR)
		return m[k] == 'X' ? 'H' : m[k];
	if (k <= SA && m[MAV + k] != 'X')
		return m[MAV + k];
	return m[k];
}

double cvss4_score(const char *vector)
{
	char m[V4_NMETRICS], x[V4_NMETRICS];

	if (!v4_parse(vector, m))
		return -1;
	for (int k = 0; k < V4_NMETRICS; k++)
		x[k] = v4_eff(m, k);
	if (x[VC] == 'N' && x[VI] == 'N' && x[VA] == 'N' && x[SC] == 'N' && x[SI] == 'N' &&
	    x[SA] == 'N')
		return 0.0; /* no impact on any system */

	/* the MacroVector */
	int eq1, eq2, eq3, eq4, eq5, eq6;
	if (x[AV] == 'N' && x[PR] == 'N' && x[UI] == 'N')
		eq1 = 0;
	else if ((x[AV] == 'N' || x[PR] == 'N' || x[UI] == 'N') && x[AV] != 'P')
		eq1 = 1;
	else
		eq1 = 2;
	eq2 = x[AC] == 'L' && x[AT] == 'N' ? 0 : 1;
	if (x[VC] == 'H' && x[VI] == 'H')
		eq3 = 0;
	else if (x[VC] == 'H' || x[VI] == 'H' || x[VA] == 'H')
		eq3 = 1;
	else
		eq3 = 2;
	if (x[SI] == 'S' || x[SA] == 'S')
		eq4 = 0;
	else if (x[SC] == 'H' || x[SI] == 'H' || x[SA] == 'H')
		eq4 = 1;
	else
		eq4 = 2;
	eq5 = x[E] == 'A' ? 0 : x[E] == 'P' ? 1 : 2;
	eq6 = (x[CR] == 'H' && x[VC] == 'H') || (x[IR] == 'H' && x[VI] == 'H') ||
			      (x[AR] == 'H' && x[VA] == 'H')
		      ? 0
		      : 1;
	double value = v4_lookup(eq1, eq2, eq3, eq4, eq5, eq6) / 10.0;

	/* the next lower MacroVector of each EQ (EQ3 and EQ6 move together) */
	int lower[5];
	lower[0] = v4_lookup(eq1 + 1, eq2, eq3, eq4, eq5, eq6);
	lower[1] = v4_lookup(eq1, eq2 + 1, eq3, eq4, eq5, eq6);
	if (eq3 == 0 && eq6 == 0) {
		int l = v4_lookup(eq1, eq2, eq3, eq4, eq5, eq6 + 1);
		int r = v4_lookup(eq1, eq2, eq3 + 1, eq4, eq5, eq6);
		lower[2] = l > r ? l : r;
	} else if (eq3 == 1 && eq6 == 0) {
		lower[2] = v4_lookup(eq1, eq2, eq3, eq4, eq5, eq6 + 1);
	} else if (eq3 == 2) {
		lower[2] = -1; /* 21 -> 32 does not exist */
	} else {
		lower[2] = v4_lookup(eq1, eq2, eq3 + 1, eq4, eq5, eq6);
	}
	lower[3] = v4_lookup(eq1, eq2, eq3, eq4 + 1, eq5, eq6);
	lower[4] = v4_lookup(eq1, eq2, eq3, eq4, eq5 + 1, eq6);

	/* severity distances to the first highest-severity vector of the
	 * MacroVector that is at least as severe in every metric */
	static const int order[] = { AV, PR, UI, AC, AT, VC, VI, VA, CR, IR, AR, SC, SI, SA, E };
	double d[V4_NMETRICS] = { 0 };
	bool found = false;
	for (int i1 = 0; i1 < 3 && !found && v4_max_eq1[eq1][i1]; i1++)
		for (int i2 = 0; i2 < 2 && !found && v4_max_eq2[eq2][i2]; i2++)
			for (int i3 = 0; i3 < 5 && !found && v4_max_eq36[eq3][eq6][i3]; i3++) {
				char mx[V4_NMETRICS];
				mx[AV] = v4_max_eq1[eq1][i1][0];
				mx[PR] = v4_max_eq1[eq1][i1][1];
				mx[UI] = v4_max_eq1[eq1][i1][2];
				mx[AC] = v4_max_eq2[eq2][i2][0];
				mx[AT] = v4_max_eq2[eq2][i2][1];
				for (int j = 0; j < 3; j++) {
					mx[VC + j] = v4_max_eq36[eq3][eq6][i3][j];
					mx[CR + j] = v4_max_eq36[eq3][eq6][i3][3 + j];
					mx[SC + j] = v4_max_eq4[eq4][j];
				}
				mx[E] = v4_max_eq5[eq5];
				found = true;
				for (size_t j = 0; j < sizeof(order) / sizeof(order[0]); j++) {
					int k = order[j];
					d[k] = v4_level(k, x[k]) - v4_level(k, mx[k]);
					if (d[k] < 0)
						found = false;
				}
			}

	double dist[4] = {
		d[AV] + d[PR] + d[UI],
		d[AC] + d[AT],
		d[VC] + d[VI] + d[VA] + d[CR] + d[IR] + d[AR],
		d[SC] + d[SI] + d[SA],
	};
	double depth[4] = {
		v4_depth_eq1[eq1] * 0.1,
		v4_depth_eq2[eq2] * 0.1,
		v4_depth_eq36[eq3][eq6] * 0.1,
		v4_depth_eq4[eq4] * 0.1,
	};
	double sum = 0;
	int n = 0;
	for (int i = 0; i < 5; i++) {
		if (lower[i] < 0)
			continue;
		n++;
		if (i < 4) /* EQ5's proportion is always 0 */
			sum += (value - lower[i] / 10.0) * (dist[i] / depth[i]);
	}
	if (n)
		value -= sum / n;
	value = fmax(0, fmin(10, value));
	/* round half up; the epsilon lifts values the interpolation leaves one
	 * ULP below an x.x5 tie, as the reference calculator does */
	return floor((value + 1e-6) * 10 + 0.5) / 10;
}

enum vg_severity cvss_severity(double s)
{
	if (s >= 9.0)
		return SEV_CRITICAL;
	if (s >= 7.0)
		return SEV_HIGH;
	if (s >= 4.0)
		return SEV_MEDIUM;
	if (s >= 0)
		return SEV_LOW;
	return SEV_UNKNOWN;
}
