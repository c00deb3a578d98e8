/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: the hub's light scanner (src/hub/hub_jscan.h) against jansson.
 * Whenever the scanner answers HUB_JSCAN_OK, jansson (json_loadb with
 * JSON_REJECT_DUPLICATES, as hub_msg.c calls it) must accept the same bytes as
 * an object and give every wanted field the same type and value; otherwise
 * abort. The fields are the hub's (hub_msg.c) and a few short paths that
 * random inputs reach ("a", "a.b", "a.b.c.d").
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "hub/hub_jscan.h"

static struct hub_jscan_field fields[] = {
	{ { "uuid" } }, { { "time" } }, { { "time_ns" } }, { { "rule" } }, { { "priority" } },
	{ { "vigil", "event", "container", "id" } }, { { "vigil", "event", "k8s", "pod" } },
	{ { "action" } }, { { "a" } }, { { "a", "b" } }, { { "a", "b", "c", "d" } }, { { "" } },
};
#define NF ((int)(sizeof(fields) / sizeof(*fields)))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (memchr(data, 0, size))
		return 0; /* hub_msg.c refuses a NUL byte before */
	char *buf = malloc(size + NF);
	if (hub_jscan((const char *)data, size, fields, NF, buf, size + NF) != HUB_JSCAN_OK) {
		free(buf);
		return 0;
	}
	json_error_t je;
	json_t *root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(root))
		abort(); /* the scanner accepted what jansson refuses */
	for (int i = 0; i < NF; i++) {
		json_t *v = root;
		for (int k = 0; fields[i].path[k] && v; k++)
			v = json_object_get(v, fields[i].path[k]);
		enum hub_jscan_type t = !v ? HUB_JT_ABSENT : json_is_string(v) ? HUB_JT_STRING
					 : json_is_integer(v) ? HUB_JT_INTEGER : HUB_JT_OTHER;
		if (t != fields[i].type)
			abort();
		if (t == HUB_JT_STRING && (json_string_length(v) != fields[i].len ||
					   memcmp(json_string_value(v), fields[i].str, fields[i].len) ||
					   fields[i].str[fields[i].len]))
			abort();
		if (t == HUB_JT_INTEGER && json_integer_value(v) != fields[i].integer)
			abort();
	}
	json_decref(root);
	free(buf);
	return 0;
}
