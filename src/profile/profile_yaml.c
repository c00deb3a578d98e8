/* SPDX-License-Identifier: Apache-2.0 */
/* Profiles as YAML (profile_yaml.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "common/yaml.h"
#include "profile/profile_yaml.h"

/* A double-quoted YAML scalar: escapes for '"', '\\' and control bytes. */
static void quoted(struct vg_buf *out, const char *s)
{
	buf_addc(out, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			buf_addc(out, '\\');
			buf_addc(out, (char)c);
		} else if (c < 0x20 || c == 0x7f) {
			buf_printf(out, "\\x%02x", c);
		} else {
			buf_addc(out, (char)c);
		}
	}
	buf_addc(out, '"');
}

static void field(struct vg_buf *out, const char *key, const char *v)
{
	buf_printf(out, "%s: ", key);
	quoted(out, v);
	buf_addc(out, '\n');
}

void profile_yaml_write(struct vg_buf *out, const struct profile *p)
{
	size_t n;
	const struct profile_item **items = profile_sorted_items(p, &n);
	buf_adds(out, "---\n");
	buf_printf(out, "version: %d\n", PROFILE_YAML_VERSION);
	field(out, "key", p->key);
	field(out, "image", p->image);
	field(out, "digest", p->digest);
	field(out, "owner", p->owner);
	field(out, "namespace", p->ns);
	buf_printf(out, "mode: %s\n", profile_mode_name(p->mode));
	buf_printf(out, "learning:\n  started: %lld\n  last_new: %lld\n", (long long)p->learn_started,
		   (long long)p->last_new);
	size_t i = 0;
	for (int k = 0; k < PROF_NKINDS; k++) {
		size_t start = i;
		while (i < n && items[i]->kind == k)
			i++;
		if (start == i) {
			buf_printf(out, "%s: []\n", profile_kind_name(k));
			continue;
		}
		buf_printf(out, "%s:\n", profile_kind_name(k));
		for (size_t j = start; j < i; j++) {
			buf_adds(out, "  - ");
			quoted(out, items[j]->value);
			buf_addc(out, '\n');
		}
	}
	free(items);
}

static bool port_ok(const char *s)
{
	char *end;
	if (!*s || *s == '0' || *s == '-' || *s == '+')
		return false;
	long v = strtol(s, &end, 10);
	return !*end && v >= 1 && v <= 65535;
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

const char *profile_item_invalid(enum profile_kind k, const char *v)
{
	static const char *const privs[] = { "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid",
					     "capset", NULL };
	static const char *const syscalls[] = { "mount", "umount2", "ptrace", "init_module", "finit_module",
						"delete_module", "bpf", "unshare", "setns", "chroot", "pivot_root",
						"userfaultfd", "process_vm_readv", "process_vm_writev", NULL };
	if (!*v)
		return "an empty item";
	if (strlen(v) >= PROF_VALUE_MAX)
		return "an item longer than 1023 bytes";
	if (!printable(v))
		return "an item with control characters";
	switch (k) {
	case PROF_EXEC: {
		const char *arrow = strstr(v, " <- ");
		if (v[0] != '/' || !arrow || !arrow[4] || (arrow[4] != '/' && strcmp(arrow + 4, "<outside>")))
			return "a program must read \"/PATH <- /PARENT\" or \"/PATH <- <outside>\"";
		return NULL;
	}
	case PROF_WRITE:
	case PROF_READ:
		return v[0] == '/' ? NULL : "a path must be absolute";
	case PROF_LISTEN:
		return port_ok(v) ? NULL : "a port must be a number from 1 to 65535";
	case PROF_CONNECT: {
		const char *hp = v;
		if (!strncmp(v, "tcp/", 4) || !strncmp(v, "udp/", 4))
			hp += 4;
		const char *colon = strrchr(hp, ':');
		if (!colon || colon == hp || !port_ok(colon + 1) || strchr(hp, '/'))
			return "a destination must read \"HOST:PORT\", \"tcp/HOST:PORT\" or \"udp/HOST:PORT\"";
		return NULL;
	}
	case PROF_PRIV:
		for (size_t i = 0; privs[i]; i++) {
			size_t l = strlen(privs[i]);
			if (!strncmp(v, privs[i], l) && (!v[l] || v[l] == ' '))
				return NULL;
		}
		return "not a privilege change (setuid, setgid, setreuid, setregid, setresuid, setresgid, capset)";
	case PROF_SYSCALL:
		for (size_t i = 0; syscalls[i]; i++)
			if (!strcmp(v, syscalls[i]))
				return NULL;
		return "not a profiled syscall (mount, umount2, ptrace, init_module, finit_module, delete_module, "
		       "bpf, unshare, setns, chroot, pivot_root, userfaultfd, process_vm_readv, process_vm_writev)";
	default:
		return "unknown kind";
	}
}

static bool scalar(const struct yaml_node *n)
{
	return n && n->kind == YAML_SCALAR && strlen(n->str) == n->len;
}

static int get_int(const char *path, const struct yaml_node *n, const char *what, int64_t *out, char *err,
		   size_t errlen)
{
	char *end;
	if (!scalar(n) || !n->plain || !n->len)
		return yaml_errorf(err, errlen, path, n, "'%s' must be a number", what);
	long long v = strtoll(n->str, &end, 10);
	if (*end || v < 0)
		return yaml_errorf(err, errlen, path, n, "'%s' must be a number of seconds since 1970", what);
	*out = v;
	return 0;
}

static int get_str(const char *path, const struct yaml_node *n, const char *what, size_t max, const char **out,
		   char *err, size_t errlen)
{
	if (!scalar(n))
		return yaml_errorf(err, errlen, path, n, "'%s' must be a string", what);
	if (n->len >= max)
		return yaml_errorf(err, errlen, path, n, "'%s' is longer than %zu bytes", what, max - 1);
	if (!printable(n->str))
		return yaml_errorf(err, errlen, path, n, "'%s' holds control characters", what);
	*out = n->str;
	return 0;
}

static int read_doc(const struct yaml_node *root, const char *path, struct profile_set *s, char *err,
		    size_t errlen)
{
	static const char *const header[] = { "version", "key", "image", "digest", "owner", "namespace", "mode",
					      "learning", NULL };
	const char *key = NULL, *image = "", *digest = "", *owner = "", *ns = "";
	int64_t started = 0, last_new = 0;
	int mode = PROF_MONITORING;

	if (!root || root->kind != YAML_MAP)
		return yaml_errorf(err, errlen, path, root, "a profile must be a mapping");
	for (size_t i = 0; i < root->n; i++) {
		const struct yaml_node *k = root->items[2 * i];
		bool known = scalar(k) && profile_kind_from_name(k->str) >= 0;
		for (size_t j = 0; !known && header[j]; j++)
			known = scalar(k) && !strcmp(k->str, header[j]);
		if (!known)
			return yaml_errorf(err, errlen, path, k, "unknown key '%s' (known: version, key, image, digest, "
					   "owner, namespace, mode, learning, exec, write, read, listen, connect, "
					   "privilege, syscall)", scalar(k) ? k->str : "?");
		for (size_t j = 0; j < i; j++)
			if (!strcmp(root->items[2 * j]->str, k->str))
				return yaml_errorf(err, errlen, path, k, "'%s' given twice", k->str);
	}
	const struct yaml_node *v = yaml_get(root, "version");
	int64_t ver = 0;
	if (!v)
		return yaml_errorf(err, errlen, path, root, "a profile needs 'version: %d'", PROFILE_YAML_VERSION);
	if (get_int(path, v, "version", &ver, err, errlen))
		return -1;
	if (ver != PROFILE_YAML_VERSION)
		return yaml_errorf(err, errlen, path, v, "version %lld is not one this vigil reads (%d)", (long long)ver,
				   PROFILE_YAML_VERSION);
	if (!(v = yaml_get(root, "key")))
		return yaml_errorf(err, errlen, path, root, "a profile needs a 'key'");
	if (get_str(path, v, "key", PROF_KEY_MAX, &key, err, errlen))
		return -1;
	if (!*key)
		return yaml_errorf(err, errlen, path, v, "'key' must not be empty");
	if (profile_get(s, key))
		return yaml_errorf(err, errlen, path, v, "profile '%s' given twice", key);
	if ((v = yaml_get(root, "image")) && get_str(path, v, "image", 256, &image, err, errlen))
		return -1;
	if ((v = yaml_get(root, "digest")) && get_str(path, v, "digest", 80, &digest, err, errlen))
		return -1;
	if ((v = yaml_get(root, "owner")) && get_str(path, v, "owner", 256, &owner, err, errlen))
		return -1;
	if ((v = yaml_get(root, "namespace")) && get_str(path, v, "namespace", 128, &ns, err, errlen))
		return -1;
	if ((v = yaml_get(root, "mode"))) {
		if (!scalar(v) || (mode = profile_mode_from_name(v->str)) < 0)
			return yaml_errorf(err, errlen, path, v, "'mode' must be learning, monitoring or protecting");
	}
	if ((v = yaml_get(root, "learning"))) {
		if (v->kind != YAML_MAP)
			return yaml_errorf(err, errlen, path, v, "'learning' must be a mapping (started, last_new)");
		for (size_t i = 0; i < v->n; i++) {
			const struct yaml_node *k = v->items[2 * i], *x = v->items[2 * i + 1];
			if (scalar(k) && !strcmp(k->str, "started")) {
				if (get_int(path, x, "started", &started, err, errlen))
					return -1;
			} else if (scalar(k) && !strcmp(k->str, "last_new")) {
				if (get_int(path, x, "last_new", &last_new, err, errlen))
					return -1;
			} else {
				return yaml_errorf(err, errlen, path, k, "unknown key in 'learning' (known: started, last_new)");
			}
		}
	}
	struct profile *p = profile_make(s, key, image, digest, owner, ns, started);
	if (!p)
		return yaml_errorf(err, errlen, path, root, "too many profiles (at most %zu, %zu bytes)",
				   s->lim.max_profiles, s->lim.max_bytes);
	p->mode = (enum profile_mode)mode;
	p->last_new = last_new;
	for (int k = 0; k < PROF_NKINDS; k++) {
		const struct yaml_node *list = yaml_get(root, profile_kind_name(k));
		if (!list)
			continue;
		if (list->kind != YAML_SEQ)
			return yaml_errorf(err, errlen, path, list, "'%s' must be a list of strings", profile_kind_name(k));
		for (size_t i = 0; i < list->n; i++) {
			const struct yaml_node *it = list->items[i];
			const char *why;
			if (!scalar(it))
				return yaml_errorf(err, errlen, path, it, "items of '%s' must be strings", profile_kind_name(k));
			if ((why = profile_item_invalid(k, it->str)))
				return yaml_errorf(err, errlen, path, it, "%s: %s", profile_kind_name(k), why);
			if (profile_find(p, k, it->str) && !strchr(it->str, '*') &&
			    !strcmp(profile_find(p, k, it->str)->value, it->str))
				return yaml_errorf(err, errlen, path, it, "'%s' listed twice", it->str);
			if (profile_add(s, p, k, it->str, started))
				return yaml_errorf(err, errlen, path, it, "too many items (at most %zu per profile)",
						   s->lim.max_items);
		}
	}
	return 0;
}

int profile_yaml_read(const char *buf, size_t len, const char *path, struct profile_set *s, char *err,
		      size_t errlen)
{
	struct yaml_stream ys;
	char yerr[300];
	if (yaml_parse(buf, len, &ys, yerr, sizeof(yerr))) {
		snprintf(err, errlen, "%s:%s", path, yerr);
		return -1;
	}
	int rc = 0;
	size_t n = 0;
	for (size_t d = 0; d < ys.ndocs && !rc; d++) {
		if (!ys.docs[d])
			continue;
		rc = read_doc(ys.docs[d], path, s, err, errlen);
		n++;
	}
	if (!rc && !n)
		rc = yaml_errorf(err, errlen, path, NULL, "no profile in the file");
	yaml_stream_free(&ys);
	return rc;
}

int profile_yaml_read_file(const char *path, struct profile_set *s, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	struct stat st;
	if (!f) {
		snprintf(err, errlen, "cannot open %s: %m", path);
		return -1;
	}
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode) || (size_t)st.st_size > PROFILE_YAML_MAX_BYTES) {
		fclose(f);
		snprintf(err, errlen, "%s: not a regular file of at most %u bytes", path, PROFILE_YAML_MAX_BYTES);
		return -1;
	}
	char *buf = xmalloc((size_t)st.st_size + 1);
	size_t len = fread(buf, 1, (size_t)st.st_size, f);
	fclose(f);
	buf[len] = 0;
	int rc = profile_yaml_read(buf, len, path, s, err, errlen);
	free(buf);
	return rc;
}
