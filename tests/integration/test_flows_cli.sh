#!/bin/bash
# test_flows_cli.sh: `vigil flows` over a store built through the library's
# public API (tests/tools/flowgen: DNS answers into the per-container name
# cache, flow reports with OPEN/UPDATE/CLOSE totals into the rollups, flushes),
# no kernel needed: --since tables and JSON lines with exact sums, names from
# DNS on the flows, --container (name, id prefix, host) and --namespace, the
# live mode, the service map as DOT (checked by a tokenizer, and by Graphviz
# when installed) and SVG (parsed as XML), hostile names escaped in both, and
# usage errors.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

it_need_jq
it_need_vigil
command -v python3 >/dev/null 2>&1 || it_skip "python3 is not installed"
[ -x "$BUILD/tests/flowgen" ] || it_die "$BUILD/tests/flowgen missing (make tests)"
it_mktemp
trap 'rm -rf "$IT_TMP"' EXIT
STORE=$IT_TMP/store/vigil.db
WEB=5ad505f6c2d4de05faee7fb251e25b27cf04af50103100ef0cc6888c48eeaf99
DB=0b1c0b1c0b1c0b1c0b1c0b1c0b1c0b1c0b1c0b1c0b1c0b1c0b1c0b1c0b1c0b1c
EVIL=e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0

# DNS answers built per RFC 1035: web asked for api.example.com (a CNAME to a CDN name,
# then A); evil got an answer whose name is markup
python3 - "$IT_TMP" <<'EOF' || it_die "cannot build DNS answers"
import struct, sys
d = sys.argv[1]
def name(n): return b''.join(bytes([len(l)]) + l.encode('latin-1') for l in n.split('.')) + b'\0'
def answer(q, rrs):
    m = struct.pack('>HHHHHH', 7, 0x8180, 1, len(rrs), 0, 0) + name(q) + struct.pack('>HH', 1, 1)
    for owner, typ, ttl, rdata in rrs:
        m += name(owner) + struct.pack('>HHIH', typ, 1, ttl, len(rdata)) + rdata
    return m
open(d + '/api.bin', 'wb').write(answer('api.example.com', [
    ('api.example.com', 5, 300, name('api.cdn.test')),
    ('api.cdn.test', 1, 300, bytes([93, 184, 216, 34]))]))
open(d + '/evil.bin', 'wb').write(answer('<svg onload=x>"&\'.evil.test', [
    ('<svg onload=x>"&\'.evil.test', 1, 300, bytes([198, 51, 100, 66]))]))
EOF

# The flows (times are seconds ago): web -> api.example.com:443 opened 100 s ago, reported
# at open, twice live and at close; a late duplicate close adds nothing. web -> db:5432
# (both on this node: seen out from web and in at db). The host's UDP DNS. evil -> its
# markup-named peer. Flows at most 50 s ago are in the live window.
cat >"$IT_TMP/script" <<EOF
meta $WEB web shop web-1
meta $DB db data db-0
meta $EVIL <b>evil"&amp; - -
dns $WEB $IT_TMP/api.bin 110
dns $EVIL $IT_TMP/evil.bin 110
flow 1 open $WEB out tcp 10.88.0.2 40000 93.184.216.34 443 - 100 100 0 0 0 0
flow 1 update $WEB out tcp 10.88.0.2 40000 93.184.216.34 443 - 100 80 4000 500 5 3
flush
flow 1 update $WEB out tcp 10.88.0.2 40000 93.184.216.34 443 - 100 60 9000 700 9 4
flow 1 close $WEB out tcp 10.88.0.2 40000 93.184.216.34 443 - 100 40 10000 1000 12 6
flow 1 close $WEB out tcp 10.88.0.2 40000 93.184.216.34 443 - 100 39 10000 1000 12 6
flow 2 close $WEB out tcp 10.88.0.2 40002 10.88.0.3 5432 $DB 30 20 2048 512 4 4
flow 3 close $DB in tcp 10.88.0.3 5432 10.88.0.2 40002 $WEB 30 20 512 2048 4 4
flow 4 close - out udp 10.0.2.15 50000 1.1.1.1 53 - 10 10 120 40 1 1
flow 5 close $EVIL out tcp 10.88.0.9 41000 198.51.100.66 8443 - 15 15 10 777 1 2
flush
EOF
"$BUILD/tests/flowgen" "$STORE" <"$IT_TMP/script" >"$IT_TMP/gen.out" 2>&1 || it_die "flowgen failed: $(cat "$IT_TMP/gen.out")"
grep -q "flow 1: remote name 'api.example.com'" "$IT_TMP/gen.out" || it_fail "the CNAME chain did not name the flow: $(cat "$IT_TMP/gen.out")"

# --since: sums per workload and peer, most bytes first
"$VIGIL" flows --store "$STORE" --since 1h --json >"$IT_TMP/all.json" 2>"$IT_TMP/err" || it_die "vigil flows --json failed: $(cat "$IT_TMP/err")"
jq -e . "$IT_TMP/all.json" >/dev/null || it_fail "not JSON lines"
[ "$(wc -l <"$IT_TMP/all.json")" -eq 5 ] || it_fail "expected 5 rows: $(cat "$IT_TMP/all.json")"
api=$(jq -c 'select(.peer.address == "93.184.216.34")' "$IT_TMP/all.json")
[ "$(jq -r '[.peer.name, .workload.container_name, .workload.k8s_namespace, .workload.k8s_pod, .direction, .proto, .port, .connections, .bytes_in, .bytes_out, .packets_in, .packets_out] | map(tostring) | join(" ")' <<<"$api")" = \
	"api.example.com web shop web-1 out tcp 443 1 10000 1000 12 6" ] || it_fail "web -> api row wrong: $api"
head -n1 "$IT_TMP/all.json" | jq -e '.peer.address == "93.184.216.34"' >/dev/null || it_fail "the biggest row is not first"
in_db=$(jq -c 'select(.direction == "in")' "$IT_TMP/all.json")
jq -e '.workload.container_name == "db" and .port == 5432 and .peer.container_name == "web" and .bytes_in == 512' <<<"$in_db" >/dev/null ||
	it_fail "db's inbound row wrong: $in_db"
jq -e 'select(.workload.container_id == "") | .proto == "udp" and .port == 53 and .bytes_out == 40' "$IT_TMP/all.json" >/dev/null ||
	it_fail "host row wrong"
evil=$(jq -r 'select(.peer.address == "198.51.100.66") | .peer.name' "$IT_TMP/all.json")
[ "$evil" = "<svg\\032onload=x>\"&'.evil.test" ] || it_fail "the markup name is not in presentation form: $evil"

# the text table
"$VIGIL" flows --store "$STORE" --since 1h >"$IT_TMP/table" 2>"$IT_TMP/err" || it_fail "text table failed: $(cat "$IT_TMP/err")"
head -n1 "$IT_TMP/table" | grep -q '^WORKLOAD .*PEER .*CONNS .*IN .*OUT .*RATE' || it_fail "no table header: $(head -n1 "$IT_TMP/table")"
grep -q '^web (shop/web-1) .* out .*api.example.com \[93.184.216.34\] .*tcp/443 .* 1 .*9.8 KiB' "$IT_TMP/table" || it_fail "table lacks web -> api: $(cat "$IT_TMP/table")"

# filters: the selector of `vigil alerts --container`, and --namespace
n=$("$VIGIL" flows --store "$STORE" --since 1h --json --container 'we?' | wc -l)
[ "$n" -eq 2 ] || it_fail "--container 'we?' gave $n rows"
n=$("$VIGIL" flows --store "$STORE" --since 1h --json --container 0b1c | jq -r .workload.container_name)
[ "$n" = db ] || it_fail "--container 0b1c gave: $n"
n=$("$VIGIL" flows --store "$STORE" --since 1h --json --container host | jq -r .peer.address)
[ "$n" = 1.1.1.1 ] || it_fail "--container host gave: $n"
n=$("$VIGIL" flows --store "$STORE" --since 1h --json --namespace data | jq -r .workload.container_name)
[ "$n" = db ] || it_fail "--namespace data gave: $n"
n=$("$VIGIL" flows --store "$STORE" --since 1h --json --limit 2 | wc -l)
[ "$n" -eq 2 ] || it_fail "--limit 2 gave $n rows"
# a range in the future has nothing
n=$("$VIGIL" flows --store "$STORE" --since 2099-01-01T00:00:00Z --json | wc -l)
[ "$n" -eq 0 ] || it_fail "a future --since gave $n rows"

# live: two refreshes of the last minute, not a terminal: frames one after the other
it_bounded 20 "$VIGIL" flows --store "$STORE" --interval 0.2 --count 2 >"$IT_TMP/live" 2>"$IT_TMP/err" ||
	it_fail "live mode failed: $(cat "$IT_TMP/err")"
[ "$(grep -c '^vigil flows ' "$IT_TMP/live")" -eq 2 ] || it_fail "live mode did not print 2 frames: $(cat "$IT_TMP/live")"
grep -q 'udp/53' "$IT_TMP/live" || it_fail "live mode lacks the host's recent DNS flow"
it_bounded 20 "$VIGIL" flows --store "$STORE" --interval 0.2 --count 1 --json >"$IT_TMP/live.json" 2>"$IT_TMP/err" ||
	it_fail "live JSON failed"
jq -e 'select(.peer.address == "1.1.1.1")' "$IT_TMP/live.json" >/dev/null || it_fail "live JSON lacks the DNS flow"

# the service map, both formats in one run
"$VIGIL" flows --store "$STORE" --since 1h --graph "$IT_TMP/map.dot" --graph "$IT_TMP/map.svg" 2>"$IT_TMP/err" ||
	it_die "--graph failed: $(cat "$IT_TMP/err")"
python3 - "$IT_TMP/map.svg" "$IT_TMP/map.dot" <<'EOF' || it_fail "graph check failed"
import re, sys
import xml.etree.ElementTree as ET
ns = {'s': 'http://www.w3.org/2000/svg'}
root = ET.parse(sys.argv[1]).getroot()          # valid XML, or this raises
assert root.tag == '{http://www.w3.org/2000/svg}svg', root.tag
texts = [t.text for t in root.iter('{http://www.w3.org/2000/svg}text')]
titles = [t.text for t in root.iter('{http://www.w3.org/2000/svg}title')]
for want in ['web', 'shop/web-1', 'api.example.com', 'db', 'host', '1.1.1.1']:
    assert want in texts, (want, texts)
# hostile names come back as text, exactly, after XML parsing: escaped, not markup
assert '<b>evil"&amp;' in texts, texts
assert '<svg\\032onload=x>"&\'.evil.test' in texts, texts
assert not list(root.iter('{http://www.w3.org/2000/svg}b')), 'markup from a label became an element'
assert any(t and t.startswith('web -> api.example.com: tcp/443, 11 KiB, 1 conn') for t in titles), titles
assert any(t and t.startswith('web -> db: tcp/5432, 2.5 KiB, 1 conn') for t in titles), titles
# DOT: statements one per line, every string closed, escapes only \" \\ \n
dot = open(sys.argv[2]).read()
assert dot.startswith('digraph vigil_flows {\n') and dot.endswith('}\n')
strs = re.findall(r'"((?:[^"\\\n]|\\.)*)"', dot)
for s in strs:
    for m in re.finditer(r'\\(.)', s):
        assert m.group(1) in '"\\n', (s, m.group(0))
outside = re.sub(r'"((?:[^"\\\n]|\\.)*)"', '""', dot)
assert '"' not in outside.replace('""', ''), 'an unbalanced quote'
stmts = [l for l in outside.split('\n')[1:-2]]
for l in stmts:
    assert re.fullmatch(r'\t(rankdir=LR;|node \[.*\];|edge \[.*\];|label="";|labelloc=t;|n\d+ \[label="", shape=(box|ellipse), style=filled, fillcolor=""\];|n\d+ -> n\d+ \[label=""\];)', l), l
assert len([l for l in stmts if '->' in l]) == 4, stmts
assert 'label="<b>evil\\"&amp;"' in dot
EOF
if command -v dot >/dev/null 2>&1; then
	dot -Tsvg "$IT_TMP/map.dot" -o "$IT_TMP/dot.svg" 2>"$IT_TMP/err" || it_fail "Graphviz refuses the DOT: $(cat "$IT_TMP/err")"
else
	echo "note: Graphviz is not installed: the DOT is checked by the tokenizer above only"
fi

# usage and runtime errors
"$VIGIL" flows --store "$STORE" --graph "$IT_TMP/map.png" >/dev/null 2>"$IT_TMP/err"
[ $? -eq 2 ] && grep -q 'ending in .dot or .svg' "$IT_TMP/err" || it_fail "--graph x.png not a usage error: $(cat "$IT_TMP/err")"
"$VIGIL" flows --store "$STORE" --since yesterday >/dev/null 2>"$IT_TMP/err"
[ $? -eq 2 ] || it_fail "--since yesterday not a usage error"
"$VIGIL" flows --store "$IT_TMP/none/vigil.db" --since 1h >/dev/null 2>"$IT_TMP/err"
[ $? -eq 1 ] && grep -q 'cannot open store' "$IT_TMP/err" || it_fail "a missing store: $(cat "$IT_TMP/err")"
"$VIGIL" flows --help | grep -q -- '--graph FILE' || it_fail "--help lacks --graph"

it_finish
