/* SPDX-License-Identifier: Apache-2.0 */
/* vigil scan fs: a project tree, with gitignore(5) rules (scan_fs.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "scan/scan_fs.h"

#define IGNORE_FILE_MAX (1u << 20)
#define RULES_PER_FILE 10000
#define RULES_MAX 100000
#define PATTERN_MAX 1024
#define PATH_MAX_MATCH 4096

/* ---- the glob: tokens, then a dynamic program over (token, path position) ---- */

enum gtok { G_CHAR, G_ONE, G_CLASS, G_STAR, G_ALL, G_DIRS };

struct gt {
	enum gtok t;
	unsigned char c;
	size_t a, b; /* G_CLASS: pattern bytes [a, b) between the brackets */
};

static bool class_match(const char *p, size_t a, size_t b, unsigned char c)
{
	bool neg = false, hit = false;

	if (a < b && (p[a] == '!' || p[a] == '^'))
		neg = true, a++;
	for (size_t i = a; i < b; i++) {
		unsigned char lo = (unsigned char)p[i];
		if (lo == '\\' && i + 1 < b)
			lo = (unsigned char)p[++i];
		unsigned char hi = lo;
		if (i + 2 < b && p[i + 1] == '-') {
			hi = (unsigned char)p[i + 2];
			if (hi == '\\' && i + 3 < b)
				hi = (unsigned char)p[++i + 2];
			i += 2;
		}
		if (c >= lo && c <= hi)
			hit = true;
	}
	return hit != neg;
}

/* The end of a [...] class starting at p[i] == '[', or 0 when it is not closed. */
static size_t class_end(const char *p, size_t i, size_t pn)
{
	size_t j = i + 1;
	if (j < pn && (p[j] == '!' || p[j] == '^'))
		j++;
	if (j < pn && p[j] == ']')
		j++; /* a leading ']' is a member */
	for (; j < pn; j++) {
		if (p[j] == '\\')
			j++;
		else if (p[j] == ']')
			return j;
	}
	return 0;
}

static size_t tokenize(const char *p, size_t pn, struct gt *t)
{
	size_t n = 0, i = 0;

	while (i < pn) {
		unsigned char c = (unsigned char)p[i];
		if (c == '\\' && i + 1 < pn) {
			t[n++] = (struct gt){ .t = G_CHAR, .c = (unsigned char)p[i + 1] };
			i += 2;
		} else if (c == '*') {
			size_t j = i;
			while (j < pn && p[j] == '*')
				j++;
			bool seg = (i == 0 || p[i - 1] == '/') && (j == pn || p[j] == '/');
			if (j - i >= 2 && seg && j == pn) {
				t[n++] = (struct gt){ .t = G_ALL };
				i = j;
			} else if (j - i >= 2 && seg) {
				t[n++] = (struct gt){ .t = G_DIRS }; /* "**" "/": zero or more directories */
				i = j + 1;
			} else {
				t[n++] = (struct gt){ .t = G_STAR };
				i = j;
			}
		} else if (c == '?') {
			t[n++] = (struct gt){ .t = G_ONE };
			i++;
		} else if (c == '[' && class_end(p, i, pn)) {
			size_t e = class_end(p, i, pn);
			t[n++] = (struct gt){ .t = G_CLASS, .a = i + 1, .b = e };
			i = e + 1;
		} else {
			t[n++] = (struct gt){ .t = G_CHAR, .c = c };
			i++;
		}
	}
	return n;
}

bool fs_glob(const char *pat, size_t pn, const char *s, size_t sn)
{
	struct gt t[PATTERN_MAX];
	unsigned char rows[2][PATH_MAX_MATCH + 1];

	if (pn > PATTERN_MAX || sn > PATH_MAX_MATCH)
		return false;
	size_t nt = tokenize(pat, pn, t);
	unsigned char *prev = rows[0], *next = rows[1];
	memset(prev, 0, sn + 1);
	prev[0] = 1;
	for (size_t k = 0; k < nt; k++) {
		bool any = false, reach = false;
		memset(next, 0, sn + 1);
		for (size_t j = 0; j <= sn; j++) {
			unsigned char c = j < sn ? (unsigned char)s[j] : 0;
			switch (t[k].t) {
			case G_CHAR:
				if (j < sn && prev[j] && c == t[k].c)
					next[j + 1] = 1;
				break;
			case G_ONE:
				if (j < sn && prev[j] && c != '/')
					next[j + 1] = 1;
				break;
			case G_CLASS:
				if (j < sn && prev[j] && c != '/' && class_match(pat, t[k].a, t[k].b, c))
					next[j + 1] = 1;
				break;
			case G_STAR:
				next[j] = prev[j] || (j > 0 && next[j - 1] && s[j - 1] != '/');
				break;
			case G_ALL:
				next[j] = prev[j] || (j > 0 && next[j - 1]);
				break;
			case G_DIRS:
				next[j] = prev[j] || (reach && j > 0 && s[j - 1] == '/');
				reach |= prev[j];
				break;
			}
		}
		for (size_t j = 0; j <= sn; j++)
			any |= next[j];
		if (!any)
			return false;
		unsigned char *x = prev;
		prev = next;
		next = x;
	}
	return prev[sn];
}

/* ---- rules ---------------------------------------------------------- */

struct rule {
	char *dir;     /* the ignore file's directory, "" for the root */
	char *pat;
	size_t pn;
	bool neg, dironly, anchored;
};

struct fs_ignore {
	struct rule *r;
	size_t n;
};

struct fs_ignore *fs_ignore_new(void)
{
	return xcalloc(1, sizeof(struct fs_ignore));
}

void fs_ignore_pop(struct fs_ignore *ig, size_t mark)
{
	while (ig->n > mark) {
		ig->n--;
		free(ig->r[ig->n].dir);
		free(ig->r[ig->n].pat);
	}
}

void fs_ignore_free(struct fs_ignore *ig)
{
	if (!ig)
		return;
	fs_ignore_pop(ig, 0);
	free(ig->r);
	free(ig);
}

/* One line of an ignore file into a rule; false for blank lines and comments. */
static bool parse_line(const char *l, size_t n, struct rule *out)
{
	memset(out, 0, sizeof(*out));
	if (n && l[n - 1] == '\r')
		n--;
	/* trailing spaces go unless escaped */
	while (n && l[n - 1] == ' ' && !(n >= 2 && l[n - 2] == '\\'))
		n--;
	if (!n || l[0] == '#')
		return false;
	if (l[0] == '!') {
		out->neg = true;
		l++, n--;
	} else if (n >= 2 && l[0] == '\\' && (l[1] == '!' || l[1] == '#')) {
		l++, n--;
	}
	if (n && l[n - 1] == '/') {
		out->dironly = true;
		n--;
	}
	if (!n)
		return false;
	out->anchored = memchr(l, '/', n) != NULL;
	if (l[0] == '/')
		l++, n--;
	if (!n || n > PATTERN_MAX)
		return false;
	out->pat = xstrndup(l, n);
	out->pn = n;
	return true;
}

size_t fs_ignore_add(struct fs_ignore *ig, const char *dir, const char *text, size_t len,
		     struct vg_buf *warn)
{
	size_t mark = ig->n, added = 0;
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ln = nl ? (size_t)(nl - p) : (size_t)(end - p);
		struct rule r;
		if (parse_line(p, ln, &r)) {
			if (added == RULES_PER_FILE || ig->n == RULES_MAX) {
				free(r.pat);
				if (warn)
					buf_printf(warn, "vigil: %s/.gitignore: more than %u rules in a "
							 "file or %u in force; the rest are not applied\n",
						   dir[0] ? dir : ".", RULES_PER_FILE, RULES_MAX);
				break;
			}
			r.dir = xstrdup(dir);
			ig->r = xgrow(ig->r, ig->n, sizeof(*ig->r));
			ig->r[ig->n++] = r;
			added++;
		}
		p += ln + 1;
	}
	return mark;
}

bool fs_ignore_match(const struct fs_ignore *ig, const char *path, bool isdir)
{
	bool ignored = false;
	size_t plen = strlen(path);

	for (size_t i = 0; i < ig->n; i++) {
		const struct rule *r = &ig->r[i];
		const char *sub = path;
		size_t dl = strlen(r->dir);
		if (r->dironly && !isdir)
			continue;
		if (dl) {
			if (plen <= dl || strncmp(path, r->dir, dl) || path[dl] != '/')
				continue;
			sub = path + dl + 1;
		}
		if (!r->anchored) {
			const char *b = strrchr(sub, '/');
			sub = b ? b + 1 : sub;
		}
		if (fs_glob(r->pat, r->pn, sub, strlen(sub)))
			ignored = !r->neg;
	}
	return ignored;
}

/* ---- the walk's hooks ---------------------------------------------------- */

static const char *const vendored[] = { "node_modules", "vendor", "bower_components",
					"third_party", ".venv", "venv", NULL };

static bool is_vendored(const char *name, size_t n)
{
	for (size_t i = 0; vendored[i]; i++)
		if (strlen(vendored[i]) == n && !memcmp(vendored[i], name, n))
			return true;
	return false;
}

/* Whether a directory component of rel, before its last one, is a vendored directory. */
static bool under_vendored(const char *rel)
{
	const char *p = rel, *slash;

	while ((slash = strchr(p, '/'))) {
		if (is_vendored(p, (size_t)(slash - p)))
			return true;
		p = slash + 1;
	}
	return false;
}

struct fs_ctx {
	const struct fs_opts *fo;
	struct fs_ignore *rules, *skip;
	struct scan_result *r;
};

static size_t fs_enter(void *ctx, int dfd, const char *rel)
{
	struct fs_ctx *c = ctx;
	size_t mark = c->rules->n;
	const char *base = strrchr(rel, '/');
	base = base ? base + 1 : rel;

	/* no ignore file is read inside vendored dependencies: their rules do not apply */
	if (c->fo->no_ignore || (rel[0] && (under_vendored(rel) || is_vendored(base, strlen(base)))))
		return mark;
	int fd = openat(dfd, ".gitignore", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return mark;
	struct stat st;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return mark;
	}
	struct vg_buf text = { 0 }, warn = { 0 };
	char chunk[65536];
	ssize_t n;
	while (text.len < IGNORE_FILE_MAX && (n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_add(&text, chunk, (size_t)n);
	close(fd);
	if (text.len > IGNORE_FILE_MAX) {
		scan_warn(c->r, "%s/.gitignore is larger than %u bytes: only its start is read",
			  rel[0] ? rel : ".", IGNORE_FILE_MAX);
		text.len = IGNORE_FILE_MAX;
	}
	fs_ignore_add(c->rules, rel, text.data ? text.data : "", text.len, &warn);
	if (warn.len)
		buf_add(&c->r->warnings, warn.data, warn.len);
	buf_free(&text);
	buf_free(&warn);
	return mark;
}

static void fs_leave(void *ctx, size_t mark)
{
	struct fs_ctx *c = ctx;
	fs_ignore_pop(c->rules, mark);
}

static bool fs_skip(void *ctx, const char *rel, bool isdir)
{
	struct fs_ctx *c = ctx;
	const char *base = strrchr(rel, '/');
	base = base ? base + 1 : rel;

	if (isdir && !strcmp(base, ".git"))
		return true;
	if (fs_ignore_match(c->skip, rel, isdir))
		return true;
	if (under_vendored(rel) || (isdir && is_vendored(base, strlen(base))))
		return false; /* vendored dependencies ship: the project's ignore rules do not apply */
	return fs_ignore_match(c->rules, rel, isdir);
}

int scan_fs(const char *dir, const struct fs_opts *fo, const struct scan_opts *o,
	    struct scan_result *r, struct vg_buf *err)
{
	struct fs_ctx c = { fo, fs_ignore_new(), fs_ignore_new(), r };
	struct scan_tree_hooks h = { fs_enter, fs_leave, fs_skip, &c };

	for (size_t i = 0; i < fo->nskip; i++)
		fs_ignore_add(c.skip, "", fo->skip[i], strlen(fo->skip[i]), &r->warnings);
	int ret = scan_tree(dir, "fs", &h, o, r, err);
	fs_ignore_free(c.rules);
	fs_ignore_free(c.skip);
	return ret;
}
