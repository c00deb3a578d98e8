/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "common/buf.h"
#include "policy/config_scan.h"
#include "policy/dockerfile.h"
#include "policy/k8s_practice.h"

static void add_error(struct config_report *r, const char *file, unsigned line, unsigned col,
		      const char *msg)
{
	r->errs = xrealloc(r->errs, (r->nerrs + 1) * sizeof(*r->errs));
	r->errs[r->nerrs++] = (struct config_error){ xstrdup(file), line, col, xstrdup(msg) };
}

/* "LINE:COL: msg" from the parsers -> a positioned error */
static void add_parse_error(struct config_report *r, const char *file, const char *err)
{
	unsigned line = 0, col = 0;
	int used = 0;
	if (sscanf(err, "%u:%u: %n", &line, &col, &used) == 2 && used > 0)
		add_error(r, file, line, col, err + used);
	else
		add_error(r, file, 0, 0, err);
}

int config_is_dockerfile(const char *name)
{
	size_t n = strlen(name);
	return !strncmp(name, "Dockerfile", 10) || !strncmp(name, "Containerfile", 13) ||
	       (n > 11 && !strcasecmp(name + n - 11, ".dockerfile"));
}

static int is_manifest_name(const char *name)
{
	size_t n = strlen(name);
	return (n > 5 && !strcasecmp(name + n - 5, ".yaml")) || (n > 4 && !strcasecmp(name + n - 4, ".yml")) ||
	       (n > 5 && !strcasecmp(name + n - 5, ".json"));
}

size_t config_check_object(const struct manifest_obj *obj, const struct config_opts *o,
			   struct policy_findings *out)
{
	size_t before = out->n;
	if (obj->pod_spec) {
		pss_check_pod(obj->pod_meta, obj->pod_spec, o->level, o->version, out);
		if (!o->pss_only)
			k8s_practice_check(obj, out);
	}
	findings_set_object(out, before, NULL, obj->kind, obj->name, obj->ns);
	return out->n - before;
}

/* One line of the exceptions annotation: "CHECK[@CONTAINER]: reason". */
struct config_exception {
	char check[96], container[254];
	const char *reason;
};

static bool exception_matches(const struct config_exception *e, const struct policy_finding *x)
{
	return !strcmp(e->check, x->check) &&
	       (!e->container[0] || (x->container && !strcmp(e->container, x->container)));
}

/*
 * The object's exceptions annotation applied to its findings [from, n): those
 * it names move to r->excepted, their message saying why. A line that does
 * not parse is an error at the annotation, and nothing is excepted.
 */
static void apply_exceptions(const struct manifest_obj *obj, const char *file, size_t from, struct config_report *r)
{
	const struct yaml_node *ann = manifest_get(manifest_get(manifest_get(obj->root, "metadata"), "annotations"),
						   CONFIG_EXCEPTIONS_ANNOTATION);
	struct config_exception ex[64];
	size_t nex = 0, lineno = 0;
	char err[512];

	if (!ann)
		return;
	const char *text = ann->kind == YAML_SCALAR && strlen(ann->str) == ann->len ? ann->str : NULL;
	if (!text) {
		add_error(r, file, ann->line, ann->col, CONFIG_EXCEPTIONS_ANNOTATION " must be a string");
		return;
	}
	char *copy = xstrdup(text), *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		line += strspn(line, " \t");
		if (!*line || *line == '#')
			continue;
		char *colon = strchr(line, ':');
		char *reason = colon ? colon + 1 + strspn(colon + 1, " \t") : NULL;
		size_t clen = colon ? strcspn(line, "@:") : 0;
		char *at = colon && line[clen] == '@' ? line + clen + 1 : NULL;
		size_t alen = at ? (size_t)(colon - at) : 0;
		const char *space = strpbrk(line, " \t");
		if (!colon || !clen || clen >= sizeof(ex[0].check) || !memchr(line, '/', clen) || (space && space < colon) ||
		    (at && (!alen || alen >= sizeof(ex[0].container))) || !*reason) {
			snprintf(err, sizeof(err), CONFIG_EXCEPTIONS_ANNOTATION ": line %zu: expected "
				 "'CHECK[@CONTAINER]: reason' (a reason is required), not '%.80s'", lineno, line);
			add_error(r, file, ann->line, ann->col, err);
			free(copy);
			return;
		}
		if (nex == sizeof(ex) / sizeof(ex[0])) {
			add_error(r, file, ann->line, ann->col, CONFIG_EXCEPTIONS_ANNOTATION ": more than 64 exceptions");
			free(copy);
			return;
		}
		snprintf(ex[nex].check, sizeof(ex[nex].check), "%.*s", (int)clen, line);
		snprintf(ex[nex].container, sizeof(ex[nex].container), "%.*s", (int)alen, at ? at : "");
		ex[nex++].reason = reason;
	}
	size_t keep = from;
	for (size_t i = from; i < r->f.n; i++) {
		struct policy_finding *x = &r->f.v[i];
		size_t k = 0;
		while (k < nex && !exception_matches(&ex[k], x))
			k++;
		if (k == nex) {
			r->f.v[keep++] = *x;
			continue;
		}
		struct vg_buf msg = { 0 };
		buf_printf(&msg, "%s (excepted: %s)", x->message, ex[k].reason);
		size_t at_ex = r->excepted.n;
		findings_add(&r->excepted, x->check, x->severity, x->line, x->col, x->container, msg.data, x->hint);
		findings_set_object(&r->excepted, at_ex, file, x->kind, x->name, x->ns);
		buf_free(&msg);
		free(x->check);
		free(x->file);
		free(x->kind);
		free(x->name);
		free(x->ns);
		free(x->container);
		free(x->message);
	}
	r->f.n = keep;
	free(copy);
}

void config_scan_buffer(const char *file, const char *buf, size_t len, int dockerfile,
			const struct config_opts *o, struct config_report *r)
{
	char err[512];
	size_t before = r->f.n;
	r->files++;
	if (dockerfile) {
		/* --checks pss: a Dockerfile has no pod; it is not even parsed */
		struct dockerfile d;
		if (o->pss_only)
			return;
		if (dockerfile_parse(buf, len, &d, err, sizeof(err))) {
			add_parse_error(r, file, err);
			return;
		}
		dockerfile_check(&d, &r->f);
		dockerfile_free(&d);
	} else {
		struct manifest m;
		if (manifest_parse(buf, len, &m, err, sizeof(err))) {
			add_parse_error(r, file, err);
			manifest_free(&m);
			return;
		}
		for (size_t i = 0; i < m.n; i++) {
			const struct manifest_obj *obj = &m.objs[i];
			r->objects++;
			if (obj->pod_spec && obj->pod_spec->kind != YAML_MAP) {
				/* not a pod the API server could accept: say so rather than pass it */
				snprintf(err, sizeof(err), "%s \"%.64s\": the pod spec is not a mapping",
					 obj->kind, obj->name);
				add_error(r, file, obj->pod_spec->line, obj->pod_spec->col, err);
				continue;
			}
			size_t from = r->f.n;
			config_check_object(obj, o, &r->f);
			apply_exceptions(obj, file, from, r);
		}
		manifest_free(&m);
	}
	findings_set_object(&r->f, before, file, NULL, NULL, NULL);
}

/* Reads a whole regular file (at most CONFIG_MAX_FILE bytes); NULL with an error recorded. */
static char *read_file(const char *path, size_t *len, struct config_report *r)
{
	char msg[256];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	if (fd < 0 || fstat(fd, &st)) {
		snprintf(msg, sizeof(msg), "cannot open: %s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(msg, sizeof(msg), "not a regular file");
		goto fail;
	}
	if ((unsigned long long)st.st_size > CONFIG_MAX_FILE) {
		snprintf(msg, sizeof(msg), "file larger than %u bytes", CONFIG_MAX_FILE);
		goto fail;
	}
	char *buf = xmalloc((size_t)st.st_size + 1);
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(msg, sizeof(msg), "cannot read: %s", n ? strerror(errno) : "file shrank");
			free(buf);
			goto fail;
		}
		got += (size_t)n;
	}
	buf[got] = 0;
	close(fd);
	*len = got;
	return buf;
fail:
	if (fd >= 0)
		close(fd);
	r->files++;
	add_error(r, path, 0, 0, msg);
	return NULL;
}

static void scan_file(const char *path, const struct config_opts *o, struct config_report *r)
{
	size_t len;
	char *buf = read_file(path, &len, r);
	if (!buf)
		return;
	const char *slash = strrchr(path, '/');
	config_scan_buffer(path, buf, len, config_is_dockerfile(slash ? slash + 1 : path), o, r);
	free(buf);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void scan_dir(const char *path, int depth, const struct config_opts *o, struct config_report *r)
{
	if (depth > CONFIG_MAX_DEPTH) {
		add_error(r, path, 0, 0, "directories nested too deep");
		return;
	}
	DIR *d = opendir(path);
	if (!d) {
		char msg[256];
		snprintf(msg, sizeof(msg), "cannot open directory: %s", strerror(errno));
		add_error(r, path, 0, 0, msg);
		return;
	}
	char **names = NULL;
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue; /* ., .. and hidden entries such as .git */
		names = xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	if (n > 1) /* names is NULL when the directory is empty */
		qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++) {
		struct vg_buf p = { 0 };
		struct stat st;
		buf_printf(&p, "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/", names[i]);
		/*
		 * lstat: symbolic links found while walking are not followed, to
		 * files or directories (no loops, nothing read outside the tree);
		 * a link named on the command line is.
		 */
		if (!lstat(p.data, &st)) {
			if (S_ISDIR(st.st_mode))
				scan_dir(p.data, depth + 1, o, r);
			else if (S_ISREG(st.st_mode) &&
				 (config_is_dockerfile(names[i]) || is_manifest_name(names[i])))
				scan_file(p.data, o, r);
		}
		buf_free(&p);
		free(names[i]);
	}
	free(names);
}

void config_scan_path(const char *path, const struct config_opts *o, struct config_report *r)
{
	struct stat st;
	if (stat(path, &st)) {
		char msg[256];
		snprintf(msg, sizeof(msg), "cannot open: %s", strerror(errno));
		add_error(r, path, 0, 0, msg);
		return;
	}
	if (S_ISDIR(st.st_mode))
		scan_dir(path, 0, o, r);
	else
		scan_file(path, o, r);
}
