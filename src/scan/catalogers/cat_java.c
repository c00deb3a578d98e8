/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Java archives (.jar, .war, .ear; nested ones such as BOOT-INF/lib/NAME.jar up
 * to depth 3) read from memory with libarchive's zip reader. Each
 * META-INF/maven/GROUP/ARTIFACT/pom.properties is a Maven package
 * "groupId:artifactId". An archive without one falls back to its
 * META-INF/MANIFEST.MF when that names Implementation-Vendor-Id,
 * Implementation-Title and Implementation-Version (without a group the
 * package could not be matched). A loose pom.properties file is read too.
 */
#include <stdlib.h>
#include <string.h>
#include "scan/catalogers/cat_text.h"
#include "scan/catalogers/catalog.h"
#include "scan/sources/libarchive.h"

#define JAR_NESTED_MAX (64u << 20)
#define JAR_ENTRY_MAX (1u << 20) /* pom.properties and MANIFEST.MF are small */
#define JAR_DEPTH 3

/* The value of `key=value` (properties) or `Key: value` (manifest) lines. */
static char *prop(const char *d, size_t len, const char *key, char sep)
{
	size_t pos = 0, n, k = strlen(key);
	const char *line;

	while (cat_text_line(d, len, &pos, &line, &n)) {
		if (n > k && !memcmp(line, key, k) && line[k] == sep) {
			const char *v = line + k + 1, *end = line + n;
			while (v < end && *v == ' ')
				v++;
			return xstrndup(v, (size_t)(end - v));
		}
	}
	return NULL;
}

/* Adds the package group:artifact at version when all three are there; frees them. */
static bool maven_add(struct scan_result *r, const char *path, char *group, char *artifact,
		      char *version)
{
	bool ok = group && artifact && version && group[0] && artifact[0] && version[0];

	if (ok) {
		char name[1024];
		snprintf(name, sizeof(name), "%s:%s", group, artifact);
		scan_add_pkg(r, "maven", name, version, path);
	}
	free(group);
	free(artifact);
	free(version);
	return ok;
}

static bool pom_add(const char *d, size_t len, const char *path, struct scan_result *r)
{
	return maven_add(r, path, prop(d, len, "groupId", '='), prop(d, len, "artifactId", '='),
			 prop(d, len, "version", '='));
}

static void jar_read(const char *data, size_t len, const char *path, struct scan_result *r,
		     int depth)
{
	const char *why = libarchive_load();
	if (why) {
		scan_warn(r, "cannot read %s: %s", path, why);
		return;
	}
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	char *manifest = NULL;
	size_t mlen = 0;
	bool found = false;
	unsigned entries = 0;
	int rc;

	archive_read_support_format_zip(a);
	if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
		scan_warn(r, "cannot read %s: %s", path, archive_error_string(a));
		archive_read_free(a);
		return;
	}
	while ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK && ++entries < 200000) {
		const char *name = archive_entry_pathname(e);
		int64_t size = archive_entry_size(e);
		if (!name || archive_entry_filetype(e) != AE_IFREG)
			continue;
		bool pom = !strncmp(name, "META-INF/maven/", 15) &&
			   cat_text_ends_with(name, "/pom.properties");
		bool mf = !strcmp(name, "META-INF/MANIFEST.MF");
		bool nested = depth < JAR_DEPTH &&
			      (cat_text_ends_with(name, ".jar") || cat_text_ends_with(name, ".war"));
		uint64_t cap = nested ? JAR_NESTED_MAX : JAR_ENTRY_MAX;
		if (!(pom || mf || nested) || size > (int64_t)cap)
			continue;
		struct vg_buf b = { 0 };
		char chunk[65536];
		la_ssize_t n;
		while ((n = archive_read_data(a, chunk, sizeof(chunk))) > 0 && b.len <= cap)
			buf_add(&b, chunk, (size_t)n);
		if (n < 0 || b.len > cap) {
			buf_free(&b);
			continue; /* a damaged or oversized member: the others still count */
		}
		if (pom)
			found |= pom_add(b.data ? b.data : "", b.len, path, r);
		else if (mf && !manifest) {
			manifest = b.data;
			mlen = b.len;
			b.data = NULL;
		} else if (nested)
			jar_read(b.data ? b.data : "", b.len, path, r, depth + 1);
		buf_free(&b);
	}
	if (rc != ARCHIVE_OK && rc != ARCHIVE_EOF)
		scan_warn(r, "cannot read %s: %s", path, archive_error_string(a));
	if (!found && manifest) {
		char *t = prop(manifest, mlen, "Implementation-Title", ':');
		if (t && strchr(t, ' ')) { /* a title in words, not an artifact id */
			free(t);
			t = NULL;
		}
		maven_add(r, path, prop(manifest, mlen, "Implementation-Vendor-Id", ':'), t,
			  prop(manifest, mlen, "Implementation-Version", ':'));
	}
	free(manifest);
	archive_read_free(a);
}

static void java_parse(const char *data, size_t len, const char *path, struct scan_result *r)
{
	if (cat_text_ends_with(path, "pom.properties")) {
		if (!pom_add(data, len, path, r))
			scan_warn(r, "cannot parse %s: no groupId, artifactId and version", path);
		return;
	}
	jar_read(data, len, path, r, 0);
}

static bool java_match(const char *path)
{
	return cat_text_ends_with(path, ".jar") || cat_text_ends_with(path, ".war") ||
	       cat_text_ends_with(path, ".ear") ||
	       (!strcmp(cat_text_base(path), "pom.properties") && strstr(path, "META-INF/maven/"));
}

const struct cataloger cat_java = { "java", java_match, java_parse };
