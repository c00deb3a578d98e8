#!/usr/bin/env bash
# test_forward_rsyslog: the syslog forwarder against a real, independent
# RFC 5424 parser: rsyslogd, started by the test on loopback (UDP, TCP with
# octet counting) and on a unix socket, writes what it parsed (PRI, header
# fields, structured data, MSG) as JSON; every message must come out as sent.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/integration/lib.sh

SEND=$BUILD/tests/fwdsend
[ -x "$SEND" ] || it_die "$SEND not built (make tests)"
command -v rsyslogd >/dev/null 2>&1 || it_skip "rsyslogd is not installed (Debian: rsyslog)"
command -v python3 >/dev/null 2>&1 || it_skip "python3 is not installed"
RSYSLOG=""
cleanup() {
	[ -n "$RSYSLOG" ] && kill "$RSYSLOG" 2>/dev/null && wait "$RSYSLOG" 2>/dev/null
	it_cleanup_common
}
trap cleanup EXIT
it_mktemp
T=$IT_TMP

read -r UDP TCP < <(python3 -c '
import socket
s = [socket.socket(socket.AF_INET, k) for k in (socket.SOCK_DGRAM, socket.SOCK_STREAM)]
for x in s: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))')
cat >"$T/rsyslog.conf" <<EOC
global(workDirectory="$T" maxMessageSize="256k")
module(load="imudp")
module(load="imtcp")
module(load="imuxsock" SysSock.Use="off")
input(type="imudp" address="127.0.0.1" port="$UDP" ruleset="out")
input(type="imtcp" address="127.0.0.1" port="$TCP" ruleset="out")
input(type="imuxsock" Socket="$T/log.sock" UseSpecialParser="off" ParseHostname="on" IgnoreTimestamp="off" ruleset="out")
template(name="j" type="list" option.jsonf="on") {
  property(outname="pri" name="pri" format="jsonf")
  property(outname="ver" name="protocol-version" format="jsonf")
  property(outname="ts" name="timereported" dateFormat="rfc3339" format="jsonf")
  property(outname="host" name="hostname" format="jsonf")
  property(outname="app" name="app-name" format="jsonf")
  property(outname="procid" name="procid" format="jsonf")
  property(outname="msgid" name="msgid" format="jsonf")
  property(outname="sd" name="structured-data" format="jsonf")
  property(outname="msg" name="msg" format="jsonf")
}
ruleset(name="out") { action(type="omfile" file="$T/out.jsonl" template="j") }
EOC
rsyslogd -N1 -f "$T/rsyslog.conf" >"$T/check" 2>&1 || it_skip "this rsyslogd refuses the configuration: $(tail -2 "$T/check")"
rsyslogd -n -f "$T/rsyslog.conf" -i "$T/rsyslog.pid" >"$T/rsyslog.log" 2>&1 &
RSYSLOG=$!
for ((i = 0; i < 100; i++)); do
	[ -S "$T/log.sock" ] && python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),1)' "$TCP" 2>/dev/null && break
	kill -0 "$RSYSLOG" 2>/dev/null || it_die "rsyslogd exited: $(cat "$T/rsyslog.log")"
	sleep 0.1
done

"$SEND" "syslog:udp://127.0.0.1:$UDP" --count 10 --first 1 >"$T/send.log" 2>&1 || it_fail "udp: $(cat "$T/send.log")"
"$SEND" "syslog:tcp://127.0.0.1:$TCP;facility=auth" --count 10 --first 101 --big 5000 >"$T/send.log" 2>&1 || it_fail "tcp: $(cat "$T/send.log")"
"$SEND" "syslog:unix://$T/log.sock;facility=local3" --count 10 --first 201 >"$T/send.log" 2>&1 || it_fail "unix: $(cat "$T/send.log")"
for ((i = 0; i < 100; i++)); do
	[ "$(wc -l <"$T/out.jsonl" 2>/dev/null || echo 0)" -ge 30 ] && break
	sleep 0.1
done

python3 - "$T/out.jsonl" <<'PY' || it_fail "rsyslog parsed something else than was sent"
import json, re, sys
recs = sorted((json.loads(l) for l in open(sys.argv[1])), key=lambda r: int(re.search(r'seq="(\d+)"', r["sd"]).group(1)))
seqs = [int(re.search(r'seq="(\d+)"', r["sd"]).group(1)) for r in recs]
assert seqs == list(range(1, 11)) + list(range(101, 111)) + list(range(201, 211)), seqs
for r in recs:
    seq = int(re.search(r'seq="(\d+)"', r["sd"]).group(1))
    fac = 16 if seq < 100 else 4 if seq < 200 else 19
    assert int(r["pri"]) == fac * 8 + seq % 8, (r["pri"], seq)
    assert r["ver"] == "1" and r["host"] == "node-a" and r["app"] == "vigil" and r["msgid"] == "alert", r
    assert r["ts"].startswith("2026-12-06T00:00:00.%03d" % seq), r["ts"]
    assert r["sd"].startswith("[vigil@32473 kind=\"alert\" seq=\"%d\" uuid=\"%032x\" rule=\"Rule %d\"" % (seq, seq, seq)), r["sd"]
    assert 'container_name="web\\]\\"x"' in r["sd"], r["sd"]
    j = json.loads(r["msg"])
    assert j["rule"] == "Rule %d" % seq and j["output"] == 'seq %d "quoted" ] \\ \u00e9' % seq, j
print("ok: rsyslog parsed %d messages as sent" % len(recs))
PY
it_finish
