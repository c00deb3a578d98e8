/* SPDX-License-Identifier: Apache-2.0 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <jansson.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "policy/dockerfile.h"
#include "scan/catalogers/imgconf.h"

static void finding(struct scan_result *r, const char *id, enum vg_severity sev, const char *fmt,
		    ...) __attribute__((format(printf, 4, 5)));

static void finding(struct scan_result *r, const char *id, enum vg_severity sev, const char *fmt,
		    ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (r->nconfig == r->cap_config) {
		r->cap_config = r->cap_config ? r->cap_config * 2 : 8;
		r->config = xrealloc(r->config, r->cap_config * sizeof(*r->config));
	}
	r->config[r->nconfig].id = xstrdup(id);
	r->config[r->nconfig].severity = sev;
	r->config[r->nconfig].message = xstrdup(msg);
	r->nconfig++;
}

/* USER "", "root", "0", "0:0", "root:root": the process runs with uid 0. */
static bool is_root_user(const char *u)
{
	size_t n = strcspn(u, ":");
	return n == 0 || (n == 4 && !strncmp(u, "root", 4)) || (n == 1 && u[0] == '0');
}

/* curl or wget output piped into a shell: "curl -fsSL url | sh", "wget -O- url | bash". */
static bool pipe_to_shell(const char *s)
{
	static pcre2_code *re;
	int ec;
	PCRE2_SIZE eo;

	if (!re)
		re = pcre2_compile((PCRE2_SPTR) "\\b(?:curl|wget)\\b[^|;&]*\\|\\s*(?:sudo\\s+)?(?:ba|z|da)?sh\\b",
				   PCRE2_ZERO_TERMINATED, 0, &ec, &eo, NULL);
	if (!re)
		return false;
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	int rc = pcre2_match(re, (PCRE2_SPTR)s, PCRE2_ZERO_TERMINATED, 0, 0, md, NULL);
	pcre2_match_data_free(md);
	return rc > 0;
}

void imgconf_check(const char *config, struct scan_result *r)
{
	json_error_t je;
	json_t *root = json_loads(config, 0, &je), *e;
	const char *key;
	size_t i;

	if (!root) {
		scan_warn(r, "cannot parse the image config:%d:%d: %s", je.line, je.column, je.text);
		return;
	}
	json_t *c = json_object_get(root, "config");
	const char *user = json_string_value(json_object_get(c, "User"));
	if (!user || is_root_user(user))
		finding(r, "root-user", SEV_HIGH, "the image runs as root (USER %s)",
			user && user[0] ? user : "not set");
	json_object_foreach(json_object_get(c, "ExposedPorts"), key, e) {
		if (!strcmp(key, "22") || !strncmp(key, "22/", 3))
			finding(r, "ssh-port", SEV_MEDIUM, "port %s (SSH) is exposed", key);
	}
	json_array_foreach(json_object_get(c, "Env"), i, e) {
		const char *kv = json_string_value(e);
		const char *eq = kv ? strchr(kv, '=') : NULL;
		if (eq && eq[1] && dockerfile_secret_name(kv, (size_t)(eq - kv)))
			finding(r, "secret-env", SEV_HIGH, "ENV %.*s holds a secret-looking value",
				(int)(eq - kv), kv);
	}
	json_t *hc = json_object_get(c, "Healthcheck");
	json_t *test = json_object_get(hc, "Test");
	if (!hc || (json_array_size(test) == 1 &&
		    !strcmp(json_string_value(json_array_get(test, 0)) ?: "", "NONE")))
		finding(r, "no-healthcheck", SEV_LOW, "no HEALTHCHECK is defined");
	json_array_foreach(json_object_get(root, "history"), i, e) {
		const char *cb = json_string_value(json_object_get(e, "created_by"));
		if (cb && pipe_to_shell(cb))
			finding(r, "curl-pipe-shell", SEV_MEDIUM,
				"build step %zu pipes a download into a shell: %.160s", i + 1, cb);
	}
	json_decref(root);
}
