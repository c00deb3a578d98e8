/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Java archives (.jar, .war, .ear, and Jenkins plugins .hpi/.jpi) read from
 * memory with libarchive's zip reader; archives inside them (BOOT-INF/lib/
 * NAME.jar, WEB-INF/lib, an .ear's modules) are opened the same way, up to
 * depth 3 and 64 MiB each. An archive's packages come, in this order, from:
 *
 *  1. each META-INF/maven/GROUP/ARTIFACT/pom.properties: "groupId:artifactId"
 *     at version;
 *  2. each META-INF/maven/.../pom.xml without a pom.properties beside it: the
 *     project's groupId (or its parent's), artifactId and version (or its
 *     parent's), ${...} properties resolved within the file;
 *  3. META-INF/MANIFEST.MF's main section, when it names a group, an
 *     artifact and a version: group Implementation-Vendor-Id, else
 *     Bundle-SymbolicName without its last component; artifact
 *     Implementation-Title, else Bundle-Name, else Specification-Title (a
 *     title in words is not an id), spelled as the file name or the
 *     Bundle-SymbolicName spells it when they agree but for case ("Jackson-core"
 *     is jackson-core), and the file name's artifact wins when its version is
 *     the manifest's (a Bundle-Name is often an OSGi id); version
 *     Implementation-Version, else Bundle-Version, else Specification-Version;
 *  4. the file name, ARTIFACT-VERSION.jar (the version starts with a digit),
 *     with the manifest's group when it has one; without a group the name is
 *     the artifact alone and no Maven advisory can match it.
 *
 * Loose pom.properties files are read too.
 *
 * A project's pom.xml (not one under META-INF/maven, which describes an
 * archive) gives its <dependencies>: groupId, artifactId and version with
 * ${...} properties resolved within the file, a missing version taken from
 * the file's <dependencyManagement>. Test-scope dependencies are development
 * dependencies; system-scope ones (a local jar) and version ranges are not
 * reported; versions only a parent POM or an imported BOM could give are
 * counted in one warning. The project itself is the application, not a
 * dependency.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "scan/catalogers/cat_text.h"
#include "scan/catalogers/cat_xml.h"
#include "scan/catalogers/catalog.h"
#include "scan/sources/libarchive.h"

#define JAR_NESTED_MAX (64u << 20)
#define JAR_ENTRY_MAX (1u << 20) /* pom.properties, pom.xml and MANIFEST.MF are small */
#define JAR_DEPTH 3
#define JAR_POMS 64 /* pom.xml files held per archive */

/* The value of `key=value` (properties) lines. */
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

/*
 * A manifest attribute of the main section (up to the first blank line),
 * continuation lines (starting with one space) joined. NULL when absent.
 */
static char *mf_attr(const char *d, size_t len, const char *key)
{
	size_t pos = 0, n, k = strlen(key);
	const char *line;
	struct vg_buf b = { 0 };
	bool in = false;

	while (cat_text_line(d, len, &pos, &line, &n)) {
		if (!n)
			break;
		if (in) {
			if (line[0] != ' ')
				break;
			buf_add(&b, line + 1, n - 1);
			continue;
		}
		if (n > k && !strncasecmp(line, key, k) && line[k] == ':') {
			in = true;
			const char *v = line + k + 1, *end = line + n;
			while (v < end && *v == ' ')
				v++;
			buf_add(&b, v, (size_t)(end - v));
			buf_addc(&b, 0);
			b.len--;
		}
	}
	if (!in)
		return NULL;
	char *s = cat_text_trimdup(b.data ? b.data : "", b.len);
	buf_free(&b);
	return s;
}

/* Adds the package group:artifact (artifact alone without a group) at version. */
static bool maven_add(struct scan_result *r, const char *path, const char *group,
		      const char *artifact, const char *version)
{
	if (!artifact || !version || !artifact[0] || !version[0])
		return false;
	char name[1024];
	if (group && group[0])
		snprintf(name, sizeof(name), "%s:%s", group, artifact);
	else
		snprintf(name, sizeof(name), "%s", artifact);
	scan_add_pkg(r, "maven", name, version, path);
	return true;
}

static bool pom_add(const char *d, size_t len, const char *path, struct scan_result *r)
{
	char *g = prop(d, len, "groupId", '='), *a = prop(d, len, "artifactId", '='),
	     *v = prop(d, len, "version", '=');
	bool ok = g && g[0] && maven_add(r, path, g, a, v);
	free(g);
	free(a);
	free(v);
	return ok;
}

static const char *pom_prop(const struct xml_node *project, const char *key, size_t n)
{
	char k[256];
	if (n >= sizeof(k))
		return NULL;
	memcpy(k, key, n);
	k[n] = 0;
	const struct xml_node *parent = xml_child(project, "parent");
	if (!strcmp(k, "project.version") || !strcmp(k, "pom.version") || !strcmp(k, "version"))
		return xml_child_text(project, "version") ? xml_child_text(project, "version") :
							    xml_child_text(parent, "version");
	if (!strcmp(k, "project.groupId") || !strcmp(k, "pom.groupId"))
		return xml_child_text(project, "groupId") ? xml_child_text(project, "groupId") :
							    xml_child_text(parent, "groupId");
	if (!strcmp(k, "project.artifactId") || !strcmp(k, "pom.artifactId"))
		return xml_child_text(project, "artifactId");
	if (!strcmp(k, "project.parent.version"))
		return xml_child_text(parent, "version");
	if (!strcmp(k, "project.parent.groupId"))
		return xml_child_text(parent, "groupId");
	return xml_child_text(xml_child(project, "properties"), k);
}

/*
 * ${name} references in s resolved against the pom's <properties>, its
 * project.* and parent coordinates; at most 8 rounds (properties may refer
 * to properties). Returns a copy; unresolvable references stay as they are.
 */
static char *java_pom_resolve(const struct xml_node *project, const char *s)
{
	char *cur = xstrdup(s ? s : "");

	for (int round = 0; round < 8 && strstr(cur, "${"); round++) {
		struct vg_buf b = { 0 };
		const char *p = cur;
		bool changed = false;
		while (*p) {
			const char *open = strstr(p, "${");
			const char *close = open ? strchr(open + 2, '}') : NULL;
			if (!open || !close) {
				buf_add(&b, p, strlen(p));
				break;
			}
			buf_add(&b, p, (size_t)(open - p));
			const char *v = pom_prop(project, open + 2, (size_t)(close - open - 2));
			if (v && b.len + strlen(v) < 4096) {
				buf_add(&b, v, strlen(v));
				changed = true;
			} else {
				buf_add(&b, open, (size_t)(close - open + 1));
			}
			p = close + 1;
		}
		free(cur);
		cur = b.data ? b.data : xstrdup("");
		if (!changed)
			break;
	}
	return cur;
}

/* A value without unresolved references, or NULL. */
static char *pom_value(const struct xml_node *project, const char *s)
{
	if (!s || !s[0])
		return NULL;
	char *v = java_pom_resolve(project, s);
	if (strstr(v, "${")) {
		free(v);
		return NULL;
	}
	return v;
}

/* The project's own coordinates from a pom.xml; false when incomplete. */
static bool pom_xml_add(const char *d, size_t len, const char *path, struct scan_result *r)
{
	char err[160];
	struct xml_node *root = xml_parse(d, len, err, sizeof(err));
	bool ok = false;

	if (!root)
		return false;
	if (!strcmp(root->name, "project")) {
		const struct xml_node *parent = xml_child(root, "parent");
		const char *g = xml_child_text(root, "groupId");
		const char *v = xml_child_text(root, "version");
		char *gv = pom_value(root, g ? g : xml_child_text(parent, "groupId"));
		char *av = pom_value(root, xml_child_text(root, "artifactId"));
		char *vv = pom_value(root, v ? v : xml_child_text(parent, "version"));
		ok = gv && maven_add(r, path, gv, av, vv);
		free(gv);
		free(av);
		free(vv);
	}
	xml_free(root);
	return ok;
}

/* The version <dependencyManagement> of project gives group:artifact, or NULL. */
static const char *pom_managed(const struct xml_node *project, const char *g, const char *a)
{
	const struct xml_node *deps = xml_child(xml_child(project, "dependencyManagement"),
						"dependencies");
	for (const struct xml_node *d = deps ? deps->kids : NULL; d; d = d->next) {
		if (strcmp(d->name, "dependency"))
			continue;
		char *dg = pom_value(project, xml_child_text(d, "groupId"));
		char *da = pom_value(project, xml_child_text(d, "artifactId"));
		bool same = dg && da && !strcmp(dg, g) && !strcmp(da, a);
		free(dg);
		free(da);
		if (same)
			return xml_child_text(d, "version");
	}
	return NULL;
}

static void pom_deps_parse(const char *data, size_t len, const char *path, struct scan_result *r)
{
	char err[160];
	struct xml_node *root = xml_parse(data, len, err, sizeof(err));
	size_t unresolved = 0;

	if (!root) {
		scan_warn(r, "cannot parse %s:%s", path, err);
		return;
	}
	if (strcmp(root->name, "project")) {
		scan_warn(r, "cannot parse %s: the root element is not <project>", path);
		xml_free(root);
		return;
	}
	const struct xml_node *deps = xml_child(root, "dependencies");
	for (const struct xml_node *d = deps ? deps->kids : NULL; d; d = d->next) {
		if (strcmp(d->name, "dependency"))
			continue;
		const char *scope = xml_child_text(d, "scope");
		if (scope && (!strcmp(scope, "system") || (!strcmp(scope, "test") && !r->include_dev)))
			continue;
		char *g = pom_value(root, xml_child_text(d, "groupId"));
		char *a = pom_value(root, xml_child_text(d, "artifactId"));
		const char *vt = xml_child_text(d, "version");
		if (!vt && g && a)
			vt = pom_managed(root, g, a);
		char *v = pom_value(root, vt);
		if (g && a && v && !strpbrk(v, "[](),"))
			maven_add(r, path, g, a, v);
		else
			unresolved++;
		free(g);
		free(a);
		free(v);
	}
	if (unresolved)
		scan_warn(r, "%s: %zu dependencies without a version this file resolves "
			     "(a parent POM or an imported BOM gives it) or with a range: not reported",
			  path, unresolved);
	xml_free(root);
}

static bool is_id(const char *s)
{
	if (!s || !s[0])
		return false;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || strchr("-_.", *s)))
			return false;
	return true;
}

static const char *jar_exts[] = { ".jar", ".war", ".ear", ".hpi", ".jpi" };

static bool jar_name(const char *path)
{
	for (size_t i = 0; i < sizeof(jar_exts) / sizeof(jar_exts[0]); i++)
		if (cat_text_ends_with_ci(path, jar_exts[i]))
			return true;
	return false;
}

/* ARTIFACT and VERSION of a file name ARTIFACT-VERSION.jar; false when it is not one. */
static bool file_coords(const char *file, char **artifact, char **version)
{
	const char *base = cat_text_base(file);
	size_t n = strlen(base);
	if (n < 5)
		return false;
	n -= 4; /* the extension */
	for (size_t i = 1; i + 1 < n; i++)
		if (base[i] == '-' && isdigit((unsigned char)base[i + 1])) {
			*artifact = xstrndup(base, i);
			*version = xstrndup(base + i + 1, n - i - 1);
			return true;
		}
	return false;
}

static void manifest_add(const char *mf, size_t mlen, const char *file, const char *path,
			 struct scan_result *r)
{
	static const char *const titles[] = { "Implementation-Title", "Bundle-Name",
					      "Specification-Title" };
	static const char *const versions[] = { "Implementation-Version", "Bundle-Version",
						"Specification-Version" };
	char *group = mf ? mf_attr(mf, mlen, "Implementation-Vendor-Id") : NULL;
	char *bsn = mf ? mf_attr(mf, mlen, "Bundle-SymbolicName") : NULL;
	char *artifact = NULL, *version = NULL, *fa = NULL, *fv = NULL;

	if (bsn)
		bsn[strcspn(bsn, "; ")] = 0;
	if (!is_id(group)) {
		free(group);
		group = NULL;
		const char *dot = bsn ? strrchr(bsn, '.') : NULL;
		if (dot && is_id(bsn))
			group = xstrndup(bsn, (size_t)(dot - bsn));
	}
	for (size_t i = 0; mf && i < 3 && !artifact; i++) {
		artifact = mf_attr(mf, mlen, titles[i]);
		if (!is_id(artifact)) {
			free(artifact);
			artifact = NULL;
		}
	}
	for (size_t i = 0; mf && i < 3 && !version; i++) {
		version = mf_attr(mf, mlen, versions[i]);
		if (version && !version[0]) {
			free(version);
			version = NULL;
		}
	}
	bool have_file = file_coords(file, &fa, &fv);
	/* the file name's or the symbolic name's spelling of the same id */
	size_t gl = group ? strlen(group) : 0;
	if (artifact && have_file &&
	    (!strcasecmp(artifact, fa) || (version && !strcmp(version, fv)))) {
		/* the same id, or the same version under another name (an OSGi
		 * "org.objectweb.asm.commons" for asm-commons-9.7.1.jar): the file
		 * name Maven wrote is the artifact */
		free(artifact);
		artifact = xstrdup(fa);
	} else if (artifact && bsn && group && !strncmp(bsn, group, gl) && bsn[gl] == '.' &&
		   !strcasecmp(bsn + gl + 1, artifact)) {
		char *a = xstrdup(bsn + gl + 1);
		free(artifact);
		artifact = a;
	}
	if (!(group && maven_add(r, path, group, artifact, version)) && have_file)
		maven_add(r, path, group, fa, fv);
	free(group);
	free(bsn);
	free(artifact);
	free(version);
	free(fa);
	free(fv);
}

struct jar_poms {
	char *dirs[JAR_POMS]; /* META-INF/maven/G/A/ of each pom.properties */
	size_t ndirs;
	struct vg_buf xml[JAR_POMS];
	char *xml_dirs[JAR_POMS];
	size_t nxml;
};

static char *dir_of(const char *name)
{
	const char *slash = strrchr(name, '/');
	return xstrndup(name, slash ? (size_t)(slash - name + 1) : 0);
}

/* file: the archive's own name (the image path, or the member name when nested) */
static void jar_read(const char *data, size_t len, const char *path, const char *file,
		     struct scan_result *r, int depth)
{
	const char *why = libarchive_load();
	if (why) {
		scan_warn(r, "cannot read %s: %s", path, why);
		return;
	}
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	struct jar_poms jp;
	char *manifest = NULL;
	size_t mlen = 0;
	bool found = false;
	unsigned entries = 0;
	int rc;

	memset(&jp, 0, sizeof(jp));
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
		bool maven = !strncmp(name, "META-INF/maven/", 15);
		bool pom = maven && cat_text_ends_with(name, "/pom.properties");
		bool pomx = maven && cat_text_ends_with(name, "/pom.xml") && jp.nxml < JAR_POMS;
		bool mf = !strcmp(name, "META-INF/MANIFEST.MF");
		bool nested = depth < JAR_DEPTH && jar_name(name);
		uint64_t cap = nested ? JAR_NESTED_MAX : JAR_ENTRY_MAX;
		if (!(pom || pomx || mf || nested) || size > (int64_t)cap)
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
		if (pom) {
			bool ok = pom_add(b.data ? b.data : "", b.len, path, r);
			found |= ok;
			if (ok && jp.ndirs < JAR_POMS)
				jp.dirs[jp.ndirs++] = dir_of(name);
		} else if (pomx) {
			jp.xml_dirs[jp.nxml] = dir_of(name);
			jp.xml[jp.nxml++] = b;
			b = (struct vg_buf){ 0 };
		} else if (mf && !manifest) {
			manifest = b.data;
			mlen = b.len;
			b.data = NULL;
		} else if (nested) {
			jar_read(b.data ? b.data : "", b.len, path, name, r, depth + 1);
		}
		buf_free(&b);
	}
	if (rc != ARCHIVE_OK && rc != ARCHIVE_EOF)
		scan_warn(r, "cannot read %s: %s", path, archive_error_string(a));
	for (size_t i = 0; i < jp.nxml; i++) {
		bool seen = false;
		for (size_t k = 0; k < jp.ndirs && !seen; k++)
			seen = !strcmp(jp.dirs[k], jp.xml_dirs[i]);
		if (!seen)
			found |= pom_xml_add(jp.xml[i].data ? jp.xml[i].data : "", jp.xml[i].len,
					     path, r);
		buf_free(&jp.xml[i]);
		free(jp.xml_dirs[i]);
	}
	for (size_t k = 0; k < jp.ndirs; k++)
		free(jp.dirs[k]);
	if (!found)
		manifest_add(manifest, mlen, file, path, r);
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
	jar_read(data, len, path, path, r, 0);
}

static bool java_match(const char *path)
{
	return jar_name(path) ||
	       (!strcmp(cat_text_base(path), "pom.properties") && strstr(path, "META-INF/maven/"));
}

static bool pom_deps_match(const char *path)
{
	return !strcmp(cat_text_base(path), "pom.xml") && !strstr(path, "META-INF/");
}

const struct cataloger cat_java = { "java", java_match, java_parse };
const struct cataloger cat_maven_pom = { "maven-pom", pom_deps_match, pom_deps_parse };
