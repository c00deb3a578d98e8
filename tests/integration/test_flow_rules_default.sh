#!/bin/bash
# test_flow_rules_default.sh: Vigil's default flow rules (docs/flows.md, "Default
# flow rules") against the live agent, with real containers on a podman network
# the test creates and a real resolver (dnsmasq) on the network's gateway.
#
# The cluster is the lower half of the network (--cluster-cidr N.0/25, loopback):
# two "external" servers get fixed addresses in the upper half (.200, .201).
# The window, learning period and beacon count are small so that nothing waits
# minutes; thresholds are lowered by a rules file loaded after the defaults, as
# a site would override them per workload.
#
#   app:  6 connections a second apart to ext:8443    -> Periodic beaconing (at the 4th)
#         (its first flow starts its 3 s learning period: ext is learnt, no alert)
#         3 MB to ext:9000 (threshold 2 MB)          -> Large upload to outside the cluster
#         new.ext.test resolved, connected to         -> Connection to a new external destination
#         names of 56 random hex characters under tunnel.test, 12 of them (threshold 10)
#                                                      -> DNS tunnelling (encoded names) and (many names)
#   bulk-a -> bulk-b: 5 MB inside the cluster          -> nothing
#   app:  a connection to ext:3333                    -> Flow to a mining pool port, whose
#                                                        response-policy binding captures a bundle
# A second agent on the same store remembers: new.ext.test again raises nothing,
# and app is past its learning period at once (other.ext.test alerts).
# shellcheck disable=SC2016,SC2317
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

it_need_root
it_need_bpf
it_need_podman
it_need_jq
it_need_vigil
command -v dnsmasq >/dev/null 2>&1 || it_skip "dnsmasq is not installed (scripts/install-deps)"
M=$$
NET=vgfr-$M EXT=vgfr-$M-ext EXT2=vgfr-$M-ext2 APP=vgfr-$M-app BA=vgfr-$M-bulk-a BB=vgfr-$M-bulk-b
AGENT="" DNSMASQ=""
cleanup() {
	[ -n "$AGENT" ] && kill -KILL "$AGENT" 2>/dev/null
	[ -n "$DNSMASQ" ] && kill "$DNSMASQ" 2>/dev/null
	vg_podman rm -f -t 0 "$EXT" "$EXT2" "$APP" "$BA" "$BB" >/dev/null 2>&1
	podman network rm "$NET" >/dev/null 2>&1
	it_cleanup_common
}
trap cleanup EXIT
it_mktemp
cc -O2 -static -o "$IT_TMP/flowpeer" tests/tools/flowpeer.c 2>"$IT_TMP/cc.err" ||
	it_skip "cannot build a static test program: $(head -3 "$IT_TMP/cc.err")"
podman network create --disable-dns "$NET" >/dev/null || it_skip "cannot create a podman network"
read -r SUBNET GW < <(podman network inspect "$NET" --format '{{range .Subnets}}{{.Subnet}} {{.Gateway}}{{end}}')
case $SUBNET in
*.0/24) P=${SUBNET%.0/24} ;;
*) it_skip "the network's subnet is not a /24: $SUBNET" ;;
esac
[ -n "$GW" ] || GW=$P.1
# fixed addresses: the cluster's in the lower half, the "external" ones in the upper
XIP=$P.200 X2IP=$P.201 AIP=$P.10 BAIP=$P.11 BBIP=$P.12

cat >"$IT_TMP/rules.yaml" <<'EOR'
- macro: vigil_exfil_threshold_exceeded
  condition: flow.exfil.bytes > 2000000 and flow.exfil.bytes_before <= 2000000
- macro: vigil_dns_many_names
  condition: flow.dns.unique = 10
EOR
cat >"$IT_TMP/policy.yaml" <<'EOP'
bindings:
  - rules: ["Flow to a mining pool port from container"]
    actions: [capture]
EOP
# agent_start TAG: the agent with the default rules, the overrides and the policy (bounded wait)
agent_start() {
	"$VIGIL" run --default-rules --rules "$IT_TMP/rules.yaml" --response-policy "$IT_TMP/policy.yaml" \
		--store "$IT_TMP/db" --evidence-dir "$IT_TMP/evidence" --json --duration 600 \
		--cluster-cidr "$P.0/25,127.0.0.0/8" --flow-window 60 --flow-learn 3 --beacon-min 4 --beacon-jitter 30 \
		>"$IT_TMP/alerts.$1" 2>"$IT_TMP/err.$1" &
	AGENT=$!
	it_agent_ready "$AGENT" "$IT_TMP/err.$1"
}
agent_stop() {
	kill -INT "$AGENT"
	wait "$AGENT" || it_fail "vigil run exited $? ($1): $(tail -3 "$IT_TMP/err.$1")"
	AGENT=""
}
# wait_alert TAG JQ: wait (bounded, 40 s) until an alert for app matching JQ was printed
# (the agent sees the whole machine: other tests' containers alert too)
wait_alert() {
	local i
	for ((i = 0; i < 200; i++)); do
		[ "$(it_count "$IT_TMP/alerts.$1" '('"$2"') and .output_fields["container.name"] == $c' --arg c "$APP" 2>/dev/null)" -ge 1 ] && return 0
		kill -0 "$AGENT" 2>/dev/null || it_die "the agent exited: $(tail -3 "$IT_TMP/err.$1")"
		sleep 0.2
	done
	return 1
}
# count TAG RULE CONTAINER: alerts of RULE for CONTAINER
count() { it_count "$IT_TMP/alerts.$1" '.rule == $r and .output_fields["container.name"] == $c' --arg r "$2" --arg c "$3"; }
run() { # NAME IP|"" SCRIPT
	local ip=()
	[ -n "$2" ] && ip=(--ip "$2")
	vg_podman run -d --name "$1" --network "$NET" "${ip[@]}" -v "$IT_TMP/flowpeer:/flowpeer:ro" "$IT_IMAGE" sh -c "$3" \
		>/dev/null || it_die "cannot start container $1"
}
logs_say() { # NAME COUNT TEXT: bounded wait (60 s)
	local i
	for ((i = 0; i < 300; i++)); do
		[ "$(podman logs "$1" 2>/dev/null | grep -c "$3")" -ge "$2" ] && return 0
		sleep 0.2
	done
	it_die "container $1 never said '$3' $2 times: $(podman logs "$1" 2>&1 | tail -5)"
}
in_app() { vg_podman exec "$APP" sh -c "$1" >>"$IT_TMP/app.log" 2>&1 || it_fail "in app: $1: $(tail -3 "$IT_TMP/app.log")"; }

agent_start 1
run "$EXT" "$XIP" "/flowpeer tcp-server 8443 10 0 1000 & /flowpeer tcp-server 9000 3000000 0 10 &
	/flowpeer tcp-server 3333 0 0 10 & wait"
run "$EXT2" "$X2IP" "/flowpeer tcp-server 443 0 0 100"
run "$BB" "$BBIP" "/flowpeer tcp-server 9100 5000000 0 1; sleep 600"
run "$APP" "$AIP" "sleep 600"
run "$BA" "$BAIP" "sleep 600"
logs_say "$EXT" 3 listening
logs_say "$EXT2" 1 listening
logs_say "$BB" 1 listening

# beacon: 6 connections 1 s apart (4 make a beacon: one spare, should the loaded machine
# stall one); the first is app's first flow, which starts its
# learning period (3 s): ext is learnt then, and raises no new-destination alert
in_app "for i in 1 2 3 4 5 6; do /flowpeer tcp-client $XIP 8443 10 0; sleep 1; done"
wait_alert 1 '.rule == "Periodic beaconing to an external destination"' || it_fail "no beaconing alert: $(head -c 2000 "$IT_TMP/alerts.1")"
# the resolver, on the gateway (it exists now that containers are attached)
dnsmasq --no-daemon --no-resolv --no-hosts --bind-interfaces --listen-address="$GW" --port=53 \
	--address=/new.ext.test/"$X2IP" --address=/other.ext.test/"$X2IP" --address=/tunnel.test/"$P.250" \
	--pid-file="$IT_TMP/dnsmasq.pid" --log-facility=- >"$IT_TMP/dnsmasq.log" 2>&1 &
DNSMASQ=$!
for ((i = 0; i < 100; i++)); do
	vg_podman exec "$APP" nslookup new.ext.test "$GW" 2>/dev/null | grep -q "$X2IP" && break
	kill -0 "$DNSMASQ" 2>/dev/null || it_skip "dnsmasq did not start: $(tail -3 "$IT_TMP/dnsmasq.log")"
	sleep 0.2
done
[ "$i" -lt 100 ] || it_die "the resolver never answered: $(tail -3 "$IT_TMP/dnsmasq.log")"
# exfiltration by volume: 3 MB out
in_app "/flowpeer tcp-client $XIP 9000 3000000 0"
wait_alert 1 '.rule == "Large upload to outside the cluster"' || it_fail "no exfiltration alert"
# a new external destination, named by the answer app received (busybox nslookup fails
# when the AAAA query gets no answer: its status is not the point)
in_app "nslookup new.ext.test $GW >/dev/null; /flowpeer tcp-client $X2IP 443 0 0"
wait_alert 1 '.rule == "Connection to a new external destination"' || it_fail "no new-destination alert"
# DNS tunnelling: 12 names with a 56-character random label each
in_app "for i in \$(seq 1 12); do l=\$(echo a\${i}x$M | md5sum | cut -c1-32)\$(echo b\${i}x$M | md5sum | cut -c1-24);
	nslookup \$l.t$M.tunnel.test $GW >/dev/null 2>&1; done; true"
wait_alert 1 '.rule == "DNS tunnelling suspected (many names under one domain)"' || it_fail "no many-names alert"
# the benign bulk transfer inside the cluster
vg_podman exec "$BA" /flowpeer tcp-client "$BBIP" 9100 5000000 0 >/dev/null || it_fail "the bulk transfer failed"
# a mining pool port, last (its alert says the agent is past the bulk transfer): the binding captures a bundle
in_app "/flowpeer tcp-client $XIP 3333 0 0"
wait_alert 1 '.rule == "Flow to a mining pool port from container" and .vigil.responses' || it_fail "no mining alert with its capture"
agent_stop 1

A=$IT_TMP/alerts.1
for r in "Periodic beaconing to an external destination" "Large upload to outside the cluster" \
	"Connection to a new external destination" "DNS tunnelling suspected (encoded names)" \
	"DNS tunnelling suspected (many names under one domain)" "Flow to a mining pool port from container"; do
	[ "$(count 1 "$r" "$APP")" -ge 1 ] || it_fail "rule '$r' did not fire for app: $(jq -c '[.rule, .output]' "$A" | head -c 3000)"
done
# once per crossing / series / destination / threshold
for r in "Periodic beaconing to an external destination" "Large upload to outside the cluster" \
	"Connection to a new external destination" "DNS tunnelling suspected (many names under one domain)"; do
	[ "$(count 1 "$r" "$APP")" = 1 ] || it_fail "rule '$r' fired $(count 1 "$r" "$APP") times"
done
# the encoded-names rule: once per new name (12 names, each answered for A and AAAA), but
# for the tenth, on which the many-names rule (first in the file) alerts
n=$(count 1 "DNS tunnelling suspected (encoded names)" "$APP")
[ "$n" = 11 ] || it_fail "encoded-name alerts: $n, not 11"
# app's alerts of one rule: their output_fields
of_app() { jq -c --arg r "$2" --arg c "$APP" 'select(.rule == $r and .output_fields["container.name"] == $c)' "$IT_TMP/alerts.$1"; }
[ "$(of_app 1 "Connection to a new external destination" | jq -r '.output_fields["flow.dest"]')" = new.ext.test ] ||
	it_fail "the new destination: $(of_app 1 "Connection to a new external destination" | jq -r .output)"
[ "$(of_app 1 "Periodic beaconing to an external destination" | jq -r '.output_fields["flow.beacon.count"] | tostring')" = 4 ] ||
	it_fail "beacon: $(of_app 1 "Periodic beaconing to an external destination" | jq -r .output)"
# flow alerts say their source
[ "$(of_app 1 "Large upload to outside the cluster" | jq -r .source)" = flow ] ||
	it_fail "the flow alert's source: $(of_app 1 "Large upload to outside the cluster" | jq -c .source)"
# the capture: a bundle whose manifest holds the flow alert
dir=$(of_app 1 "Flow to a mining pool port from container" | jq -r '.vigil.responses[] | select(.action == "capture") | .detail' | head -1 | sed 's/^bundle //')
[ -d "$dir" ] || it_fail "no bundle for the mining flow: $(jq -c 'select(.vigil.responses) | .vigil.responses' "$A")"
[ "$(jq -r .rule "$dir/manifest.json")" = "Flow to a mining pool port from container" ] ||
	it_fail "bundle manifest: $(head -c 500 "$dir/manifest.json")"
# nothing for the bulk transfer inside the cluster (any rule, either end)
for c in "$BA" "$BB"; do
	[ "$(it_count "$A" '.output_fields["container.name"] == $c' --arg c "$c")" = 0 ] ||
		it_fail "alerts for $c: $(jq -c --arg c "$c" 'select(.output_fields["container.name"] == $c) | [.rule, .output]' "$A")"
done
grep -q "flow features: flows=" "$IT_TMP/err.1" || it_fail "no flow feature counters: $(tail -3 "$IT_TMP/err.1")"

# a second agent on the same store: new.ext.test is known, app is past its learning period
agent_start 2
in_app "nslookup new.ext.test $GW >/dev/null; /flowpeer tcp-client $X2IP 443 0 0"
in_app "nslookup other.ext.test $GW >/dev/null; /flowpeer tcp-client $X2IP 443 0 0"
wait_alert 2 '.rule == "Connection to a new external destination"' || it_fail "no new-destination alert after the restart: $(tail -3 "$IT_TMP/err.2")"
agent_stop 2
n=$(count 2 "Connection to a new external destination" "$APP")
[ "$n" = 1 ] || it_fail "new-destination alerts after the restart: $n: $(jq -c '[.rule, .output]' "$IT_TMP/alerts.2")"
[ "$(of_app 2 "Connection to a new external destination" | jq -r '.output_fields["flow.dest"]')" = other.ext.test ] ||
	it_fail "after the restart: $(of_app 2 "Connection to a new external destination" | jq -r .output)"
it_finish
