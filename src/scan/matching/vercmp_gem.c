/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RubyGems: Gem::Version. Segments are runs of digits or of letters; a
 * letter segment makes a pre-release (it sorts below a number); trailing
 * zeros are dropped before the first letter segment and at the end.
 */
#include <string.h>
#include "scan/matching/vercmp.h"


struct gemseg {
	const char *p;
	size_t n;
	bool num;
};

#define GEM_SEGS 64

/*
 * Canonical segments: runs of digits or letters; trailing zeros dropped from
 * the numeric part and from the part after the first letter segment.
 */
static size_t gem_segments(const char *v, struct gemseg *s)
{
	size_t n = 0, first_str = GEM_SEGS;

	while (*v && n < GEM_SEGS) {
		if (vc_digit((unsigned char)*v) || vc_alpha((unsigned char)*v)) {
			bool num = vc_digit((unsigned char)*v);
			const char *b = v;
			while (*v && (num ? vc_digit((unsigned char)*v) : vc_alpha((unsigned char)*v)))
				v++;
			if (!num && first_str == GEM_SEGS)
				first_str = n;
			s[n++] = (struct gemseg){ b, (size_t)(v - b), num };
		} else {
			v++;
		}
	}
	/* drop zeros at the end of each part (numbers before the first string, the rest) */
	size_t split = first_str < n ? first_str : n, out = 0;
	size_t end1 = split;
	while (end1 > 0 && s[end1 - 1].num && !vercmp_digits(s[end1 - 1].p, s[end1 - 1].n, "0", 1))
		end1--;
	size_t end2 = n;
	while (end2 > split && s[end2 - 1].num && !vercmp_digits(s[end2 - 1].p, s[end2 - 1].n, "0", 1))
		end2--;
	out = end1;
	for (size_t i = split; i < end2; i++)
		s[out++] = s[i];
	return out;
}

int vercmp_gem(const char *a, const char *b)
{
	struct gemseg x[GEM_SEGS], y[GEM_SEGS];
	size_t xn = gem_segments(a, x), yn = gem_segments(b, y);
	static const struct gemseg zero = { "0", 1, true };

	for (size_t i = 0; i < xn || i < yn; i++) {
		const struct gemseg *l = i < xn ? &x[i] : &zero, *r = i < yn ? &y[i] : &zero;
		if (l->num && r->num) {
			int c = vercmp_digits(l->p, l->n, r->p, r->n);
			if (c)
				return c;
		} else if (l->num != r->num) {
			return l->num ? 1 : -1; /* a pre-release letter sorts before a number */
		} else {
			int c = memcmp(l->p, r->p, l->n < r->n ? l->n : r->n);
			c = c ? vercmp_sign(c) : (l->n > r->n) - (l->n < r->n);
			if (c)
				return c;
		}
	}
	return 0;
}

