/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: the YAML tree builder (rules, manifests and policies all enter
 * through it). yaml_parse reads the part of YAML rule files use itself and
 * the rest through libyaml; whatever the input, it must give what libyaml
 * alone gives (yaml_parse_libyaml): the same error, or the same tree with
 * the same positions.
 */
#include <stdint.h>
#include <string.h>
#include "common/yaml.h"

static int same(const struct yaml_node *a, const struct yaml_node *b)
{
	if (!a || !b)
		return a == b;
	if (a->kind != b->kind || a->line != b->line || a->col != b->col || a->n != b->n)
		return 0;
	if (a->kind == YAML_SCALAR)
		return a->plain == b->plain && a->len == b->len && !memcmp(a->str, b->str, a->len);
	for (size_t i = 0; i < (a->kind == YAML_MAP ? 2 * a->n : a->n); i++)
		if (!same(a->items[i], b->items[i]))
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct yaml_stream s, t;
	char err[256] = "", err2[256] = "";

	int rc = yaml_parse((const char *)data, size, &s, err, sizeof(err));
	int rc2 = yaml_parse_libyaml((const char *)data, size, YAML_MAX_NODES, &t, err2, sizeof(err2));
	if (rc != rc2 || strcmp(err, err2) || s.ndocs != t.ndocs || s.nodes != t.nodes)
		__builtin_trap();
	for (size_t i = 0; i < s.ndocs; i++)
		if (!same(s.docs[i], t.docs[i]))
			__builtin_trap();
	for (size_t i = 0; i < s.ndocs; i++)
		yaml_get(s.docs[i], "rule");
	yaml_stream_free(&s);
	yaml_stream_free(&t);
	return 0;
}
