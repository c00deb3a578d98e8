/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pub (Dart) version order, as pub_semver's Version.compareTo: major, minor,
 * patch by value; a pre-release below its release; then, unlike SemVer,
 * build metadata counts: no build below any build (1.0.0 < 1.0.0+1), and
 * builds compare like pre-releases. Pre-release and build parts are split
 * at '.', numbers by value below text, text by bytes, missing parts first.
 */
#include <string.h>
#include "scan/matching/vercmp.h"

struct pubver {
	const char *core[3];
	size_t corelen[3];
	const char *pre, *build; /* NULL: none */
	size_t prelen, buildlen;
};

static void pub_parse(const char *v, struct pubver *s)
{
	memset(s, 0, sizeof(*s));
	const char *end = v + strlen(v);
	const char *plus = strchr(v, '+');
	if (plus) {
		s->build = plus + 1;
		s->buildlen = (size_t)(end - s->build);
		end = plus;
	}
	const char *p = v;
	for (int i = 0; i < 3 && p < end; i++) {
		const char *q = p;
		while (q < end && vc_digit((unsigned char)*q))
			q++;
		s->core[i] = p;
		s->corelen[i] = (size_t)(q - p);
		p = q;
		if (p < end && *p == '.' && i < 2)
			p++;
		else
			break;
	}
	if (p < end) {
		if (*p == '-')
			p++;
		s->pre = p;
		s->prelen = (size_t)(end - p);
	}
}


int vercmp_pub(const char *a, const char *b)
{
	struct pubver x, y;
	int c;

	pub_parse(a, &x);
	pub_parse(b, &y);
	for (int i = 0; i < 3; i++)
		if ((c = vercmp_digits(x.core[i] ? x.core[i] : "", x.corelen[i],
				       y.core[i] ? y.core[i] : "", y.corelen[i])))
			return c;
	if (!x.pre != !y.pre)
		return x.pre ? -1 : 1; /* pre-releases come before no pre-release */
	if (x.pre && (c = vercmp_semver_idents(x.pre, x.prelen, y.pre, y.prelen)))
		return c;
	if (!x.build != !y.build)
		return x.build ? 1 : -1; /* builds come after no build */
	return x.build ? vercmp_semver_idents(x.build, x.buildlen, y.build, y.buildlen) : 0;
}
