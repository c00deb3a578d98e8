#!/bin/bash
# test_engine_selfcheck.sh: the engine's fast path (conditions specialised per
# event type, gates evaluated into bit masks) gives the same truth value as the
# compiled conditions for every rule on every event. Real events: a capture of
# this machine (programs, file opens and writes, a connection, sensitive
# reads, all syscalls) and the scripted intrusion of test_falco_upstream, both
# replayed through Vigil's default rules plus Falco's upstream files (when
# ../shared/data has them) with VIGIL_ENGINE_SELFCHECK=1: the engine then
# evaluates each event both ways and aborts on any disagreement.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

it_need_vigil
it_mktemp
F=${VIGIL_SHARED_DATA:-../shared/data}/falco-rules
RULES=(--default-rules)
if [ -f "$F/falco_rules.yaml" ]; then
	RULES+=(--rules "$F/falco_rules.yaml" --rules "$F/falco-incubating_rules.yaml" --rules "$F/falco-sandbox_rules.yaml")
else
	echo "note: Falco's rule files are not at $F; Vigil's default rules only"
fi

check() { # label capture
	if ! VIGIL_ENGINE_SELFCHECK=1 "$VIGIL" replay "$2" "${RULES[@]}" --match-all --rate-limit 0 --json \
		>"$IT_TMP/alerts" 2>"$IT_TMP/err"; then
		it_fail "$1: $(grep -m3 'self-check\|error' "$IT_TMP/err")"
		return
	fi
	grep -q 'self-check' "$IT_TMP/err" && it_fail "$1: $(grep -m3 'self-check' "$IT_TMP/err")"
	echo "$1: $(grep -o 'events=[0-9]*' "$IT_TMP/err") checked, $(wc -l <"$IT_TMP/alerts") alerts"
}

"$BUILD/tests/evgen" tests/integration/data/falco-scenario.ev "$IT_TMP/s.vcap" || it_die "evgen failed"
check "scripted intrusion" "$IT_TMP/s.vcap"

# a condition of 50000 or-ed operands (a left-deep chain once parsed) compiles and
# specialises without recursing down the chain
{
	printf -- '- rule: long\n  desc: d\n  priority: NOTICE\n  output: long %%proc.name\n'
	printf '  condition: (evt.type = execve and proc.name = a) or (evt.type = openat and ('
	for ((i = 0; i < 50000; i++)); do printf 'fd.name = /x%d or ' "$i"; done
	printf 'fd.name = /etc/hostname))\n'
} >"$IT_TMP/long.yaml"
got=$("$VIGIL" rules check "$IT_TMP/long.yaml" 2>&1) || it_fail "a 50000-operand condition: $got"
VIGIL_ENGINE_SELFCHECK=1 "$VIGIL" replay "$IT_TMP/s.vcap" --rules "$IT_TMP/long.yaml" >/dev/null 2>"$IT_TMP/err" ||
	it_fail "replay with a 50000-operand condition: $(tail -2 "$IT_TMP/err")"

if [ "$(id -u)" -eq 0 ] && [ -r /sys/kernel/btf/vmlinux ]; then
	"$VIGIL" capture -w "$IT_TMP/live.vcap" --syscalls all --duration 6 2>"$IT_TMP/cap.err" &
	cap=$!
	it_vigil_wait_live "$cap" "$IT_TMP/cap.err" "vigil capture"
	d=$IT_TMP/work
	mkdir -p "$d/.ssh" "$d/bin"
	for _ in 1 2 3; do
		cat /etc/shadow /etc/hostname >/dev/null 2>&1
		ls -la /etc /tmp >/dev/null
		echo x >"$d/.bash_history" && : >"$d/.bash_history" && rm -f "$d/.bash_history"
		echo key >"$d/.ssh/authorized_keys" && chmod 600 "$d/.ssh/authorized_keys"
		cp /bin/true "$d/bin/t" && "$d/bin/t" && chmod u+s "$d/bin/t" && rm -f "$d/bin/t"
		sh -c 'id; uname -a' >/dev/null
		(exec 3<>/dev/tcp/127.0.0.1/9) 2>/dev/null || true
		mkdir -p "$d/x/y" && mv "$d/x/y" "$d/x/z" && rm -rf "$d/x"
		find /etc -maxdepth 1 -name 'pass*' >/dev/null 2>&1
	done
	wait "$cap" || it_die "capture failed: $(cat "$IT_TMP/cap.err")"
	check "live capture" "$IT_TMP/live.vcap"
else
	echo "note: not root or no BTF: no live capture, the scripted intrusion only"
fi
it_finish
