/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The service map: the flow rollups of a time range (output/flow_rollup.h) as a
 * graph, written as Graphviz DOT or as SVG laid out here (docs/service-map.md
 * says why no external program draws it). Nodes are workloads (containers by
 * name, Kubernetes namespace/pod, or "host") and external peers (by the DNS
 * name the workload resolved, else by address); an edge goes from the side
 * that connected to the side that accepted, labelled protocol/port, volume
 * and connections. A flow between two workloads of this node is reported by
 * both; the edge takes the larger of the two views, not their sum.
 *
 * Every label may come from an attacker (a DNS answer, a container name): the
 * writers escape for their format, replace control characters and invalid
 * UTF-8, and never let a label end a string or an element.
 *
 * Bounded: at most FLOW_GRAPH_MAX_NODES nodes (further external peers are
 * folded into one "other peers" node) and FLOW_GRAPH_MAX_EDGES edges (further
 * ones are counted, and said in the graph's caption).
 */
#ifndef VIGIL_FLOW_GRAPH_H
#define VIGIL_FLOW_GRAPH_H

#include <stddef.h>
#include <stdint.h>
#include "common/buf.h"
#include "output/flow_rollup.h"

#define FLOW_GRAPH_MAX_NODES 400
#define FLOW_GRAPH_MAX_EDGES 2000

struct flow_graph;

struct flow_graph *flow_graph_new(void); /* can't fail */
void flow_graph_free(struct flow_graph *g); /* NULL is fine */
/* Add one rollup row (the strings are copied). Can't fail. */
void flow_graph_add(struct flow_graph *g, const struct flow_row *row);
/* caption: a line under the title (e.g. the time range), may be NULL */
void flow_graph_dot(struct flow_graph *g, const char *caption, struct vg_buf *out);
void flow_graph_svg(struct flow_graph *g, const char *caption, struct vg_buf *out);

/*
 * Append s to out as safe text: valid UTF-8 and printable characters kept,
 * control characters (C0, DEL, C1) and invalid UTF-8 bytes as '?', at most
 * max bytes of s (0: no limit; a longer text ends in "..."). Can't fail.
 */
void flow_graph_clean(struct vg_buf *out, const char *s, size_t max);
/* "512 B", "1.5 KiB", "3.2 MiB", ... into out. */
void flow_graph_bytes(uint64_t n, char *out, size_t len);

#endif
