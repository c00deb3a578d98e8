#!/bin/bash
# test_fleet_profiles_live.sh: a live agent in a fleet shares its profiles (docs/profiles.md,
# "In a fleet"). A real nats-server and hub on loopback; node n2 is `vigil run --nats` with a
# busybox container (a workload of the test's own image); node n1 is a profile store of the
# same workload in which X (a program run by `podman exec`) was learnt, shared by `vigil
# profile sync`. Checks: the agent publishes what it learns (the hub lists the workload with
# both nodes); X from n1 reaches the running agent's profile through the bucket; a mode set at
# the hub reaches the agent live; then, monitoring, X run in n2's container raises no
# deviation while another new program does.
# shellcheck disable=SC2016,SC2317
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh
# shellcheck source=tests/integration/fleet_lib.sh
. tests/integration/fleet_lib.sh

it_need_root
it_need_bpf
it_need_jq
it_need_podman
it_need_vigil
fl_need
for t in openssl curl sqlite3; do
	command -v "$t" >/dev/null 2>&1 || it_skip "$t is not installed"
done
M=$$
CL=cpl$M
NAME=vgfpl-$M
IMG=localhost/vgfpl-$M:1
AGENT="" HUB=""
cleanup() {
	local p
	for p in $AGENT $HUB; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	for c in a build; do vg_podman rm -f -t 0 "$NAME-$c" >/dev/null 2>&1; done
	podman rmi -f "$IMG" >/dev/null 2>&1
	fl_cleanup
	it_cleanup_common
}
trap cleanup EXIT
trap 'exit 1' INT TERM
it_mktemp
T=$IT_TMP

fl_ports s1
URL=$(fl_url s1)
fl_start s1
fl_init "$URL"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$T/ca.key" -out "$T/ca.pem" \
	-days 1 -subj "/CN=vigil profiles live test CA" >/dev/null 2>&1 || it_die "openssl: cannot make the CA"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$T/hub.key" -out "$T/hub.csr" \
	-subj "/CN=127.0.0.1" >/dev/null 2>&1 || it_die "openssl: cannot make the key"
printf 'subjectAltName=IP:127.0.0.1\n' >"$T/ext"
openssl x509 -req -in "$T/hub.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial -days 1 \
	-extfile "$T/ext" -out "$T/hub.pem" >/dev/null 2>&1 || it_die "openssl: cannot sign the certificate"
RTOKEN=$(openssl rand -hex 24)
echo "$RTOKEN responder oncall" >"$T/tokens"
chmod 600 "$T/tokens"
"$VIGIL" hub --nats "$URL" --durable hpl$M --store "$T/hub.db" --listen 127.0.0.1:0 --token-file "$T/tokens" \
	--tls-cert "$T/hub.pem" --tls-key "$T/hub.key" --no-fsync 2>"$T/hub.err" &
HUB=$!
HPORT=""
for ((i = 0; i < 300; i++)); do
	HPORT=$(sed -n 's/.*hub API listening on port \([0-9]*\).*/\1/p' "$T/hub.err")
	[ -n "$HPORT" ] && grep -q "hub consuming as" "$T/hub.err" && break
	kill -0 "$HUB" 2>/dev/null || it_die "the hub exited: $(cat "$T/hub.err")"
	sleep 0.1
done
[ -n "$HPORT" ] || it_die "the hub did not start: $(cat "$T/hub.err")"
api() {
	curl -sS --cacert "$T/ca.pem" -H "Authorization: Bearer $RTOKEN" -o "$T/body" -w '%{http_code}' \
		"https://127.0.0.1:$HPORT$1" >"$T/code" 2>"$T/curl.err"
	cat "$T/body"
}

# the workload: an image of the test's own (its own digest, so its own profile)
vg_podman create --name "$NAME-build" "$IT_IMAGE" true >/dev/null || it_die "cannot create a container"
echo "$M" >"$T/mark"
podman cp "$T/mark" "$NAME-build:/mark" && podman commit -q "$NAME-build" "$IMG" >/dev/null ||
	it_die "cannot commit the image"
vg_podman rm -f "$NAME-build" >/dev/null
KEY=sha256:$(podman image inspect --format '{{.Id}}' "$IMG") || it_die "no image id"
X="/bin/busybox as uname <- <outside>"

# node n2: a live agent, learning until told otherwise
"$VIGIL" run --store "$T/n2.db" --json --profile-learn 0 --profile-quiet 0 --duration 900 \
	--nats "$URL" --node n2 --cluster "$CL" >"$T/out" 2>"$T/err" &
AGENT=$!
it_agent_ready "$AGENT" "$T/err"
grep -q "profiles: shared with the fleet" "$T/err" || it_fail "the agent does not share its profiles: $(cat "$T/err")"
vg_podman run -d --name "$NAME-a" "$IMG" sh -c 'while true; do sleep 1; done' >/dev/null || it_die "cannot start the workload"
for ((i = 0; i < 300; i++)); do
	"$VIGIL" profile --store "$T/n2.db" show "$KEY" >/dev/null 2>&1 && break
	sleep 0.2
done
"$VIGIL" profile --store "$T/n2.db" show "$KEY" >/dev/null 2>&1 || it_die "n2 never profiled the workload: $(tail -5 "$T/err")"

# node n1: the same workload, where X was learnt
{
	printf -- '---\nversion: 1\nkey: "%s"\nimage: "%s"\ndigest: "%s"\nmode: learning\n' "$KEY" "$IMG" "$KEY"
	printf 'exec:\n  - "%s"\n  - "/bin/busybox as sh <- <outside>"\n' "$X"
} >"$T/n1.yaml"
"$VIGIL" profile --store "$T/n1.db" import "$T/n1.yaml" >/dev/null 2>&1 || it_die "import into n1"
"$VIGIL" profile --store "$T/n1.db" sync --nats "$URL" --node n1 --cluster "$CL" >"$T/n1.sync" 2>&1 ||
	it_fail "sync n1: $(cat "$T/n1.sync")"

# the hub: the workload with both nodes (the agent published what it learnt)
ok=0
for ((i = 0; i < 300; i++)); do
	api "/api/v1/profiles?cluster=$CL" | jq -e --arg k "$KEY" '.profiles[] | select(.key == $k) | .nodes | length == 2' \
		>/dev/null 2>&1 && ok=1 && break
	sleep 0.2
done
[ $ok = 1 ] || it_fail "the hub does not list the workload from both nodes: $(cat "$T/body")"
# X reaches the running agent's store through the bucket
ok=0
for ((i = 0; i < 300; i++)); do
	"$VIGIL" profile --store "$T/n2.db" show "$KEY" 2>/dev/null | grep -qF "\"$X\"" && ok=1 && break
	sleep 0.2
done
[ $ok = 1 ] || it_fail "X never reached n2's agent: $(grep -i profile "$T/err" | tail -5)"

# a mode set at the hub reaches the agent live: the store says monitoring, then the agent
# has read the store at that generation or later (an earlier read, of X's merge, does not count)
"$VIGIL" profile mode "$KEY" monitoring --hub "https://127.0.0.1:$HPORT" --ca "$T/ca.pem" --token-file "$T/tokens" \
	>"$T/mode" 2>&1 || it_fail "vigil profile mode --hub: $(cat "$T/mode")"
gen=""
for ((i = 0; i < 300; i++)); do
	"$VIGIL" profile --store "$T/n2.db" list | grep -F "$KEY" | grep -q monitoring &&
		gen=$(sqlite3 "file:$T/n2.db?mode=ro" "SELECT gen FROM profile_generation WHERE id = 1") && break
	sleep 0.2
done
[ -n "$gen" ] || it_fail "the central mode never reached n2's store: $("$VIGIL" profile --store "$T/n2.db" list)"
read_at() { sed -n 's/.*read again from the store (generation \([0-9]*\)).*/\1/p' "$T/err" | sort -n | tail -1; }
ok=0
for ((i = 0; i < 300; i++)); do
	r=$(read_at)
	[ -n "$r" ] && [ -n "$gen" ] && [ "$r" -ge "$gen" ] && ok=1 && break
	sleep 0.2
done
[ $ok = 1 ] || it_fail "the agent did not read the central mode (store generation $gen, read $(read_at))"

# monitoring: X (learnt on n1 only) is no deviation here, a program new everywhere is
vg_podman exec "$NAME-a" uname >/dev/null || it_fail "podman exec uname"
vg_podman exec "$NAME-a" hostname >/dev/null || it_fail "podman exec hostname"
ok=0
for ((i = 0; i < 300; i++)); do
	grep -q '"profile.new":"/bin/busybox as hostname <- <outside>"' "$T/out" 2>/dev/null && ok=1 && break
	grep -q 'as hostname' "$T/out" 2>/dev/null && ok=1 && break
	sleep 0.2
done
[ $ok = 1 ] || it_fail "no deviation for a new program: $(grep -c . "$T/out") alerts: $(grep -o '"rule":"[^"]*"' "$T/out" | sort | uniq -c)"
grep 'Behaviour deviation' "$T/out" | grep -q 'as uname' &&
	it_fail "X, learnt on n1, was a deviation on n2: $(grep 'as uname' "$T/out" | head -2)"

kill -INT "$AGENT"
fl_wait_exit "$AGENT" 60
rc=$?
AGENT=""
[ $rc = 0 ] || it_fail "the agent exited $rc: $(tail -5 "$T/err")"
grep -q "profiles in the fleet: [1-9][0-9]* messages published" "$T/err" || it_fail "no sharing summary: $(tail -5 "$T/err")"
it_finish
