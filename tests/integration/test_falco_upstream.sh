#!/bin/bash
# test_falco_upstream.sh: Falco's upstream rule files (../shared/data/falco-rules)
# load unmodified -- all 93 rules, each with the event types it runs on -- and,
# replayed over a scripted intrusion (tests/integration/data/falco-scenario.ev),
# raise exactly the upstream rules whose conditions those events meet.
# shellcheck disable=SC2016
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

it_need_jq
it_need_vigil
F=${VIGIL_SHARED_DATA:-../shared/data}/falco-rules
[ -f "$F/falco_rules.yaml" ] || it_skip "Falco's rule files are not at $F"
it_mktemp
FILES=("$F/falco_rules.yaml" "$F/falco-incubating_rules.yaml" "$F/falco-sandbox_rules.yaml")
RULES=()
for f in "${FILES[@]}"; do RULES+=(--rules "$f"); done

for f in "${FILES[@]}"; do
	"$VIGIL" rules check "$f" >"$IT_TMP/out" 2>"$IT_TMP/err" || it_fail "$(basename "$f") does not load: $(cat "$IT_TMP/err")"
done
got=$("$VIGIL" rules check "${FILES[@]}" 2>"$IT_TMP/err")
[ "$got" = "93 rules, 315 macros, 118 lists loaded" ] || it_fail "the three files together: '$got' $(cat "$IT_TMP/err")"
grep -q ': warning: ' "$IT_TMP/err" && it_fail "upstream files give warnings: $(head -5 "$IT_TMP/err")"

"$VIGIL" rules list --json "${FILES[@]}" >"$IT_TMP/list" 2>/dev/null || it_fail "rules list failed"
[ "$(wc -l <"$IT_TMP/list")" -eq 93 ] || it_fail "rules list shows $(wc -l <"$IT_TMP/list") rules"
n=$(jq -c 'select(.event_types | length == 0)' "$IT_TMP/list" | wc -l)
[ "$n" -eq 0 ] || it_fail "$n rules run on no event type"
n=$(jq -c 'select(.rule == "Redirect STDOUT/STDIN to Network Connection in Container") | .event_types' "$IT_TMP/list")
[ "$n" = '["dup","dup2","dup3"]' ] || it_fail "dup rule runs on $n"

"$BUILD/tests/evgen" tests/integration/data/falco-scenario.ev "$IT_TMP/s.vcap" || it_die "evgen failed"
VIGIL_ENGINE_SELFCHECK=1 "$VIGIL" replay "$IT_TMP/s.vcap" "${RULES[@]}" --match-all --json >"$IT_TMP/alerts" 2>"$IT_TMP/err" ||
	it_fail "replay failed: $(cat "$IT_TMP/err")"
got=$(jq -r .rule "$IT_TMP/alerts" | sort | uniq -c | awk '{$1=$1; print}' | paste -sd ';')
want="1 Delete or rename shell history;1 Drop and execute new binary in container;1 Launch Suspicious Network Tool in Container;1 Netcat Remote Code Execution in Container;1 Read sensitive file untrusted;2 Redirect STDOUT/STDIN to Network Connection in Container;2 Reverse Shell from Web Server;1 Run shell untrusted;1 Web Server Spawned Shell;1 Web Server Spawned Suspicious Child Process"
[ "$got" = "$want" ] || it_fail "upstream rules raised: $got"
# Falco's JSON shape, with typed output fields
n=$(jq -c 'select(.rule == "Read sensitive file untrusted") | [.priority, .source, .output_fields["fd.name"], .output_fields["user.uid"], (.tags | index("T1555") != null)]' "$IT_TMP/alerts")
[ "$n" = '["Warning","syscall","/etc/shadow",0,true]' ] || it_fail "sensitive read alert: $n"
# first match (Falco's default) gives one alert per event
n=$("$VIGIL" replay "$IT_TMP/s.vcap" "${RULES[@]}" --json 2>/dev/null | jq -r '.vigil.event.ts' | sort | uniq -d | wc -l)
[ "$n" -eq 0 ] || it_fail "without --match-all, $n events raised more than one alert"
it_finish
