#!/bin/bash
# test_profiles_protect_dns.sh: a protecting profile's NAME:PORT destinations are
# the addresses the container's own resolver gives (docs/profiles.md, "Protecting").
# A busybox workload fetches http://peer.vgprot.test:8080 every second through its
# resolver (a real dnsmasq on the network's gateway) and is learnt, then protected.
# An answer the workload received from another server on port 53 while it learnt
# (a second dnsmasq, the attacker's, naming its own web server peer.vgprot.test)
# must not open the list: once protected, a connect to the attacker's address fails
# with EPERM while the learnt name still works.
# shellcheck disable=SC2016,SC2317
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

it_need_root
it_need_bpf
it_need_jq
it_need_podman
command -v dnsmasq >/dev/null 2>&1 || it_skip "dnsmasq is not installed (scripts/install-deps)"
M=$$
NAME=vgpdns-$M
NET=vgpdns-$M
IMG=localhost/vgpdns-$M:1
AGENT="" RESOLVER="" EVILDNS="" BR="" EVIL_DNS_IP=""
cleanup() {
	[ -n "$AGENT" ] && kill -KILL "$AGENT" 2>/dev/null
	[ -n "$RESOLVER" ] && kill "$RESOLVER" 2>/dev/null
	[ -n "$EVILDNS" ] && kill "$EVILDNS" 2>/dev/null
	[ -n "$BR" ] && ip addr del "$EVIL_DNS_IP/32" dev "$BR" 2>/dev/null
	for c in w peer evil build; do vg_podman rm -f -t 0 "$NAME-$c" >/dev/null 2>&1; done
	podman rmi -f "$IMG" >/dev/null 2>&1
	podman network rm "$NET" >/dev/null 2>&1
	it_cleanup_common
}
trap cleanup EXIT
it_mktemp
DB=$IT_TMP/vigil.db

podman network create --disable-dns "$NET" >/dev/null || it_skip "cannot create a podman network"
read -r SUBNET GW < <(podman network inspect "$NET" --format '{{range .Subnets}}{{.Subnet}} {{.Gateway}}{{end}}')
case $SUBNET in
*.0/24) P=${SUBNET%.0/24} ;;
*) it_skip "the network's subnet is not a /24: $SUBNET" ;;
esac
[ -n "$GW" ] || GW=$P.1
PEER=$P.20 EVIL=$P.200 EVIL_DNS_IP=$P.250

# the workload's image of its own (its own digest: its own profile)
mkdir -p "$IT_TMP/www" "$IT_TMP/evilwww"
echo "hello $M" >"$IT_TMP/www/index.html"
echo "evil $M" >"$IT_TMP/evilwww/index.html"
vg_podman create --name "$NAME-build" "$IT_IMAGE" true >/dev/null || it_die "cannot create a container"
podman cp "$IT_TMP/www" "$NAME-build:/www" || it_die "cannot copy into the container"
podman commit -q "$NAME-build" "$IMG" >/dev/null || it_die "cannot commit the image"
vg_podman rm -f "$NAME-build" >/dev/null
KEY=sha256:$(podman image inspect --format '{{.Id}}' "$IMG") || it_die "no image id"

# the peer (learnt) and the attacker's web server, at fixed addresses
vg_podman run -d --name "$NAME-peer" --network "$NET" --ip "$PEER" -v "$IT_TMP/www:/www:ro" "$IT_IMAGE" \
	sh -c 'httpd -f -p 8080 -h /www' >/dev/null || it_die "cannot start the peer"
vg_podman run -d --name "$NAME-evil" --network "$NET" --ip "$EVIL" -v "$IT_TMP/evilwww:/www:ro" "$IT_IMAGE" \
	sh -c 'httpd -f -p 8080 -h /www' >/dev/null || it_die "cannot start the attacker's server"

# the resolver on the gateway (the bridge exists now that containers are attached), and
# the attacker's DNS server on a second address of the bridge
BR=$(podman network inspect "$NET" --format '{{.NetworkInterface}}')
[ -n "$BR" ] || it_die "no bridge for the network"
ip addr add "$EVIL_DNS_IP/32" dev "$BR" || it_die "cannot add an address to $BR"
dnsmasq --no-daemon --no-resolv --no-hosts --bind-interfaces --listen-address="$GW" --port=53 \
	--address=/peer.vgprot.test/"$PEER" --pid-file="$IT_TMP/resolver.pid" --log-facility=- \
	>"$IT_TMP/resolver.log" 2>&1 &
RESOLVER=$!
dnsmasq --no-daemon --no-resolv --no-hosts --bind-interfaces --listen-address="$EVIL_DNS_IP" --port=53 \
	--address=/peer.vgprot.test/"$EVIL" --pid-file="$IT_TMP/evildns.pid" --log-facility=- \
	>"$IT_TMP/evildns.log" 2>&1 &
EVILDNS=$!

"$VIGIL" run --store "$DB" --json --profile-learn 0 --profile-quiet 0 --duration 900 >"$IT_TMP/out" 2>"$IT_TMP/err" &
AGENT=$!
it_agent_ready "$AGENT" "$IT_TMP/err"

# the workload: fetches from the peer by name every second, through its resolver
WORKLOAD="while true; do wget -q -O /tmp/peer.out http://peer.vgprot.test:8080/index.html; sleep 1; done"
start_workload() {
	vg_podman run -d --name "$NAME-$1" --network "$NET" --dns "$GW" "$IMG" sh -c "$WORKLOAD" >/dev/null ||
		it_die "cannot start the workload $1"
}
start_workload w
WID=$(podman inspect --format '{{.Id}}' "$NAME-w")

learnt() { "$VIGIL" profile --store "$DB" show "$KEY" 2>/dev/null | grep -qF "$1"; }
for ((i = 0; i < 300; i++)); do
	learnt '"tcp/peer.vgprot.test:8080"' && break
	kill -0 "$AGENT" 2>/dev/null || it_die "the agent exited: $(tail -5 "$IT_TMP/err")"
	kill -0 "$RESOLVER" 2>/dev/null || it_skip "dnsmasq did not start: $(tail -3 "$IT_TMP/resolver.log")"
	sleep 0.2
done
learnt '"tcp/peer.vgprot.test:8080"' ||
	it_die "the peer was not learnt by name: $("$VIGIL" profile --store "$DB" show "$KEY" 2>&1 | head -40)"
kill -0 "$EVILDNS" 2>/dev/null || it_skip "the second dnsmasq did not start: $(tail -3 "$IT_TMP/evildns.log")"

# while it learns, the attacker's answer reaches the workload, from port 53 of another
# server (kept for up to a day: the TTL it gives)
vg_podman exec "$NAME-w" timeout 10 nslookup -timeout=2 peer.vgprot.test "$EVIL_DNS_IP" >"$IT_TMP/evil.ns" 2>&1
grep -q "$EVIL" "$IT_TMP/evil.ns" || it_die "the attacker's server did not answer: $(cat "$IT_TMP/evil.ns")"
# the agent has read it once it learnt that query's flow (recorded after the answer)
for ((i = 0; i < 300; i++)); do learnt "\"udp/$EVIL_DNS_IP:53\"" && break; sleep 0.2; done
learnt "\"udp/$EVIL_DNS_IP:53\"" || it_die "the query to the second server was not learnt"

# protecting: armed within about a second, from the cache that holds both answers
"$VIGIL" profile --store "$DB" mode "$KEY" protecting >/dev/null || it_die "profile mode failed"
armed() { grep -E "container .*\(${WID:0:12}\) protected: [0-9]+ destinations allowed" "$IT_TMP/err" >/dev/null; }
for ((i = 0; i < 150; i++)); do armed && break; sleep 0.2; done
armed || it_die "the container's egress was not armed: $(grep -i protect "$IT_TMP/err" | tail -5)"

# the name the resolver gave works; the address the other server gave it does not
vg_podman exec "$NAME-w" wget -q -O - "http://peer.vgprot.test:8080/index.html" | grep -q "hello $M" ||
	it_fail "the learnt name does not work"
vg_podman exec "$NAME-w" wget -O /dev/null "http://$EVIL:8080/index.html" >"$IT_TMP/evil.out" 2>&1 &&
	it_fail "the connect to the address the attacker's answer gave succeeded"
grep -q "Operation not permitted" "$IT_TMP/evil.out" ||
	it_fail "no EPERM for the attacker's address: $(cat "$IT_TMP/evil.out")"
it_finish
