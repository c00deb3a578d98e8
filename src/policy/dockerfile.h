/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Dockerfiles: a parser that keeps each instruction's line (continuations,
 * comments, the `escape` parser directive and heredocs handled as BuildKit
 * does) and the checks run over it. Check ids (docs/config-checks.md):
 * df/user-missing, df/user-root, df/base-latest, df/base-untagged,
 * df/add-instead-of-copy, df/add-url, df/curl-pipe-shell, df/sudo,
 * df/secret-in-env, df/secret-in-arg, df/apt-no-yes, df/apt-no-recommends,
 * df/apt-lists-not-cleaned, df/apk-no-cache, df/expose-ssh,
 * df/healthcheck-missing, df/cd-in-run.
 */
#ifndef VIGIL_POLICY_DOCKERFILE_H
#define VIGIL_POLICY_DOCKERFILE_H

#include <stddef.h>
#include "policy/finding.h"

struct df_instr {
	char *cmd;   /* upper-cased instruction keyword, e.g. "RUN" */
	char *args;  /* the rest, continuation lines joined with a space, heredoc bodies after '\n' */
	unsigned line, col;
};

struct dockerfile {
	struct df_instr *v;
	size_t n;
};

/*
 * Parses buf[0..len) into d. Returns 0, or -1 with "LINE:COL: problem" in err
 * (unknown instruction, instruction before FROM, NUL byte, no instruction,
 * unterminated heredoc). Free with dockerfile_free either way.
 */
int dockerfile_parse(const char *buf, size_t len, struct dockerfile *d, char *err, size_t errlen);
void dockerfile_free(struct dockerfile *d);
/*
 * Whether an ENV/ARG name (name[0..n), not NUL-terminated) says it holds a
 * secret (password, token, api_key, ...). Also used by the image config checks.
 */
int dockerfile_secret_name(const char *name, size_t n);

/* Appends the findings for d to out (lines are d's); returns how many. Can't fail. */
size_t dockerfile_check(const struct dockerfile *d, struct policy_findings *out);

#endif
