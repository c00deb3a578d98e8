/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The layer walk: every image source feeds its layers' entries here, one
 * layer (blob) at a time and in any order; walk_finish() applies them in
 * image order. Nothing is written to disk: file contents stream through the
 * catalogers and the secret rules as they are read.
 */
#ifndef VIGIL_SCAN_WALK_H
#define VIGIL_SCAN_WALK_H

#include <sys/types.h>
#include "scan/scan.h"
#include "scan/sources/fileindex.h"

/*
 * Reads up to n bytes of the current entry into buf; 0 at its end, -1 on error
 * (message in err). With buf NULL it skips up to n bytes instead and returns
 * how many it skipped.
 */
typedef ssize_t (*walk_read_fn)(void *ctx, void *buf, size_t n, struct vg_buf *err);

struct walk_op;
struct walk_kept;
struct secrets;

struct walk {
	struct scan_result *r;
	const struct scan_opts *o;
	struct walk_op **ops;   /* per blob: operations in entry order */
	size_t *nops, *capops;
	size_t nblobs;
	size_t blob;            /* the blob being read */
	uint64_t seq, entries, layer_bytes;
	struct walk_kept *kept; /* small files needed after the merge (OS detection) */
	size_t nkept, capkept;
	struct fileindex index; /* valid after walk_finish */
	struct secrets *secrets;
	struct vg_buf content;  /* scratch: the current file */
	struct vg_buf gohold;   /* scratch: a Go binary up to its data segments' end */
	struct vg_buf audhold;  /* scratch: an ELF file's non-loaded tail (cargo-auditable) */
	bool rootfs;            /* a directory: no layer-size limit (no decompression bomb) */
};

void walk_init(struct walk *w, struct scan_result *r, const struct scan_opts *o, size_t nblobs);
void walk_free(struct walk *w);
/* Start reading blob `blob` (an index into r->layers when each blob is one layer). */
void walk_begin_blob(struct walk *w, size_t blob);

enum walk_type { WALK_FILE, WALK_DIR, WALK_SYMLINK, WALK_HARDLINK, WALK_OTHER };

/*
 * One entry of the current blob. raw is the path as stored in the layer;
 * size the declared size of a regular file; link the symlink/hardlink target.
 * read/ctx give the file's contents (regular files only). Returns 0, or -1
 * with a message naming the entry in err (the caller adds the layer).
 */
int walk_entry(struct walk *w, const char *raw, enum walk_type type, uint64_t size,
	       const char *link, walk_read_fn read, void *ctx, struct vg_buf *err);

/*
 * Apply blobs in the order given (order[i] = blob of layer position i),
 * whiteouts first in each layer, then its entries; then keep only packages
 * and findings whose file survives, detect the OS and fill ecosystems and
 * purls. Can't fail (problems become warnings).
 */
void walk_finish(struct walk *w, const size_t *order, size_t n);

#endif
