#!/usr/bin/env bash
# forwarders.sh: how fast each forwarder (src/output/forward_*.c) drains a
# backlog, driven by build/tests/fwdsend as the outbox drives it (batches of
# 256), against receivers on loopback (tests/tools/fwdrecv.py) and a file in
# /tmp. Prints records/s for each and, as the figure to compare across
# machines, the ratio to the file forwarder with fsync=never measured in the
# same run (formatting and write() alone). No root. Usage: bench/forwarders.sh [N]
set -u
cd "$(dirname "$0")/.." || exit 1
N=${1:-20000}
SEND=${BUILD:-build}/tests/fwdsend
[ -x "$SEND" ] || { echo "skipped: $SEND not built (make tests)"; exit 0; }
command -v python3 >/dev/null || { echo "skipped: python3 missing"; exit 0; }
D=$(mktemp -d /tmp/vigil-bench.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$D"; }
trap cleanup EXIT
trap 'exit 1' INT TERM

recv() { # NAME MODE [ARGS]: start a receiver, ADDR set
	python3 tests/tools/fwdrecv.py "$2" "$D/$1.out" "$D/$1.ready" "${@:3}" 2>/dev/null &
	PIDS+=($!)
	for ((i = 0; i < 100; i++)); do [ -s "$D/$1.ready" ] && break; sleep 0.1; done
	ADDR=$(cat "$D/$1.ready")
}
# run LABEL SPEC [COUNT]: records/s of draining COUNT records
run() {
	local n=${3:-$N} t0 t1
	t0=$(date +%s%N)
	"$SEND" "$2" --count "$n" --batch 256 --tries 100000 >"$D/log" 2>&1 || { echo "$1: failed: $(tail -2 "$D/log")"; return; }
	t1=$(date +%s%N)
	rate=$((n * 1000000000 / (t1 - t0)))
	[ -n "${BASE:-}" ] || BASE=$rate
	printf '%-34s %9d records/s  ratio %.3f\n' "$1" "$rate" "$(echo "$rate / $BASE" | bc -l)"
}

echo "forwarders: $N records of ~330 bytes, batches of 256"
BASE=""
run "file fsync=never (baseline)" "file:$D/a.jsonl;fsync=never;max-size=1G"
run "file fsync=batch" "file:$D/b.jsonl;fsync=batch;max-size=1G"
run "file fsync=always" "file:$D/c.jsonl;fsync=always;max-size=1G" $((N / 10))
run "file fsync=never, rotating at 1M" "file:$D/d.jsonl;fsync=never;max-size=1M;keep=3"
recv ud syslog-unix-dgram "$D/ud.sock"
run "syslog unix datagram" "syslog:unix://$D/ud.sock"
recv tcp syslog-tcp
run "syslog tcp (octet counting)" "syslog:tcp://127.0.0.1:$ADDR"
recv http http
run "webhook http (python receiver)" "webhook:http://127.0.0.1:$ADDR/" $((N / 10))
echo "(the receivers are Python: the syslog and webhook figures are bounded by them)"
