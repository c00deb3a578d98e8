#!/usr/bin/env bash
# test_forwarders: the syslog, webhook and file forwarders (src/output/forward_*.c)
# driven as the outbox drives them (build/tests/fwdsend) against real receivers
# this test starts (tests/tools/fwdrecv.py: unix datagram and stream sockets,
# UDP and TCP on loopback, HTTP and HTTPS): every record arrives, in order,
# byte-exact; failures are retried, poison is skipped, rotation keeps N files.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/integration/lib.sh

SEND=$BUILD/tests/fwdsend
RECV=tests/tools/fwdrecv.py
[ -x "$SEND" ] || it_die "$SEND not built (make tests)"
command -v python3 >/dev/null || it_skip "python3 is not installed"
command -v openssl >/dev/null || it_skip "openssl is not installed"
it_mktemp
T=$IT_TMP
RECV_PIDS=()
cleanup() {
	local p
	for p in "${RECV_PIDS[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	it_cleanup_common
}
trap cleanup EXIT

# recv NAME MODE [ARGS...]: start a receiver recording into $T/NAME.out; ADDR set
recv() {
	local name=$1 mode=$2 i
	shift 2
	rm -f "$T/$name.ready"
	python3 "$RECV" "$mode" "$T/$name.out" "$T/$name.ready" "$@" 2>"$T/$name.err" &
	RECV_PIDS+=($!)
	for ((i = 0; i < 100; i++)); do
		[ -s "$T/$name.ready" ] && { ADDR=$(cat "$T/$name.ready"); touch "$T/$name.out"; return 0; }
		kill -0 "${RECV_PIDS[-1]}" 2>/dev/null || it_die "receiver $name exited: $(cat "$T/$name.err")"
		sleep 0.1
	done
	it_die "receiver $name not ready within 10 s"
}

# wait_lines FILE N: wait (bounded) until FILE has at least N lines
wait_lines() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(wc -l <"$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# check_syslog NAME FIRST COUNT FACILITY [MAXLEN]: the strict RFC 5424 check of each message
check_syslog() {
	python3 - "$T/$1.out" "$2" "$3" "$4" "${5:-0}" <<'PY'
import json, re, sys
path, first, count, fac, maxlen = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
recs = [json.loads(l) for l in open(path)]
errs = [r for r in recs if "error" in r]
if errs:
    sys.exit("framing errors: %r" % errs[:3])
if len(recs) != count:
    sys.exit("%d messages, expected %d" % (len(recs), count))
HDR = re.compile(r'<(\d{1,3})>1 (\S+) (\S{1,255}) (\S{1,48}) (\S{1,128}) (\S{1,32}) ')
def sd(s, i):
    # one SD-ELEMENT from s[i] == '[': (id, params, next index); strict escaping
    assert s[i] == '['
    m = re.compile(r'([!-~]{1,32}?)(?=[ \]])').match(s, i + 1)
    sid, i, params = m.group(1), m.end(), {}
    while s[i] == ' ':
        m = re.compile(r'([^= \]"]{1,32})="').match(s, i + 1)
        name, i, val = m.group(1), m.end(), ""
        while s[i] != '"':
            if s[i] == '\\' and s[i + 1] in '"\\]':
                val += s[i + 1]; i += 2
            else:
                assert s[i] not in '"]\\', "unescaped %r in %s" % (s[i], name)
                val += s[i]; i += 1
        params[name] = val
        i += 1
    assert s[i] == ']', "SD element not closed at %d" % i
    return sid, params, i + 1
for k, r in enumerate(recs):
    seq, msg = first + k, r["msg"]
    m = HDR.match(msg)
    if not m:
        sys.exit("not RFC 5424: %r" % msg[:120])
    pri, ts, host, app, procid, msgid = m.groups()
    want_ts = "2026-12-06T00:00:%02d.%03d000Z" % (seq // 1000 % 60, seq % 1000)
    assert int(pri) == fac * 8 + seq % 8, (pri, seq)
    assert ts == want_ts, (ts, want_ts)
    assert (host, app, msgid) == ("node-a", "vigil", "alert"), (host, app, msgid)
    assert procid.isdigit()
    sid, p, i = sd(msg, m.end())
    assert sid == "vigil@32473", sid
    assert p["kind"] == "alert" and p["seq"] == str(seq) and p["uuid"] == "%032x" % seq, p
    assert p["rule"] == "Rule %d" % seq and p["priority"] == "Warning", p
    assert p["container_id"] == "c0ffee%d" % seq and p["container_name"] == 'web]"x', p
    assert msg[i] == ' ', "no SP before MSG"
    body = msg[i + 1:]
    if maxlen and len(msg.encode()) >= maxlen:
        assert len(msg.encode()) == maxlen, len(msg.encode())
        continue
    j = json.loads(body)
    assert j["rule"] == "Rule %d" % seq and j["output"] == 'seq %d "quoted" ] \\ \u00e9' % seq, j
print("ok %d messages" % len(recs))
PY
}

# --- syslog ---------------------------------------------------------------
echo "== syslog over a unix datagram socket (as /dev/log)"
recv ud syslog-unix-dgram "$T/ud.sock"
"$SEND" "syslog:unix://$T/ud.sock" --count 30 --batch 7 >"$T/send.log" 2>&1 || it_fail "unix dgram: $(cat "$T/send.log")"
check_syslog ud 1 30 16 || it_fail "unix dgram messages"

echo "== syslog over a unix stream socket (unix:// falls back to stream), octet counting"
recv us syslog-unix-stream "$T/us.sock"
"$SEND" "syslog:unix://$T/us.sock;facility=auth" --count 25 --batch 10 --first 100 >"$T/send.log" 2>&1 ||
	it_fail "unix stream: $(cat "$T/send.log")"
wait_lines "$T/us.out" 25 || it_fail "unix stream: $(wc -l <"$T/us.out") of 25 messages arrived"
check_syslog us 100 25 4 || it_fail "unix stream messages"

echo "== syslog over UDP; a message over 65000 bytes is cut to 65000"
recv udp syslog-udp
"$SEND" "syslog:udp://127.0.0.1:$ADDR;facility=local7" --count 20 --batch 5 >"$T/send.log" 2>&1 || it_fail "udp: $(cat "$T/send.log")"
wait_lines "$T/udp.out" 20 || it_fail "udp: $(wc -l <"$T/udp.out") of 20 datagrams arrived"
check_syslog udp 1 20 23 || it_fail "udp messages"
: >"$T/udp.out"
"$SEND" "syslog:udp://127.0.0.1:$ADDR" --count 1 --first 7 --big 80000 >"$T/send.log" 2>&1 || it_fail "udp big: $(cat "$T/send.log")"
wait_lines "$T/udp.out" 1 || it_fail "udp: the big datagram did not arrive"
check_syslog udp 7 1 16 65000 || it_fail "udp big message"
grep -q '^vigil_output_truncated_total{output="syslog"} 1$' "$T/send.log" || it_fail "udp big: not counted: $(cat "$T/send.log")"

echo "== syslog over TCP with octet counting (RFC 6587): many messages, some large"
recv tcp syslog-tcp
TCP_PORT=$ADDR
"$SEND" "syslog:tcp://127.0.0.1:$ADDR" --count 200 --batch 64 --big 3000 >"$T/send.log" 2>&1 || it_fail "tcp: $(cat "$T/send.log")"
wait_lines "$T/tcp.out" 200 || it_fail "tcp: $(wc -l <"$T/tcp.out") of 200 messages arrived"
check_syslog tcp 1 200 16 || it_fail "tcp messages"

echo "== syslog to a TCP port nobody listens on: nothing delivered, the reason said"
kill "${RECV_PIDS[-1]}"; wait "${RECV_PIDS[-1]}" 2>/dev/null
"$SEND" "syslog:tcp://127.0.0.1:$TCP_PORT" --count 3 --tries 2 >"$T/send.log" 2>&1 && it_fail "tcp down: fwdsend said all arrived"
grep -q 'deliver 1+3 -> -1: cannot connect to syslog 127.0.0.1:[0-9]*: Connection refused' "$T/send.log" ||
	it_fail "tcp down: $(cat "$T/send.log")"
grep -q '^cursor 1$' "$T/send.log" || it_fail "tcp down: the cursor moved: $(cat "$T/send.log")"

echo "== syslog over TLS (RFC 5425): the server verified against the CA and for its name"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
	-keyout "$T/key.pem" -out "$T/cert.pem" >/dev/null 2>&1 || it_die "openssl cannot make a certificate"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=elsewhere -addext subjectAltName=DNS:elsewhere \
	-keyout "$T/key2.pem" -out "$T/cert2.pem" >/dev/null 2>&1 || it_die "openssl cannot make a certificate"
recv tls syslog-tls "$T/cert.pem" "$T/key.pem"
"$SEND" "syslog:tls://127.0.0.1:$ADDR;ca=$T/cert.pem" --count 40 --batch 16 --big 2000 >"$T/send.log" 2>&1 ||
	it_fail "tls: $(cat "$T/send.log")"
wait_lines "$T/tls.out" 40 || it_fail "tls: $(wc -l <"$T/tls.out") of 40 messages arrived"
check_syslog tls 1 40 16 || it_fail "tls messages"
"$SEND" "syslog:tls://127.0.0.1:$ADDR" --count 1 --tries 1 >"$T/send.log" 2>&1 && it_fail "tls without the CA: delivered"
grep -q 'TLS handshake with syslog 127.0.0.1:[0-9]* failed: self-signed certificate' "$T/send.log" ||
	it_fail "tls without the CA: $(cat "$T/send.log")"
recv tls2 syslog-tls "$T/cert2.pem" "$T/key2.pem"
"$SEND" "syslog:tls://127.0.0.1:$ADDR;ca=$T/cert2.pem" --count 1 --tries 1 >"$T/send.log" 2>&1 && it_fail "tls, wrong name: delivered"
grep -q 'failed: .*mismatch' "$T/send.log" || it_fail "tls, wrong name: $(cat "$T/send.log")"
"$SEND" "syslog:udp://127.0.0.1;ca=$T/cert.pem" --count 1 >"$T/send.log" 2>&1
grep -q 'ca, cert and key are for tls:// only' "$T/send.log" || it_fail "udp with ca=: $(cat "$T/send.log")"

echo "== syslog spec errors"
for bad in "syslog:" "syslog:udp://" "syslog:unix://rel/path" "syslog:udp://h:99999" \
	"syslog:udp://h;facility=nope" "syslog:udp://h;framing=x" "syslog:udp://h;colour=red" "nope:x"; do
	"$SEND" "$bad" --count 1 >"$T/send.log" 2>&1
	rc=$?
	[ "$rc" = 2 ] && grep -q '^fwdsend: ' "$T/send.log" || it_fail "spec '$bad' not refused clearly (rc $rc): $(cat "$T/send.log")"
done

# --- webhook --------------------------------------------------------------
# check_http NAME FIRST COUNT: each record POSTed and answered 2xx exactly once, in order
check_http() {
	python3 - "$T/$1.out" "$2" "$3" <<'PY'
import json, sys
path, first, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
reqs = [json.loads(l) for l in open(path)]
ok = [r for r in reqs if 200 <= r["status"] < 300]
seqs = [int(r["headers"]["Idempotency-Key"], 16) for r in ok]
if seqs != list(range(first, first + count)):
    sys.exit("delivered in this order: %r" % seqs)
for r in ok:
    seq = int(r["headers"]["Idempotency-Key"], 16)
    j = json.loads(r["body"])
    assert r["headers"]["Content-Type"] == "application/json", r["headers"]
    assert r["headers"]["Vigil-Kind"] == "alert", r["headers"]
    assert r["headers"]["User-Agent"].startswith("vigil/"), r["headers"]
    assert j["rule"] == "Rule %d" % seq and j["output"] == 'seq %d "quoted" ] \\ \u00e9' % seq, j
print("ok %d delivered (%d requests)" % (len(ok), len(reqs)))
PY
}

echo "== webhook over HTTP: bodies exact and in order, configured headers sent"
printf '# secrets stay off the command line\nAuthorization: Bearer s3cret\n\nX-From-File: yes\n' >"$T/headers"
recv h1 http
"$SEND" "webhook:http://127.0.0.1:$ADDR/falco;header=X-Team: sec;header-file=$T/headers" --count 20 --batch 6 \
	>"$T/send.log" 2>&1 || it_fail "http: $(cat "$T/send.log")"
check_http h1 1 20 || it_fail "http deliveries"
python3 -c '
import json,sys
r=[json.loads(l) for l in open(sys.argv[1])][0]
h=r["headers"]
assert r["path"]=="/falco" and h["X-Team"]=="sec" and h["Authorization"]=="Bearer s3cret" and h["X-From-File"]=="yes", r
' "$T/h1.out" || it_fail "http: configured headers missing"

: >"$T/h1.out"
"$SEND" "webhook:http://127.0.0.1:$ADDR/falco" --count 2 --big 5000 >"$T/send.log" 2>&1 || it_fail "http big: $(cat "$T/send.log")"
check_http h1 1 2 || it_fail "http big deliveries"
grep -qi '"expect"' "$T/h1.out" && it_fail "http big: sent with Expect: 100-continue"

echo "== webhook: 503 twice then 200: retried with backoff inside deliver(), nothing lost or doubled"
recv h2 http --fail 2:503
"$SEND" "webhook:http://127.0.0.1:$ADDR/;backoff=0.05;retries=3" --count 10 --batch 4 >"$T/send.log" 2>&1 ||
	it_fail "http 503: $(cat "$T/send.log")"
check_http h2 1 10 || it_fail "http 503 deliveries"
[ "$(wc -l <"$T/h2.out")" = 12 ] || it_fail "http 503: $(wc -l <"$T/h2.out") requests, expected 12"
grep -q -- '-> -1' "$T/send.log" && it_fail "http 503: a deliver gave up: $(cat "$T/send.log")"
grep -q '^vigil_output_retries_total{output="webhook"} 2$' "$T/send.log" || it_fail "http 503: retries not counted: $(cat "$T/send.log")"

echo "== webhook: a longer outage (5 x 500, 408, 429) outlasts deliver()'s retries: the outbox's cursor waits"
recv h3 http --fail 5:500 --fail 1:408 --fail 1:429
"$SEND" "webhook:http://127.0.0.1:$ADDR/;backoff=0.05;backoff-max=1.5;retries=1" --count 8 --batch 3 >"$T/send.log" 2>&1 ||
	it_fail "http outage: $(cat "$T/send.log")"
grep -q 'deliver 1+3 -> -1: webhook http://127.0.0.1:[0-9]*/: HTTP 500' "$T/send.log" ||
	it_fail "http outage: no failed deliver reported: $(cat "$T/send.log")"
check_http h3 1 8 || it_fail "http outage deliveries"

echo "== webhook: a 400 is poison: counted, logged and skipped; the rest arrive in order"
recv h4 http --poison '"Rule 5"'
"$SEND" "webhook:http://127.0.0.1:$ADDR/" --count 9 --batch 4 >"$T/send.log" 2>&1 || it_fail "http poison: $(cat "$T/send.log")"
grep -q 'HTTP 400: refused: poison): record 00000000000000000000000000000005 skipped\|HTTP 400: refused: poison: record 00000000000000000000000000000005 skipped' "$T/send.log" ||
	it_fail "http poison: not reported: $(cat "$T/send.log")"
grep -q '^vigil_output_poisoned_total{output="webhook"} 1$' "$T/send.log" || it_fail "http poison: not counted: $(cat "$T/send.log")"
python3 -c '
import json,sys
r=[json.loads(l) for l in open(sys.argv[1])]
ok=[int(x["headers"]["Idempotency-Key"],16) for x in r if x["status"]==200]
bad=[int(x["headers"]["Idempotency-Key"],16) for x in r if x["status"]==400]
assert ok==[1,2,3,4,6,7,8,9] and bad==[5], (ok,bad)
' "$T/h4.out" || it_fail "http poison: wrong deliveries"

echo "== webhook: a receiver slower than the timeout: retried; the idempotency key names the duplicate"
recv h5 http --slow 1:4
"$SEND" "webhook:http://127.0.0.1:$ADDR/;timeout=1;backoff=0.05" --count 4 >"$T/send.log" 2>&1 ||
	it_fail "http slow: $(cat "$T/send.log")"
wait_lines "$T/h5.out" 5 || it_fail "http slow: the slow request was not recorded"
python3 -c '
import json,sys
r=[json.loads(x) for x in open(sys.argv[1])]
keys=[int(x["headers"]["Idempotency-Key"],16) for x in sorted(r, key=lambda x: x["n"])]
first=[k for i,k in enumerate(keys) if k not in keys[:i]]
# every record sent, in order; the one that timed out sent again (a busy machine may add more)
assert first==[1,2,3,4] and keys.count(1)>=2, keys
' "$T/h5.out" || it_fail "http slow: wrong requests"

echo "== webhook: only alerts by default (falcosidekick takes Falco alerts); kinds= widens it"
recv h6 http
"$SEND" "webhook:http://127.0.0.1:$ADDR/" --count 3 --kind action >"$T/send.log" 2>&1 || it_fail "http kinds: $(cat "$T/send.log")"
[ -s "$T/h6.out" ] && it_fail "http kinds: an action was posted by default"
"$SEND" "webhook:http://127.0.0.1:$ADDR/;kinds=alert,action" --count 3 --kind action >"$T/send.log" 2>&1 ||
	it_fail "http kinds: $(cat "$T/send.log")"
[ "$(grep -c '"Vigil-Kind": "action"' "$T/h6.out")" = 3 ] || it_fail "http kinds: actions not posted with kinds=alert,action"

echo "== webhook over HTTPS: verified against the given CA; refused without it"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
	-keyout "$T/key.pem" -out "$T/cert.pem" >/dev/null 2>&1 || it_die "openssl cannot make a certificate"
recv h7 http --tls "$T/cert.pem" "$T/key.pem"
"$SEND" "webhook:https://127.0.0.1:$ADDR/;ca=$T/cert.pem" --count 5 --batch 2 >"$T/send.log" 2>&1 ||
	it_fail "https: $(cat "$T/send.log")"
check_http h7 1 5 || it_fail "https deliveries"
"$SEND" "webhook:https://127.0.0.1:$ADDR/;retries=0" --count 1 --tries 1 >"$T/send.log" 2>&1 &&
	it_fail "https without the CA: delivered anyway"
grep -qi 'certificate' "$T/send.log" || it_fail "https without the CA: no certificate error: $(cat "$T/send.log")"

echo "== webhook spec errors"
for bad in "webhook:ftp://x" "webhook:http://x;header=bad header" "webhook:http://x;header-file=$T/none" \
	"webhook:http://x;retries=99" "webhook:http://x;cert=$T/cert.pem" "webhook:http://x;kinds=alerts"; do
	"$SEND" "$bad" --count 1 >"$T/send.log" 2>&1
	rc=$?
	[ "$rc" = 2 ] && grep -q '^fwdsend: ' "$T/send.log" || it_fail "spec '$bad' not refused clearly (rc $rc): $(cat "$T/send.log")"
done

# --- file -----------------------------------------------------------------
echo "== file: JSON lines, rotated by size, keep N"
"$SEND" "file:$T/alerts.jsonl;max-size=2K;keep=3" --count 60 --batch 7 >"$T/send.log" 2>&1 || it_fail "file: $(cat "$T/send.log")"
python3 - "$T/alerts.jsonl" <<'PY' || it_fail "file rotation"
import json, os, sys
base = sys.argv[1]
files = [base + ".%d" % i for i in (3, 2, 1)] + [base]
assert not os.path.exists(base + ".4"), "more than keep=3 rotated files"
seqs = []
for f in files:
    data = open(f, "rb").read()
    assert os.path.getsize(f) <= 2048, (f, os.path.getsize(f))
    assert data.endswith(b"\n")
    for line in data.split(b"\n")[:-1]:
        seqs.append(int(json.loads(line)["rule"].split()[1]))
# the newest records, in order, with no gap: the oldest were rotated out
assert seqs == list(range(seqs[0], 61)) and seqs[0] > 1, seqs
print("ok %d lines in 4 files, from %d" % (len(seqs), seqs[0]))
PY

echo "== file: a line cut by a crash is removed when the file is opened again"
printf '{"rule":"Rule 0"}\n{"rule":"cut in the mid' >"$T/crash.jsonl"
"$SEND" "file:$T/crash.jsonl;fsync=always" --count 2 >"$T/send.log" 2>&1 || it_fail "file crash: $(cat "$T/send.log")"
python3 -c '
import json,sys
l=[json.loads(x)["rule"] for x in open(sys.argv[1])]
assert l==["Rule 0","Rule 1","Rule 2"], l
' "$T/crash.jsonl" || it_fail "file crash: the partial line was not trimmed"

echo "== file: a directory that cannot be written is an error at open"
"$SEND" "file:$T/nodir/x.jsonl" --count 1 >"$T/send.log" 2>&1
grep -q 'cannot open directory' "$T/send.log" || it_fail "file nodir: $(cat "$T/send.log")"
"$SEND" "file:relative.jsonl" --count 1 >"$T/send.log" 2>&1
grep -q 'absolute file path' "$T/send.log" || it_fail "file relative: $(cat "$T/send.log")"

echo "== vigil run checks --output at start: a bad spec is a usage error naming it"
"$VIGIL" run --output "syslog:udp://127.0.0.1;facility=nope" --duration 1 >/dev/null 2>"$T/err"
[ $? = 2 ] && grep -q "^vigil: syslog output: unknown facility 'nope'" "$T/err" || it_fail "run --output bad spec: $(head -2 "$T/err")"
"$VIGIL" run --output "kafka:x" --duration 1 >/dev/null 2>"$T/err"
[ $? = 2 ] && grep -q "^vigil: unknown output 'kafka' in --output (known: syslog, webhook, file" "$T/err" ||
	it_fail "run --output unknown: $(head -2 "$T/err")"
"$VIGIL" run --output "file:$T/x.jsonl" --no-store --duration 1 >/dev/null 2>"$T/err"
[ $? = 2 ] && grep -q "cannot go with --no-store" "$T/err" || it_fail "run --output --no-store: $(head -2 "$T/err")"

it_finish
