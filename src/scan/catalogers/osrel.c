/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "scan/catalogers/osrel.h"

static const char *const wanted[] = {
	"etc/os-release", "usr/lib/os-release", "etc/alpine-release", "etc/debian_version",
};

bool osrel_wanted(const char *path)
{
	for (size_t i = 0; i < sizeof(wanted) / sizeof(*wanted); i++)
		if (!strcmp(path, wanted[i]))
			return true;
	return false;
}

/* The value of KEY in os-release text (quotes removed), or NULL. */
static char *osrel_value(const char *data, size_t len, const char *key)
{
	size_t klen = strlen(key);

	for (size_t pos = 0; pos < len;) {
		const char *line = data + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;
		pos += n + 1;
		if (n > klen && !memcmp(line, key, klen) && line[klen] == '=') {
			const char *v = line + klen + 1;
			size_t vn = n - klen - 1;
			while (vn && (v[vn - 1] == '\r' || v[vn - 1] == ' '))
				vn--;
			if (vn >= 2 && (v[0] == '"' || v[0] == '\'') && v[vn - 1] == v[0])
				v++, vn -= 2;
			char *out = xmalloc(vn + 1);
			size_t o = 0;
			for (size_t i = 0; i < vn; i++) {
				if (v[i] == '\\' && i + 1 < vn)
					i++;
				out[o++] = v[i];
			}
			out[o] = 0;
			return out;
		}
	}
	return NULL;
}

static char *first_line(const char *data, size_t len)
{
	size_t n = 0;
	while (n < len && data[n] != '\n' && data[n] != '\r')
		n++;
	return xstrndup(data, n);
}

/* The first `parts` dot-separated numbers of v ("3.18.4", 2 -> "3.18"). */
static void version_prefix(const char *v, int parts, char *out, size_t n)
{
	size_t i = 0;
	int dots = 0;

	for (; v[i] && i + 1 < n; i++) {
		if (v[i] == '.' && ++dots == parts)
			break;
		out[i] = v[i];
	}
	out[i] = 0;
}

char *osrel_ecosystem(const char *id, const char *version_id, const char *version)
{
	char buf[256], v[64];
	const char *vid = version_id ? version_id : "";

	if (!id)
		return NULL;
	if (!strcmp(id, "alpine")) {
		version_prefix(vid, 2, v, sizeof(v));
		snprintf(buf, sizeof(buf), "Alpine:v%s", v);
	} else if (!strcmp(id, "debian")) {
		version_prefix(vid, 1, v, sizeof(v));
		if (!v[0])
			return xstrdup("Debian");
		snprintf(buf, sizeof(buf), "Debian:%s", v);
	} else if (!strcmp(id, "ubuntu")) {
		bool lts = version && strstr(version, "LTS");
		snprintf(buf, sizeof(buf), "Ubuntu:%s%s", vid, lts ? ":LTS" : "");
	} else if (!strcmp(id, "rocky")) {
		version_prefix(vid, 1, v, sizeof(v));
		snprintf(buf, sizeof(buf), "Rocky Linux:%s", v);
	} else if (!strcmp(id, "almalinux")) {
		version_prefix(vid, 1, v, sizeof(v));
		snprintf(buf, sizeof(buf), "AlmaLinux:%s", v);
	} else if (!strcmp(id, "rhel")) {
		return xstrdup("Red Hat");
	} else if (!strcmp(id, "opensuse-leap")) {
		snprintf(buf, sizeof(buf), "openSUSE:Leap %s", vid);
	} else if (!strcmp(id, "sles")) {
		char major[16];
		const char *dot = strchr(vid, '.');
		version_prefix(vid, 1, major, sizeof(major));
		if (dot && strcmp(dot + 1, "0"))
			snprintf(buf, sizeof(buf), "SUSE:Linux Enterprise Server %s SP%s", major,
				 dot + 1);
		else
			snprintf(buf, sizeof(buf), "SUSE:Linux Enterprise Server %s", major);
	} else if (!strcmp(id, "wolfi")) {
		return xstrdup("Wolfi");
	} else if (!strcmp(id, "chainguard")) {
		return xstrdup("Chainguard");
	} else if (!strcmp(id, "photon")) {
		snprintf(buf, sizeof(buf), "Photon OS:%s", vid);
	} else if (!strcmp(id, "mariner")) {
		snprintf(buf, sizeof(buf), "Mariner:%s", vid);
	} else {
		return NULL;
	}
	return xstrdup(buf);
}

void osrel_detect(struct scan_result *r, osrel_get_fn get, void *ctx)
{
	size_t len;
	const char *d = get(ctx, "etc/os-release", &len);
	char *id = NULL, *vid = NULL, *version = NULL;

	if (!d)
		d = get(ctx, "usr/lib/os-release", &len);
	if (d) {
		id = osrel_value(d, len, "ID");
		vid = osrel_value(d, len, "VERSION_ID");
		version = osrel_value(d, len, "VERSION");
	}
	if ((d = get(ctx, "etc/alpine-release", &len)) && (!id || !strcmp(id, "alpine"))) {
		free(id);
		free(vid);
		id = xstrdup("alpine");
		vid = first_line(d, len); /* more precise than some os-release files */
	} else if (!id && (d = get(ctx, "etc/debian_version", &len))) {
		id = xstrdup("debian");
		vid = first_line(d, len);
	}
	if (id && !strcmp(id, "debian") && (!vid || !vid[0]) &&
	    (d = get(ctx, "etc/debian_version", &len))) {
		/* testing and sid have no VERSION_ID; debian_version is "12.5" or "trixie/sid" */
		free(vid);
		vid = first_line(d, len);
		if (vid[0] < '0' || vid[0] > '9') {
			free(vid);
			vid = NULL;
		}
	}
	if (id) {
		r->os_id = id;
		r->os_version = vid ? vid : xstrdup("");
		r->os_ecosystem = osrel_ecosystem(id, vid, version);
		if (!r->os_ecosystem)
			scan_warn(r, "no vulnerability data for OS '%s %s'", id, r->os_version);
	} else {
		free(vid);
	}
	free(version);
}
