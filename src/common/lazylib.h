/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared libraries opened on first use instead of at start.
 *
 * libcurl (registry pulls), libarchive (image layers, jars, database
 * archives) and libmicrohttpd (the admission server) each bring dozens of
 * libraries whose relocations every vigil process would otherwise pay at
 * start, about 8 ms of CPU: a tenth of a replay, and most of a short command.
 * Only the commands that use them load them.
 *
 * Each library has a small header (src/common/libcurl.h, src/common/libssl.h,
 * src/scan/libarchive.h, src/common/libmhd.h) that includes the library's own header, declares a
 * table of the functions Vigil calls with their exact types, and maps each
 * name to its table entry, so call sites read as ordinary calls. A module
 * calls the header's *_load() before its first call into the library.
 */
#ifndef VIGIL_LAZYLIB_H
#define VIGIL_LAZYLIB_H

#include <stddef.h>

struct lazylib {
	const char *soname;        /* "libcurl.so.4" */
	const char *package;       /* the Debian package that provides it, for the error */
	const char *const *names;  /* the functions to resolve, in table order */
	size_t n;
	void *table;               /* n function pointers, filled in order */
	int state;                 /* 0 not tried, 1 loaded, -1 failed (not retried) */
	char err[256];             /* why it failed */
};

/*
 * Open the library and resolve every name, once (thread-safe). Returns NULL,
 * or what is missing ("cannot load libcurl.so.4: ...") for the caller to
 * report its own way; a failure is remembered and returned again.
 */
const char *lazylib_load(struct lazylib *lib);

/*
 * The pieces each library's header repeats. FUNCS is an X-macro listing the
 * functions; LAZYLIB_TABLE declares the table of pointers with each
 * function's exact type (before the names are mapped to it);
 * LAZYLIB_DEFINE (in one .c file) defines the table and its loader.
 */
#define LAZYLIB_MEMBER(f) __typeof__(&f) f;
#define LAZYLIB_NAME(f) #f,
#define LAZYLIB_TABLE(tag, FUNCS) \
	struct tag {              \
		FUNCS(LAZYLIB_MEMBER) \
	};                        \
	extern struct tag tag;    \
	const char *tag##_load(void);
#define LAZYLIB_DEFINE(tag, FUNCS, soname_, package_)                                            \
	struct tag tag;                                                                           \
	static const char *const tag##_names[] = { FUNCS(LAZYLIB_NAME) };                        \
	_Static_assert(sizeof(struct tag) == sizeof(tag##_names), "one pointer per name");       \
	static struct lazylib tag##_lib = { .soname = soname_, .package = package_,              \
					    .names = tag##_names,                                 \
					    .n = sizeof(tag##_names) / sizeof(tag##_names[0]),   \
					    .table = &tag };                                      \
	const char *tag##_load(void)                                                              \
	{                                                                                         \
		return lazylib_load(&tag##_lib);                                                  \
	}

#endif
