/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: image manifests. The input is split at "\n--\n" into files; the
 * first is manifest.json (first byte 'D') or index.json (else), and every
 * other name the planner asks for gets the next part, so nested indexes,
 * manifests and configs are all fuzzed.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "scan/sources/image.h"

struct parts {
	const char *p[8];
	size_t n[8];
	size_t count, next;
	bool docker;
	char names[8][128];
};

static const char *meta(void *ctx, const char *name, size_t *len)
{
	struct parts *ps = ctx;

	if (!strcmp(name, ps->docker ? "manifest.json" : "index.json")) {
		*len = ps->n[0];
		return ps->p[0];
	}
	for (size_t i = 1; i < ps->next; i++)
		if (!strcmp(ps->names[i], name)) {
			*len = ps->n[i];
			return ps->p[i];
		}
	if (ps->next == 0)
		ps->next = 1;
	if (ps->next >= ps->count || strlen(name) >= sizeof(ps->names[0]))
		return NULL;
	strcpy(ps->names[ps->next], name);
	*len = ps->n[ps->next];
	return ps->p[ps->next++];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct parts ps = { .next = 1 };
	const char *s = (const char *)data, *end = s + size;
	struct image_plan p;
	struct vg_buf err = { 0 };

	if (!size)
		return 0;
	ps.docker = s[0] == 'D';
	s++;
	while (ps.count < 8) {
		const char *sep = memmem(s, (size_t)(end - s), "\n--\n", 4);
		ps.p[ps.count] = s;
		ps.n[ps.count++] = sep ? (size_t)(sep - s) : (size_t)(end - s);
		if (!sep)
			break;
		s = sep + 4;
	}
	if (!image_plan(meta, &ps, NULL, &p, &err))
		image_plan_free(&p);
	buf_free(&err);
	return 0;
}
