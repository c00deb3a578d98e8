/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Text helpers the catalogers share: line iteration over untrusted bytes,
 * path tests, and the paragraph ("stanza") reader of dpkg's and apk's
 * databases. A leaf: it knows no cataloger, so every cataloger can include it.
 */
#ifndef VIGIL_SCAN_CAT_TEXT_H
#define VIGIL_SCAN_CAT_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include "common/hmap.h"
#include "scan/scan.h"

/*
 * *pos advances past the next line of data (len bytes, not NUL-terminated);
 * *line and *llen get it without its '\n', a trailing '\r' trimmed. Returns 0 at
 * the end. Never reads outside [data, data+len).
 */
int cat_text_line(const char *data, size_t len, size_t *pos, const char **line, size_t *llen);

/* A copy of the n bytes at s without leading and trailing blanks (spaces, tabs). */
char *cat_text_trimdup(const char *s, size_t n);
/* Whether s ends with suffix. */
bool cat_text_ends_with(const char *s, const char *suffix);
/* Whether s ends with suffix, ASCII letters in any case. */
bool cat_text_ends_with_ci(const char *s, const char *suffix);
/* The last component of path. */
const char *cat_text_base(const char *path);

/*
 * Paragraphs of fields separated by blank lines, as dpkg's status file (deb822:
 * "Name: value", values trimmed, continuation lines and comments skipped) and
 * apk's installed database ("X:value", one letter, values as they are) keep
 * them.
 */
enum cat_stanza_syntax { CAT_STANZA_DEB822, CAT_STANZA_APK };

/*
 * Called at each paragraph's end (a blank line or the end of the data) with
 * the last value of each of the reader's keys in the paragraph (NULL when
 * absent) and the paragraph's first field line (0 when it had none). The
 * reader frees the values afterwards; emit may steal one by setting it NULL.
 */
typedef void (*cat_stanza_fn)(char **values, size_t line, const char *path, struct scan_result *r);

/*
 * Reads data as paragraphs and calls emit for each; keys are the field names
 * wanted (nkeys of them, at most 8; one letter each for CAT_STANZA_APK). The
 * first line that is not a field gets one warning naming path and line.
 * Can't fail.
 */
void cat_text_stanzas(enum cat_stanza_syntax syntax, const char *const *keys, size_t nkeys,
		     cat_stanza_fn emit, const char *data, size_t len, const char *path,
		     struct scan_result *r);

#define CAT_STANZA_KEYS_MAX 8

/*
 * A set of strings (the name@version pairs a lock file already gave, the
 * nodes of a dependency graph already visited). Zero-initialised is empty.
 */
struct cat_set {
	struct hmap m;
	bool init;
};
/* Adds s (copied); true when it was not there yet. */
bool cat_set_add(struct cat_set *set, const char *s);
bool cat_set_has(const struct cat_set *set, const char *s);
void cat_set_free(struct cat_set *set);

#endif
