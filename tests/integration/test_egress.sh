#!/bin/bash
# test_egress.sh: `vigil run --egress-policy` enforces per-container egress
# lists in the kernel: the policed container's connect() to a denied address
# and port fails with EPERM, its allowed connections work, and another
# container and the host are not touched; a bad policy stops the agent at start
# with file:line:column.
# shellcheck disable=SC2016,SC2317
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

it_need_root
it_need_bpf
it_need_podman
M=$$
P1=$((20000 + M % 20000))
P2=$((P1 + 1))
AGENT="" PIDS=()
cleanup() {
	[ -n "$AGENT" ] && kill -KILL "$AGENT" 2>/dev/null
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	it_cleanup_common
}
trap cleanup EXIT
it_mktemp
echo ok >"$IT_TMP/index.html"
busybox httpd -f -p "127.0.0.1:$P1" -h "$IT_TMP" & PIDS+=($!)
busybox httpd -f -p "127.0.0.1:$P2" -h "$IT_TMP" & PIDS+=($!)
cat >"$IT_TMP/policy.yaml" <<EOP
egress:
  - containers: [vgeg-$M-policed]
    default: allow
    deny: [{cidr: 127.0.0.0/8, ports: [$P1]}, 169.254.169.254/32]
EOP
"$VIGIL" run --no-store --egress-policy "$IT_TMP/policy.yaml" --duration 60 >/dev/null 2>"$IT_TMP/err" &
AGENT=$!
it_agent_ready "$AGENT" "$IT_TMP/err"
try() { # container-name port -> nc's stderr and status
	vg_podman run --rm --name "$1" --network host "$IT_IMAGE" \
		sh -c "nc -w 2 127.0.0.1 $2 </dev/null >/dev/null; echo rc=\$?" 2>&1
}
out=$(try "vgeg-$M-policed" "$P1")
case $out in *"Operation not permitted"*) ;; *) it_fail "denied port: $out" ;; esac
out=$(try "vgeg-$M-policed" "$P2")
case $out in *"rc=0"*) ;; *) it_fail "allowed port failed: $out" ;; esac
out=$(try "vgeg-$M-other" "$P1")
case $out in *"rc=0"*) ;; *) it_fail "another container was affected: $out" ;; esac
busybox nc -w 2 127.0.0.1 "$P1" </dev/null >/dev/null 2>"$IT_TMP/host" || it_fail "the host was affected: $(cat "$IT_TMP/host")"
grep -q "egress policy applied to container vgeg-$M-policed" "$IT_TMP/err" || it_fail "no policy report: $(cat "$IT_TMP/err")"
kill -INT "$AGENT"
wait "$AGENT" || it_fail "vigil run exited $?"
AGENT=""
grep -q "egress: [1-9][0-9]* connections refused" "$IT_TMP/err" || it_fail "no refusal count: $(tail -3 "$IT_TMP/err")"
# after the agent: nothing is policed any more
out=$(try "vgeg-$M-policed" "$P1")
case $out in *"rc=0"*) ;; *) it_fail "the policy outlived the agent: $out" ;; esac

printf 'egress:\n  - containers: [x]\n    deny: [10.0.0.0/99]\n' >"$IT_TMP/bad.yaml"
"$VIGIL" run --no-store --egress-policy "$IT_TMP/bad.yaml" --duration 5 >/dev/null 2>"$IT_TMP/bad.err"
[ $? -eq 1 ] && grep -q "bad.yaml:3:12: not a network" "$IT_TMP/bad.err" ||
	it_fail "a bad policy: $(cat "$IT_TMP/bad.err")"
it_finish
