/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: the Dockerfile parser and checks. */
#include <stdint.h>
#include "policy/dockerfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dockerfile d;
	struct policy_findings f = { 0 };
	char err[256];

	if (!dockerfile_parse((const char *)data, size, &d, err, sizeof(err)))
		dockerfile_check(&d, &f);
	dockerfile_free(&d);
	findings_free(&f);
	return 0;
}
