/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: what a registry pull parses before talking to a registry and from
 * its answers' headers: image references and WWW-Authenticate challenges.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "common/buf.h"
#include "scan/sources/image.h"
#include "scan/sources/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size); /* stops at a NUL byte */
	struct registry_ref r;
	struct vg_buf err = { 0 };

	if (registry_ref_parse(s, &r, &err) == 0) {
		/* what the pull puts in URLs: no separators, no spaces */
		if (!r.host || !r.repo || (!r.tag && !r.digest) || strpbrk(r.repo, "?#% ") ||
		    strpbrk(r.host, "/?#@ ") || (r.tag && strpbrk(r.tag, "/?#@: ")) ||
		    (r.digest && !image_digest_valid(r.digest)))
			abort();
		registry_ref_free(&r);
	} else if (!err.len) {
		abort(); /* a refusal says why */
	}
	buf_free(&err);
	char *scheme, *realm, *service, *scope;
	if (registry_challenge_parse(s, &scheme, &realm, &service, &scope) == 0) {
		if (!scheme || !*scheme)
			abort();
		free(scheme);
		free(realm);
		free(service);
		free(scope);
	}
	free(s);
	return 0;
}
