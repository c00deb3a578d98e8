/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NuGet version order (NuGet.Versioning's default VersionComparer):
 * Major.Minor[.Patch[.Revision]] by value, a missing part 0 (1.0 = 1.0.0 =
 * 1.0.0.0, 1.0.0.1 > 1.0.0); a pre-release below its release; release
 * labels compared one by one, numbers by value below text, text compared
 * case-insensitively (1.0.0-Beta = 1.0.0-beta); fewer labels lower;
 * "+metadata" ignored. A leading "v" is tolerated.
 */
#include <string.h>
#include "scan/matching/vercmp.h"

int vercmp_nuget(const char *a, const char *b)
{
	struct vercmp_dotted x, y;

	if (*a == 'v' || *a == 'V')
		a++;
	if (*b == 'v' || *b == 'V')
		b++;
	vercmp_dotted_parse(a, strlen(a), 4, &x);
	vercmp_dotted_parse(b, strlen(b), 4, &y);
	int c = vercmp_dotted_nums(&x, &y, 4);
	if (c)
		return c;
	if (!x.pre || !y.pre)
		return x.pre ? -1 : y.pre ? 1 : 0;
	return vercmp_semver_idents(x.pre, x.prelen, y.pre, y.prelen, true);
}
