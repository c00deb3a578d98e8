#!/bin/bash
# test_capture_bundle.sh: the `capture` action writes a forensic bundle for
# the alert's container -- a capture of the state and the container's last
# records, and a manifest with the alert, the container, its process tree and
# open files -- and `vigil replay` of the bundle raises the very same alert.
# shellcheck disable=SC2016,SC2317
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

it_need_root
it_need_bpf
it_need_jq
it_need_podman
M=$$
AGENT=""
cleanup() {
	[ -n "$AGENT" ] && kill -KILL "$AGENT" 2>/dev/null
	it_cleanup_common
}
trap cleanup EXIT
it_mktemp
cat >"$IT_TMP/rules.yaml" <<EOR
- rule: Capture on trigger
  desc: test
  condition: evt.type in (open, openat) and fd.name = /tmp/capture-me-$M and container.id != host
  output: capturing %container.name after %proc.cmdline (parent %proc.pname)
  priority: CRITICAL
  actions: [capture]
EOR
"$VIGIL" run --rules "$IT_TMP/rules.yaml" --store "$IT_TMP/db" --evidence-dir "$IT_TMP/evidence" --json \
	--duration 60 >"$IT_TMP/live" 2>"$IT_TMP/err" &
AGENT=$!
it_agent_ready "$AGENT" "$IT_TMP/err"
vg_podman run --rm --name "vgcap-$M" "$IT_IMAGE" sh -c "cat /etc/passwd >/dev/null; exec 7</etc/hostname; sleep 2 & cat /tmp/capture-me-$M 2>/dev/null; echo x >/tmp/capture-me-$M; wait" >/dev/null 2>&1
# the capture is answered (its bundle named in the alert) before the agent stops
for ((i = 0; i < 100; i++)); do
	grep -q '"responses"' "$IT_TMP/live" 2>/dev/null && break
	sleep 0.2
done
kill -INT "$AGENT"
wait "$AGENT" || it_fail "vigil run exited $?"
AGENT=""
dir=$(jq -r 'select(.vigil.responses) | .vigil.responses[0].detail' "$IT_TMP/live" | head -1 | sed 's/^bundle //')
[ -d "$dir" ] || it_die "no bundle directory: $(head -c 1000 "$IT_TMP/live")"
[ "$(stat -c %a "$dir")" = 700 ] || it_fail "bundle directory mode $(stat -c %a "$dir")"
[ "$(stat -c %a "$dir/events.vcap")" = 600 ] || it_fail "events.vcap mode $(stat -c %a "$dir/events.vcap")"
m=$dir/manifest.json
jq -e . "$m" >/dev/null || it_die "manifest is not JSON"
n=$(jq -r '[.rule, .container.name, (.records > 0), (.process_tree | map(.name) | index("sh") != null)] | @tsv' "$m")
[ "$n" = "Capture on trigger	vgcap-$M	true	true" ] || it_fail "manifest: $n"
jq -e '[.process_tree[].open_files[].target] | any(. == "/etc/hostname")' "$m" >/dev/null ||
	it_fail "the manifest lacks the shell's open file: $(jq -c '[.process_tree[] | {name, open_files}]' "$m" | head -c 800)"
# the bundle replays to the alert the live agent raised (the first one: the bundle ends there)
live=$(jq -r 'select(.rule == "Capture on trigger") | .output' "$IT_TMP/live" | head -1)
"$VIGIL" replay "$dir/events.vcap" --rules "$IT_TMP/rules.yaml" --json >"$IT_TMP/replayed" 2>"$IT_TMP/rerr" ||
	it_fail "replay of the bundle failed: $(cat "$IT_TMP/rerr")"
got=$(jq -r .output "$IT_TMP/replayed" | head -1)
[ -n "$live" ] && [ "$got" = "$live" ] || it_fail "bundle replay: '$got', live: '$live'"
n=$("$VIGIL" actions --store "$IT_TMP/db" --json | jq -r 'select(.action == "capture") | .outcome' | head -1)
[ "$n" = done ] || it_fail "capture action recorded as '$n'"
it_finish
