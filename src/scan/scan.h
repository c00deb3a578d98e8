/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Image scanning: the result model shared by image sources, catalogers,
 * matchers and reports. One struct scan_result holds everything a scan found;
 * it owns every string in it and is freed with scan_result_free().
 *
 * The pipeline (docs/scanning.md), one folder a stage:
 *   scan_image.c, scan_rootfs.c, scan_fs.c  the drivers: open an image
 *                (docker-archive, OCI layout or archive, sources/image.c plans
 *                its layers), a root file system or a project tree (with its
 *                .gitignore rules) and feed every entry of every layer to
 *   sources/     the layer walk (walk.c), which records each layer's file
 *                operations and hands file contents to their consumers as
 *                they stream by: the package catalogers, the secret rules
 *                and the OS-release files kept for later (catalogers/).
 *                walk_finish() then applies the layers in order (whiteouts,
 *                opaque directories) to one merged file index (fileindex.c),
 *                drops what a later layer removed, detects the OS and names
 *                each package's OSV ecosystem and purl. Registry pulls
 *                (registry.c) fetch an image into an OCI layout first.
 *   catalogers/  package databases and manifests (a table of struct
 *                cataloger), Go and Rust binaries, OS release, secrets, the
 *                image configuration checks
 *   matching/    the OSV database (vulndb.c, osv.c), version orders
 *                (vercmp_<scheme>.c), CVSS scores, VEX documents, ignore files
 *   reports/     table, JSON, CycloneDX, SPDX, SARIF, purls, and the results
 *                database the admission webhook reads
 */
#ifndef VIGIL_SCAN_H
#define VIGIL_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/buf.h"
#include "common/severity.h"

/* Limits that keep a hostile image from exhausting memory or time. */
struct scan_limits {
	uint64_t max_layer_bytes;   /* uncompressed bytes of one layer */
	uint64_t max_entries;       /* entries over all layers */
	uint64_t max_file_bytes;    /* a package database or manifest read into memory */
	uint64_t max_secret_bytes;  /* files larger than this are not searched for secrets */
	uint64_t max_meta_bytes;    /* manifest, index, config JSON */
};

void scan_limits_default(struct scan_limits *l);

struct scan_pkg {
	char *name, *version;
	char *type;      /* purl type: deb, apk, rpm, pypi, npm, golang, maven, cargo, gem */
	char *ecosystem; /* OSV ecosystem: "Debian:12", "Alpine:v3.18", "PyPI", "Go", ... */
	char *src_name, *src_version; /* source package (dpkg, apk origin, rpm srpm); may be NULL */
	char *arch, *license;         /* may be NULL */
	char *path;      /* file it was found in, relative to the root, no leading '/' */
	char *purl;
	unsigned layer;  /* index into scan_result.layers */
	uint64_t seq;    /* the file entry it came from (internal) */
};

struct scan_secret {
	char *rule, *title;
	enum vg_severity severity;
	char *path, *match; /* match redacted */
	unsigned layer;
	unsigned line;
	bool deleted;   /* the file is not in the final image (removed by a later layer) */
	uint64_t seq;
};

struct scan_vuln {
	char *id;        /* OSV id */
	char *aliases;   /* comma-separated, may be "" */
	char *summary;
	enum vg_severity severity; /* SEV_UNKNOWN when the record rates none */
	double score;    /* CVSS base score, -1 when unknown */
	char *fixed;     /* first fixed version, may be "" */
	size_t pkg;      /* index into scan_result.pkgs */
	char *note;      /* a VEX statement kept with the finding ("affected: ..."), may be NULL */
};

/* A finding a VEX statement or an ignore entry took out, and why (matching/vex.h). */
struct scan_suppressed {
	char *id;        /* vulnerability id, secret rule or config check */
	char *what;      /* "pkg@version", a file path or "" */
	char *source;    /* "vex FILE" or "ignore FILE:LINE" */
	char *reason;    /* status and justification, or the ignore entry's comment; may be "" */
};

struct scan_config_finding {
	char *id, *message;
	enum vg_severity severity;
};

struct scan_layer_info {
	char *digest;   /* "sha256:..." of the blob, or a name for rootfs / legacy layers */
	char *path;     /* where it was read from */
	uint64_t size;  /* compressed bytes */
	uint64_t files; /* entries */
	bool verified;  /* digest checked against the manifest */
};

struct scan_result {
	char *target;   /* what was scanned, as given */
	char *kind;     /* docker-archive, oci-layout, oci-archive, rootfs */
	char *image_digest, *tag;  /* may be NULL; image_digest: of the manifest (OCI) */
	char *image_id;            /* sha256 of the image config ("image ID"), may be NULL */
	char *os_id, *os_version, *os_ecosystem; /* may be NULL: no OS found */
	struct scan_layer_info *layers;
	size_t nlayers;
	struct scan_pkg *pkgs;
	size_t npkgs, cap_pkgs;
	struct scan_secret *secrets;
	size_t nsecrets, cap_secrets;
	struct scan_vuln *vulns;
	size_t nvulns, cap_vulns;
	struct scan_config_finding *config;
	size_t nconfig, cap_config;
	char *config_json; /* the image config blob, NUL-terminated, may be NULL */
	struct vg_buf warnings; /* "vigil: ..." lines, one per warning */
	struct scan_suppressed *suppressed;
	size_t nsuppressed;
	/* Set by the caller before the scan: keep the development dependencies that
	 * lock files mark as such (dropped by default, as other scanners do). */
	bool include_dev;
};

/* Record a suppressed finding (strings copied; NULL taken as ""). Can't fail. */
void scan_add_suppressed(struct scan_result *r, const char *id, const char *what,
			 const char *source, const char *reason);

void scan_result_free(struct scan_result *r);
void scan_pkg_free(struct scan_pkg *p); /* its strings */
void scan_vuln_free(struct scan_vuln *v);
void scan_secret_free(struct scan_secret *s);
void scan_config_free(struct scan_config_finding *c);

/* Append a package (strings copied; NULL allowed except name and version). */
struct scan_pkg *scan_add_pkg(struct scan_result *r, const char *type, const char *name,
			      const char *version, const char *path);
void scan_warn(struct scan_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * Replace control characters (C0, DEL) by '?' in place: names from an image
 * must not drive the terminal that shows a message or a table. Can't fail.
 */
void scan_sanitize(char *s);

/* What to scan for. */
struct scan_opts {
	struct scan_limits limits;
	bool secrets;         /* run the secret rules */
	const char *select;   /* OCI layout: tag (ref.name) or digest when the index holds several */
	/* Called as layer blobs stream (every few MB and at each layer's end); may be NULL. */
	void (*progress)(void *ctx, size_t layer, size_t nlayers, uint64_t bytes, uint64_t size);
	void *progress_ctx;
};

/*
 * Scan an image (docker-archive, OCI layout directory or OCI archive) or a root
 * file system directory into r (zeroed by the caller). Returns 0, or -1 with
 * the reason in err ("cannot read layer 2 (sha256:...): entry '../x': ...").
 */
int scan_image(const char *path, const struct scan_opts *o, struct scan_result *r,
	       struct vg_buf *err);
int scan_rootfs(const char *dir, const struct scan_opts *o, struct scan_result *r,
		struct vg_buf *err);

/*
 * Scan one layer blob held in memory (tar, gzip or zstd) as a one-layer image:
 * the same walk, limits and catalogers, no digest to verify. For tests and
 * fuzzing. Returns 0 or -1 with err set.
 */
int scan_layer_memory(const void *data, size_t len, const struct scan_opts *o,
		      struct scan_result *r, struct vg_buf *err);

/*
 * Drop vulnerabilities, secrets and config findings less severe than min,
 * and vulnerabilities without a fixed version when ignore_unfixed; returns
 * how many findings remain. Can't fail.
 */
size_t scan_result_filter(struct scan_result *r, enum vg_severity min, bool ignore_unfixed);

#endif
