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

int vercmp_pub(const char *a, const char *b)
{
	struct vercmp_dotted x, y;
	int c;

	vercmp_dotted_parse(a, strlen(a), 3, &x);
	vercmp_dotted_parse(b, strlen(b), 3, &y);
	if ((c = vercmp_dotted_nums(&x, &y, 3)))
		return c;
	if (!x.pre != !y.pre)
		return x.pre ? -1 : 1; /* pre-releases come before no pre-release */
	if (x.pre && (c = vercmp_semver_idents(x.pre, x.prelen, y.pre, y.prelen, false)))
		return c;
	if (!x.build != !y.build)
		return x.build ? 1 : -1; /* builds come after no build */
	return x.build ? vercmp_semver_idents(x.build, x.buildlen, y.build, y.buildlen, false) : 0;
}
