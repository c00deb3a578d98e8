/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small XML reader for the manifests catalogers read (Maven pom.xml): it
 * builds a tree of elements with their text; attributes, comments,
 * processing instructions and the DOCTYPE are skipped, CDATA is text, the
 * five predefined entities and character references are decoded. No
 * external entities, no DTD processing: nothing is fetched or expanded.
 * Bounded: at most 256 levels and 1M elements.
 */
#ifndef VIGIL_SCAN_CAT_XML_H
#define VIGIL_SCAN_CAT_XML_H

#include <stddef.h>

struct xml_node {
	char *name;  /* local name: any "prefix:" removed */
	char *text;  /* the element's own text, trimmed; "" when none */
	struct xml_node *parent, *kids, *last, *next;
};

/*
 * Parse len bytes (not NUL-terminated). Returns the root element, owned by
 * the caller (xml_free), or NULL with "LINE:COL: reason" in err (size n).
 */
struct xml_node *xml_parse(const char *data, size_t len, char *err, size_t n);
void xml_free(struct xml_node *root);
/* The first child of parent named name, or NULL. */
const struct xml_node *xml_child(const struct xml_node *parent, const char *name);
/* The text of parent's first child named name, or NULL. */
const char *xml_child_text(const struct xml_node *parent, const char *name);

#endif
