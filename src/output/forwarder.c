/* SPDX-License-Identifier: Apache-2.0 */
/* The table of forwarders and the --output spec syntax they share (output/forwarders.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/buf.h"
#include "output/forwarders.h"
#include "output/metrics.h"

/* Every forwarder of this module; the NATS publisher lives in fleet/, above output, and
 * is looked up there. */
static const struct vg_forwarder_ops *const forwarder_table[] = {
	&forward_syslog_ops,
	&forward_webhook_ops,
	&forward_file_ops,
	NULL,
};

/* Forwarders of higher modules (fleet's NATS publisher), registered at start. */
#define FORWARDERS_REGISTERED_MAX 8
static const struct vg_forwarder_ops *registered[FORWARDERS_REGISTERED_MAX];
static size_t nregistered;
static char all_names[256] = "syslog, webhook, file";

int forwarder_register(const struct vg_forwarder_ops *ops)
{
	if (forwarder_find(ops->name) || nregistered == FORWARDERS_REGISTERED_MAX)
		return -1;
	registered[nregistered++] = ops;
	size_t len = strlen(all_names);
	snprintf(all_names + len, sizeof(all_names) - len, ", %s", ops->name);
	return 0;
}

const struct vg_forwarder_ops *forwarder_find(const char *name)
{
	for (size_t i = 0; forwarder_table[i]; i++)
		if (!strcmp(forwarder_table[i]->name, name))
			return forwarder_table[i];
	for (size_t i = 0; i < nregistered; i++)
		if (!strcmp(registered[i]->name, name))
			return registered[i];
	return NULL;
}

const char *forwarder_names(void)
{
	return all_names;
}

int forwarder_parse_arg(const char *arg, const struct vg_forwarder_ops **ops, const char **spec, char *err,
			size_t errlen)
{
	const char *colon = strchr(arg, ':');
	char name[32];

	if (!colon || colon == arg || (size_t)(colon - arg) >= sizeof(name)) {
		snprintf(err, errlen, "--output takes NAME:SPEC (NAME one of %s), not '%.200s'", forwarder_names(), arg);
		return -1;
	}
	memcpy(name, arg, colon - arg);
	name[colon - arg] = 0;
	if (!(*ops = forwarder_find(name))) {
		snprintf(err, errlen, "unknown output '%s' in --output (known: %s)", name, forwarder_names());
		return -1;
	}
	*spec = colon + 1;
	return 0;
}

struct vg_series *fwd_metric(const char *what, const char *output)
{
	static const struct {
		const char *what, *name, *help;
	} m[] = {
		{ "poisoned", "vigil_output_poisoned_total", "Records an output's receiver refused for good (skipped)" },
		{ "retries", "vigil_output_retries_total", "Requests an output sent again after a failure" },
		{ "truncated", "vigil_output_truncated_total", "Messages cut to fit a datagram" },
	};
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (!strcmp(m[i].what, what))
			return metrics_series1(metrics_family(METRIC_COUNTER, m[i].name, m[i].help, "output", NULL, 0),
					       output);
	return NULL;
}

static bool key_ok(const char *k)
{
	if (!*k)
		return false;
	for (; *k; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') || *k == '-'))
			return false;
	return true;
}

int fwd_spec_parse(const char *spec, struct fwd_spec *s, char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	size_t len = strlen(spec);
	if (len > FWD_SPEC_MAX_LEN) {
		snprintf(err, errlen, "output spec too long (%zu bytes, at most %d)", len, FWD_SPEC_MAX_LEN);
		return -1;
	}
	char *copy = xstrdup(spec), *save = NULL;
	char *tok = strtok_r(copy, ";", &save);
	if (!tok || spec[0] == ';') {
		snprintf(err, errlen, "output spec '%.200s' has no target", spec);
		free(copy);
		return -1;
	}
	s->target = xstrdup(tok);
	while ((tok = strtok_r(NULL, ";", &save))) {
		char *eq = strchr(tok, '=');
		if (eq)
			*eq = 0;
		if (!key_ok(tok)) {
			snprintf(err, errlen, "bad option name '%.64s' in output spec (options are KEY=VALUE, KEY lowercase)",
				 tok);
			goto fail;
		}
		if (s->n == FWD_SPEC_MAX_OPTS) {
			snprintf(err, errlen, "too many options in output spec (at most %d)", FWD_SPEC_MAX_OPTS);
			goto fail;
		}
		s->key[s->n] = xstrdup(tok);
		s->val[s->n] = xstrdup(eq ? eq + 1 : "");
		s->n++;
	}
	free(copy);
	return 0;
fail:
	free(copy);
	fwd_spec_free(s);
	return -1;
}

const char *fwd_spec_get(struct fwd_spec *s, const char *key)
{
	const char *v = NULL;
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->key[i], key)) {
			v = s->val[i];
			s->used[i] = true;
		}
	return v;
}

int fwd_spec_check_used(const struct fwd_spec *s, const char *fwd, const char *known, char *err, size_t errlen)
{
	for (size_t i = 0; i < s->n; i++)
		if (!s->used[i]) {
			snprintf(err, errlen, "unknown option '%s' for output %s (known: %s)", s->key[i], fwd, known);
			return -1;
		}
	return 0;
}

void fwd_spec_free(struct fwd_spec *s)
{
	free(s->target);
	for (size_t i = 0; i < s->n; i++) {
		free(s->key[i]);
		free(s->val[i]);
	}
	memset(s, 0, sizeof(*s));
}

int fwd_parse_kinds(const char *list, unsigned *mask)
{
	static const char *const names[] = { [OUTBOX_ALERT] = "alert", [OUTBOX_ACTION] = "action",
					     [OUTBOX_LOSS] = "loss" };
	*mask = 0;
	const char *p = list;
	while (*p) {
		size_t n = strcspn(p, ",");
		bool found = false;
		for (int k = OUTBOX_ALERT; k <= OUTBOX_LOSS; k++)
			if (strlen(names[k]) == n && !strncmp(p, names[k], n)) {
				*mask |= 1u << k;
				found = true;
			}
		if (!found)
			return -1;
		p += n;
		if (*p == ',' && *++p == 0)
			return -1;
	}
	return *mask ? 0 : -1;
}

int fwd_parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (end == s || errno || *s == '-')
		return -1;
	unsigned shift = 0;
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	if (shift)
		end++;
	if (*end || v == 0 || v > (UINT64_MAX >> shift) >> 1)
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

int fwd_parse_seconds(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end || !isfinite(v) || v <= 0 || v > 86400)
		return -1;
	*out = v;
	return 0;
}

int forwarder_split_name(const char *spec, char *name, size_t namelen, char **rest, char *err, size_t errlen)
{
	struct vg_buf out = { 0 };
	const char *p = spec;
	name[0] = 0;
	for (bool first = true; p;) {
		const char *semi = strchr(p, ';');
		size_t len = semi ? (size_t)(semi - p) : strlen(p);
		if (!first && len >= 5 && !strncmp(p, "name=", 5)) {
			size_t n = len - 5;
			if (n == 0 || n >= namelen || name[0]) {
				snprintf(err, errlen, "name= takes 1 to %zu characters, once", namelen - 1);
				buf_free(&out);
				return -1;
			}
			for (size_t i = 0; i < n; i++) {
				char c = p[5 + i];
				if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
				      c == '_' || c == '.')) {
					snprintf(err, errlen, "name= takes letters, digits, '-', '_' and '.', not '%c'", c);
					buf_free(&out);
					return -1;
				}
			}
			memcpy(name, p + 5, n);
			name[n] = 0;
		} else {
			if (!first)
				buf_addc(&out, ';');
			buf_add(&out, p, len);
		}
		first = false;
		p = semi ? semi + 1 : NULL;
	}
	buf_addc(&out, '\0');
	*rest = out.data;
	return 0;
}
