/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: the profile YAML reader (vigil profile import). Any input is
 * read or refused with "file:line:col: ..." and never crashes; what it reads
 * is written back and must read again to the very same text (export and
 * import agree). The generaliser and matcher run on every item read.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "profile/profile_yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct profile_set s, t;
	char err[512] = "";
	struct profile_limits lim = { .max_profiles = 16, .max_items = 256, .max_bytes = 1u << 20 };

	profile_set_init(&s, &lim);
	if (profile_yaml_read((const char *)data, size, "f.yaml", &s, err, sizeof(err))) {
		if (strncmp(err, "f.yaml:", 7))
			__builtin_trap();
		profile_set_free(&s);
		return 0;
	}
	struct vg_buf a = { 0 }, b = { 0 };
	struct hmap_node *n, *tmp;
	size_t i;
	hmap_for_each(&s.map, n, tmp, i) {
		struct profile *p = hmap_entry(n, struct profile, node);
		size_t m;
		const struct profile_item **items = profile_sorted_items(p, &m);
		for (size_t j = 0; j < m; j++) {
			char g[PROF_VALUE_MAX];
			profile_generalise(items[j]->kind, items[j]->value, g, sizeof(g));
			if (!profile_find(p, items[j]->kind, items[j]->value))
				__builtin_trap();
		}
		free(items);
		profile_yaml_write(&a, p);
	}
	profile_set_init(&t, &lim);
	if (profile_yaml_read(a.data ? a.data : "", a.len, "g.yaml", &t, err, sizeof(err)))
		__builtin_trap();
	hmap_for_each(&s.map, n, tmp, i) {
		struct profile *p = hmap_entry(n, struct profile, node);
		struct profile *q = profile_get(&t, p->key);
		if (!q)
			__builtin_trap();
		profile_yaml_write(&b, q);
	}
	if (a.len != b.len || (a.len && memcmp(a.data, b.data, a.len)))
		__builtin_trap();
	buf_free(&a);
	buf_free(&b);
	profile_set_free(&s);
	profile_set_free(&t);
	return 0;
}
