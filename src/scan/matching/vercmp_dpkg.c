/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dpkg version order, deb-version(7): [epoch:]upstream[-revision]; the epoch
 * is the decimal number before the first ':', the revision what follows the
 * last '-' (none compares as ""). Upstream and revision are compared by
 * dpkg's verrevcmp: alternating non-digit runs (letters before other bytes,
 * '~' before everything, even the end) and digit runs by value.
 */
#include <stdlib.h>
#include <string.h>
#include "common/buf.h"
#include "scan/matching/vercmp.h"

static int dpkg_order(int c)
{
	if (vc_digit(c))
		return 0;
	if (vc_alpha(c))
		return c;
	if (c == '~')
		return -1;
	if (c)
		return c + 256;
	return 0;
}

static int dpkg_verrevcmp(const char *a, const char *b)
{
	while (*a || *b) {
		int first_diff = 0;
		while ((*a && !vc_digit((unsigned char)*a)) || (*b && !vc_digit((unsigned char)*b))) {
			int ac = dpkg_order((unsigned char)*a), bc = dpkg_order((unsigned char)*b);
			if (ac != bc)
				return vercmp_sign(ac - bc);
			a++;
			b++;
		}
		while (*a == '0')
			a++;
		while (*b == '0')
			b++;
		while (vc_digit((unsigned char)*a) && vc_digit((unsigned char)*b)) {
			if (!first_diff)
				first_diff = *a - *b;
			a++;
			b++;
		}
		if (vc_digit((unsigned char)*a))
			return 1;
		if (vc_digit((unsigned char)*b))
			return -1;
		if (first_diff)
			return vercmp_sign(first_diff);
	}
	return 0;
}

struct dpkg_evr {
	char *buf;
	const char *epoch, *version, *revision;
};

static void dpkg_split(const char *v, struct dpkg_evr *e)
{
	e->buf = xstrdup(v);
	char *colon = strchr(e->buf, ':');
	char *ver = e->buf;
	e->epoch = "";
	if (colon) {
		*colon = 0;
		e->epoch = e->buf;
		ver = colon + 1;
	}
	char *dash = strrchr(ver, '-');
	e->revision = "";
	if (dash) {
		*dash = 0;
		e->revision = dash + 1;
	}
	e->version = ver;
}

int vercmp_dpkg(const char *a, const char *b)
{
	struct dpkg_evr x, y;
	int c;

	dpkg_split(a, &x);
	dpkg_split(b, &y);
	c = vercmp_digits(x.epoch, strspn(x.epoch, "0123456789"), y.epoch,
			  strspn(y.epoch, "0123456789"));
	if (!c)
		c = dpkg_verrevcmp(x.version, y.version);
	if (!c)
		c = dpkg_verrevcmp(x.revision, y.revision);
	free(x.buf);
	free(y.buf);
	return c;
}
