#!/bin/bash
# test_flows_rule.sh: a rule with `source: flow` fires on a flow (docs/flows.md):
# `vigil run` with flows on (the default) and a flow rule alerts on the close of a
# loopback TCP connection that sent exactly 4321 bytes, with the flow's fields in
# the output; a syscall rule on the same port does not see flow records; with
# --no-flows no flow record reaches the rules.
# shellcheck disable=SC2016,SC2317
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

it_need_root
it_need_bpf
it_need_jq
it_need_vigil
M=$$
P=$((20000 + M % 20000))
AGENT="" PIDS=()
cleanup() {
	[ -n "$AGENT" ] && kill -KILL "$AGENT" 2>/dev/null
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	it_cleanup_common
}
trap cleanup EXIT
it_mktemp
cc -O2 -o "$IT_TMP/flowpeer" tests/tools/flowpeer.c 2>"$IT_TMP/cc.err" ||
	it_skip "cannot build the test program: $(head -3 "$IT_TMP/cc.err")"
cat >"$IT_TMP/rules.yaml" <<EOR
- rule: Flow of the test
  desc: the test's connection, at its close
  condition: flow.phase = close and flow.dir = out and fd.rport = $P and flow.bytes_out = 4321
  output: flow closed (proc=%proc.name proto=%flow.proto dir=%flow.dir out=%flow.bytes_out in=%flow.bytes_in l4=%fd.l4proto server=%fd.sip:%fd.sport rtt_set=%flow.rtt)
  priority: WARNING
  source: flow
  tags: [network, mitre_exfiltration]
- rule: Syscall on the port
  desc: a syscall rule naming the port, which flow records never reach
  condition: fd.rport = $P and evt.type != connect
  output: syscall rule saw %evt.type
  priority: NOTICE
EOR
# start (bounded wait for readiness), exchange, stop; the alerts in $IT_TMP/alerts.$1
exchange() {
	local tag=$1 i
	shift
	"$IT_TMP/flowpeer" tcp-server "$P" 4321 10 1 >"$IT_TMP/server.$tag" &
	PIDS+=($!)
	"$VIGIL" run --rules "$IT_TMP/rules.yaml" --no-store --json --duration 120 "$@" >"$IT_TMP/alerts.$tag" 2>"$IT_TMP/err.$tag" &
	AGENT=$!
	it_agent_ready "$AGENT" "$IT_TMP/err.$tag"
	for ((i = 0; i < 50; i++)); do grep -q listening "$IT_TMP/server.$tag" && break; sleep 0.1; done
	"$IT_TMP/flowpeer" tcp-client 127.0.0.1 "$P" 4321 10 >/dev/null || it_fail "the exchange failed ($tag)"
	# wait (bounded, 20 s) for the alert, then stop
	for ((i = 0; i < 100; i++)); do grep -q 'flow closed' "$IT_TMP/alerts.$tag" && break; sleep 0.2; done
	kill -INT "$AGENT"
	wait "$AGENT" || it_fail "vigil run exited $? ($tag): $(tail -3 "$IT_TMP/err.$tag")"
	AGENT=""
}
exchange on
n=$(it_count "$IT_TMP/alerts.on" '.rule == "Flow of the test"')
[ "$n" = 1 ] || it_fail "flow rule alerts: $n: $(cat "$IT_TMP/alerts.on")"
out=$(jq -r 'select(.rule == "Flow of the test") | .output' "$IT_TMP/alerts.on")
case $out in
*"proc=flowpeer proto=tcp dir=out out=4321 in=10 l4=tcp server=127.0.0.1:$P rtt_set="[0-9]*) ;;
*) it_fail "flow rule output: $out" ;;
esac
[ "$(it_count "$IT_TMP/alerts.on" '.rule == "Syscall on the port"')" = 0 ] ||
	it_fail "a syscall rule saw flow records: $(cat "$IT_TMP/alerts.on")"
grep -q "vigil: flows: records=" "$IT_TMP/err.on" || it_fail "no flow counters: $(tail -3 "$IT_TMP/err.on")"

exchange off --no-flows
[ "$(it_count "$IT_TMP/alerts.off" '.rule == "Flow of the test"')" = 0 ] || it_fail "--no-flows: the flow rule fired"
it_finish
