/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "common/path.h"

/* Append the components of `p` to out (which holds "/..." from start), applying . and .. */
static void path_push(struct vg_buf *out, size_t start, const char *p)
{
	while (*p) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n == 0 || (n == 1 && p[0] == '.')) {
			/* nothing */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			while (out->len > start + 1 && out->data[out->len - 1] != '/')
				out->len--;
			if (out->len > start + 1)
				out->len--; /* the slash */
			out->data[out->len] = 0;
		} else {
			if (out->data[out->len - 1] != '/')
				buf_addc(out, '/');
			buf_add(out, p, n);
		}
		p += n;
		if (*p == '/')
			p++;
	}
}

void path_resolve(const char *base, const char *raw, struct vg_buf *out)
{
	size_t start = out->len;

	if (!raw[0])
		return;
	buf_addc(out, '/');
	if (raw[0] != '/' && base)
		path_push(out, start, base);
	path_push(out, start, raw);
}

int path_mkdirs(const char *dir, unsigned int mode, char *err, size_t errlen)
{
	char p[4096];
	if (snprintf(p, sizeof(p), "%s", dir) >= (int)sizeof(p)) {
		snprintf(err, errlen, "cannot create %.64s...: path too long", dir);
		return -1;
	}
	for (char *c = p + 1; *c; c++) {
		if (*c != '/')
			continue;
		*c = 0;
		if (mkdir(p, 0755) && errno != EEXIST)
			goto bad;
		*c = '/';
	}
	if (mkdir(p, mode) && errno != EEXIST)
		goto bad;
	return 0;
bad:
	snprintf(err, errlen, "cannot create %s: %s", p, strerror(errno));
	return -1;
}

int path_mkdir_parent(const char *path, unsigned int mode, char *err, size_t errlen)
{
	char dir[4096];
	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
		snprintf(err, errlen, "cannot create the directory of %.64s...: path too long", path);
		return -1;
	}
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = 0;
	return path_mkdirs(dir, mode, err, errlen);
}
