/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Packagist (Composer) version order: Composer normalises a version
 * (VersionParser::normalize: "v" dropped, four numbers, stability names
 * expanded: 1.2-b3 is 1.2.0.0-beta3, 1.0-p1 is 1.0.0.0-patch1) and compares
 * normalised versions with PHP's version_compare():
 *
 *   canonical form: '-', '_', '+' and other non-alphanumerics become '.',
 *   and a '.' goes between digits and letters (1.0rc1 -> 1.0.rc.1);
 *   parts compared left to right, numbers by value; names by their rank
 *     (anything else) < dev < alpha = a < beta = b < RC = rc < (number)
 *       < pl = p (patch),
 *   a name matching when it starts with the form ("patch" is "p");
 *   when one side runs out, a number left over is higher, a name is
 *   compared against a number.
 *
 * So dev < alpha < beta < RC < the release < patch, and 1.0.0.1 > 1.0.
 * A version Composer would not normalise (a branch, "dev-main", a date
 * with more than four parts) is compared as it is.
 */
#include <stdlib.h>
#include <string.h>
#include "common/buf.h"
#include "scan/matching/vercmp.h"

static bool php_alnum(int c)
{
	return vc_digit(c) || vc_alpha(c);
}

/* php_canonicalize_version(); the result is malloc'ed. */
static char *php_canon(const char *v)
{
	size_t len = strlen(v);
	char *buf = xmalloc(2 * len + 1), *q = buf;
	const char *p = v;

	if (!len) {
		*buf = 0;
		return buf;
	}
	char lp = *p;
	*q++ = *p++;
	while (*p) {
		char lq = q[-1];
		unsigned char c = (unsigned char)*p, l = (unsigned char)lp;
		bool lpd = vc_digit(l), lpn = !vc_digit(l) && l != '.', cd = vc_digit(c),
		     cn = !vc_digit(c) && c != '.';
		if (c == '-' || c == '_' || c == '+') {
			if (lq != '.')
				*q++ = '.';
		} else if ((lpn && cd) || (lpd && cn)) {
			if (lq != '.')
				*q++ = '.';
			*q++ = (char)c;
		} else if (!php_alnum(c)) {
			if (lq != '.')
				*q++ = '.';
		} else {
			*q++ = (char)c;
		}
		lp = *p++;
	}
	*q = 0;
	return buf;
}

/* compare_special_version_forms(): the rank of the first form that prefixes s. */
static int php_form(const char *s, size_t n)
{
	static const struct {
		const char *name;
		int order;
	} forms[] = { { "dev", 0 }, { "alpha", 1 }, { "a", 1 }, { "beta", 2 }, { "b", 2 },
		      { "RC", 3 },  { "rc", 3 },    { "#", 4 }, { "pl", 5 },   { "p", 5 } };
	for (size_t i = 0; i < sizeof(forms) / sizeof(*forms); i++) {
		size_t fn = strlen(forms[i].name);
		if (fn <= n && !memcmp(s, forms[i].name, fn))
			return forms[i].order;
	}
	return -1;
}

/* php_version_compare() on canonical strings. */
static int php_cmp(const char *v1, const char *v2)
{
	if (!*v1 || !*v2)
		return !*v1 && !*v2 ? 0 : *v1 ? 1 : -1;
	const char *p1 = v1, *p2 = v2, *n1 = v1, *n2 = v2;
	int c = 0;

	while (*p1 && *p2 && n1 && n2) {
		n1 = strchr(p1, '.');
		n2 = strchr(p2, '.');
		size_t l1 = n1 ? (size_t)(n1 - p1) : strlen(p1), l2 = n2 ? (size_t)(n2 - p2) : strlen(p2);
		bool d1 = vc_digit((unsigned char)*p1), d2 = vc_digit((unsigned char)*p2);
		if (d1 && d2)
			c = vercmp_digits(p1, strspn(p1, "0123456789") < l1 ? strspn(p1, "0123456789") : l1,
					  p2, strspn(p2, "0123456789") < l2 ? strspn(p2, "0123456789") : l2);
		else if (!d1 && !d2)
			c = vercmp_sign(php_form(p1, l1) - php_form(p2, l2));
		else
			c = d1 ? vercmp_sign(4 - php_form(p2, l2)) : vercmp_sign(php_form(p1, l1) - 4);
		if (c)
			break;
		if (n1)
			p1 = n1 + 1;
		if (n2)
			p2 = n2 + 1;
	}
	/*
	 * One side goes on. PHP also takes an empty rest after a trailing '.'
	 * ("1.0.") as going on, which makes "1.0." lower than both "1.0.x" and,
	 * the other way round, "1.0.x" lower than it; an empty rest counts as
	 * the end here, so the order stays antisymmetric.
	 */
	if (!c) {
		if (n1 && *p1)
			c = vc_digit((unsigned char)*p1) ? 1 : php_cmp(p1, "#N#");
		else if (n2 && *p2)
			c = vc_digit((unsigned char)*p2) ? -1 : php_cmp("#N#", p2);
	}
	return c;
}

static bool ci_prefix(const char *s, const char *w)
{
	for (; *w; s++, w++)
		if (vc_lower((unsigned char)*s) != *w)
			return false;
	return true;
}

/* [.-]?digits, repeated; then [.-]?dev; then the end. Sets *dev, *numsend. */
static bool composer_tail(const char *p, const char **numsend, bool *dev)
{
	for (;;) {
		const char *q = p;
		if (*q == '.' || *q == '-')
			q++;
		if (!vc_digit((unsigned char)*q))
			break;
		while (vc_digit((unsigned char)*q))
			q++;
		p = q;
	}
	*numsend = p;
	*dev = false;
	if ((*p == '.' || *p == '-') && ci_prefix(p + 1, "dev"))
		p += 4, *dev = true;
	else if (ci_prefix(p, "dev"))
		p += 3, *dev = true;
	return *p == 0;
}

/* VersionParser::normalize for the forms advisories use; NULL where it does not apply. */
static char *composer_normalize(const char *v)
{
	static const char *const stab[] = { "stable", "beta", "b", "rc", "alpha", "a", "patch", "pl", "p" };
	struct vg_buf out = { 0 };
	const char *p = v;
	int parts = 0;

	if (*p == 'v' || *p == 'V')
		p++;
	if (!vc_digit((unsigned char)*p))
		return NULL;
	while (parts < 4 && vc_digit((unsigned char)*p)) {
		const char *q = p;
		while (vc_digit((unsigned char)*q))
			q++;
		buf_printf(&out, "%s%.*s", parts ? "." : "", (int)(q - p), p);
		parts++;
		p = q;
		if (*p == '.' && vc_digit((unsigned char)p[1]) && parts < 4)
			p++;
		else
			break;
	}
	for (; parts < 4; parts++)
		buf_adds(&out, ".0");
	const char *m = p;
	if (*m == '.' || *m == '_' || *m == '-')
		m++;
	const char *numsend;
	bool dev;
	if (!*p)
		return out.data ? out.data : xstrdup("");
	for (size_t i = 0; i < sizeof(stab) / sizeof(*stab); i++) {
		if (!ci_prefix(m, stab[i]) || !composer_tail(m + strlen(stab[i]), &numsend, &dev))
			continue;
		if (!strcmp(stab[i], "stable"))
			return out.data ? out.data : xstrdup("");
		const char *e = i == 1 || i == 2 ? "beta" : i == 3 ? "RC" : i == 4 || i == 5 ? "alpha" : "patch";
		const char *nums = m + strlen(stab[i]);
		while (*nums == '.' || *nums == '-')
			nums++;
		buf_printf(&out, "-%s%.*s%s", e, (int)(numsend > nums ? numsend - nums : 0), nums,
			   dev ? "-dev" : "");
		return out.data ? out.data : xstrdup("");
	}
	/* no stability: only "-dev" may follow */
	if (composer_tail(m, &numsend, &dev) && numsend == m && dev) {
		buf_adds(&out, "-dev");
		return out.data ? out.data : xstrdup("");
	}
	buf_free(&out);
	return NULL;
}

int vercmp_composer(const char *a, const char *b)
{
	char *na = composer_normalize(a), *nb = composer_normalize(b);
	char *ca = php_canon(na ? na : a), *cb = php_canon(nb ? nb : b);
	int c = php_cmp(ca, cb);

	/* PHP: '#'-leading versions are not canonicalised; irrelevant for real versions */
	free(na);
	free(nb);
	free(ca);
	free(cb);
	return c;
}
