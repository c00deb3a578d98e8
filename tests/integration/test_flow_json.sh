#!/bin/bash
# test_flow_json.sh: the JSON of flow records and flow alerts (docs/flows.md),
# from a scripted capture (tests/tools/evgen), no kernel needed: a flow_dns
# record's payload is printed parsed (query, answers), a payload that does not
# parse gives the parser's error, and an alert says its rule's source ("flow"
# for a flow rule, "syscall" for a syscall rule).
# shellcheck disable=SC2016
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

it_need_jq
it_need_vigil
BUILD=$(dirname "$VIGIL")
[ -x "$BUILD/tests/evgen" ] || it_skip "$BUILD/tests/evgen is not built (make tests)"
it_mktemp
trap it_cleanup_common EXIT
W=4f2a9c0d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a19
cat >"$IT_TMP/ev" <<EOF2
container cgroup=42 id=$W name=web image=app
proc pid=10 ppid=1 cgroup=42 comm=curl exe=/usr/bin/curl args="curl"
flow_dns pid=10 cgroup=42 comm=curl tuple=10.88.0.5:5353->10.88.0.1:53 cookie=9 payload=dns:api.example.test len=47
flow_dns pid=10 cgroup=42 comm=curl tuple=10.88.0.5:5353->10.88.0.1:53 cookie=9 payload=hex:123481 len=3
flow_tcp pid=10 cgroup=42 comm=curl ret=0 tuple=10.88.0.5:40112->192.0.2.1:443/out phase=1 cookie=7
openat pid=10 cgroup=42 comm=curl ret=3 dirfd=-100 path=/etc/flow-json-test flags=0
EOF2
"$BUILD/tests/evgen" "$IT_TMP/ev" "$IT_TMP/c.vcap" || it_die "evgen failed"
"$VIGIL" replay "$IT_TMP/c.vcap" --json >"$IT_TMP/events" 2>"$IT_TMP/err" || it_die "replay failed: $(cat "$IT_TMP/err")"
got=$(jq -c 'select(.type == "flow_dns") | .args.payload' "$IT_TMP/events" | head -1)
want='{"id":4660,"rcode":0,"query":"api.example.test","qtype":1,"answers":[{"name":"api.example.test","type":"A","ttl":60,"address":"192.0.2.1"}]}'
[ "$got" = "$want" ] || it_fail "flow_dns payload: $got"
got=$(jq -c 'select(.type == "flow_dns") | .args.payload | keys' "$IT_TMP/events" | tail -1)
[ "$got" = '["error"]' ] || it_fail "a malformed payload: $got"

cat >"$IT_TMP/rules.yaml" <<'EOR'
- rule: flow to the test address
  desc: a flow rule
  condition: evt.type = flow_tcp and fd.rip = 192.0.2.1 and flow.dest = api.example.test
  output: flow (dest=%flow.dest)
  priority: NOTICE
  source: flow
- rule: open of the test file
  desc: a syscall rule
  condition: evt.type = openat and fd.name = /etc/flow-json-test
  output: open (file=%fd.name)
  priority: NOTICE
EOR
"$VIGIL" replay "$IT_TMP/c.vcap" --rules "$IT_TMP/rules.yaml" --json --no-store >"$IT_TMP/alerts" 2>"$IT_TMP/err" ||
	it_die "replay with rules failed: $(cat "$IT_TMP/err")"
got=$(jq -r '[.rule, .source] | @tsv' "$IT_TMP/alerts" | paste -sd ';')
[ "$got" = "flow to the test address	flow;open of the test file	syscall" ] || it_fail "alerts: $got"
it_finish
