#!/bin/bash
# test_pin_survive_egress.sh: an egress policy outlives an agent that dies.
# A running container is policed (connect() to a denied port fails with
# EPERM); the agent is killed with SIGKILL: the lists stay pinned below
# /sys/fs/bpf/vigil and the container is still refused. A restarted agent
# takes the pinned maps and links over: the container is refused from the
# moment the agent is ready, with no window in between. A normal stop ends
# the policy and removes the pins. (Isolation's survival of SIGKILL and its
# take-over are tests/integration/test_isolate_allow.sh.)
# shellcheck disable=SC2317
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

it_need_root
it_need_bpf
it_need_vigil
it_need_podman
command -v busybox >/dev/null || it_skip "busybox is not installed (the test's server)"
M=$$
P1=$((20000 + (M + 23) % 20000))
C=pinsurv-$M
PIN=/sys/fs/bpf/vigil
AGENT="" PIDS=()
cleanup() {
	[ -n "$AGENT" ] && kill -KILL "$AGENT" 2>/dev/null
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	vg_podman rm -f -t 0 "$C" >/dev/null 2>&1
	it_cleanup_common
}
trap cleanup EXIT
it_mktemp
echo ok >"$IT_TMP/index.html"
busybox httpd -f -p "127.0.0.1:$P1" -h "$IT_TMP" &
PIDS+=($!)
cat >"$IT_TMP/policy.yaml" <<EOP
egress:
  - containers: [$C]
    default: allow
    deny: [{cidr: 127.0.0.0/8, ports: [$P1]}]
EOP
vg_podman run -d --name "$C" --network host "$IT_IMAGE" sleep 300 >/dev/null || it_die "cannot start the container"
try() { vg_podman exec "$C" sh -c "nc -w 2 127.0.0.1 $P1 </dev/null >/dev/null; echo rc=\$?" 2>&1; }
refused() { case $(try) in *"Operation not permitted"*) return 0 ;; esac; return 1; }

start_agent() { # ERRFILE
	"$VIGIL" run --no-store --egress-policy "$IT_TMP/policy.yaml" --duration 120 >/dev/null 2>"$1" &
	AGENT=$!
	it_agent_ready "$AGENT" "$1"
}
start_agent "$IT_TMP/err1"
for ((i = 0; i < 100; i++)); do
	grep -q "egress policy applied to container $C" "$IT_TMP/err1" && break
	sleep 0.1
done
refused || it_fail "the policed container was not refused: $(try)"

# --- the agent dies: the pinned policy stays in force
kill -KILL "$AGENT"
wait "$AGENT" 2>/dev/null
AGENT=""
for p in egress_policy egress_rules egress_connect4 egress_connect6 egress_sendmsg4 egress_sendmsg6; do
	[ -e "$PIN/$p" ] || it_fail "$PIN/$p is not pinned after SIGKILL"
done
refused || it_fail "the policy did not outlive the killed agent: $(try)"

# --- a new agent takes the pins over: refused from the moment it is ready
start_agent "$IT_TMP/err2"
refused || it_fail "the container was not refused right after the restart: $(try)"
grep -q "egress: the lists an earlier agent left pinned stay in force, taken over" "$IT_TMP/err2" ||
	it_fail "the restarted agent did not say it took the pins over: $(cat "$IT_TMP/err2")"
for ((i = 0; i < 100; i++)); do
	grep -q "egress policy applied to container $C" "$IT_TMP/err2" && break
	sleep 0.1
done
refused || it_fail "the container was not refused under the new agent: $(try)"

# --- a normal stop ends the policy and removes the pins
kill -INT "$AGENT"
wait "$AGENT" || it_fail "vigil run exited $?: $(tail -3 "$IT_TMP/err2")"
AGENT=""
for p in egress_policy egress_rules egress_connect4; do
	[ ! -e "$PIN/$p" ] || it_fail "$PIN/$p left pinned after a normal stop"
done
case $(try) in *"rc=0"*) ;; *) it_fail "the policy outlived a normal stop: $(try)" ;; esac
it_finish
