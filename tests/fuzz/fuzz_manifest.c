/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: Kubernetes manifests through the loader, every PSS control and
 * the best practices. The input's length picks the policy version (latest,
 * or 1.18 with its annotation-based seccomp rules), so both paths are fuzzed
 * at the cost of one scan per input.
 */
#include <stdint.h>
#include "policy/config_scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_report r = { 0 };
	struct config_opts o = { PSS_RESTRICTED, size % 2 ? 18 : PSS_VERSION_LATEST, 0 };
	config_scan_buffer("fuzz.yaml", (const char *)data, size, 0, &o, &r);
	config_report_free(&r);
	return 0;
}
