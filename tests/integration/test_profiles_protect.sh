#!/bin/bash
# test_profiles_protect.sh: behaviour profiles in mode protecting (docs/profiles.md,
# "Protecting") with real containers on a podman network of the test's own.
# A busybox workload (httpd serving, a job fetching a page from a peer every
# second) is learnt, then switched to protecting with `vigil profile mode`:
# inside it a dropped binary (a copy of busybox in /tmp) fails with EPERM and
# raises the deviation saying it was blocked, with a deny_exec action in its
# responses and in the store; a connect to a new destination (the peer on
# another port) fails with EPERM while the learnt one still works; the
# container's resolver (port 53, TCP and UDP) is not refused, its other ports are; the
# workload keeps serving (a fetch from the peer); a replica started later is
# armed too; back to monitoring, nothing is refused.
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
NAME=vgprot-$M
NET=vgprot-$M
IMG=localhost/vgprot-$M:1
AGENT=""
cleanup() {
	[ -n "$AGENT" ] && kill -KILL "$AGENT" 2>/dev/null
	for c in w w2 peer build; do vg_podman rm -f -t 0 "$NAME-$c" >/dev/null 2>&1; done
	podman rmi -f "$IMG" >/dev/null 2>&1
	podman network rm "$NET" >/dev/null 2>&1
	[ "$IT_FAILS" != 0 ] && [ -n "${VIGIL_KEEP:-}" ] && cp -r "$IT_TMP" "$VIGIL_KEEP"
	it_cleanup_common
}
trap cleanup EXIT
it_mktemp
DB=$IT_TMP/vigil.db

podman network create "$NET" >/dev/null || it_skip "cannot create a podman network"

# the workload's image of its own (its own digest: its own profile)
mkdir -p "$IT_TMP/www"
echo "hello $M" >"$IT_TMP/www/index.html"
vg_podman create --name "$NAME-build" "$IT_IMAGE" true >/dev/null || it_die "cannot create a container"
podman cp "$IT_TMP/www" "$NAME-build:/www" || it_die "cannot copy into the container"
podman commit -q "$NAME-build" "$IMG" >/dev/null || it_die "cannot commit the image"
vg_podman rm -f "$NAME-build" >/dev/null
KEY=sha256:$(podman image inspect --format '{{.Id}}' "$IMG") || it_die "no image id"

# the peer: serves on 8080 (learnt) and 9090 (never used while learning); the workload's resolver
vg_podman run -d --name "$NAME-peer" --network "$NET" -v "$IT_TMP/www:/www:ro" "$IT_IMAGE" \
	sh -c 'httpd -p 8080 -h /www && httpd -p 9090 -h /www && sleep 100000' >/dev/null ||
	it_die "cannot start the peer"
PEER=$(podman inspect --format '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$NAME-peer")
[ -n "$PEER" ] || it_die "no address for the peer"

"$VIGIL" run --store "$DB" --json --profile-learn 0 --profile-quiet 0 --duration 900 >"$IT_TMP/out" 2>"$IT_TMP/err" &
AGENT=$!
it_agent_ready "$AGENT" "$IT_TMP/err"

# the workload: serves, and fetches from the peer every second; its resolver is the peer
WORKLOAD="httpd -p 8080 -h /www && while true; do wget -q -O /tmp/peer.out http://$PEER:8080/index.html; sleep 1; done"
start_workload() {
	vg_podman run -d --name "$NAME-$1" --network "$NET" --dns "$PEER" "$IMG" sh -c "$WORKLOAD" >/dev/null ||
		it_die "cannot start the workload $1"
}
start_workload w
W=$(podman inspect --format '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$NAME-w")
WID=$(podman inspect --format '{{.Id}}' "$NAME-w")

learnt() { "$VIGIL" profile --store "$DB" show "$KEY" 2>/dev/null | grep -qF "$1"; }
for ((i = 0; i < 300; i++)); do
	learnt "\"tcp/$PEER:8080\"" && learnt '"/bin/busybox as wget <- /bin/busybox as sh"' && break
	kill -0 "$AGENT" 2>/dev/null || it_die "the agent exited: $(tail -5 "$IT_TMP/err")"
	sleep 0.2
done
learnt "\"tcp/$PEER:8080\"" || it_die "the peer was not learnt: $("$VIGIL" profile --store "$DB" show "$KEY" 2>&1)"
learnt "\"tcp/$PEER:9090\"" && it_die "the new destination was learnt already"

# protecting: the running container is armed within about a second
"$VIGIL" profile --store "$DB" mode "$KEY" protecting >/dev/null || it_die "profile mode failed"
armed() { grep -E "container .*\(${1:0:12}\) protected: [0-9]+ $2 allowed" "$IT_TMP/err" >/dev/null; }
for ((i = 0; i < 150; i++)); do armed "$WID" programs && armed "$WID" destinations && break; sleep 0.2; done
armed "$WID" programs || it_die "the container was not armed: $(grep -i protect "$IT_TMP/err" | tail -5)"
armed "$WID" destinations || it_die "the container's egress was not armed: $(grep -i protect "$IT_TMP/err" | tail -5)"

# a dropped binary: EPERM, and the deviation says it was blocked
vg_podman exec "$NAME-w" sh -c 'mkdir -p /tmp/drop && cp /bin/busybox /tmp/drop/echo; /tmp/drop/echo ran' >"$IT_TMP/drop.out" 2>&1
rc=$?
[ $rc = 126 ] || it_fail "the dropped binary was not refused (exit $rc): $(cat "$IT_TMP/drop.out")"
grep -q "Operation not permitted\|Permission denied" "$IT_TMP/drop.out" || it_fail "no EPERM for the dropped binary: $(cat "$IT_TMP/drop.out")"
grep -q "^ran" "$IT_TMP/drop.out" && it_fail "the dropped binary ran"
blocked() { jq -R -r --arg k "$KEY" 'fromjson? | select(.rule == "Behaviour deviation: new program")
	| select(.output_fields["profile.key"] == $k) | select(.output | endswith("blocked (EPERM)"))
	| "\(.output_fields["profile.new"])|\([.vigil.responses[]?.action] | join(","))"' "$IT_TMP/out" 2>/dev/null; }
for ((i = 0; i < 100; i++)); do blocked | grep -q '^/tmp/drop/echo <- ' && break; sleep 0.2; done
blocked | grep -q '^/tmp/drop/echo <- .*|deny_exec$' ||
	it_fail "no blocked deviation with deny_exec for /tmp/drop/echo: $(blocked | tr '\n' ';') $(grep -m2 drop/echo "$IT_TMP/out")"

# a new destination: EPERM; the learnt one works
vg_podman exec "$NAME-w" wget -O /dev/null "http://$PEER:9090/index.html" >"$IT_TMP/new.out" 2>&1 &&
	it_fail "the connect to a new destination succeeded"
grep -q "Operation not permitted" "$IT_TMP/new.out" || it_fail "no EPERM for the new destination: $(cat "$IT_TMP/new.out")"
# ... and the refused connect is a deviation that says so (no flow would: the record of the connect does)
refused() { jq -R -r --arg k "$KEY" 'fromjson? | select(.rule == "Behaviour deviation: new outbound destination")
	| select(.output_fields["profile.key"] == $k) | select(.output | endswith("blocked (EPERM)"))
	| .output_fields["profile.new"]' "$IT_TMP/out" 2>/dev/null; }
for ((i = 0; i < 100; i++)); do refused | grep -qx "$PEER:9090" && break; sleep 0.2; done
refused | grep -qx "$PEER:9090" || it_fail "no blocked deviation for the refused connect to $PEER:9090: $(refused | tr '\n' ';')"
vg_podman exec "$NAME-w" wget -q -O - "http://$PEER:8080/index.html" | grep -q "hello $M" ||
	it_fail "the learnt destination does not work"
# the resolver, port 53: a connect is not refused (nothing listens there: refused by the peer), nor a query
vg_podman exec "$NAME-w" wget -O /dev/null "http://$PEER:53/" >"$IT_TMP/dns.out" 2>&1
grep -q "Operation not permitted" "$IT_TMP/dns.out" && it_fail "TCP to the resolver was refused: $(cat "$IT_TMP/dns.out")"
grep -q "Connection refused" "$IT_TMP/dns.out" || it_fail "TCP to the resolver did not reach it: $(cat "$IT_TMP/dns.out")"
vg_podman exec "$NAME-w" timeout 10 nslookup -timeout=1 -retry=1 vgprot.test "$PEER" >"$IT_TMP/dns2.out" 2>&1
grep -q "not permitted" "$IT_TMP/dns2.out" && it_fail "DNS to the resolver was refused: $(cat "$IT_TMP/dns2.out")"
vg_podman exec "$NAME-w" wget -O /dev/null "http://$PEER:54/" >"$IT_TMP/p54.out" 2>&1
grep -q "Operation not permitted" "$IT_TMP/p54.out" || it_fail "another port of the resolver was not refused: $(cat "$IT_TMP/p54.out")"
# the image's programs run, the workload keeps serving and fetching
vg_podman exec "$NAME-w" sh -c 'ls / >/dev/null' || it_fail "an image program was refused"
vg_podman exec "$NAME-peer" wget -q -O - "http://$W:8080/index.html" | grep -q "hello $M" ||
	it_fail "the workload does not serve any more"
before=$(vg_podman exec "$NAME-w" stat -c %Y /tmp/peer.out)
for ((i = 0; i < 50; i++)); do
	[ "$(vg_podman exec "$NAME-w" stat -c %Y /tmp/peer.out)" != "$before" ] && break
	sleep 0.2
done
[ "$(vg_podman exec "$NAME-w" stat -c %Y /tmp/peer.out)" != "$before" ] || it_fail "the workload's job stopped fetching"

# a replica started later is armed as its metadata becomes known
start_workload w2
W2ID=$(podman inspect --format '{{.Id}}' "$NAME-w2")
for ((i = 0; i < 150; i++)); do armed "$W2ID" programs && armed "$W2ID" destinations && break; sleep 0.2; done
armed "$W2ID" programs || it_fail "the later replica was not armed"
vg_podman exec "$NAME-w2" sh -c 'cp /bin/busybox /tmp/dropper2; /tmp/dropper2 true' >/dev/null 2>&1
[ $? = 126 ] || it_fail "the dropped binary was not refused in the later replica"

# an action row in the store
"$VIGIL" actions --store "$DB" --json 2>/dev/null | grep -q '"deny_exec"' ||
	it_fail "no deny_exec action in the store: $("$VIGIL" actions --store "$DB" 2>&1 | tail -3)"

# back to monitoring: disarmed, nothing refused (the deviation is still alerted)
"$VIGIL" profile --store "$DB" mode "$KEY" monitoring >/dev/null || it_fail "profile mode failed"
for ((i = 0; i < 150; i++)); do
	[ "$(grep -c "container ${WID:0:12} no longer protected" "$IT_TMP/err")" -ge 1 ] && break
	sleep 0.2
done
grep -q "container ${WID:0:12} no longer protected" "$IT_TMP/err" || it_fail "the container was not disarmed"
vg_podman exec "$NAME-w" sh -c '/tmp/drop/echo ran' >"$IT_TMP/after.out" 2>&1
grep -q '^ran' "$IT_TMP/after.out" || it_fail "a program is refused after disarming: $(cat "$IT_TMP/after.out")"
vg_podman exec "$NAME-w" wget -q -O /dev/null "http://$PEER:9090/index.html" ||
	it_fail "a connection is refused after disarming"

kill -INT "$AGENT"
wait "$AGENT" || it_fail "vigil run exited $?"
AGENT=""
grep -Eq 'profiles: protecting refused [1-9][0-9]* executions .*, [1-9][0-9]* connections' "$IT_TMP/err" ||
	it_fail "no protecting summary: $(grep 'protecting refused' "$IT_TMP/err")"
it_finish
