#!/usr/bin/env bash
# test_metrics: `vigil run --metrics 127.0.0.1:0` serves /metrics in the
# Prometheus text format (checked strictly by tests/tools/promcheck.py), and
# the numbers move: events by type after activity, a default rule's match
# after it is triggered (a program run from /tmp on the host), an audited
# kill of a rule of the test's, the alert latency histogram, the kernel's received records, RSS. The endpoint answers
# only GET/HEAD /metrics and refuses oversized requests.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/integration/lib.sh

it_need_root
it_need_bpf
it_need_vigil
command -v python3 >/dev/null || it_skip "python3 is not installed"
command -v curl >/dev/null || it_skip "curl is not installed"
AGENT=""
cleanup() {
	[ -n "$AGENT" ] && kill -KILL "$AGENT" 2>/dev/null
	it_cleanup_common
}
trap cleanup EXIT
it_mktemp
T=$IT_TMP

# Vigil's default rules, and one of ours whose kill is audited (recorded, not done)
M=$T/vgmetrics-marker-$$
echo x >"$M"
cat >"$T/rules.yaml" <<EOR
- rule: Metrics test marker read
  desc: a read of the test's marker
  condition: evt.type in (open, openat) and fd.name = $M
  output: marker read by %proc.name
  priority: WARNING
  actions: [kill]
EOR
"$VIGIL" run --store "$T/db" --json --default-rules --rules "$T/rules.yaml" --response audit --allow-host-actions \
	--metrics 127.0.0.1:0 --duration 120 >"$T/out" 2>"$T/err" &
AGENT=$!
it_agent_ready "$AGENT" "$T/err"
PORT=$(sed -n 's|.*metrics: listening on http://127.0.0.1:\([0-9]*\)/metrics$|\1|p' "$T/err")
[ -n "$PORT" ] || it_die "no metrics address logged: $(cat "$T/err")"
URL=http://127.0.0.1:$PORT/metrics

# scrape N: /metrics into $T/mN (checked) and $T/sN (samples as JSON lines)
scrape() {
	curl -sS -D "$T/h$1" -o "$T/m$1" "$URL" || it_die "cannot fetch $URL"
	grep -qi '^content-type: text/plain; version=0.0.4' "$T/h$1" || it_fail "scrape $1: content type: $(cat "$T/h$1")"
	python3 tests/tools/promcheck.py "$T/m$1" >"$T/s$1" || it_fail "scrape $1 is not valid exposition format"
}
# val N NAME [LABEL=VALUE...]: the sample's value in scrape N (0 when absent)
val() {
	python3 - "$T/s$1" "$2" "${@:3}" <<'PY'
import json, sys
want = dict(a.split("=", 1) for a in sys.argv[3:])
for l in open(sys.argv[1]):
    s = json.loads(l)
    if s["name"] == sys.argv[2] and all(s["labels"].get(k) == v for k, v in want.items()):
        print(int(s["value"]) if s["value"] == int(s["value"]) else s["value"]); break
else:
    print(0)
PY
}

scrape 1
for fam in vigil_events_total vigil_rule_matches_total vigil_alert_latency_seconds vigil_build_info \
	process_resident_memory_bytes; do
	grep -q "^# TYPE $fam " "$T/m1" || it_fail "scrape 1: no family $fam"
done
grep -q '^# TYPE vigil_alert_latency_seconds histogram$' "$T/m1" || it_fail "latency is not a histogram"
rss=$(val 1 process_resident_memory_bytes)
[ "${rss%.*}" -gt 1000000 ] || it_fail "RSS $rss is not plausible"
exec1=$(val 1 vigil_events_total type=execve)

# activity: programs run, one of them from /tmp on the host (a default rule: NOTICE)
cp /bin/true "$T/vgmetrics-$$"
for i in 1 2 3 4 5; do /bin/true; done
"$T/vgmetrics-$$"
cat "$M" >/dev/null
for ((i = 0; i < 100; i++)); do
	grep -q '"rule":"Execution from /tmp on host"' "$T/out" && grep -q '"rule":"Metrics test marker read"' "$T/out" && break
	sleep 0.1
done
grep -q '"rule":"Execution from /tmp on host"' "$T/out" || it_fail "the default rule did not alert: $(tail -3 "$T/err")"
grep -q '"rule":"Metrics test marker read"' "$T/out" || it_fail "the marker rule did not alert"
# the source counters are read once a second: wait for them (bounded)
for ((i = 0; i < 50; i++)); do
	scrape 2
	[ "$(val 2 vigil_records_received_total)" -gt 0 ] && break
	sleep 0.1
done

exec2=$(val 2 vigil_events_total type=execve)
[ "$exec2" -ge $((exec1 + 6)) ] || it_fail "execve events went from $exec1 to $exec2 after 6 executions"
n=$(val 2 vigil_rule_matches_total "rule=Execution from /tmp on host" priority=Notice)
[ "$n" -ge 1 ] || it_fail "rule match not counted: $(grep rule_matches "$T/m2")"
n=$(val 2 vigil_rule_matches_total "rule=Metrics test marker read" priority=Warning)
[ "$n" -ge 1 ] || it_fail "the marker rule's match not counted: $(grep rule_matches "$T/m2")"
n=$(val 2 vigil_actions_total action=kill outcome=audit)
[ "$n" -ge 1 ] || it_fail "the audited kill not counted: $(grep actions_total "$T/m2"; grep -i response "$T/err" | head -3)"
n=$(val 2 vigil_alert_latency_seconds_count)
[ "$n" -ge 1 ] || it_fail "no alert latency observed"
[ "$(val 2 vigil_records_received_total)" -gt 0 ] || it_fail "no received records counted"
grep -q '^vigil_lost_records_total{cpu="0"} [0-9]*$' "$T/m2" || it_fail "no lost records by CPU: $(grep lost "$T/m2")"
[ "$(val 2 vigil_build_info)" = 1 ] || it_fail "no build info"

echo "== the endpoint refuses what it does not serve"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/")
[ "$code" = 404 ] || it_fail "GET / gave $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL")
[ "$code" = 405 ] || it_fail "POST gave $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' a)" "$URL")
[ "$code" = 431 ] || it_fail "an oversized request gave $code"
len=$(curl -s -I "$URL" | tr -d '\r' | sed -n 's/^Content-Length: //Ip')
[ "${len:-0}" -gt 0 ] || it_fail "HEAD gave no Content-Length"
timeout 10 python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(5)
s.sendall(b"garbage\r\n\r\n")
print(s.recv(100).decode().split("\r\n")[0])' "$PORT" >"$T/raw" 2>&1
grep -q '^HTTP/1.1 400 ' "$T/raw" || it_fail "garbage gave: $(cat "$T/raw")"
scrape 3 # still serving

kill -INT "$AGENT"
wait "$AGENT"
rc=$?
AGENT=""
[ "$rc" = 0 ] || it_fail "the agent exited $rc: $(tail -3 "$T/err")"

echo "== a bad --metrics address is refused"
"$VIGIL" run --store "$T/db2" --metrics 127.0.0.1:99999 --duration 5 >/dev/null 2>"$T/err2"
[ $? = 1 ] && grep -q 'bad port' "$T/err2" || it_fail "bad port: $(cat "$T/err2")"
it_finish
