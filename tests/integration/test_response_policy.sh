#!/bin/bash
# test_response_policy.sh: `vigil run --response-policy FILE` binds actions to
# rules, tags or priorities per container: the same rule kills in one container
# (enforce binding), is only recorded in another (audit binding) and does
# nothing in a third (no binding); a bad policy stops the agent with
# file:line:column.
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
- rule: Trigger
  desc: test
  condition: evt.type in (open, openat) and fd.name = /tmp/pol-trigger-$M
  output: trigger in %container.name
  priority: WARNING
  tags: [test-kill]
EOR
cat >"$IT_TMP/policy.yaml" <<EOP
bindings:
  - tags: [test-kill]
    containers: ["vgpol-$M-kill"]
    actions: [kill]
  - rules: [Trigger]
    containers: ["vgpol-$M-audit*"]
    actions: [kill]
    mode: audit
EOP
"$VIGIL" run --rules "$IT_TMP/rules.yaml" --response-policy "$IT_TMP/policy.yaml" --store "$IT_TMP/db" \
	--duration 60 >/dev/null 2>"$IT_TMP/err" &
AGENT=$!
it_agent_ready "$AGENT" "$IT_TMP/err"
run() { vg_podman run --rm --name "$1" "$IT_IMAGE" sh -c "echo x >/tmp/pol-trigger-$M; sleep 1; echo survived" 2>/dev/null; }
out=$(run "vgpol-$M-kill")
[ -z "$out" ] || it_fail "the enforce binding did not kill: $out"
out=$(run "vgpol-$M-audit")
[ "$out" = survived ] || it_fail "the audit binding changed something: $out"
out=$(run "vgpol-$M-other")
[ "$out" = survived ] || it_fail "a container without a binding was touched: $out"
kill -INT "$AGENT"
wait "$AGENT" || it_fail "vigil run exited $?"
AGENT=""
n=$("$VIGIL" actions --store "$IT_TMP/db" --json | jq -r '[.container_name, .action, .outcome] | join(" ")' | paste -sd ';')
[ "$n" = "vgpol-$M-kill kill done;vgpol-$M-audit kill audit" ] || it_fail "actions: $n"

printf 'bindings:\n  - tags: [x]\n    actions: [kill]\n    mode: maybe\n' >"$IT_TMP/bad.yaml"
"$VIGIL" run --rules "$IT_TMP/rules.yaml" --response-policy "$IT_TMP/bad.yaml" --no-store --duration 5 \
	>/dev/null 2>"$IT_TMP/bad.err"
[ $? -eq 1 ] && grep -q "bad.yaml:4:11: 'mode' must be enforce or audit" "$IT_TMP/bad.err" ||
	it_fail "a bad policy: $(cat "$IT_TMP/bad.err")"
it_finish
