/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SVG layout is a small layered drawing, Sugiyama's scheme cut to what a
 * service map needs: back edges found by a depth-first search are left out of the
 * layering, each node's layer is its longest path from a source (clients left,
 * servers and external peers right), nodes in a layer are ordered by the
 * barycentre of their neighbours in the layers already placed (four sweeps
 * down and four up), an edge across several layers passing through a dummy
 * slot in each layer between (so it is routed around the nodes there), laid
 * out in columns; edges are cubic curves from a node's right side to the next
 * column, straight across a column they cross (edges that go back or stay
 * within a layer bend below; edges between the same two nodes fan out). At worst O(nodes x edges) steps: a few million at
 * the bounds (docs/service-map.md has the measurements against Graphviz).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "output/flow_graph.h"

/* NODE_DUMMY: a point a long edge passes through in a layer it crosses (SVG layout only) */
enum node_kind { NODE_HOST, NODE_WORKLOAD, NODE_EXTERNAL, NODE_OTHER, NODE_DUMMY };

struct node {
	char *key;
	char *label1, *label2; /* raw (unescaped) lines; label2 may be NULL */
	enum node_kind kind;
	int layer, order;
	double x, y, w, h, bary;
	/* DFS state for finding back edges */
	int state;
};

struct edge {
	int src, dst;
	char proto[8];
	unsigned port;
	uint64_t bytes[2], conns[2]; /* [0] as the connecting side saw it, [1] as the accepting side */
	bool back;
	int via, nvia; /* SVG layout: the dummy nodes [via, via + nvia) it passes through */
	int par;       /* SVG layout: its index among the edges between the same two nodes */
};

struct flow_graph {
	struct node *nodes;
	size_t nnodes;
	struct edge *edges;
	size_t nedges;
	uint64_t dropped_edges;
	uint64_t folded_peers;
	int other; /* index of the "other peers" node, or -1 */
	size_t nreal; /* SVG layout: nodes before the dummies */
};

struct flow_graph *flow_graph_new(void)
{
	struct flow_graph *g = xcalloc(1, sizeof(*g));
	g->other = -1;
	return g;
}

void flow_graph_free(struct flow_graph *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->nnodes; i++) {
		free(g->nodes[i].key);
		free(g->nodes[i].label1);
		free(g->nodes[i].label2);
	}
	free(g->nodes);
	free(g->edges);
	free(g);
}

/* ---- text ---- */

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid or a
 * character XML or a terminal must not get (C1 controls, surrogates, U+FFFE/F). */
static size_t utf8_ok(const unsigned char *s, size_t n)
{
	uint32_t c;
	size_t len;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff) || c == 0xfffe || c == 0xffff || (c >= 0x80 && c <= 0x9f))
		return 0;
	return len;
}

void flow_graph_clean(struct vg_buf *out, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p), used = 0;
	while (*p) {
		size_t k = *p < 0x20 || *p == 0x7f ? 0 : utf8_ok(p, n);
		size_t step = k ? k : 1;
		if (max && used + step > max) {
			buf_adds(out, "...");
			return;
		}
		if (k)
			buf_add(out, p, k);
		else
			buf_addc(out, '?');
		used += step;
		p += step;
		n -= step;
	}
}

void flow_graph_bytes(uint64_t n, char *out, size_t len)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	if (n < 1024) {
		snprintf(out, len, "%llu B", (unsigned long long)n);
		return;
	}
	double v = (double)n / 1024;
	size_t u = 0;
	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	snprintf(out, len, v < 10 ? "%.1f %s" : "%.0f %s", v, units[u]);
}

/* s cleaned, then escaped for a DOT double-quoted string */
static void dot_esc(struct vg_buf *out, const char *s, size_t max)
{
	struct vg_buf c = { 0 };
	flow_graph_clean(&c, s, max);
	for (size_t i = 0; i < c.len; i++) {
		if (c.data[i] == '"' || c.data[i] == '\\')
			buf_addc(out, '\\');
		buf_addc(out, c.data[i]);
	}
	buf_free(&c);
}

/* s cleaned, then escaped for XML text and attribute values */
static void xml_esc(struct vg_buf *out, const char *s, size_t max)
{
	struct vg_buf c = { 0 };
	flow_graph_clean(&c, s, max);
	for (size_t i = 0; i < c.len; i++) {
		switch (c.data[i]) {
		case '&': buf_adds(out, "&amp;"); break;
		case '<': buf_adds(out, "&lt;"); break;
		case '>': buf_adds(out, "&gt;"); break;
		case '"': buf_adds(out, "&quot;"); break;
		case '\'': buf_adds(out, "&#39;"); break;
		default: buf_addc(out, c.data[i]);
		}
	}
	buf_free(&c);
}

/* ---- building ---- */

static int node_find(struct flow_graph *g, const char *key)
{
	for (size_t i = 0; i < g->nnodes; i++)
		if (!strcmp(g->nodes[i].key, key))
			return (int)i;
	return -1;
}

static int node_add(struct flow_graph *g, const char *key, enum node_kind kind, const char *l1, const char *l2)
{
	int i = node_find(g, key);
	if (i >= 0) {
		/* a name learnt later (metadata) improves a bare id */
		struct node *n = &g->nodes[i];
		if (l2 && !n->label2)
			n->label2 = xstrdup(l2);
		return i;
	}
	if (g->nnodes >= FLOW_GRAPH_MAX_NODES - 1 && kind != NODE_OTHER) {
		/* the last slot is for the node the others fold into */
		g->folded_peers++;
		if (g->other < 0)
			g->other = node_add(g, "other:", NODE_OTHER, "other peers", NULL);
		return g->other;
	}
	g->nodes = xgrow(g->nodes, g->nnodes, sizeof(*g->nodes));
	struct node *n = &g->nodes[g->nnodes];
	memset(n, 0, sizeof(*n));
	n->key = xstrdup(key);
	n->kind = kind;
	n->label1 = xstrdup(l1);
	n->label2 = l2 ? xstrdup(l2) : NULL;
	return (int)g->nnodes++;
}

static int workload_node(struct flow_graph *g, const char *id, const char *name, const char *ns, const char *pod)
{
	char key[96], l1[16], l2[512];
	if (!id || !*id)
		return node_add(g, "host", NODE_HOST, "host", NULL);
	snprintf(key, sizeof(key), "c:%s", id);
	snprintf(l1, sizeof(l1), "%.12s", id);
	l2[0] = 0;
	if (ns || pod)
		snprintf(l2, sizeof(l2), "%s/%s", ns ? ns : "", pod ? pod : "");
	return node_add(g, key, NODE_WORKLOAD, name && *name ? name : l1, l2[0] ? l2 : NULL);
}

void flow_graph_add(struct flow_graph *g, const struct flow_row *r)
{
	int self = workload_node(g, r->container_id, r->container_name, r->k8s_namespace, r->k8s_pod);
	int peer;
	if (r->peer_container_id && *r->peer_container_id) {
		peer = workload_node(g, r->peer_container_id, r->peer_container_name, r->peer_k8s_namespace,
				     r->peer_k8s_pod);
	} else {
		struct vg_buf key = { 0 };
		bool named = r->peer_name && *r->peer_name;
		buf_printf(&key, "%s%s", named ? "n:" : "a:", named ? r->peer_name : r->peer_addr);
		peer = node_add(g, key.data, NODE_EXTERNAL, named ? r->peer_name : r->peer_addr, NULL);
		buf_free(&key);
	}
	bool inbound = r->direction && !strcmp(r->direction, "in");
	int src = inbound ? peer : self, dst = inbound ? self : peer, view = inbound ? 1 : 0;
	struct edge *e = NULL;
	for (size_t i = 0; i < g->nedges && !e; i++) {
		struct edge *x = &g->edges[i];
		if (x->src == src && x->dst == dst && x->port == r->port && !strcmp(x->proto, r->proto))
			e = x;
	}
	if (!e) {
		if (g->nedges >= FLOW_GRAPH_MAX_EDGES) {
			g->dropped_edges++;
			return;
		}
		g->edges = xgrow(g->edges, g->nedges, sizeof(*g->edges));
		e = &g->edges[g->nedges++];
		memset(e, 0, sizeof(*e));
		e->src = src;
		e->dst = dst;
		snprintf(e->proto, sizeof(e->proto), "%s", r->proto);
		e->port = r->port;
	}
	e->bytes[view] += r->bytes_in + r->bytes_out;
	e->conns[view] += r->connections;
}

static uint64_t edge_bytes(const struct edge *e)
{
	return e->bytes[0] > e->bytes[1] ? e->bytes[0] : e->bytes[1];
}

static uint64_t edge_conns(const struct edge *e)
{
	return e->conns[0] > e->conns[1] ? e->conns[0] : e->conns[1];
}

static void edge_label(const struct edge *e, char *out, size_t len)
{
	char vol[32];
	flow_graph_bytes(edge_bytes(e), vol, sizeof(vol));
	uint64_t c = edge_conns(e);
	snprintf(out, len, "%s/%u, %s, %llu conn%s", e->proto, e->port, vol, (unsigned long long)c, c == 1 ? "" : "s");
}

static void caption_text(struct flow_graph *g, const char *caption, struct vg_buf *b)
{
	if (caption)
		buf_adds(b, caption);
	if (g->folded_peers)
		buf_printf(b, "%s%llu rows folded into 'other peers'", b->len ? "; " : "",
			   (unsigned long long)g->folded_peers);
	if (g->dropped_edges)
		buf_printf(b, "%s%llu edges left out (more than %d)", b->len ? "; " : "",
			   (unsigned long long)g->dropped_edges, FLOW_GRAPH_MAX_EDGES);
}

/* ---- DOT ---- */

static const char *const fill[] = { "#fde2c8", "#dbe9f6", "#eeeeee", "#f5f5f5" };

void flow_graph_dot(struct flow_graph *g, const char *caption, struct vg_buf *out)
{
	struct vg_buf cap = { 0 };
	caption_text(g, caption, &cap);
	buf_adds(out, "digraph vigil_flows {\n\trankdir=LR;\n\tnode [fontname=\"Helvetica\", fontsize=10];\n"
		      "\tedge [fontname=\"Helvetica\", fontsize=9];\n");
	if (cap.len) {
		buf_adds(out, "\tlabel=\"");
		dot_esc(out, cap.data, 0);
		buf_adds(out, "\";\n\tlabelloc=t;\n");
	}
	for (size_t i = 0; i < g->nnodes; i++) {
		const struct node *n = &g->nodes[i];
		buf_printf(out, "\tn%zu [label=\"", i);
		dot_esc(out, n->label1, 0);
		if (n->label2) {
			buf_adds(out, "\\n");
			dot_esc(out, n->label2, 0);
		}
		buf_printf(out, "\", shape=%s, style=filled, fillcolor=\"%s\"];\n",
			   n->kind == NODE_EXTERNAL || n->kind == NODE_OTHER ? "ellipse" : "box", fill[n->kind]);
	}
	for (size_t i = 0; i < g->nedges; i++) {
		const struct edge *e = &g->edges[i];
		char label[96];
		edge_label(e, label, sizeof(label));
		buf_printf(out, "\tn%d -> n%d [label=\"", e->src, e->dst);
		dot_esc(out, label, 0);
		buf_adds(out, "\"];\n");
	}
	buf_adds(out, "}\n");
	buf_free(&cap);
}

/* ---- SVG ---- */

#define CHAR_W 7.2    /* monospace 12px */
#define LABEL_MAX 48  /* bytes of a label line drawn (the full text is in the node's title) */
#define NODE_H1 28.0
#define NODE_H2 42.0
#define ROW_GAP 22.0
#define COL_GAP 190.0
#define MARGIN 20.0
#define DUMMY_H 8.0
#define MAX_DUMMIES 4000

static size_t text_cols(const char *s, size_t max)
{
	struct vg_buf c = { 0 };
	flow_graph_clean(&c, s, max);
	size_t n = 0;
	for (size_t i = 0; i < c.len; i++)
		n += ((unsigned char)c.data[i] & 0xc0) != 0x80; /* one column per character */
	buf_free(&c);
	return n;
}

/* Mark back edges by an iterative DFS (so that a deep graph cannot exhaust the stack). */
static void find_back_edges(struct flow_graph *g)
{
	size_t n = g->nnodes;
	int *stack = xcalloc(n + 1, sizeof(int));
	size_t *next_edge = xcalloc(n + 1, sizeof(size_t));
	for (size_t i = 0; i < n; i++)
		g->nodes[i].state = 0;
	for (size_t root = 0; root < n; root++) {
		if (g->nodes[root].state)
			continue;
		size_t sp = 0;
		stack[sp++] = (int)root;
		g->nodes[root].state = 1;
		next_edge[root] = 0;
		while (sp) {
			int v = stack[sp - 1];
			size_t *k = &next_edge[v];
			while (*k < g->nedges && g->edges[*k].src != v)
				(*k)++;
			if (*k == g->nedges) {
				g->nodes[v].state = 2;
				sp--;
				continue;
			}
			struct edge *e = &g->edges[(*k)++];
			int w = e->dst;
			if (g->nodes[w].state == 1) {
				e->back = true; /* to a node on the path: a cycle (or a self loop) */
			} else if (g->nodes[w].state == 0) {
				g->nodes[w].state = 1;
				next_edge[w] = 0;
				stack[sp++] = w;
			}
		}
	}
	free(stack);
	free(next_edge);
}

static int cmp_order(const void *a, const void *b, void *ctx)
{
	const struct node *nodes = ctx;
	const struct node *x = &nodes[*(const int *)a], *y = &nodes[*(const int *)b];
	if (x->layer != y->layer)
		return x->layer - y->layer;
	if (x->bary != y->bary)
		return x->bary < y->bary ? -1 : 1;
	return strcmp(x->key, y->key);
}

static void layout(struct flow_graph *g, double *width, double *height)
{
	size_t n = g->nnodes;
	find_back_edges(g);
	/* longest path from a source over the forward edges: relax n times at most (a DAG) */
	for (size_t i = 0; i < n; i++)
		g->nodes[i].layer = 0;
	for (size_t round = 0; round < n; round++) {
		bool changed = false;
		for (size_t i = 0; i < g->nedges; i++) {
			const struct edge *e = &g->edges[i];
			if (e->back || e->src == e->dst)
				continue;
			if (g->nodes[e->dst].layer < g->nodes[e->src].layer + 1) {
				g->nodes[e->dst].layer = g->nodes[e->src].layer + 1;
				changed = true;
			}
		}
		if (!changed)
			break;
	}
	/* an edge across several layers passes through a dummy node in each layer between,
	 * which takes a slot there, so that it is routed around the nodes (at most
	 * MAX_DUMMIES in all; beyond, edges are drawn straight across) */
	g->nreal = n;
	size_t ndummy = 0;
	for (size_t k = 0; k < g->nedges; k++) {
		struct edge *e = &g->edges[k];
		int from = g->nodes[e->src].layer, to = g->nodes[e->dst].layer;
		e->nvia = 0;
		e->par = 0;
		for (size_t j = 0; j < k; j++)
			if ((g->edges[j].src == e->src && g->edges[j].dst == e->dst) ||
			    (g->edges[j].src == e->dst && g->edges[j].dst == e->src))
				e->par++;
		if (e->back || to - from < 2 || ndummy + (size_t)(to - from - 1) > MAX_DUMMIES)
			continue;
		e->via = (int)g->nnodes;
		for (int l = from + 1; l < to; l++) {
			g->nodes = xgrow(g->nodes, g->nnodes, sizeof(*g->nodes));
			struct node *d = &g->nodes[g->nnodes++];
			memset(d, 0, sizeof(*d));
			d->key = xstrdup("");
			d->label1 = xstrdup("");
			d->kind = NODE_DUMMY;
			d->layer = l;
			e->nvia++;
			ndummy++;
		}
	}
	n = g->nnodes;
	/* order within layers: by key first, then by the barycentre of the neighbours in the
	 * layers already placed, sweeping down (left to right) and up, four times */
	int layers = 0;
	for (size_t i = 0; i < n; i++)
		if (g->nodes[i].layer + 1 > layers)
			layers = g->nodes[i].layer + 1;
	size_t *adj_at = xcalloc(n + 1, sizeof(size_t));
	int *adj = xcalloc(2 * (g->nedges + n) + 1, sizeof(int));
	/* neighbours: along each edge's chain of dummies */
	for (int pass = 0; pass < 2; pass++) {
		size_t *fillp = pass ? xcalloc(n + 1, sizeof(size_t)) : NULL;
		for (size_t k = 0; k < g->nedges; k++) {
			const struct edge *e = &g->edges[k];
			if (e->src == e->dst)
				continue;
			for (int j = 0; j <= e->nvia; j++) {
				int a = j == 0 ? e->src : e->via + j - 1, b = j == e->nvia ? e->dst : e->via + j;
				if (!pass) {
					adj_at[a + 1]++;
					adj_at[b + 1]++;
				} else {
					adj[adj_at[a] + fillp[a]++] = b;
					adj[adj_at[b] + fillp[b]++] = a;
				}
			}
		}
		if (!pass)
			for (size_t i = 0; i < n; i++)
				adj_at[i + 1] += adj_at[i];
		free(fillp);
	}
	int *idx = xcalloc(n + 1, sizeof(int));
	for (size_t i = 0; i < n; i++) {
		idx[i] = (int)i;
		g->nodes[i].bary = 0;
	}
	qsort_r(idx, n, sizeof(int), cmp_order, g->nodes); /* by layer, then key */
	size_t *lay_at = xcalloc((size_t)layers + 1, sizeof(size_t));
	for (size_t i = 0; i < n; i++)
		lay_at[g->nodes[idx[i]].layer + 1]++;
	for (int l = 0; l < layers; l++)
		lay_at[l + 1] += lay_at[l];
	for (size_t i = 0; i < n; i++)
		g->nodes[idx[i]].order = (int)(i - lay_at[g->nodes[idx[i]].layer]);
	for (int pass = 0; pass < 8; pass++) {
		bool down = pass % 2 == 0;
		for (int step = 1; step < layers; step++) {
			int l = down ? step : layers - 1 - step;
			int *cell = idx + lay_at[l];
			size_t cn = lay_at[l + 1] - lay_at[l];
			for (size_t i = 0; i < cn; i++) {
				struct node *v = &g->nodes[cell[i]];
				double sum = 0;
				int cnt = 0;
				for (size_t a = adj_at[cell[i]]; a < adj_at[cell[i] + 1]; a++) {
					const struct node *u = &g->nodes[adj[a]];
					if (down ? u->layer < l : u->layer > l) {
						sum += u->order;
						cnt++;
					}
				}
				v->bary = cnt ? sum / cnt : v->order;
			}
			qsort_r(cell, cn, sizeof(int), cmp_order, g->nodes);
			for (size_t i = 0; i < cn; i++)
				g->nodes[cell[i]].order = (int)i;
		}
	}
	free(adj_at);
	free(adj);
	free(lay_at);
	/* columns: each as wide as its widest node */
	double *colw = xcalloc((size_t)layers + 1, sizeof(double));
	double *coly = xcalloc((size_t)layers + 1, sizeof(double));
	for (size_t i = 0; i < n; i++) {
		struct node *x = &g->nodes[i];
		size_t c1 = text_cols(x->label1, LABEL_MAX), c2 = x->label2 ? text_cols(x->label2, LABEL_MAX) : 0;
		x->w = x->kind == NODE_DUMMY ? 0 : (double)(c1 > c2 ? c1 : c2) * CHAR_W + 24;
		x->h = x->kind == NODE_DUMMY ? DUMMY_H : x->label2 ? NODE_H2 : NODE_H1;
		if (x->w > colw[x->layer])
			colw[x->layer] = x->w;
	}
	double x0 = MARGIN, maxy = 0;
	for (int l = 0; l < layers; l++) {
		for (size_t i = 0; i < n; i++) {
			struct node *x = &g->nodes[idx[i]];
			if (x->layer != l)
				continue;
			if (x->kind == NODE_DUMMY)
				x->w = colw[l]; /* the edge crosses the column level */
			x->x = x0 + (colw[l] - x->w) / 2;
			x->y = MARGIN + 30 + coly[l];
			coly[l] += x->h + ROW_GAP;
			if (x->y + x->h > maxy)
				maxy = x->y + x->h;
		}
		x0 += colw[l] + COL_GAP;
	}
	*width = x0 - COL_GAP + MARGIN;
	*height = maxy + MARGIN + 50; /* room for edges bent below */
	if (*width < 320)
		*width = 320;
	free(colw);
	free(coly);
	free(idx);
}

static void svg_text(struct vg_buf *out, double x, double y, const char *cls, const char *s, size_t max)
{
	buf_printf(out, "<text x=\"%.1f\" y=\"%.1f\" class=\"%s\">", x, y, cls);
	xml_esc(out, s, max);
	buf_adds(out, "</text>\n");
}

void flow_graph_svg(struct flow_graph *g, const char *caption, struct vg_buf *out)
{
	double W = 0, H = 0;
	struct vg_buf cap = { 0 };
	caption_text(g, caption, &cap);
	layout(g, &W, &H);
	uint64_t maxb = 1;
	for (size_t i = 0; i < g->nedges; i++)
		if (edge_bytes(&g->edges[i]) > maxb)
			maxb = edge_bytes(&g->edges[i]);

	buf_printf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">\n",
		   W, H, W, H);
	buf_adds(out, "<title>vigil service map</title>\n"
		      "<style>text{font-family:monospace;font-size:12px}"
		      " .l2{font-size:11px;fill:#444} .el{font-size:10px;fill:#333;paint-order:stroke;stroke:#fff;stroke-width:3px}"
		      " .cap{font-size:12px;fill:#555} path{fill:none;stroke:#667}</style>\n"
		      "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerUnits=\"userSpaceOnUse\" markerWidth=\"9\""
		      " markerHeight=\"9\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" style=\"fill:#667;stroke:none\"/>"
		      "</marker></defs>\n"
		      "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n");
	if (cap.len)
		svg_text(out, MARGIN, MARGIN + 8, "cap", cap.data, 0);
	buf_adds(out, "<g class=\"edges\">\n");
	for (size_t i = 0; i < g->nedges; i++) {
		const struct edge *e = &g->edges[i];
		const struct node *a = &g->nodes[e->src], *b = &g->nodes[e->dst];
		double sw = 1 + 3 * log((double)edge_bytes(e) + 1) / log((double)maxb + 1);
		double x1, y1, x2, y2, lx, ly;
		buf_adds(out, "<g class=\"edge\"><title>");
		xml_esc(out, a->label1, 0);
		buf_adds(out, " -&gt; ");
		xml_esc(out, b->label1, 0);
		char label[96];
		edge_label(e, label, sizeof(label));
		buf_adds(out, ": ");
		xml_esc(out, label, 0);
		buf_adds(out, "</title>");
		double off = e->par * 6.0; /* edges between the same two nodes fan out */
		if (b->layer > a->layer) {
			/* from a's right side through each dummy's column level to b's left side:
			 * curves between columns, straight across a column */
			x1 = a->x + a->w;
			y1 = a->y + a->h / 2 + off;
			buf_printf(out, "<path d=\"M%.1f,%.1f", x1, y1);
			lx = ly = 0;
			for (int j = 0; j <= e->nvia; j++) {
				const struct node *d = j < e->nvia ? &g->nodes[e->via + j] : b;
				x2 = d->x;
				y2 = d->y + d->h / 2 + (j < e->nvia ? 0 : off);
				double dx = (x2 - x1) / 2;
				buf_printf(out, " C%.1f,%.1f %.1f,%.1f %.1f,%.1f", x1 + dx, y1, x2 - dx, y2, x2, y2);
				if (j == 0) {
					lx = (x1 + x2) / 2;
					ly = (y1 + y2) / 2 - 4 + off * 2;
				}
				if (j < e->nvia) {
					buf_printf(out, " L%.1f,%.1f", d->x + d->w, y2);
					x1 = d->x + d->w;
					y1 = y2;
				}
			}
			buf_printf(out, "\" stroke-width=\"%.2f\" marker-end=\"url(#arrow)\"/>", sw);
		} else {
			/* back, same layer or a self loop: bend below both */
			x1 = a->x + a->w / 2;
			y1 = a->y + a->h;
			x2 = b->x + b->w / 2 + (a == b ? 12 : 0);
			y2 = b->y + b->h;
			double yb = (y1 > y2 ? y1 : y2) + 36;
			buf_printf(out, "<path d=\"M%.1f,%.1f C%.1f,%.1f %.1f,%.1f %.1f,%.1f\" stroke-width=\"%.2f\""
					" stroke-dasharray=\"4 3\" marker-end=\"url(#arrow)\"/>",
				   x1, y1, x1, yb, x2, yb, x2, y2, sw);
			lx = (x1 + x2) / 2;
			ly = yb - 6;
		}
		buf_printf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" class=\"el\">", lx, ly);
		xml_esc(out, label, 0);
		buf_adds(out, "</text></g>\n");
	}
	buf_adds(out, "</g>\n<g class=\"nodes\">\n");
	for (size_t i = 0; i < g->nreal; i++) {
		const struct node *n = &g->nodes[i];
		buf_adds(out, "<g class=\"node\"><title>");
		xml_esc(out, n->label1, 0);
		if (n->label2) {
			buf_addc(out, ' ');
			xml_esc(out, n->label2, 0);
		}
		buf_adds(out, "</title>");
		double rx = n->kind == NODE_EXTERNAL || n->kind == NODE_OTHER ? n->h / 2 : 4;
		buf_printf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" rx=\"%.1f\" style=\"fill:%s;stroke:#556\"/>\n",
			   n->x, n->y, n->w, n->h, rx, fill[n->kind]);
		svg_text(out, n->x + 12, n->y + 18, "l1", n->label1, LABEL_MAX);
		if (n->label2)
			svg_text(out, n->x + 12, n->y + 33, "l2", n->label2, LABEL_MAX);
		buf_adds(out, "</g>\n");
	}
	buf_adds(out, "</g>\n</svg>\n");
	buf_free(&cap);
	/* the dummies were the layout's only */
	for (size_t i = g->nreal; i < g->nnodes; i++) {
		free(g->nodes[i].key);
		free(g->nodes[i].label1);
	}
	g->nnodes = g->nreal;
}
