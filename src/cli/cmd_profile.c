/* SPDX-License-Identifier: Apache-2.0 */
/* vigil profile: behaviour profiles in the store (docs/profiles.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli/cli.h"
#include "common/buf.h"
#include "output/alert_store.h"
#include "profile/profile_store.h"
#include "profile/profile_yaml.h"

static void usage(FILE *f)
{
	fputs("usage: vigil profile [--store PATH] COMMAND ...\n"
	      "Behaviour profiles: what each workload (image digest; under Kubernetes its owner)\n"
	      "did while the agent learnt it (docs/profiles.md).\n"
	      "  list                     every profile: key, mode, items, image, owner\n"
	      "  show PROFILE             one profile, as YAML\n"
	      "  diff PROFILE1 PROFILE2   what the second does that the first does not (+) and the\n"
	      "                           reverse (-), per kind; e.g. two releases of an image\n"
	      "  export [PROFILE]... [-o FILE]  the profiles (default all) as YAML\n"
	      "  import FILE              check a YAML file and store its profiles (replacing them);\n"
	      "                           a bad file is refused with file:line:column\n"
	      "  mode PROFILE|--all learning|monitoring|protecting\n"
	      "                           switch modes; a running agent applies it within a second\n"
	      "  reset PROFILE|--all      forget what was learnt: learning starts again\n"
	      "PROFILE is a key (as list prints it), an image name (repository:tag) or a digest\n"
	      "(sha256:...; a unique prefix will do).\n"
	      "  --store PATH   the agent's store (default " ALERT_STORE_DEFAULT_PATH ")\n",
	      f);
}

/* The profile a PROFILE argument names: the key, else one image or digest (prefix). */
static struct profile *find(struct profile_set *s, const char *arg, char *err, size_t errlen)
{
	struct profile *p = profile_get(s, arg), *hit = NULL;
	if (p)
		return p;
	size_t n = 0, al = strlen(arg);
	struct hmap_node *node, *tmp;
	size_t i;
	hmap_for_each(&s->map, node, tmp, i) {
		struct profile *q = hmap_entry(node, struct profile, node);
		if (!strcmp(q->image, arg) || (al >= 8 && !strncmp(q->digest, arg, al)) ||
		    (al >= 8 && !strncmp(q->key, arg, al))) {
			hit = q;
			n++;
		}
	}
	if (n == 1)
		return hit;
	snprintf(err, errlen, n ? "'%s' names %zu profiles: give the key" : "no profile '%s'", arg, n);
	return NULL;
}

static int key_cmp(const void *a, const void *b)
{
	const struct profile *x = *(const struct profile *const *)a, *y = *(const struct profile *const *)b;
	return strcmp(x->key, y->key);
}

static struct profile **sorted(struct profile_set *s, size_t *n)
{
	struct profile **v = calloc(s->map.count + 1, sizeof(*v));
	struct hmap_node *node, *tmp;
	size_t i, m = 0;
	if (!v)
		return NULL;
	hmap_for_each(&s->map, node, tmp, i)
		v[m++] = hmap_entry(node, struct profile, node);
	qsort(v, m, sizeof(*v), key_cmp);
	*n = m;
	return v;
}

static int cmd_list(struct profile_set *s)
{
	size_t n;
	struct profile **v = sorted(s, &n);
	printf("%-40s %-11s %6s %-30s %s\n", "PROFILE", "MODE", "ITEMS", "IMAGE", "OWNER");
	for (size_t i = 0; v && i < n; i++) {
		const struct profile *p = v[i];
		char owner[512];
		snprintf(owner, sizeof(owner), "%s%s%s", p->ns, p->ns[0] ? "/" : "", p->owner);
		printf("%-40s %-11s %6zu %-30s %s\n", p->key, profile_mode_name(p->mode), p->nlearnt,
		       p->image[0] ? p->image : "-", owner[0] ? owner : "-");
	}
	free(v);
	return VG_EXIT_OK;
}

static int cmd_diff(struct profile *a, struct profile *b)
{
	size_t na, nb;
	const struct profile_item **ia = profile_sorted_items(a, &na), **ib = profile_sorted_items(b, &nb);
	size_t added = 0, removed = 0;
	printf("--- %s (%s)\n+++ %s (%s)\n", a->key, a->image, b->key, b->image);
	for (int k = 0; k < PROF_NKINDS; k++) {
		bool head = false;
		for (int side = 0; side < 2; side++) {
			const struct profile_item **from = side ? ia : ib;
			size_t nf = side ? na : nb;
			const struct profile *other = side ? b : a;
			for (size_t i = 0; i < nf; i++) {
				if (from[i]->kind != k || profile_find(other, k, from[i]->value))
					continue;
				if (!head) {
					printf("%s:\n", profile_kind_name(k));
					head = true;
				}
				printf("  %c %s\n", side ? '-' : '+', from[i]->value);
				*(side ? &removed : &added) += 1;
			}
		}
	}
	printf("%zu new in %s, %zu no longer\n", added, b->key, removed);
	free(ia);
	free(ib);
	return VG_EXIT_OK;
}

int cmd_profile_fleet(int argc, char **argv); /* cmd_profile_fleet.c: --hub, sync; -1: not its case */

int cmd_profile(int argc, char **argv)
{
	int fleet = cmd_profile_fleet(argc, argv);
	if (fleet >= 0)
		return fleet;
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 'S' }, { "output", required_argument, NULL, 'o' },
		{ "all", no_argument, NULL, 'a' },	   { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *store = ALERT_STORE_DEFAULT_PATH, *out_path = NULL;
	bool all = false;
	int opt;
	char err[1024];

	while ((opt = getopt_long(argc, argv, "+S:o:ah", opts, NULL)) != -1) {
		switch (opt) {
		case 'S':
			store = optarg;
			break;
		case 'o':
			out_path = optarg;
			break;
		case 'a':
			all = true;
			break;
		case 'h':
			usage(stdout);
			return VG_EXIT_OK;
		default:
			usage(stderr);
			return VG_EXIT_USAGE;
		}
	}
	/* options may follow the command too: a second pass over what is left */
	if (optind >= argc) {
		usage(stderr);
		return VG_EXIT_USAGE;
	}
	const char *cmd = argv[optind++];
	const char *args[8];
	size_t nargs = 0;
	while (optind < argc) {
		int o = getopt_long(argc, argv, "+S:o:ah", opts, NULL);
		if (o == -1) {
			if (nargs == 8) {
				usage(stderr);
				return VG_EXIT_USAGE;
			}
			args[nargs++] = argv[optind++];
			continue;
		}
		if (o == 'S')
			store = optarg;
		else if (o == 'o')
			out_path = optarg;
		else if (o == 'a')
			all = true;
		else {
			usage(o == 'h' ? stdout : stderr);
			return o == 'h' ? VG_EXIT_OK : VG_EXIT_USAGE;
		}
	}
	static const struct { const char *name; size_t min, max; } cmds[] = {
		{ "list", 0, 0 }, { "show", 1, 1 }, { "diff", 2, 2 }, { "export", 0, 8 },
		{ "import", 1, 1 }, { "mode", 1, 2 }, { "reset", 0, 1 },
	};
	size_t ci;
	for (ci = 0; ci < sizeof(cmds) / sizeof(cmds[0]); ci++)
		if (!strcmp(cmd, cmds[ci].name))
			break;
	if (ci == sizeof(cmds) / sizeof(cmds[0]) || nargs < cmds[ci].min || nargs > cmds[ci].max) {
		usage(stderr);
		return VG_EXIT_USAGE;
	}
	if ((!strcmp(cmd, "mode") && nargs != (all ? 1u : 2u)) || (!strcmp(cmd, "reset") && nargs != (all ? 0u : 1u)) ||
	    (all && strcmp(cmd, "mode") && strcmp(cmd, "reset"))) {
		usage(stderr);
		return VG_EXIT_USAGE;
	}
	if (!strcmp(cmd, "import")) {
		/* the whole file is checked before anything is stored */
		struct profile_set in;
		profile_set_init(&in, NULL);
		if (profile_yaml_read_file(args[0], &in, err, sizeof(err))) {
			fprintf(stderr, "vigil: %s\n", err);
			profile_set_free(&in);
			return VG_EXIT_ERROR;
		}
		struct profile_store *ps = profile_store_open(store, true, err, sizeof(err));
		if (!ps) {
			fprintf(stderr, "vigil: %s\n", err);
			profile_set_free(&in);
			return VG_EXIT_ERROR;
		}
		size_t n;
		struct profile **v = sorted(&in, &n);
		int ret = VG_EXIT_OK;
		for (size_t i = 0; v && i < n && ret == VG_EXIT_OK; i++) {
			if (profile_store_put(ps, v[i])) {
				fprintf(stderr, "vigil: %s\n", profile_store_error(ps));
				ret = VG_EXIT_ERROR;
			} else {
				printf("imported %s (%s, %zu items)\n", v[i]->key, profile_mode_name(v[i]->mode), v[i]->nlearnt);
			}
		}
		free(v);
		profile_store_close(ps);
		profile_set_free(&in);
		return ret;
	}
	struct profile_store *ps = profile_store_open(store, false, err, sizeof(err));
	if (!ps) {
		fprintf(stderr, "vigil: %s\n", err);
		return VG_EXIT_ERROR;
	}
	struct profile_set s;
	profile_set_init(&s, &(struct profile_limits){ .max_profiles = 1u << 20, .max_bytes = (size_t)1 << 34 });
	int ret = VG_EXIT_OK;
	if (profile_store_load(ps, &s)) {
		fprintf(stderr, "vigil: %s\n", profile_store_error(ps));
		ret = VG_EXIT_ERROR;
		goto out;
	}
	if (!strcmp(cmd, "list")) {
		ret = cmd_list(&s);
	} else if (!strcmp(cmd, "show") || !strcmp(cmd, "export")) {
		struct vg_buf y = { 0 };
		buf_adds(&y, "# Vigil behaviour profiles (docs/profiles.md)\n");
		if (nargs) {
			for (size_t i = 0; i < nargs; i++) {
				struct profile *p = find(&s, args[i], err, sizeof(err));
				if (!p) {
					fprintf(stderr, "vigil: %s\n", err);
					buf_free(&y);
					ret = VG_EXIT_NOT_FOUND;
					goto out;
				}
				profile_yaml_write(&y, p);
			}
		} else {
			size_t n;
			struct profile **v = sorted(&s, &n);
			for (size_t i = 0; v && i < n; i++)
				profile_yaml_write(&y, v[i]);
			free(v);
		}
		FILE *f = out_path ? fopen(out_path, "we") : stdout;
		if (!f || fwrite(y.data, 1, y.len, f) != y.len || (out_path && fclose(f))) {
			fprintf(stderr, "vigil: cannot write %s: %m\n", out_path ? out_path : "stdout");
			ret = VG_EXIT_ERROR;
		}
		buf_free(&y);
	} else if (!strcmp(cmd, "diff")) {
		struct profile *a = find(&s, args[0], err, sizeof(err)), *b = a ? find(&s, args[1], err, sizeof(err)) : NULL;
		if (!a || !b) {
			fprintf(stderr, "vigil: %s\n", err);
			ret = VG_EXIT_NOT_FOUND;
			goto out;
		}
		ret = cmd_diff(a, b);
	} else {
		const struct profile *p = NULL;
		if (!all && !(p = find(&s, args[0], err, sizeof(err)))) {
			fprintf(stderr, "vigil: %s\n", err);
			ret = VG_EXIT_NOT_FOUND;
			goto out;
		}
		int n;
		if (!strcmp(cmd, "mode")) {
			const char *m = args[all ? 0 : 1];
			int mode = profile_mode_from_name(m);
			if (mode < 0) {
				fprintf(stderr, "vigil: mode '%s': learning, monitoring or protecting\n", m);
				ret = VG_EXIT_USAGE;
				goto out;
			}
			n = profile_store_set_mode(ps, p ? p->key : NULL, (enum profile_mode)mode, (int64_t)time(NULL));
			if (n >= 0)
				printf("%d profile%s now %s\n", n, n == 1 ? "" : "s", m);
			if (n >= 0 && mode == PROF_PROTECTING)
				fprintf(stderr, "vigil: note: a running agent now refuses, in the workload's containers, "
						"programs and destinations the profile does not hold (docs/profiles.md)\n");
		} else {
			n = profile_store_reset(ps, p ? p->key : NULL, (int64_t)time(NULL));
			if (n >= 0)
				printf("%d profile%s reset: learning\n", n, n == 1 ? "" : "s");
		}
		if (n < 0) {
			fprintf(stderr, "vigil: %s\n", profile_store_error(ps));
			ret = VG_EXIT_ERROR;
		}
	}
out:
	profile_set_free(&s);
	profile_store_close(ps);
	return ret;
}
