/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: the secret rules. The input is a file's contents; the fast search
 * (keyword pass, patterns tried where keywords allow a match to start), with
 * and without the AVX2 pass, must find exactly what each pattern searched over
 * the whole file finds (secrets_scan_plain), rule, line and redacted match.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/buf.h"
#include "scan/catalogers/secrets.h"

static void show(struct vg_buf *b, const struct scan_result *r)
{
	buf_adds(b, "");
	for (size_t i = 0; i < r->nsecrets; i++)
		buf_printf(b, "%s:%u:%s\n", r->secrets[i].rule, r->secrets[i].line, r->secrets[i].match);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct secrets *vec, *sca;
	struct scan_result a = { 0 }, b = { 0 }, c = { 0 };
	struct vg_buf x = { 0 }, y = { 0 }, z = { 0 };
	/* a copy of exactly size bytes, so that reading past the end is caught */
	char *text = xmalloc(size ? size : 1);

	if (!vec) {
		vec = secrets_new();
		sca = secrets_new();
		secrets_vector(sca, false);
	}
	memcpy(text, data, size);
	secrets_scan(vec, text, size, "f", &a, 0, 1);
	secrets_scan(sca, text, size, "f", &b, 0, 1);
	secrets_scan_plain(vec, text, size, "f", &c, 0, 1);
	show(&x, &a), show(&y, &b), show(&z, &c);
	if (strcmp(x.data, z.data) || strcmp(y.data, z.data)) {
		fprintf(stderr, "fast:\n%s\nscalar:\n%s\nplain:\n%s", x.data, y.data, z.data);
		abort();
	}
	buf_free(&x), buf_free(&y), buf_free(&z);
	scan_result_free(&a), scan_result_free(&b), scan_result_free(&c);
	free(text);
	return 0;
}
