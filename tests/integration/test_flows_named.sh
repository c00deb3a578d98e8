#!/usr/bin/env bash
# Flows named by the DNS answers the workload received, counted in the store:
# in a network namespace of its own, the test runs a real resolver (dnsmasq)
# that answers api.example.test with 10.77.0.5 and an HTTP server on that
# address; a client asks the resolver, then connects three times. With the live
# agent running, `vigil flows --since` shows the three connections to
# api.example.test:80, and the flow records carry the name. The same over TCP
# (DNS over TCP, as a resolver's truncated answer makes clients do):
# tcp.example.test is 10.77.0.6, asked over TCP, and its connection is named.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

it_need_root
it_need_bpf
it_need_jq
it_need_vigil
command -v dnsmasq >/dev/null 2>&1 || it_skip "dnsmasq is not installed (scripts/install-deps)"
command -v python3 >/dev/null 2>&1 || it_skip "python3 is not installed"
it_mktemp
M=$$
NS=vgdns$M
AGENT=""
PIDS=()
cleanup() {
	[ -n "$AGENT" ] && kill -KILL "$AGENT" 2>/dev/null
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	ip netns del "$NS" 2>/dev/null
	it_cleanup_common
}
trap cleanup EXIT

ip netns add "$NS" || it_skip "cannot create a network namespace"
ip -n "$NS" link set lo up
ip -n "$NS" addr add 10.77.0.5/32 dev lo
ip -n "$NS" addr add 10.77.0.6/32 dev lo
ip netns exec "$NS" dnsmasq --no-daemon --no-resolv --no-hosts --bind-interfaces --listen-address=127.0.0.1 \
	--port=53 --address=/api.example.test/10.77.0.5 --address=/tcp.example.test/10.77.0.6 --pid-file="$IT_TMP/dnsmasq.pid" --log-facility=- \
	>"$IT_TMP/dnsmasq.log" 2>&1 &
PIDS+=($!)
ip netns exec "$NS" python3 -m http.server 80 --bind 0.0.0.0 --directory "$IT_TMP" >/dev/null 2>&1 &
PIDS+=($!)

"$VIGIL" run --json --store "$IT_TMP/v.db" --duration 120 >"$IT_TMP/out" 2>"$IT_TMP/err" &
AGENT=$!
it_agent_ready "$AGENT" "$IT_TMP/err"

# the client: one DNS query to the resolver (retried while it starts), then three connections
ip netns exec "$NS" python3 - <<'PY' || it_fail "the client failed"
import socket, struct, time
q = struct.pack(">HHHHHH", 0x5151, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(l)]) + l for l in b"api.example.test".split(b".")) + b"\0" + struct.pack(">HH", 1, 1)
addr = None
for _ in range(100):
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(0.2)
        s.sendto(q, ("127.0.0.1", 53))
        r = s.recv(512)
        addr = socket.inet_ntoa(r[-4:])
        break
    except OSError:
        time.sleep(0.1)
assert addr == "10.77.0.5", addr
for _ in range(3):
    for _ in range(100):
        try:
            c = socket.create_connection((addr, 80), timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    c.sendall(b"GET / HTTP/1.0\r\n\r\n")
    while c.recv(4096):
        pass
    c.close()
# over TCP: the query after its two-byte length, the answer read to its length
q = struct.pack(">HHHHHH", 0x5252, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(l)]) + l for l in b"tcp.example.test".split(b".")) + b"\0" + struct.pack(">HH", 1, 1)
t = socket.create_connection(("127.0.0.1", 53), timeout=5)
t.sendall(struct.pack(">H", len(q)) + q)
r = b""
while len(r) < 2 or len(r) < 2 + struct.unpack(">H", r[:2])[0]:
    d = t.recv(4096)
    assert d, "the resolver closed the TCP connection"
    r += d
t.close()
addr = socket.inet_ntoa(r[-4:])
assert addr == "10.77.0.6", addr
c = socket.create_connection((addr, 80), timeout=5)
c.sendall(b"GET / HTTP/1.0\r\n\r\n")
while c.recv(4096):
    pass
c.close()
PY

# the live flow records carry the name (bounded wait: the closes come at once)
for ((i = 0; i < 100; i++)); do
	n=$(jq -c 'select(.vigil.event.type? == "flow_tcp" or .type? == "flow_tcp")' "$IT_TMP/out" 2>/dev/null | grep -c api.example.test)
	[ "$n" -ge 1 ] && break
	sleep 0.2
done
kill -INT "$AGENT"
for ((i = 0; i < 300; i++)); do kill -0 "$AGENT" 2>/dev/null || break; sleep 0.1; done
wait "$AGENT"
rc=$?
AGENT=""
[ "$rc" -eq 0 ] || it_fail "vigil run exited with $rc: $(tail -3 "$IT_TMP/err")"

"$VIGIL" flows --store "$IT_TMP/v.db" --since 10m --json >"$IT_TMP/flows" || it_fail "vigil flows failed"
row=$(jq -c 'select(.direction == "out" and .port == 80 and .peer.address == "10.77.0.5")' "$IT_TMP/flows")
[ -n "$row" ] || it_fail "no outbound flow to 10.77.0.5:80 in the store: $(head -c 1500 "$IT_TMP/flows")"
[ "$(jq -r .peer.name <<<"$row")" = "api.example.test" ] || it_fail "the flow is not named api.example.test: $row"
[ "$(jq -r .connections <<<"$row")" = "3" ] || it_fail "not 3 connections: $row"
row=$(jq -c 'select(.direction == "out" and .port == 80 and .peer.address == "10.77.0.6")' "$IT_TMP/flows")
[ -n "$row" ] || it_fail "no outbound flow to 10.77.0.6:80 in the store: $(head -c 1500 "$IT_TMP/flows")"
[ "$(jq -r .peer.name <<<"$row")" = "tcp.example.test" ] || it_fail "the flow is not named tcp.example.test (DNS over TCP): $row"
it_finish
