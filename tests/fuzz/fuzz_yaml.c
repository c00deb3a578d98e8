/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: the YAML tree builder (rules, manifests and policies all enter through it). */
#include <stdint.h>
#include "common/yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct yaml_stream s;
	char err[256];

	yaml_parse((const char *)data, size, &s, err, sizeof(err));
	for (size_t i = 0; i < s.ndocs; i++)
		yaml_get(s.docs[i], "rule");
	yaml_stream_free(&s);
	return 0;
}
