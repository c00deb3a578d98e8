#!/usr/bin/env bash
# bench/profile.sh: what behaviour profiles (docs/profiles.md) cost, measured in one run.
#
# A capture is recorded while two busybox containers work (httpd serving, a job
# fetching a page in a loop, health checks by `podman exec`) beside a host
# workload (bench/storm's opens, program starts). It is replayed with Vigil's
# default rules, with and without --profiles (learning: every event of a
# container is looked up in its profile, new items learnt), best CPU time of
# three runs each. Printed: events per second per core of both, their ratio,
# and the profiles' sizes (the agent's own summary line).
#
# Needs root and podman. Usage: bench/profile.sh [SECONDS]
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || bench_skip "needs root"
# shellcheck source=tests/lib/containers.sh
. "$BENCH_ROOT/tests/lib/containers.sh"
why=$(vg_podman_skip_reason) || bench_skip "$why"
IMG=$(vg_busybox_image) || bench_skip "cannot build the busybox test image"
SECS=${1:-10}
M=$$
TMP=$(mktemp -d /tmp/vigil-bench-profile.XXXXXX)
cleanup() {
	vg_podman rm -f -t 0 "vgbprof-$M-a" "vgbprof-$M-b" >/dev/null 2>&1 || true
	rm -rf "$TMP"
}
trap cleanup EXIT

bench_log "recording ${SECS}s of two containers and a host workload"
"$VIGIL" capture -w "$TMP/cap.vcap" --flows --duration $((SECS + 4)) 2>"$TMP/cap.err" &
CAP=$!
sleep 1
for r in a b; do
	vg_podman run -d --name "vgbprof-$M-$r" "$IMG" sh -c 'mkdir -p /www && echo hi >/www/i &&
		httpd -p 8080 -h /www && while true; do wget -q -O /tmp/out http://127.0.0.1:8080/i; cat /etc/hostname >/tmp/h; done' >/dev/null
done
end=$((SECONDS + SECS))
while [ $SECONDS -lt $end ]; do
	vg_podman exec "vgbprof-$M-a" wget -q -O /dev/null http://127.0.0.1:8080/i || true
	for _ in $(seq 50); do /bin/true; cat /etc/hostname >/dev/null; done
done
wait $CAP || { cat "$TMP/cap.err"; exit 1; }
EVENTS=$("$VIGIL" replay "$TMP/cap.vcap" --json 2>/dev/null | wc -l)

cpu_of() { # command... -> user+sys seconds of the command (its stderr kept in $TMP/last.err)
	local t TIMEFORMAT='%U %S'
	t=$( { time "$@" >/dev/null 2>"$TMP/last.err"; } 2>&1 | tail -1)
	awk -v t="$t" 'BEGIN { split(t, a, " "); printf "%.3f", a[1] + a[2] }'
}
best() { # command... -> the smallest CPU time of three runs
	local b=999999 c
	for _ in 1 2 3; do
		c=$(cpu_of "$@")
		b=$(awk -v a="$c" -v b="$b" 'BEGIN { print (a < b ? a : b) }')
	done
	echo "$b"
}
# the fixed part (process start, rule loading): a capture of no records, the file header alone
head -c 96 "$TMP/cap.vcap" >"$TMP/none.vcap"
fixed=$(best "$VIGIL" replay "$TMP/none.vcap" --default-rules --json)
without=$(bench_sub "$(best "$VIGIL" replay "$TMP/cap.vcap" --default-rules --json)" "$fixed")
with=$(bench_sub "$(best "$VIGIL" replay "$TMP/cap.vcap" --default-rules --json --profiles)" "$fixed")
summary=$(grep 'profiles: .* profiles, ' "$TMP/last.err" | sed 's/^vigil: //')
rate() { awk -v n="$EVENTS" -v c="$1" 'BEGIN { if (c <= 0) print "inf"; else printf "%.0f", n / c }'; }
echo "capture: $EVENTS events; fixed cost ${fixed}s (start, rules) subtracted"
echo "without profiles: $(rate "$without") events/s per core (cpu ${without}s)"
echo "with profiles:    $(rate "$with") events/s per core (cpu ${with}s)"
echo "cpu ratio with/without: $(bench_ratio "$with" "$without")"
echo "$summary"
