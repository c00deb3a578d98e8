/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "common/version.h"
#include "scan/reports/sbom.h"

/* A name-based id of the result (its target and package purls): same input, same id. */
static void sbom_hash(const struct scan_result *r, unsigned char md[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned int n = 0;

	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	EVP_DigestUpdate(c, r->target, strlen(r->target));
	for (size_t i = 0; i < r->npkgs; i++)
		if (r->pkgs[i].purl)
			EVP_DigestUpdate(c, r->pkgs[i].purl, strlen(r->pkgs[i].purl) + 1);
	EVP_DigestFinal_ex(c, md, &n);
	EVP_MD_CTX_free(c);
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

void sbom_cyclonedx(const struct scan_result *r, struct vg_buf *out)
{
	struct vg_json j;
	unsigned char md[32];
	char uuid[64], ref[32];

	sbom_hash(r, md);
	md[6] = (md[6] & 0x0f) | 0x50; /* version 5 (name-based) */
	md[8] = (md[8] & 0x3f) | 0x80;
	snprintf(uuid, sizeof(uuid),
		 "urn:uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 md[0], md[1], md[2], md[3], md[4], md[5], md[6], md[7], md[8], md[9], md[10],
		 md[11], md[12], md[13], md[14], md[15]);
	jw_init(&j, out);
	jw_obj_begin(&j, NULL);
	jw_str(&j, "bomFormat", "CycloneDX");
	jw_str(&j, "specVersion", "1.5");
	jw_str(&j, "serialNumber", uuid);
	jw_int(&j, "version", 1);
	jw_obj_begin(&j, "metadata");
	jw_obj_begin(&j, "tools");
	jw_arr_begin(&j, "components");
	jw_obj_begin(&j, NULL);
	jw_str(&j, "type", "application");
	jw_str(&j, "name", "vigil");
	jw_str(&j, "version", VIGIL_VERSION);
	jw_obj_end(&j);
	jw_arr_end(&j);
	jw_obj_end(&j);
	jw_obj_begin(&j, "component");
	jw_str(&j, "type", "container");
	jw_str(&j, "bom-ref", "image");
	jw_str(&j, "name", r->tag ? r->tag : r->target);
	if (r->image_digest)
		jw_str(&j, "version", r->image_digest);
	jw_obj_end(&j);
	jw_obj_end(&j);
	jw_arr_begin(&j, "components");
	if (r->os_id) {
		jw_obj_begin(&j, NULL);
		jw_str(&j, "type", "operating-system");
		jw_str(&j, "bom-ref", "os");
		jw_str(&j, "name", r->os_id);
		jw_str(&j, "version", r->os_version);
		jw_obj_end(&j);
	}
	for (size_t i = 0; i < r->npkgs; i++) {
		const struct scan_pkg *p = &r->pkgs[i];
		snprintf(ref, sizeof(ref), "pkg-%zu", i + 1);
		jw_obj_begin(&j, NULL);
		jw_str(&j, "type", "library");
		jw_str(&j, "bom-ref", ref);
		jw_str(&j, "name", p->name);
		jw_str(&j, "version", p->version);
		if (p->purl)
			jw_str(&j, "purl", p->purl);
		if (p->license) {
			jw_arr_begin(&j, "licenses");
			jw_obj_begin(&j, NULL);
			jw_obj_begin(&j, "license");
			jw_str(&j, "name", p->license);
			jw_obj_end(&j);
			jw_obj_end(&j);
			jw_arr_end(&j);
		}
		jw_arr_begin(&j, "properties");
		jw_obj_begin(&j, NULL);
		jw_str(&j, "name", "vigil:layer");
		char l[16];
		snprintf(l, sizeof(l), "%u", p->layer + 1);
		jw_str(&j, "value", l);
		jw_obj_end(&j);
		jw_obj_begin(&j, NULL);
		jw_str(&j, "name", "vigil:path");
		jw_str(&j, "value", p->path);
		jw_obj_end(&j);
		jw_arr_end(&j);
		jw_obj_end(&j);
	}
	jw_arr_end(&j);
	jw_arr_begin(&j, "vulnerabilities");
	for (size_t i = 0; i < r->nvulns; i++) {
		const struct scan_vuln *v = &r->vulns[i];
		char sev[16];
		snprintf(sev, sizeof(sev), "%s", severity_name(v->severity));
		lower(sev);
		snprintf(ref, sizeof(ref), "pkg-%zu", v->pkg + 1);
		jw_obj_begin(&j, NULL);
		jw_str(&j, "id", v->id);
		jw_obj_begin(&j, "source");
		jw_str(&j, "name", "OSV");
		jw_obj_end(&j);
		jw_arr_begin(&j, "ratings");
		jw_obj_begin(&j, NULL);
		if (v->score >= 0) {
			char s[16];
			snprintf(s, sizeof(s), "%.1f", v->score);
			jw_raw(&j, "score", s);
		}
		jw_str(&j, "severity", sev);
		jw_obj_end(&j);
		jw_arr_end(&j);
		if (v->summary && v->summary[0])
			jw_str(&j, "description", v->summary);
		jw_arr_begin(&j, "affects");
		jw_obj_begin(&j, NULL);
		jw_str(&j, "ref", ref);
		jw_obj_end(&j);
		jw_arr_end(&j);
		jw_obj_end(&j);
	}
	jw_arr_end(&j);
	jw_obj_end(&j);
	buf_addc(out, '\n');
}

void sbom_spdx(const struct scan_result *r, struct vg_buf *out)
{
	struct vg_json j;
	unsigned char md[32];
	char ns[160], id[48], created[32];
	time_t now = time(NULL);
	struct tm tm;

	sbom_hash(r, md);
	snprintf(ns, sizeof(ns), "https://vigil.invalid/spdx/");
	for (int i = 0; i < 16; i++)
		snprintf(ns + strlen(ns), sizeof(ns) - strlen(ns), "%02x", md[i]);
	gmtime_r(&now, &tm);
	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	jw_init(&j, out);
	jw_obj_begin(&j, NULL);
	jw_str(&j, "spdxVersion", "SPDX-2.3");
	jw_str(&j, "dataLicense", "CC0-1.0");
	jw_str(&j, "SPDXID", "SPDXRef-DOCUMENT");
	jw_str(&j, "name", r->tag ? r->tag : r->target);
	jw_str(&j, "documentNamespace", ns);
	jw_obj_begin(&j, "creationInfo");
	jw_str(&j, "created", created);
	jw_arr_begin(&j, "creators");
	jw_str(&j, NULL, "Tool: vigil-" VIGIL_VERSION);
	jw_arr_end(&j);
	jw_obj_end(&j);
	jw_arr_begin(&j, "packages");
	jw_obj_begin(&j, NULL);
	jw_str(&j, "name", r->tag ? r->tag : r->target);
	jw_str(&j, "SPDXID", "SPDXRef-Image");
	jw_str(&j, "downloadLocation", "NOASSERTION");
	jw_bool(&j, "filesAnalyzed", false);
	jw_str(&j, "primaryPackagePurpose", "CONTAINER");
	jw_obj_end(&j);
	for (size_t i = 0; i < r->npkgs; i++) {
		const struct scan_pkg *p = &r->pkgs[i];
		snprintf(id, sizeof(id), "SPDXRef-Package-%zu", i + 1);
		jw_obj_begin(&j, NULL);
		jw_str(&j, "name", p->name);
		jw_str(&j, "SPDXID", id);
		jw_str(&j, "versionInfo", p->version);
		jw_str(&j, "downloadLocation", "NOASSERTION");
		jw_bool(&j, "filesAnalyzed", false);
		jw_str(&j, "licenseConcluded", "NOASSERTION");
		jw_str(&j, "licenseDeclared", "NOASSERTION");
		jw_str(&j, "sourceInfo", p->path);
		if (p->purl) {
			jw_arr_begin(&j, "externalRefs");
			jw_obj_begin(&j, NULL);
			jw_str(&j, "referenceCategory", "PACKAGE-MANAGER");
			jw_str(&j, "referenceType", "purl");
			jw_str(&j, "referenceLocator", p->purl);
			jw_obj_end(&j);
			jw_arr_end(&j);
		}
		jw_obj_end(&j);
	}
	jw_arr_end(&j);
	jw_arr_begin(&j, "relationships");
	jw_obj_begin(&j, NULL);
	jw_str(&j, "spdxElementId", "SPDXRef-DOCUMENT");
	jw_str(&j, "relationshipType", "DESCRIBES");
	jw_str(&j, "relatedSpdxElement", "SPDXRef-Image");
	jw_obj_end(&j);
	for (size_t i = 0; i < r->npkgs; i++) {
		snprintf(id, sizeof(id), "SPDXRef-Package-%zu", i + 1);
		jw_obj_begin(&j, NULL);
		jw_str(&j, "spdxElementId", "SPDXRef-Image");
		jw_str(&j, "relationshipType", "CONTAINS");
		jw_str(&j, "relatedSpdxElement", id);
		jw_obj_end(&j);
	}
	jw_arr_end(&j);
	jw_obj_end(&j);
	buf_addc(out, '\n');
}

static void sarif_rule(struct vg_json *j, const char *id, const char *text, enum vg_severity sev,
		       double score)
{
	char s[16];

	jw_obj_begin(j, NULL);
	jw_str(j, "id", id);
	jw_obj_begin(j, "shortDescription");
	jw_str(j, "text", text && text[0] ? text : id);
	jw_obj_end(j);
	jw_obj_begin(j, "properties");
	if (score >= 0)
		snprintf(s, sizeof(s), "%.1f", score);
	else
		snprintf(s, sizeof(s), "%s", severity_sarif_score(sev));
	jw_str(j, "security-severity", s);
	jw_obj_end(j);
	jw_obj_end(j);
}

static void sarif_result(struct vg_json *j, const char *rule, enum vg_severity sev, const char *msg,
			 const char *path, unsigned line)
{
	jw_obj_begin(j, NULL);
	jw_str(j, "ruleId", rule);
	jw_str(j, "level", severity_sarif_level(sev));
	jw_obj_begin(j, "message");
	jw_str(j, "text", msg);
	jw_obj_end(j);
	jw_arr_begin(j, "locations");
	jw_obj_begin(j, NULL);
	jw_obj_begin(j, "physicalLocation");
	jw_obj_begin(j, "artifactLocation");
	jw_str(j, "uri", path);
	jw_obj_end(j);
	if (line) {
		jw_obj_begin(j, "region");
		jw_uint(j, "startLine", line);
		jw_obj_end(j);
	}
	jw_obj_end(j);
	jw_obj_end(j);
	jw_arr_end(j);
	jw_obj_end(j);
}

void sbom_sarif(const struct scan_result *r, struct vg_buf *out)
{
	struct vg_json j;
	char msg[1024];

	jw_init(&j, out);
	jw_obj_begin(&j, NULL);
	jw_str(&j, "version", "2.1.0");
	jw_str(&j, "$schema", "https://json.schemastore.org/sarif-2.1.0.json");
	jw_arr_begin(&j, "runs");
	jw_obj_begin(&j, NULL);
	jw_obj_begin(&j, "tool");
	jw_obj_begin(&j, "driver");
	jw_str(&j, "name", "vigil");
	jw_str(&j, "version", VIGIL_VERSION);
	jw_arr_begin(&j, "rules");
	for (size_t i = 0; i < r->nvulns; i++) {
		bool seen = false;
		for (size_t k = 0; k < i && !seen; k++)
			seen = !strcmp(r->vulns[k].id, r->vulns[i].id);
		if (!seen)
			sarif_rule(&j, r->vulns[i].id, r->vulns[i].summary, r->vulns[i].severity,
				   r->vulns[i].score);
	}
	for (size_t i = 0; i < r->nsecrets; i++) {
		bool seen = false;
		for (size_t k = 0; k < i && !seen; k++)
			seen = !strcmp(r->secrets[k].rule, r->secrets[i].rule);
		if (!seen)
			sarif_rule(&j, r->secrets[i].rule, r->secrets[i].title,
				   r->secrets[i].severity, -1);
	}
	for (size_t i = 0; i < r->nconfig; i++) {
		bool seen = false;
		for (size_t k = 0; k < i && !seen; k++)
			seen = !strcmp(r->config[k].id, r->config[i].id);
		if (!seen)
			sarif_rule(&j, r->config[i].id, r->config[i].message, r->config[i].severity, -1);
	}
	jw_arr_end(&j);
	jw_obj_end(&j);
	jw_obj_end(&j);
	jw_arr_begin(&j, "results");
	for (size_t i = 0; i < r->nvulns; i++) {
		const struct scan_vuln *v = &r->vulns[i];
		const struct scan_pkg *p = &r->pkgs[v->pkg];
		snprintf(msg, sizeof(msg), "%s %s is affected by %s%s%s", p->name, p->version, v->id,
			 v->fixed && v->fixed[0] ? "; fixed in " : "", v->fixed ? v->fixed : "");
		sarif_result(&j, v->id, v->severity, msg, p->path, 0);
	}
	for (size_t i = 0; i < r->nsecrets; i++) {
		const struct scan_secret *s = &r->secrets[i];
		snprintf(msg, sizeof(msg), "%s in layer %u: %s%s", s->title, s->layer + 1, s->match,
			 s->deleted ? " (deleted by a later layer)" : "");
		sarif_result(&j, s->rule, s->severity, msg, s->path, s->line);
	}
	/* image configuration findings: located in the image itself (the target) */
	for (size_t i = 0; i < r->nconfig; i++)
		sarif_result(&j, r->config[i].id, r->config[i].severity, r->config[i].message,
			     r->target ? r->target : "image", 0);
	jw_arr_end(&j);
	jw_obj_end(&j);
	jw_arr_end(&j);
	jw_obj_end(&j);
	buf_addc(out, '\n');
}
