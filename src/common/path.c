/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>
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
