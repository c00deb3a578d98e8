#!/bin/bash
# test_fleet_nkey.sh: a nats-server that admits one NKey user (its public key
# derived from the seed by `vigil fleet nkey`, the fleet code's derivation):
# an agent holding the seed connects and publishes; a wrong seed and no
# credentials at all are refused with a clear error. No BPF.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh
# shellcheck source=tests/integration/fleet_lib.sh
. tests/integration/fleet_lib.sh

it_need_vigil
fl_need
cleanup() {
	fl_cleanup
	it_cleanup_common
}
trap cleanup EXIT
it_mktemp
fl_ports s1
URL=$(fl_url s1)
"$FL_TOOL" nkey-gen "$IT_TMP/agent.seed" || it_die "nkey-gen failed"
"$FL_TOOL" nkey-gen "$IT_TMP/wrong.seed" || it_die "nkey-gen failed"
pub=$("$VIGIL" fleet nkey "$IT_TMP/agent.seed") || it_fail "vigil fleet nkey failed"
[[ $pub =~ ^U[A-Z2-7]{55}$ ]] || it_fail "not a user public key: '$pub'"
wrong=$("$VIGIL" fleet nkey "$IT_TMP/wrong.seed")
[ "$pub" != "$wrong" ] || it_fail "two seeds, one public key"
cat >"$IT_TMP/server.conf" <<EOF
authorization {
  users = [ { nkey: "$pub" } ]
}
EOF
fl_start s1 -c "$IT_TMP/server.conf"

# the right seed: streams created, a capture's alerts published and read back
fl_init "$URL" --nats-nkey "$IT_TMP/agent.seed"
grep -q "VIGIL_ALERTS: created" "$IT_TMP/init.out" || it_fail "init with the seed: $(cat "$IT_TMP/init.out")"
fl_rules "$IT_TMP/rules.yaml"
"$FL_TOOL" mkcapture 500 "$IT_TMP/cap.vcap" || it_die "mkcapture failed"
"$VIGIL" replay "$IT_TMP/cap.vcap" --rules "$IT_TMP/rules.yaml" --store "$IT_TMP/n1.db" --rate-limit 0 \
	--nats "$URL" --nats-nkey "$IT_TMP/agent.seed" --node n1 >/dev/null 2>"$IT_TMP/n1.err" ||
	it_fail "replay with the seed failed: $(tail -3 "$IT_TMP/n1.err")"
FLEET_TOOL_NKEY=$IT_TMP/agent.seed fl_check "$URL" "$IT_TMP/n1.db" default n1 "500 alerts over an NKey connection"

# a wrong seed, and none: refused, and said so
for seed in wrong none; do
	args=()
	[ "$seed" = none ] || args=(--nats-nkey "$IT_TMP/$seed.seed")
	if "$VIGIL" fleet init --nats "$URL" "${args[@]}" >/dev/null 2>"$IT_TMP/$seed.err"; then
		it_fail "the server admitted a client with seed '$seed'"
	fi
	grep -qi "authorization" "$IT_TMP/$seed.err" || it_fail "refusal with seed '$seed' not explained: $(cat "$IT_TMP/$seed.err")"
done
# an agent with the wrong seed starts (it keeps its backlog and keeps trying) and says why it cannot publish
"$FL_TOOL" mkcapture 0 "$IT_TMP/empty.vcap" || it_die "mkcapture failed"
it_bounded 60 "$VIGIL" replay "$IT_TMP/empty.vcap" --rules "$IT_TMP/rules.yaml" --store "$IT_TMP/n2.db" \
	--nats "$URL" --nats-nkey "$IT_TMP/wrong.seed" --node n2 >/dev/null 2>"$IT_TMP/n2.err"
grep -qi "authorization" "$IT_TMP/n2.err" || it_fail "the agent did not say why: $(cat "$IT_TMP/n2.err")"
it_finish
