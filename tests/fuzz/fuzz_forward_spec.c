/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: the --output spec parser (output/forwarder.c) and the syslog
 * formatter (output/forward_syslog.c), which reads the record's JSON. The
 * first byte splits the input: spec before, record JSON after.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "common/buf.h"
#include "output/forwarders.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t cut = data[0] < size - 1 ? data[0] : size - 1;
	char *spec = strndup((const char *)data + 1, cut);
	struct fwd_spec s;
	char err[512];
	unsigned mask;
	uint64_t sz;
	double secs;

	if (spec && fwd_spec_parse(spec, &s, err, sizeof(err)) == 0) {
		fwd_spec_get(&s, "kinds");
		fwd_spec_check_used(&s, "fuzz", "kinds", err, sizeof(err));
		fwd_parse_kinds(s.target, &mask);
		fwd_parse_size(s.target, &sz);
		fwd_parse_seconds(s.target, &secs);
		fwd_spec_free(&s);
	}
	free(spec);
	struct vg_buf out = { 0 };
	struct outbox_record r = { .kind = (enum outbox_kind)(data[0] % 4), .seq = 1, .uuid = "00",
				   .time_ns = (int64_t)data[0] << 50, .priority = data[0] % 9,
				   .json = (const char *)data + 1 + cut, .json_len = size - 1 - cut };
	forward_syslog_format(&out, &r, 16, NULL, "vigil");
	buf_free(&out);
	return 0;
}
