/* SPDX-License-Identifier: Apache-2.0 */
/* libarchive, opened on first use (common/lazylib.h): call libarchive_load() first. */
#ifndef VIGIL_SCAN_LIBARCHIVE_H
#define VIGIL_SCAN_LIBARCHIVE_H

#include <archive.h>
#include <archive_entry.h>
#include "common/lazylib.h"

#define LIBARCHIVE_FUNCS(X)                                                                          \
	X(archive_read_new) X(archive_read_free) X(archive_read_open) X(archive_read_open_filename)     \
	X(archive_read_open_memory) X(archive_read_next_header) X(archive_read_data)                    \
	X(archive_read_support_filter_bzip2) X(archive_read_support_filter_gzip)                        \
	X(archive_read_support_filter_xz) X(archive_read_support_filter_zstd)                           \
	X(archive_read_support_format_empty) X(archive_read_support_format_tar)                         \
	X(archive_read_support_format_zip) X(archive_filter_code) X(archive_error_string)               \
	X(archive_set_error) X(archive_entry_filetype) X(archive_entry_hardlink) X(archive_entry_pathname) \
	X(archive_entry_size) X(archive_entry_symlink)

LAZYLIB_TABLE(libarchive, LIBARCHIVE_FUNCS)

#define archive_read_new libarchive.archive_read_new
#define archive_read_free libarchive.archive_read_free
#define archive_read_open libarchive.archive_read_open
#define archive_read_open_filename libarchive.archive_read_open_filename
#define archive_read_open_memory libarchive.archive_read_open_memory
#define archive_read_next_header libarchive.archive_read_next_header
#define archive_read_data libarchive.archive_read_data
#define archive_read_support_filter_bzip2 libarchive.archive_read_support_filter_bzip2
#define archive_read_support_filter_gzip libarchive.archive_read_support_filter_gzip
#define archive_read_support_filter_xz libarchive.archive_read_support_filter_xz
#define archive_read_support_filter_zstd libarchive.archive_read_support_filter_zstd
#define archive_read_support_format_empty libarchive.archive_read_support_format_empty
#define archive_read_support_format_tar libarchive.archive_read_support_format_tar
#define archive_read_support_format_zip libarchive.archive_read_support_format_zip
#define archive_filter_code libarchive.archive_filter_code
#define archive_error_string libarchive.archive_error_string
#define archive_set_error libarchive.archive_set_error
#define archive_entry_filetype libarchive.archive_entry_filetype
#define archive_entry_hardlink libarchive.archive_entry_hardlink
#define archive_entry_pathname libarchive.archive_entry_pathname
#define archive_entry_size libarchive.archive_entry_size
#define archive_entry_symlink libarchive.archive_entry_symlink

#endif
