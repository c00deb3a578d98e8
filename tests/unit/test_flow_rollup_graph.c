/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for output/flow_graph.c, the service map drawn from rollup rows:
 * nodes (workloads by name and namespace/pod, the host, external peers by DNS
 * name or address), edges from the connecting side with protocol/port, volume
 * and connections, the two views of a flow inside the node taken once, hostile
 * labels escaped in DOT (a tokenizer checks every string) and SVG, the text
 * cleaner (control characters, invalid UTF-8, truncation), the layered layout
 * (a chain goes left to right, a cycle terminates), and the node bound.
 * The SVG is checked with a real XML parser by tests/integration/test_flows_cli.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "output/flow_graph.h"

#define WEB "5ad505f6c2d4de05faee7fb251e25b27cf04af50103100ef0cc6888c48eeaf99"
#define DBC "0b1c0b1c0b1c0b1c0b1c0b1c0b1c0b1c0b1c0b1c0b1c0b1c0b1c0b1c0b1c0b1c"

static struct flow_row row(const char *cid, const char *cname, const char *dir, const char *proto, unsigned port,
			   const char *addr, const char *pcid, const char *pname, const char *dns, uint64_t bytes)
{
	struct flow_row r = {
		.container_id = cid, .container_name = cname, .direction = dir, .proto = proto, .port = port,
		.peer_addr = addr, .peer_container_id = pcid, .peer_container_name = pname, .peer_name = dns,
		.connections = 1, .bytes_in = bytes / 2, .bytes_out = bytes - bytes / 2,
	};
	return r;
}

/* Every DOT string literal is closed, and inside one a backslash only escapes
 * a quote, a backslash or makes \n. Returns the number of strings. */
static int dot_strings_ok(const char *s)
{
	int n = 0;
	for (const char *p = s; *p; p++) {
		if (*p != '"')
			continue;
		n++;
		for (p++;; p++) {
			assert_true(*p != 0);         /* unterminated */
			assert_true(*p != '\n');      /* a raw newline inside a label */
			assert_true((unsigned char)*p >= 0x20);
			if (*p == '\\') {
				p++;
				assert_true(*p == '"' || *p == '\\' || *p == 'n');
				continue;
			}
			if (*p == '"')
				break;
		}
	}
	return n;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void test_nodes_edges_dot(void **state)
{
	(void)state;
	struct flow_graph *g = flow_graph_new();
	struct flow_row r;
	r = row(WEB, "web", "out", "tcp", 443, "93.184.216.34", "", NULL, "api.example.com", 1000);
	r.k8s_namespace = "shop";
	r.k8s_pod = "web-1";
	flow_graph_add(g, &r);
	/* the same name from another address: one node */
	r = row(WEB, "web", "out", "tcp", 443, "93.184.216.35", "", NULL, "api.example.com", 24);
	flow_graph_add(g, &r);
	/* web -> db seen from both sides: 4096 bytes each view; the edge says 4.0 KiB, not 8 */
	r = row(WEB, "web", "out", "tcp", 5432, "10.88.0.3", DBC, "db", "", 4096);
	flow_graph_add(g, &r);
	r = row(DBC, "db", "in", "tcp", 5432, "10.88.0.2", WEB, "web", "", 4096);
	flow_graph_add(g, &r);
	/* the host's DNS over UDP to an unnamed address; a client from outside into db */
	r = row("", NULL, "out", "udp", 53, "1.1.1.1", "", NULL, "", 10);
	flow_graph_add(g, &r);
	r = row(DBC, "db", "in", "tcp", 5432, "203.0.113.9", "", NULL, "", 5);
	flow_graph_add(g, &r);

	struct vg_buf b = { 0 };
	flow_graph_dot(g, "flows from A to B", &b);
	assert_true(dot_strings_ok(b.data) > 10);
	assert_non_null(strstr(b.data, "digraph vigil_flows {"));
	assert_non_null(strstr(b.data, "label=\"flows from A to B\""));
	assert_int_equal(count(b.data, " [label="), 6 + 4); /* web, api, db, host, 1.1.1.1, 203.0.113.9; 4 edges */
	assert_non_null(strstr(b.data, "label=\"web\\nshop/web-1\", shape=box"));
	assert_non_null(strstr(b.data, "label=\"api.example.com\", shape=ellipse"));
	assert_non_null(strstr(b.data, "label=\"host\", shape=box"));
	assert_non_null(strstr(b.data, "label=\"1.1.1.1\", shape=ellipse"));
	/* edges: web -> api (one, both addresses), web -> db, host -> 1.1.1.1, 203.0.113.9 -> db */
	assert_int_equal(count(b.data, " -> "), 4);
	assert_non_null(strstr(b.data, "n0 -> n1 [label=\"tcp/443, 1.0 KiB, 2 conns\"]"));
	assert_non_null(strstr(b.data, "n0 -> n2 [label=\"tcp/5432, 4.0 KiB, 1 conn\"]"));
	assert_non_null(strstr(b.data, "n3 -> n4 [label=\"udp/53, 10 B, 1 conn\"]"));
	assert_non_null(strstr(b.data, "n5 -> n2 [label=\"tcp/5432, 5 B, 1 conn\"]"));
	buf_free(&b);
	flow_graph_free(g);
}

static const char *const hostile[] = {
	"\"];evil [label=\"x",
	"a\\\"b\\",
	"<script>alert(1)</script>&amp;",
	"line\nbreak\r\tand\x1b[31mred\x7f",
	"bad\xff\xfe utf8 \xc0\xaf \xed\xa0\x80 end",
	("c1\xc2\x85" "control"),
	"]]></text><x>",
	"\\N\\G\\E\\L",
};

static void test_hostile_labels(void **state)
{
	(void)state;
	struct flow_graph *g = flow_graph_new();
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		struct flow_row r = row(WEB, hostile[i], "out", "tcp", 80, "10.9.9.9", "", NULL, hostile[i], 1);
		r.k8s_namespace = hostile[i];
		char cid[65];
		snprintf(cid, sizeof(cid), "%064zx", i + 1);
		r.container_id = cid;
		flow_graph_add(g, &r);
	}
	struct vg_buf b = { 0 };
	flow_graph_dot(g, hostile[0], &b);
	dot_strings_ok(b.data);
	assert_int_equal(count(b.data, "\n"), 4 + 2 + 2 * 8 + 8 + 1); /* header, caption, 2 nodes and an edge per row, } */
	assert_null(memchr(b.data, '\x1b', b.len));
	assert_null(strstr(b.data, "\xff"));
	assert_non_null(strstr(b.data, "\\\"];evil [label=\\\"x"));
	assert_non_null(strstr(b.data, "\\\\N\\\\G"));
	buf_free(&b);

	flow_graph_svg(g, hostile[2], &b);
	assert_null(strstr(b.data, "<script"));
	assert_null(strstr(b.data, "<x>"));
	assert_null(strstr(b.data, "]]>"));
	assert_null(memchr(b.data, '\x1b', b.len));
	assert_null(memchr(b.data, '\r', b.len));
	assert_null(strstr(b.data, "\xff"));
	assert_null(strstr(b.data, "\xc2\x85"));
	assert_non_null(strstr(b.data, "&lt;script&gt;alert(1)&lt;/script&gt;&amp;amp;"));
	assert_non_null(strstr(b.data, "&quot;];evil [label=&quot;x"));
	/* every element of the SVG is one we write */
	for (const char *p = b.data; (p = strchr(p, '<')); p++) {
		static const char *const ok[] = { "<?xml", "<svg", "</svg", "<title", "</title", "<style", "</style",
						  "<defs", "</defs", "<marker", "</marker", "<path", "<rect", "<text",
						  "</text", "<g", "</g" };
		bool known = false;
		for (size_t k = 0; k < sizeof(ok) / sizeof(ok[0]) && !known; k++)
			known = !strncmp(p, ok[k], strlen(ok[k]));
		if (!known)
			fail_msg("unexpected element at: %.40s", p);
	}
	buf_free(&b);
	flow_graph_free(g);
}

static void test_clean_and_bytes(void **state)
{
	(void)state;
	struct vg_buf b = { 0 };
	flow_graph_clean(&b, "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x90\xb3", 0);
	assert_string_equal(b.data, "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x90\xb3");
	buf_reset(&b);
	flow_graph_clean(&b, "a\x01" "b\x7f" "c\xc3" "d\xe0\x80\x80" "e\xef\xbf\xbe" "f", 0);
	assert_string_equal(b.data, "a?b?c?d???e???f");
	buf_reset(&b);
	flow_graph_clean(&b, "abcdefghij", 4);
	assert_string_equal(b.data, "abcd...");
	buf_reset(&b);
	flow_graph_clean(&b, "ab\xc3\xa9", 3); /* a character is never cut */
	assert_string_equal(b.data, "ab...");
	buf_free(&b);

	char s[32];
	flow_graph_bytes(0, s, sizeof(s));
	assert_string_equal(s, "0 B");
	flow_graph_bytes(1023, s, sizeof(s));
	assert_string_equal(s, "1023 B");
	flow_graph_bytes(1536, s, sizeof(s));
	assert_string_equal(s, "1.5 KiB");
	flow_graph_bytes(300ull << 20, s, sizeof(s));
	assert_string_equal(s, "300 MiB");
	flow_graph_bytes(5ull << 40, s, sizeof(s));
	assert_string_equal(s, "5.0 TiB");
}

/* x of the n-th node rectangle of the SVG (nodes are written in the order they were added) */
static double node_x(const char *svg, int n)
{
	const char *p = strstr(svg, "<g class=\"nodes\">");
	assert_non_null(p);
	for (int i = 0; i <= n; i++) {
		p = strstr(p + 1, "<rect x=\"");
		assert_non_null(p);
	}
	return atof(p + 9);
}

static void test_layout(void **state)
{
	(void)state;
	/* a chain: host -> web:80 -> db:5432 -> an external peer; and a cycle web -> db -> web */
	struct flow_graph *g = flow_graph_new();
	struct flow_row r = row("", NULL, "out", "tcp", 80, "10.88.0.2", WEB, "web", "", 10);
	flow_graph_add(g, &r);
	r = row(WEB, "web", "out", "tcp", 5432, "10.88.0.3", DBC, "db", "", 10);
	flow_graph_add(g, &r);
	r = row(DBC, "db", "out", "tcp", 443, "192.0.2.1", "", NULL, "backup.example.net", 10);
	flow_graph_add(g, &r);
	struct vg_buf b = { 0 };
	flow_graph_svg(g, NULL, &b);
	double x0 = node_x(b.data, 0), x1 = node_x(b.data, 1), x2 = node_x(b.data, 2), x3 = node_x(b.data, 3);
	assert_true(x0 < x1 && x1 < x2 && x2 < x3);
	buf_free(&b);
	r = row(DBC, "db", "out", "tcp", 8080, "10.88.0.2", WEB, "web", "", 10);
	flow_graph_add(g, &r);
	r = row(WEB, "web", "out", "tcp", 9, "10.88.0.2", WEB, "web", "", 10); /* to itself */
	flow_graph_add(g, &r);
	flow_graph_svg(g, NULL, &b);
	assert_non_null(strstr(b.data, "stroke-dasharray")); /* the edge back is drawn bent */
	assert_int_equal(count(b.data, "<g class=\"edge\">"), 5);
	assert_int_equal(count(b.data, " L"), 2); /* the arrow marker's: no edge skips a layer yet */
	buf_free(&b);
	/* host -> db skips web's layer: routed through a slot of its own there, straight across */
	r = row("", NULL, "out", "tcp", 5432, "10.88.0.3", DBC, "db", "", 10);
	flow_graph_add(g, &r);
	flow_graph_svg(g, NULL, &b);
	assert_int_equal(count(b.data, " L"), 2 + 1);
	assert_int_equal(count(b.data, "<g class=\"node\">"), 4);
	buf_free(&b);
	/* the layout's dummies are gone afterwards: the DOT has the four nodes */
	flow_graph_dot(g, NULL, &b);
	assert_int_equal(count(b.data, "shape="), 4);
	buf_free(&b);
	flow_graph_free(g);
}

static void test_bounded(void **state)
{
	(void)state;
	struct flow_graph *g = flow_graph_new();
	char addr[32];
	for (int i = 0; i < 1000; i++) {
		snprintf(addr, sizeof(addr), "10.7.%d.%d", i / 256, i % 256);
		struct flow_row r = row(WEB, "web", "out", "udp", 53, addr, "", NULL, "", 100);
		flow_graph_add(g, &r);
	}
	struct vg_buf b = { 0 };
	flow_graph_dot(g, NULL, &b);
	assert_int_equal(count(b.data, "shape="), FLOW_GRAPH_MAX_NODES);
	assert_non_null(strstr(b.data, "label=\"other peers\""));
	assert_non_null(strstr(b.data, "602 rows folded into 'other peers'"));
	/* the fold's edge carries the volume of all it holds */
	assert_non_null(strstr(b.data, "udp/53, 59 KiB, 602 conns"));
	buf_free(&b);
	flow_graph_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nodes_edges_dot),
		cmocka_unit_test(test_hostile_labels),
		cmocka_unit_test(test_clean_and_bytes),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
