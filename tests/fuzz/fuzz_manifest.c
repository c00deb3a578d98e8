/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: Kubernetes manifests through the loader, every PSS control and the best practices. */
#include <stdint.h>
#include "policy/config_scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_report r = { 0 };
	static const struct config_opts opts[] = {
		{ PSS_RESTRICTED, PSS_VERSION_LATEST, 0 },
		{ PSS_RESTRICTED, 18, 1 },
	};
	for (size_t i = 0; i < 2; i++)
		config_scan_buffer("fuzz.yaml", (const char *)data, size, 0, &opts[i], &r);
	config_report_free(&r);
	return 0;
}
