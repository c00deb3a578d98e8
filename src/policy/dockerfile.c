/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Dockerfile parser and checks. The parser follows the Dockerfile reference:
 * parser directives (`# escape=`) only before the first instruction, comment
 * lines dropped (also between continuation lines), a line ending in the
 * escape character continues on the next, heredocs (`<<EOF`, `<<-EOF`,
 * quoted) of RUN/COPY/ADD collected until their terminator. RUN commands are
 * judged on their words (split at && || ; | and newlines), not with regular
 * expressions over the whole text, so `echo "curl x | sh"` is not flagged.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "common/buf.h"
#include "policy/dockerfile.h"
#include "policy/k8s_practice.h"

static const char *const instructions[] = {
	"ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK",
	"LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME",
	"WORKDIR", NULL,
};

static int known_instruction(const char *s)
{
	for (const char *const *p = instructions; *p; p++)
		if (!strcmp(s, *p))
			return 1;
	return 0;
}

void dockerfile_free(struct dockerfile *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].cmd);
		free(d->v[i].args);
	}
	free(d->v);
	memset(d, 0, sizeof(*d));
}

struct lines {
	const char *buf, *end, *p;
	unsigned lineno;
};

/* Next physical line (without its newline, \r stripped); 0 at end. */
static int next_line(struct lines *l, const char **s, size_t *n)
{
	if (l->p >= l->end)
		return 0;
	const char *nl = memchr(l->p, '\n', (size_t)(l->end - l->p));
	const char *e = nl ? nl : l->end;
	*s = l->p;
	*n = (size_t)(e - l->p);
	if (*n && (*s)[*n - 1] == '\r')
		(*n)--;
	l->p = nl ? nl + 1 : l->end;
	l->lineno++;
	return 1;
}

static int blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isspace((unsigned char)s[i]))
			return 0;
	return 1;
}

static size_t skip_ws(const char *s, size_t n, size_t i)
{
	while (i < n && isspace((unsigned char)s[i]))
		i++;
	return i;
}

/* If the line (trailing blanks ignored) ends with the escape char, strips it and returns 1. */
static int continues(const char *s, size_t *n, char esc)
{
	size_t k = *n;
	while (k && isspace((unsigned char)s[k - 1]))
		k--;
	if (k && s[k - 1] == esc) {
		*n = k - 1;
		return 1;
	}
	return 0;
}

/* Finds heredoc markers (words "<<WORD", "<<-WORD", "<<'WORD'") in args; returns count (max 4). */
static size_t heredocs(const char *args, char words[4][64], int strip[4])
{
	size_t n = 0;
	for (const char *p = strstr(args, "<<"); p && n < 4; p = strstr(p + 2, "<<")) {
		const char *q = p + 2;
		if (p > args && !isspace((unsigned char)p[-1]))
			continue; /* only a word that starts with << (not $((1<<2))) */
		int dash = 0;
		if (*q == '-') {
			dash = 1;
			q++;
		}
		char quote = 0;
		if (*q == '"' || *q == '\'')
			quote = *q++;
		size_t k = 0;
		while (q[k] && (isalnum((unsigned char)q[k]) || q[k] == '_') && k < 63)
			k++;
		if (!k || (quote && q[k] != quote))
			continue;
		memcpy(words[n], q, k);
		words[n][k] = 0;
		strip[n] = dash;
		n++;
	}
	return n;
}

int dockerfile_parse(const char *buf, size_t len, struct dockerfile *d, char *err, size_t errlen)
{
	struct lines l = { buf, buf + len, buf, 0 };
	const char *s;
	size_t n;
	char esc = '\\';
	int directives = 1, seen_from = 0;

	memset(d, 0, sizeof(*d));
	if (memchr(buf, 0, len)) {
		const char *z = memchr(buf, 0, len);
		unsigned line = 1, col = 1;
		for (const char *p = buf; p < z; p++, col++)
			if (*p == '\n')
				line++, col = 0;
		snprintf(err, errlen, "%u:%u: NUL byte in a Dockerfile", line, col);
		return -1;
	}
	while (next_line(&l, &s, &n)) {
		size_t i = skip_ws(s, n, 0);
		if (i < n && s[i] == '#') {
			/*
			 * Parser directives ("# key=value") count only before any
			 * other comment, blank line or instruction.
			 */
			if (directives) {
				size_t j = skip_ws(s, n, i + 1), k = j;
				while (k < n && (isalnum((unsigned char)s[k]) || s[k] == '_'))
					k++;
				size_t e = skip_ws(s, n, k);
				if (k == j || e >= n || s[e] != '=')
					directives = 0;
				else if (k - j == 6 && !strncasecmp(s + j, "escape", 6)) {
					e = skip_ws(s, n, e + 1);
					if (e < n && (s[e] == '`' || s[e] == '\\'))
						esc = s[e];
				}
			}
			continue;
		}
		directives = 0;
		if (i == n)
			continue;
		unsigned line = l.lineno, col = (unsigned)i + 1;
		size_t w = i;
		while (w < n && !isspace((unsigned char)s[w]))
			w++;
		char cmd[32];
		size_t cl = w - i < sizeof(cmd) - 1 ? w - i : sizeof(cmd) - 1;
		for (size_t k = 0; k < cl; k++)
			cmd[k] = (char)toupper((unsigned char)s[i + k]);
		cmd[cl] = 0;
		if (!known_instruction(cmd)) {
			snprintf(err, errlen, "%u:%u: unknown instruction '%.*s'", line, col,
				 (int)(w - i > 40 ? 40 : w - i), s + i);
			goto fail;
		}
		if (!seen_from && strcmp(cmd, "FROM") && strcmp(cmd, "ARG")) {
			snprintf(err, errlen, "%u:%u: %s before the first FROM", line, col, cmd);
			goto fail;
		}
		if (!strcmp(cmd, "FROM"))
			seen_from = 1;
		struct vg_buf a = { 0 };
		size_t rest = skip_ws(s, n, w);
		size_t m = n;
		int more = continues(s, &m, esc);
		if (rest < m)
			buf_add(&a, s + rest, m - rest);
		while (more && next_line(&l, &s, &n)) {
			size_t j = skip_ws(s, n, 0);
			if (j < n && s[j] == '#')
				continue; /* comment lines inside a continuation are removed */
			if (blank(s, n))
				continue; /* so are empty ones (deprecated, still accepted) */
			m = n;
			more = continues(s, &m, esc);
			buf_addc(&a, ' ');
			buf_add(&a, s, m);
		}
		buf_addc(&a, 0);
		a.len--;
		if (!strcmp(cmd, "RUN") || !strcmp(cmd, "COPY") || !strcmp(cmd, "ADD")) {
			char words[4][64];
			int strip[4];
			size_t nh = heredocs(a.data, words, strip);
			for (size_t h = 0; h < nh; h++) {
				int done = 0;
				while (next_line(&l, &s, &n)) {
					size_t j = strip[h] ? strspn(s, "\t") : 0;
					if (n - j == strlen(words[h]) && !memcmp(s + j, words[h], n - j)) {
						done = 1;
						break;
					}
					buf_addc(&a, '\n');
					buf_add(&a, s, n);
				}
				if (!done) {
					snprintf(err, errlen, "%u:%u: heredoc '%s' is not terminated", line, col,
						 words[h]);
					buf_free(&a);
					goto fail;
				}
			}
		}
		d->v = xrealloc(d->v, (d->n + 1) * sizeof(*d->v));
		d->v[d->n].cmd = xstrdup(cmd);
		d->v[d->n].args = a.data ? a.data : xstrdup("");
		d->v[d->n].line = line;
		d->v[d->n].col = col;
		d->n++;
	}
	if (!seen_from) {
		snprintf(err, errlen, "%u:1: no FROM instruction", l.lineno ? l.lineno : 1);
		goto fail;
	}
	return 0;
fail:
	dockerfile_free(d);
	return -1;
}

/* ---- words ------------------------------------------------------------ */

/*
 * Splits a shell-form command into words, honouring quotes; operators
 * (&&, ||, ;, |, newline, and "(" ")") become words of their own so commands
 * can be told apart. At most max words; returns the count.
 */
static size_t shell_words(const char *s, char **w, size_t max)
{
	size_t n = 0;
	while (*s && n < max) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		struct vg_buf b = { 0 };
		if (strchr("|&;\n()", *s)) {
			if ((s[0] == '&' && s[1] == '&') || (s[0] == '|' && s[1] == '|'))
				buf_add(&b, s, 2), s += 2;
			else
				buf_add(&b, s, 1), s += 1;
		} else {
			char q = 0;
			while (*s && (q || !strchr(" \t|&;\n()", *s))) {
				if (q) {
					if (*s == q)
						q = 0;
					else
						buf_addc(&b, *s);
				} else if (*s == '"' || *s == '\'') {
					q = *s;
				} else if (*s == '\\' && s[1]) {
					s++;
					buf_addc(&b, *s);
				} else {
					buf_addc(&b, *s);
				}
				s++;
			}
		}
		buf_addc(&b, 0);
		w[n++] = b.data;
	}
	return n;
}

static int is_sep(const char *w)
{
	return !strcmp(w, "&&") || !strcmp(w, "||") || !strcmp(w, ";") || !strcmp(w, "\n") ||
	       !strcmp(w, "|") || !strcmp(w, "(") || !strcmp(w, ")") || !strcmp(w, "&");
}

static const char *base(const char *w)
{
	const char *sl = strrchr(w, '/');
	return sl ? sl + 1 : w;
}

static int is_shell(const char *w)
{
	static const char *const sh[] = { "sh", "bash", "zsh", "dash", "ash", "ksh", "python",
					  "python3", "perl", "ruby", NULL };
	for (const char *const *p = sh; *p; p++)
		if (!strcmp(base(w), *p))
			return 1;
	return 0;
}

/* ---- checks ----------------------------------------------------------- */

struct dctx {
	struct policy_findings *out;
	const struct df_instr *in;
};

static void add(struct dctx *c, const char *check, enum vg_severity sev, const char *hint,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void add(struct dctx *c, const char *check, enum vg_severity sev, const char *hint,
		const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	findings_add(c->out, check, sev, c->in->line, c->in->col, NULL, msg, hint);
}

#define MAX_WORDS 4096

/* One command (words [a, b)) of a RUN. */
static void run_command(struct dctx *c, char **w, size_t a, size_t b, const char *all)
{
	/* skip leading environment assignments and sudo's own position */
	while (a < b && strchr(w[a], '=') && w[a][0] != '-')
		a++;
	if (a >= b)
		return;
	for (size_t i = a; i < b; i++)
		if (!strcmp(base(w[i]), "sudo")) {
			add(c, "df/sudo", SEV_MEDIUM, "drop sudo: RUN already runs as the build user; use USER",
			    "RUN uses sudo");
			break;
		}
	size_t k = a;
	if (!strcmp(base(w[k]), "sudo"))
		k++;
	if (k >= b)
		return;
	const char *prog = base(w[k]);
	if (!strcmp(prog, "cd"))
		add(c, "df/cd-in-run", SEV_LOW, "use WORKDIR instead of cd", "RUN changes directory with cd");
	if (!strcmp(prog, "apt-get") || !strcmp(prog, "apt")) {
		int install = 0, yes = 0, norec = 0;
		for (size_t i = k + 1; i < b; i++) {
			const char *x = w[i];
			if (!strcmp(x, "install"))
				install = 1;
			else if (!strcmp(x, "--yes") || !strcmp(x, "--assume-yes") || !strcmp(x, "-qq") ||
				 !strcmp(x, "-q=2") || !strcmp(x, "--quiet=2"))
				yes = 1;
			else if (x[0] == '-' && x[1] != '-' && strchr(x, 'y'))
				yes = 1;
			else if (!strcmp(x, "--no-install-recommends"))
				norec = 1;
		}
		if (install) {
			if (!yes)
				add(c, "df/apt-no-yes", SEV_MEDIUM, "use apt-get install -y",
				    "apt-get install without -y (the build waits for an answer)");
			if (!norec)
				add(c, "df/apt-no-recommends", SEV_LOW, "add --no-install-recommends",
				    "apt-get install without --no-install-recommends");
			if (!strstr(all, "/var/lib/apt/lists"))
				add(c, "df/apt-lists-not-cleaned", SEV_LOW,
				    "end the RUN with && rm -rf /var/lib/apt/lists/*",
				    "apt-get install without removing /var/lib/apt/lists in the same RUN");
		}
	}
	if (!strcmp(prog, "apk")) {
		int addcmd = 0, nocache = 0;
		for (size_t i = k + 1; i < b; i++) {
			if (!strcmp(w[i], "add"))
				addcmd = 1;
			if (!strcmp(w[i], "--no-cache"))
				nocache = 1;
		}
		if (addcmd && !nocache)
			add(c, "df/apk-no-cache", SEV_LOW, "use apk add --no-cache",
			    "apk add without --no-cache");
	}
}

static void check_run(struct dctx *c)
{
	const char *args = c->in->args;
	struct vg_buf text = { 0 };
	/* skip RUN flags (--mount=..., --network=..., --security=...) */
	while (args[0] == '-' && args[1] == '-') {
		while (*args && *args != ' ' && *args != '\t')
			args++;
		while (*args == ' ' || *args == '\t')
			args++;
	}
	if (*args == '[') {
		/* exec form: judge the words of the array as one command */
		buf_adds(&text, args);
		for (size_t i = 0; i < text.len; i++)
			if (strchr("[],\"", text.data[i]))
				text.data[i] = ' ';
	} else {
		buf_adds(&text, args);
	}
	if (!text.data)
		return;
	char **w = xcalloc(MAX_WORDS, sizeof(*w));
	size_t n = shell_words(text.data, w, MAX_WORDS);
	/* curl/wget piped into a shell: a pipeline whose earlier stage downloads */
	int fetch = 0, flagged = 0;
	for (size_t i = 0; i < n && !flagged; i++) {
		if (!strcmp(w[i], "&&") || !strcmp(w[i], "||") || !strcmp(w[i], ";") || !strcmp(w[i], "\n"))
			fetch = 0;
		else if (!strcmp(base(w[i]), "curl") || !strcmp(base(w[i]), "wget"))
			fetch = 1;
		else if (!strcmp(w[i], "|") && fetch) {
			size_t j = i + 1;
			while (j < n && (!strcmp(base(w[j]), "sudo") || !strcmp(w[j], "-E")))
				j++;
			if (j < n && is_shell(w[j])) {
				add(c, "df/curl-pipe-shell", SEV_HIGH,
				    "download to a file, verify its checksum, then run it",
				    "RUN pipes a download (curl/wget) into %s", base(w[j]));
				flagged = 1;
			}
		}
	}
	size_t a = 0;
	for (size_t i = 0; i <= n; i++)
		if (i == n || is_sep(w[i])) {
			if (i > a)
				run_command(c, w, a, i, text.data);
			a = i + 1;
		}
	for (size_t i = 0; i < n; i++)
		free(w[i]);
	free(w);
	buf_free(&text);
}

static int is_archive(const char *s)
{
	static const char *const ext[] = { ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz",
					   ".txz", ".tar.zst", ".gz", ".bz2", ".xz", NULL };
	size_t n = strlen(s);
	for (const char *const *e = ext; *e; e++) {
		size_t l = strlen(*e);
		if (n > l && !strcasecmp(s + n - l, *e))
			return 1;
	}
	return 0;
}

static void check_add(struct dctx *c)
{
	char **w = xcalloc(MAX_WORDS, sizeof(*w));
	struct vg_buf t = { 0 };
	buf_adds(&t, c->in->args);
	if (!t.data) {
		free(w);
		return;
	}
	if (t.data[0] == '[')
		for (size_t i = 0; i < t.len; i++)
			if (strchr("[],", t.data[i]))
				t.data[i] = ' ';
	char *nl = strchr(t.data, '\n'); /* heredoc bodies are not sources */
	if (nl)
		*nl = 0;
	size_t n = shell_words(t.data, w, MAX_WORDS), first = 0;
	while (first < n && !strncmp(w[first], "--", 2))
		first++;
	int url = 0, plain = 0;
	for (size_t i = first; i + 1 < n; i++) {
		if (strstr(w[i], "://") || !strncmp(w[i], "git@", 4))
			url = 1;
		else if (strncmp(w[i], "<<", 2) && !is_archive(w[i]))
			plain = 1;
	}
	if (url)
		add(c, "df/add-url", SEV_MEDIUM,
		    "download with curl/wget in a RUN and verify a checksum (or use ADD --checksum)",
		    "ADD fetches a remote URL");
	else if (plain)
		add(c, "df/add-instead-of-copy", SEV_LOW, "use COPY for local files",
		    "ADD used where COPY fits (no archive to extract)");
	for (size_t i = 0; i < n; i++)
		free(w[i]);
	free(w);
	buf_free(&t);
}

int dockerfile_secret_name(const char *name, size_t n)
{
	static const char *const words[] = { "password", "passwd", "secret", "token", "apikey",
					     "api_key", "access_key", "accesskey", "private_key",
					     "privatekey", "credential", NULL };
	char low[128];
	if (n >= sizeof(low))
		n = sizeof(low) - 1;
	for (size_t i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	low[n] = 0;
	for (const char *const *w = words; *w; w++)
		if (strstr(low, *w))
			return 1;
	return 0;
}

/* ENV k=v k2=v2 | ENV k v ; ARG k[=v] */
static void check_env_arg(struct dctx *c, int is_env)
{
	char **w = xcalloc(MAX_WORDS, sizeof(*w));
	size_t n = shell_words(c->in->args, w, MAX_WORDS);
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(w[i], '=');
		size_t klen = eq ? (size_t)(eq - w[i]) : strlen(w[i]);
		const char *val = eq ? eq + 1 : (is_env && i + 1 < n ? w[i + 1] : "");
		if (!dockerfile_secret_name(w[i], klen))
			goto next;
		if (is_env && (!*val || *val == '$'))
			goto next; /* an empty value or a reference to a build arg holds no secret itself */
		if (is_env)
			add(c, "df/secret-in-env", SEV_HIGH,
			    "pass secrets at run time or with RUN --mount=type=secret, not in ENV",
			    "ENV %.*s looks like a secret stored in the image", (int)(klen > 64 ? 64 : klen), w[i]);
		else
			add(c, "df/secret-in-arg", SEV_MEDIUM,
			    "use RUN --mount=type=secret; build args stay in the image history",
			    "ARG %.*s looks like a secret (build args are kept in the image history)",
			    (int)(klen > 64 ? 64 : klen), w[i]);
next:
		if (is_env && !eq)
			break; /* legacy "ENV key value...": one pair only */
	}
	for (size_t i = 0; i < n; i++)
		free(w[i]);
	free(w);
}

static void check_expose(struct dctx *c)
{
	char **w = xcalloc(MAX_WORDS, sizeof(*w));
	size_t n = shell_words(c->in->args, w, MAX_WORDS);
	for (size_t i = 0; i < n; i++) {
		long lo = strtol(w[i], NULL, 10), hi = lo;
		const char *dash = strchr(w[i], '-');
		if (dash)
			hi = strtol(dash + 1, NULL, 10);
		if (lo <= 22 && 22 <= hi) {
			add(c, "df/expose-ssh", SEV_MEDIUM, "do not run an SSH server in a container",
			    "EXPOSE 22 (SSH)");
			break;
		}
	}
	for (size_t i = 0; i < n; i++)
		free(w[i]);
	free(w);
}

/* FROM [--platform=x] image [AS name]; stage names (lower case) collected in names. */
static void check_from(struct dctx *c, char names[][128], size_t nnames)
{
	char **w = xcalloc(16, sizeof(*w));
	size_t n = shell_words(c->in->args, w, 16), i = 0;
	while (i < n && !strncmp(w[i], "--", 2))
		i++;
	if (i < n) {
		const char *img = w[i];
		int stage = 0;
		for (size_t k = 0; k < nnames; k++)
			if (!strcasecmp(names[k], img))
				stage = 1;
		if (!stage && strcasecmp(img, "scratch") && !strchr(img, '$') && strlen(img) < 1024) {
			char reg[1024], tag[1024], dig[1024];
			k8s_practice_parse_image(img, reg, tag, dig);
			if (!*dig && !*tag)
				add(c, "df/base-untagged", SEV_MEDIUM, "pin the base image to a version tag or digest",
				    "FROM %.200s has no tag (means latest)", img);
			else if (!*dig && !strcmp(tag, "latest"))
				add(c, "df/base-latest", SEV_MEDIUM, "pin the base image to a version tag or digest",
				    "FROM %.200s uses the latest tag", img);
		}
	}
	for (size_t k = 0; k < n; k++)
		free(w[k]);
	free(w);
}

static void stage_name(const struct df_instr *in, char *out, size_t len)
{
	char **w = xcalloc(16, sizeof(*w));
	size_t n = shell_words(in->args, w, 16);
	out[0] = 0;
	for (size_t i = 0; i + 1 < n; i++)
		if (!strcasecmp(w[i], "AS"))
			snprintf(out, len, "%s", w[i + 1]);
	for (size_t k = 0; k < n; k++)
		free(w[k]);
	free(w);
}

static int is_root_user(const char *args)
{
	char u[128];
	size_t n = strcspn(args, ": \t");
	if (n >= sizeof(u))
		return 0;
	memcpy(u, args, n);
	u[n] = 0;
	return !strcmp(u, "root") || !strcmp(u, "0");
}

#define MAX_STAGES 256

size_t dockerfile_check(const struct dockerfile *d, struct policy_findings *out)
{
	size_t before = out->n;
	struct dctx c = { out, NULL };
	char (*stages)[128] = xcalloc(MAX_STAGES, sizeof(*stages));
	size_t nstages = 0;
	const struct df_instr *last_from = NULL, *last_user = NULL;
	int healthcheck = 0;

	for (size_t i = 0; i < d->n; i++) {
		const struct df_instr *in = &d->v[i];
		c.in = in;
		if (!strcmp(in->cmd, "FROM")) {
			check_from(&c, stages, nstages);
			if (nstages < MAX_STAGES)
				stage_name(in, stages[nstages++], sizeof(stages[0]));
			last_from = in;
			last_user = NULL;
		} else if (!strcmp(in->cmd, "USER")) {
			last_user = in;
		} else if (!strcmp(in->cmd, "RUN")) {
			check_run(&c);
		} else if (!strcmp(in->cmd, "ADD")) {
			check_add(&c);
		} else if (!strcmp(in->cmd, "ENV")) {
			check_env_arg(&c, 1);
		} else if (!strcmp(in->cmd, "ARG")) {
			check_env_arg(&c, 0);
		} else if (!strcmp(in->cmd, "EXPOSE")) {
			check_expose(&c);
		} else if (!strcmp(in->cmd, "HEALTHCHECK")) {
			healthcheck = 1;
		}
	}
	free(stages);
	if (last_from) {
		c.in = last_user ? last_user : last_from;
		if (!last_user)
			add(&c, "df/user-missing", SEV_MEDIUM, "add USER with a non-root user to the final stage",
			    "the final stage has no USER: the container runs as root");
		else if (is_root_user(last_user->args))
			add(&c, "df/user-root", SEV_HIGH, "switch to a non-root USER at the end of the final stage",
			    "the final stage runs as root (USER %.64s)", last_user->args);
		c.in = last_from;
		if (!healthcheck)
			add(&c, "df/healthcheck-missing", SEV_LOW, "add a HEALTHCHECK instruction",
			    "no HEALTHCHECK instruction");
	}
	return out->n - before;
}
