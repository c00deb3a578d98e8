#!/bin/bash
# test_flows_dns.sh: names learnt from a real resolver's answers. Debian's
# dnsmasq serves a hosts file and a CNAME on a loopback port of its own; the
# test sends real queries (A and AAAA, through the CNAME, and a name that does
# not exist), keeps the response datagrams exactly as they came off the socket,
# and feeds them to the per-container name cache through tests/tools/flowgen:
# flows to the answered addresses carry the name the workload asked for, the
# NXDOMAIN answer teaches nothing, and `vigil flows --json` shows the names.
# No kernel programs, no containers.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

it_need_jq
it_need_vigil
command -v python3 >/dev/null 2>&1 || it_skip "python3 is not installed"
DNSMASQ=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)
[ -x "$DNSMASQ" ] || it_skip "dnsmasq is not installed (scripts/install-deps installs dnsmasq-base)"
[ -x "$BUILD/tests/flowgen" ] || it_die "$BUILD/tests/flowgen missing (make tests)"
it_mktemp
DNS_PID=""
cleanup() {
	[ -n "$DNS_PID" ] && kill "$DNS_PID" 2>/dev/null && wait "$DNS_PID" 2>/dev/null
	rm -rf "$IT_TMP"
}
trap cleanup EXIT
WEB=5ad505f6c2d4de05faee7fb251e25b27cf04af50103100ef0cc6888c48eeaf99
printf '10.53.%d.7 edge.flows-dns-%d.test\nfd00:53::%x edge.flows-dns-%d.test\n' \
	$(($$ % 250)) $$ $(($$ % 65535 + 1)) $$ >"$IT_TMP/hosts"
NAME=www.flows-dns-$$.test
V4=10.53.$(($$ % 250)).7
V6=$(printf 'fd00:53::%x' $(($$ % 65535 + 1)))

# a free loopback port (another test may take it between the probe and dnsmasq's
# bind: then dnsmasq exits and we try another)
start_dnsmasq() {
	local port try
	for try in 1 2 3 4 5; do
		port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
		"$DNSMASQ" --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
			--addn-hosts="$IT_TMP/hosts" --cname="$NAME,edge.flows-dns-$$.test" --local-ttl=300 \
			--listen-address=127.0.0.1 --bind-interfaces --port="$port" --pid-file= \
			--user="$(id -un)" --log-facility="$IT_TMP/dnsmasq.log" 2>>"$IT_TMP/dnsmasq.err" &
		DNS_PID=$!
		# ready when it answers (bounded polling, no fixed sleep)
		if python3 - "$port" <<'EOF'; then
import socket, struct, sys, time
q = struct.pack('>HHHHHH', 1, 0x0100, 1, 0, 0, 0) + b'\x05ready\x04test\x00' + struct.pack('>HH', 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.2)
end = time.time() + 10
while time.time() < end:
    try:
        s.sendto(q, ('127.0.0.1', int(sys.argv[1])))
        s.recvfrom(512)
        sys.exit(0)
    except OSError:
        pass
sys.exit(1)
EOF
			PORT=$port
			return 0
		fi
		kill "$DNS_PID" 2>/dev/null
		wait "$DNS_PID" 2>/dev/null
		DNS_PID=""
	done
	return 1
}
start_dnsmasq || it_die "dnsmasq did not start: $(cat "$IT_TMP/dnsmasq.err" "$IT_TMP/dnsmasq.log" 2>/dev/null | tail -5)"

# real queries; each response datagram written as received
python3 - "$PORT" "$IT_TMP" "$NAME" <<'EOF' || it_die "queries to dnsmasq failed"
import random, socket, struct, sys
port, d, name = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def query(qname, qtype):
    qid = random.randrange(65536)
    q = struct.pack('>HHHHHH', qid, 0x0100, 1, 0, 0, 0)
    q += b''.join(bytes([len(l)]) + l.encode() for l in qname.split('.')) + b'\0' + struct.pack('>HH', qtype, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    s.connect(('127.0.0.1', port))
    s.send(q)
    r = s.recv(4096)
    assert r[:2] == q[:2], 'answer to another query'
    return r
open(d + '/a.bin', 'wb').write(query(name, 1))
open(d + '/aaaa.bin', 'wb').write(query(name, 28))
open(d + '/nx.bin', 'wb').write(query('nothing.' + name, 1))
EOF
for f in a aaaa nx; do
	[ -s "$IT_TMP/$f.bin" ] || it_die "no $f response"
done

cat >"$IT_TMP/script" <<EOF
meta $WEB web-dns-$$ - -
dns $WEB $IT_TMP/a.bin 30
dns $WEB $IT_TMP/aaaa.bin 30
dns $WEB $IT_TMP/nx.bin 30
flow 1 close $WEB out tcp 10.88.0.2 40000 $V4 443 - 20 10 300 100 2 2
flow 2 close $WEB out tcp fd00::2 40001 $V6 443 - 20 10 600 200 3 3
flow 3 close - out tcp 10.0.2.15 40002 $V4 443 - 20 10 5 5 1 1
flush
EOF
"$BUILD/tests/flowgen" "$IT_TMP/vigil.db" <"$IT_TMP/script" >"$IT_TMP/gen.out" 2>&1 || it_die "flowgen failed: $(cat "$IT_TMP/gen.out")"
grep -q "a.bin: 1 addresses" "$IT_TMP/gen.out" || it_fail "the A answer did not teach one address: $(cat "$IT_TMP/gen.out")"
grep -q "aaaa.bin: 1 addresses" "$IT_TMP/gen.out" || it_fail "the AAAA answer did not teach one address"
grep -q "nx.bin: 0 addresses" "$IT_TMP/gen.out" || it_fail "the NXDOMAIN answer taught something"

"$VIGIL" flows --store "$IT_TMP/vigil.db" --since 10m --json >"$IT_TMP/flows.json" 2>"$IT_TMP/err" ||
	it_die "vigil flows failed: $(cat "$IT_TMP/err")"
got=$(jq -r 'select(.peer.address == "'"$V4"'" and .workload.container_id != "") | .peer.name' "$IT_TMP/flows.json")
[ "$got" = "$NAME" ] || it_fail "IPv4 flow named '$got', not $NAME: $(cat "$IT_TMP/flows.json")"
got=$(jq -r 'select(.peer.address == "'"$V6"'") | .peer.name' "$IT_TMP/flows.json")
[ "$got" = "$NAME" ] || it_fail "IPv6 flow named '$got', not $NAME"
# the host never asked: its flow to the same address has no name
got=$(jq -r 'select(.workload.container_id == "") | .peer.name' "$IT_TMP/flows.json")
[ -z "$got" ] || it_fail "the host's flow took the container's name: '$got'"

it_finish
