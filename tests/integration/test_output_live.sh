#!/usr/bin/env bash
# --output from a live agent: the store's outbox feeds a JSON-lines file output
# while the agent runs; after a clean stop every stored alert is in the file once,
# in order, with its uuid; a restart resumes from the output's cursor (nothing
# sent twice). Two outputs of the same kind (two files), each with its own
# cursor (docs/outputs.md, "Several outputs of one kind").
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

it_need_root
it_need_bpf
it_need_jq
it_need_vigil
it_mktemp
M=$$
AGENT=""
trap '[ -n "$AGENT" ] && kill -KILL "$AGENT" 2>/dev/null; it_cleanup_common' EXIT

cat >"$IT_TMP/rules.yaml" <<EOR
- rule: Output probe
  desc: test
  condition: evt.type in (open, openat) and fd.name startswith /tmp/outlive-$M-
  output: probe %fd.name
  priority: WARNING
EOR

run_agent() {
	"$VIGIL" run --json --rules "$IT_TMP/rules.yaml" --store "$IT_TMP/store.db" \
		--output "file:$IT_TMP/out.jsonl" --output "file:$IT_TMP/out2.jsonl;keep=1" --duration 120 >"$IT_TMP/stdout.$1" 2>"$IT_TMP/err.$1" &
	AGENT=$!
	it_agent_ready "$AGENT" "$IT_TMP/err.$1"
}

stop_agent() {
	local i rc
	kill -INT "$AGENT"
	for ((i = 0; i < 300; i++)); do
		kill -0 "$AGENT" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$AGENT" 2>/dev/null && it_fail "vigil run did not stop within 30 s of SIGINT" && kill -KILL "$AGENT"
	wait "$AGENT"
	rc=$?
	AGENT=""
	[ "$rc" -eq 0 ] || it_fail "vigil run exited with $rc: $(tail -3 "$IT_TMP/err.$1")"
}

# touch N probes and wait (bounded) until the output file holds TOTAL alerts
probes() { # FROM TO TOTAL
	local i
	for ((i = $1; i <= $2; i++)); do cat "/tmp/outlive-$M-$i" 2>/dev/null; done
	for ((i = 0; i < 200; i++)); do
		[ "$(wc -l <"$IT_TMP/out.jsonl" 2>/dev/null || echo 0)" -ge "$3" ] &&
			[ "$(wc -l <"$IT_TMP/out2.jsonl" 2>/dev/null || echo 0)" -ge "$3" ] && return 0
		sleep 0.1
	done
	it_fail "the file output holds $(wc -l <"$IT_TMP/out.jsonl" 2>/dev/null) alerts, not $3, within 20 s"
}

run_agent 1
probes 1 20 20
stop_agent 1
run_agent 2
probes 21 30 30
stop_agent 2

stored=$("$VIGIL" alerts --store "$IT_TMP/store.db" --json | wc -l)
[ "$stored" -eq 30 ] || it_fail "the store holds $stored alerts, not 30"
for out in out.jsonl out2.jsonl; do
	lines=$(wc -l <"$IT_TMP/$out")
	[ "$lines" -eq 30 ] || it_fail "the file output $out holds $lines lines, not 30 (a restart sent some twice?)"
	uniq=$(jq -r .uuid "$IT_TMP/$out" | sort -u | grep -c '^[0-9a-f]\{32\}$')
	[ "$uniq" -eq 30 ] || it_fail "the file output $out holds $uniq distinct uuids, not 30"
	order=$(jq -r '.output_fields["fd.name"]' "$IT_TMP/$out" | sed 's/.*-//' | paste -sd,)
	want=$(seq -s, 1 30)
	[ "$order" = "$want" ] || it_fail "the file output $out is not in order: $order"
done
# each its own cursor in the store: file-<8 hex digits of its spec>, both at the last alert
cursors=$(sqlite3 "file:$IT_TMP/store.db?mode=ro" "SELECT name || '=' || alert_seq FROM outbox_cursor ORDER BY name" | paste -sd,)
echo "$cursors" | grep -q '^file-[0-9a-f]\{8\}=30,file-[0-9a-f]\{8\}=30$' || it_fail "cursors: $cursors"
it_finish
