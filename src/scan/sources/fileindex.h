/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The merged file index of an image: path (relative, no leading '/') to the
 * entry that provides it after all layers are applied. A chained hash map
 * keyed by string; the map owns its keys and link targets.
 */
#ifndef VIGIL_SCAN_FILEINDEX_H
#define VIGIL_SCAN_FILEINDEX_H

#include <stddef.h>
#include <stdint.h>

enum fi_type { FI_FILE, FI_DIR, FI_SYMLINK, FI_HARDLINK, FI_OTHER };

struct fi_entry {
	struct fi_entry *next;
	uint64_t hash;
	char *path;
	char *link;      /* symlink or hardlink target, else NULL */
	uint64_t seq;    /* the layer entry that wrote it */
	unsigned layer;  /* position of that layer */
	enum fi_type type;
};

struct fileindex {
	struct fi_entry **buckets;
	size_t nbuckets, count;
};

void fileindex_init(struct fileindex *fi);
void fileindex_free(struct fileindex *fi);
struct fi_entry *fileindex_get(const struct fileindex *fi, const char *path);
/* Insert or replace path; returns the entry (link copied). Can't fail. */
struct fi_entry *fileindex_put(struct fileindex *fi, const char *path, enum fi_type type,
			       const char *link, uint64_t seq, unsigned layer);
/* Remove path and, when `children`, everything below it; `self` false keeps path itself. */
void fileindex_remove(struct fileindex *fi, const char *path, int self, int children);
/*
 * Resolve symlinks in path as the image's root would (absolute targets are
 * relative to the image root, ".." never climbs above it; at most 40 links).
 * Writes the final path into out (size n). Returns the entry, or NULL when
 * nothing exists there.
 */
struct fi_entry *fileindex_resolve(const struct fileindex *fi, const char *path, char *out,
				   size_t n);

#endif
