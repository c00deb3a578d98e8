#!/bin/bash
# test_fleet_profiles.sh: behaviour profiles across a fleet (docs/profiles.md, "In a
# fleet"; docs/fleet.md, "Profiles"; docs/hub.md, "Profiles"). A real nats-server on
# loopback, a hub, and two nodes n1 and n2 of one cluster, each a real profile store
# (SQLite) that the sharing code works on as it does beside a running agent
# (fleet/profile_sync.c, driven here by `vigil profile sync`, one round a call):
# - `vigil fleet init` makes the profiles stream and the bucket, idempotently;
# - n1 learnt item X of a workload, n2 (a replica of the same workload) did not: both
#   publish; the hub lists the merged profile with both nodes, and X seen by n1 only;
# - n2 receives X from the bucket into its own profile (so it is no deviation there),
#   and does not publish it again as its own;
# - a mode set through the hub's API (`vigil profile mode --hub`, a responder) reaches
#   both nodes' stores; a viewer's token gets 403 and changes nothing;
# - the sharing as a running agent does it (its thread: `vigil profile sync --follow`): a
#   central mode arrives through the bucket's watch; with the NATS server stopped, n1 learns Y;
#   once the server is back n1 publishes it again by itself and n2 receives it (nothing lost);
# - malformed profile messages are refused and counted, the hub keeps running;
#   `vigil profile list --hub` prints the merged profile.
# shellcheck disable=SC2016,SC2317
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh
# shellcheck source=tests/integration/fleet_lib.sh
. tests/integration/fleet_lib.sh

it_need_jq
it_need_vigil
fl_need
for t in openssl curl; do
	command -v "$t" >/dev/null 2>&1 || it_skip "$t is not installed"
done
M=$$
CL=cps$M
HUB="" F1="" F2=""
cleanup() {
	local p
	for p in $HUB $F1 $F2; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	fl_cleanup
	it_cleanup_common
}
trap cleanup EXIT
trap 'exit 1' INT TERM
it_mktemp
T=$IT_TMP

# --- NATS, the stream and the bucket -----------------------------------------------
fl_ports s1
URL=$(fl_url s1)
fl_start s1
fl_init "$URL"
grep -q "VIGIL_PROFILE_MSGS: created" "$T/init.out" || it_fail "no profiles stream: $(cat "$T/init.out")"
grep -q "VIGIL_PROFILES (key-value): created" "$T/init.out" || it_fail "no profiles bucket: $(cat "$T/init.out")"
fl_init "$URL"
grep -q "VIGIL_PROFILE_MSGS: unchanged" "$T/init.out" && grep -q "VIGIL_PROFILES (key-value): unchanged" "$T/init.out" ||
	it_fail "fleet init again changed the profiles' objects: $(cat "$T/init.out")"

# --- the hub -------------------------------------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$T/ca.key" -out "$T/ca.pem" \
	-days 1 -subj "/CN=vigil profiles test CA" >/dev/null 2>&1 || it_die "openssl: cannot make the CA"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$T/hub.key" -out "$T/hub.csr" \
	-subj "/CN=127.0.0.1" >/dev/null 2>&1 || it_die "openssl: cannot make the key"
printf 'subjectAltName=IP:127.0.0.1\n' >"$T/ext"
openssl x509 -req -in "$T/hub.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial -days 1 \
	-extfile "$T/ext" -out "$T/hub.pem" >/dev/null 2>&1 || it_die "openssl: cannot sign the certificate"
VTOKEN=$(openssl rand -hex 24)
RTOKEN=$(openssl rand -hex 24)
echo "$VTOKEN viewer alice" >"$T/tokens"
echo "$RTOKEN responder oncall" >>"$T/tokens"
echo "$RTOKEN responder oncall" >"$T/rtoken"
echo "$VTOKEN viewer alice" >"$T/vtoken"
chmod 600 "$T/tokens" "$T/rtoken" "$T/vtoken"
"$VIGIL" hub --nats "$URL" --durable hp$M --store "$T/hub.db" --listen 127.0.0.1:0 --token-file "$T/tokens" \
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
# api PATH [TOKEN]: GET; the body on stdout, the status in $T/code
api() {
	curl -sS --cacert "$T/ca.pem" -H "Authorization: Bearer ${2:-$VTOKEN}" -o "$T/body" -w '%{http_code}' \
		"https://127.0.0.1:$HPORT$1" >"$T/code" 2>"$T/curl.err"
	cat "$T/body"
}
HUBARGS=(--hub "https://127.0.0.1:$HPORT" --ca "$T/ca.pem")

# --- two nodes' stores: one workload, n1 learnt X, n2 did not ------------------------------
DIG=sha256:$(printf 'profshare %s' "$M" | sha256sum | cut -d' ' -f1)
X="/bin/busybox as wget <- /bin/busybox as sh"
mkprofile() { # FILE ITEMS...: a profile of the workload, learning, with these exec items
	local f=$1 it
	shift
	{
		printf -- '---\nversion: 1\nkey: "%s"\nimage: "localhost/psh:1"\ndigest: "%s"\nmode: learning\n' "$DIG" "$DIG"
		printf 'learning:\n  started: %s\n  last_new: %s\nexec:\n' "$(date +%s)" "$(date +%s)"
		for it in "$@"; do printf '  - "%s"\n' "$it"; done
		printf 'listen:\n  - "8080"\n'
	} >"$f"
}
mkprofile "$T/n1.yaml" "/bin/busybox as sh <- <outside>" "$X"
mkprofile "$T/n2.yaml" "/bin/busybox as sh <- <outside>"
for n in n1 n2; do
	"$VIGIL" profile --store "$T/$n.db" import "$T/$n.yaml" >"$T/$n.import" 2>&1 ||
		it_die "import into $n: $(cat "$T/$n.import")"
done
sync_node() { # NODE: one round of sharing for that node's store
	"$VIGIL" profile --store "$T/$1.db" sync --nats "$URL" --node "$1" --cluster "$CL" >"$T/$1.sync" 2>&1 ||
		it_fail "sync $1: $(cat "$T/$1.sync")"
}
sync_node n1
sync_node n2
grep -q "published [1-9]" "$T/n1.sync" || it_fail "n1 published nothing: $(cat "$T/n1.sync")"

# --- the hub merges: both nodes, X seen by n1 only ------------------------------------------
ok=0
for ((i = 0; i < 150; i++)); do
	api "/api/v1/profiles?cluster=$CL" | jq -e --arg k "$DIG" \
		'.profiles | length == 1 and .[0].key == $k and (.[0].nodes | length == 2) and .[0].items == 3' \
		>/dev/null 2>&1 && ok=1 && break
	sleep 0.2
done
[ $ok = 1 ] || it_fail "the hub does not list the merged profile of both nodes: $(cat "$T/body")"
KV=$(jq -r '.profiles[0].kv_key' "$T/body")
api "/api/v1/profiles/$KV" | jq -e --arg x "$X" --arg c "$CL" \
	'(.kinds.exec[] | select(.value == $x) | .nodes) == [$c + "/n1"] and
	 (.kinds.exec[] | select(.value == "/bin/busybox as sh <- <outside>") | .nodes | length) == 2' >/dev/null ||
	it_fail "the hub's items and their nodes: $(cat "$T/body")"
# the same by the key itself, URL-encoded
api "/api/v1/profiles/$(jq -rn --arg k "$DIG" '$k|@uri')" | jq -e --arg k "$DIG" '.key == $k' >/dev/null ||
	it_fail "GET by key: $(cat "$T/code") $(cat "$T/body")"
api "/api/v1/profiles/sha256:nothing" >/dev/null
[ "$(cat "$T/code")" = 404 ] || it_fail "an unknown profile got $(cat "$T/code")"
for q in "limit=0" "colour=red" "limit=5&limit=6"; do
	api "/api/v1/profiles?$q" >/dev/null
	[ "$(cat "$T/code")" = 400 ] || it_fail "query '$q' got $(cat "$T/code"), not 400"
done
code=$(curl -sS --cacert "$T/ca.pem" -o /dev/null -w '%{http_code}' "https://127.0.0.1:$HPORT/api/v1/profiles")
[ "$code" = 401 ] || it_fail "/api/v1/profiles without a token got $code"

# --- n2 receives X from the bucket (the hub wrote it there) -----------------------------------
ok=0
for ((i = 0; i < 60; i++)); do
	sync_node n2
	"$VIGIL" profile --store "$T/n2.db" show "$DIG" 2>/dev/null | grep -qF "\"$X\"" && ok=1 && break
	sleep 0.3
done
[ $ok = 1 ] || it_fail "n2 never received X: $(cat "$T/n2.sync"; "$VIGIL" profile --store "$T/n2.db" show "$DIG")"
sync_node n2
grep -q "received 0 items" "$T/n2.sync" || it_fail "X received twice: $(cat "$T/n2.sync")"
# what n2 received is not published as n2's own
sleep_until_hub() { for ((i = 0; i < 20; i++)); do api "/api/v1/profiles/$KV" >/dev/null; sleep 0.1; done; }
sleep_until_hub
api "/api/v1/profiles/$KV" | jq -e --arg x "$X" --arg c "$CL" '(.kinds.exec[] | select(.value == $x) | .nodes) == [$c + "/n1"]' \
	>/dev/null || it_fail "n2 published X as its own: $(cat "$T/body")"

# --- a mode set centrally: a viewer is refused, a responder reaches every node ---------------
code=$(curl -sS --cacert "$T/ca.pem" -H "Authorization: Bearer $VTOKEN" -o "$T/body" -w '%{http_code}' \
	-X POST -d '{"mode":"monitoring"}' "https://127.0.0.1:$HPORT/api/v1/profiles/$KV/mode")
[ "$code" = 403 ] || it_fail "a viewer's mode POST got $code, not 403: $(cat "$T/body")"
"$VIGIL" profile mode "$KV" monitoring "${HUBARGS[@]}" --token-file "$T/vtoken" >"$T/vmode" 2>&1 &&
	it_fail "vigil profile mode --hub with a viewer's token succeeded"
grep -q 403 "$T/vmode" || it_fail "the viewer's refusal does not say 403: $(cat "$T/vmode")"
code=$(curl -sS --cacert "$T/ca.pem" -H "Authorization: Bearer $RTOKEN" -o "$T/body" -w '%{http_code}' \
	-X POST -d '{"mode":"sleeping"}' "https://127.0.0.1:$HPORT/api/v1/profiles/$KV/mode")
[ "$code" = 400 ] || it_fail "a bad mode got $code, not 400"
"$VIGIL" profile mode "$KV" monitoring "${HUBARGS[@]}" --token-file "$T/rtoken" >"$T/rmode" 2>&1 ||
	it_fail "vigil profile mode --hub (responder): $(cat "$T/rmode")"
api "/api/v1/profiles/$KV" | jq -e '.mode == "monitoring" and .mode_set_by == "oncall"' >/dev/null ||
	it_fail "the hub does not show the central mode: $(cat "$T/body")"
for n in n1 n2; do
	ok=0
	for ((i = 0; i < 60; i++)); do
		sync_node $n
		"$VIGIL" profile --store "$T/$n.db" list | grep -F "$DIG" | grep -q monitoring && ok=1 && break
		sleep 0.3
	done
	[ $ok = 1 ] || it_fail "$n is not monitoring: $("$VIGIL" profile --store "$T/$n.db" list)"
done
# the nodes' own modes reach the hub on their next message
ok=0
for ((i = 0; i < 60; i++)); do
	sync_node n1
	api "/api/v1/profiles/$KV" | jq -e '[.nodes[] | select(.mode == "monitoring")] | length >= 1' >/dev/null && ok=1 && break
	sleep 0.3
done
[ $ok = 1 ] || it_fail "n1's mode never reached the hub: $(cat "$T/body")"
# a node's own later change (a local mode switch) is not undone by the central mode applied once
"$VIGIL" profile --store "$T/n2.db" mode "$DIG" learning >/dev/null || it_fail "local mode switch"
sync_node n2
"$VIGIL" profile --store "$T/n2.db" list | grep -F "$DIG" | grep -q learning ||
	it_fail "the central mode was applied again over a later local choice"

"$VIGIL" profile list "${HUBARGS[@]}" --token-file "$T/vtoken" >"$T/list" 2>&1 || it_fail "profile list --hub: $(cat "$T/list")"
grep -F "$DIG" "$T/list" | grep -q "central mode monitoring" && grep -q "$CL/n1" "$T/list" && grep -q "$CL/n2" "$T/list" ||
	it_fail "profile list --hub: $(cat "$T/list")"
"$VIGIL" profile list "${HUBARGS[@]}" --token-file "$T/vtoken" --cluster other >"$T/list" 2>&1
[ -s "$T/list" ] && it_fail "--cluster other listed: $(cat "$T/list")"

# --- as a running agent shares: followers, the bucket's watch, an outage ---------------------
"$VIGIL" profile --store "$T/n2.db" sync --follow --nats "$URL" --node n2 --cluster "$CL" 2>"$T/f2.err" &
F2=$!
"$VIGIL" profile --store "$T/n1.db" sync --follow --nats "$URL" --node n1 --cluster "$CL" 2>"$T/f1.err" &
F1=$!
"$VIGIL" profile mode "$DIG" protecting "${HUBARGS[@]}" --token-file "$T/rtoken" >"$T/rmode" 2>&1 ||
	it_fail "vigil profile mode --hub by key: $(cat "$T/rmode")"
for n in n1 n2; do
	ok=0
	for ((i = 0; i < 150; i++)); do
		"$VIGIL" profile --store "$T/$n.db" list | grep -F "$DIG" | grep -q protecting && ok=1 && break
		sleep 0.2
	done
	[ $ok = 1 ] || it_fail "the follower of $n did not apply the central mode: $(cat "$T/f$n.err" 2>/dev/null)"
done
fl_stop s1
Y="/usr/bin/curl <- /bin/busybox as sh"
mkprofile "$T/n1b.yaml" "/bin/busybox as sh <- <outside>" "$X" "$Y"
"$VIGIL" profile --store "$T/n1.db" import "$T/n1b.yaml" >/dev/null 2>&1 || it_fail "n1 learns Y"
fl_start s1
ok=0
for ((i = 0; i < 300; i++)); do
	"$VIGIL" profile --store "$T/n2.db" show "$DIG" 2>/dev/null | grep -qF "\"$Y\"" && ok=1 && break
	sleep 0.2
done
[ $ok = 1 ] || it_fail "Y learnt by n1 during the outage never reached n2: $(tail -5 "$T/f1.err" "$T/f2.err" "$T/hub.err")"
api "/api/v1/profiles/$KV" | jq -e --arg y "$Y" --arg c "$CL" '(.kinds.exec[] | select(.value == $y) | .nodes) == [$c + "/n1"]' \
	>/dev/null || it_fail "Y at the hub: $(cat "$T/body")"
for f in F1 F2; do
	kill -TERM "${!f}"
	fl_wait_exit "${!f}" 30
	rc=$?
	[ $rc = 0 ] || it_fail "the follower $f ended with $rc"
	eval "$f=''"
done

# --- malformed profile messages: refused, counted, the hub keeps running ---------------------
nats_pub() { # SUBJECT NODE MSGID FILE
	python3 - "${FL_PORT[s1]}" "$CL" "$@" <<'PY'
import socket, sys
port, cl, subj, node, msgid, path = sys.argv[1:]
body = open(path, "rb").read()
hdr = ("NATS/1.0\r\nNats-Msg-Id: %s\r\nVigil-Node: %s\r\nVigil-Cluster: %s\r\nVigil-Kind: profile\r\n"
       "Vigil-Seq: 7\r\nVigil-Version: test\r\n\r\n" % (msgid, node, cl)).encode()
s = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
f = s.makefile("rb")
f.readline()
s.sendall(b'CONNECT {"verbose":false,"headers":true,"no_responders":true}\r\nSUB _INBOX.pf 1\r\n')
s.sendall(b"HPUB %s _INBOX.pf %d %d\r\n%s%s\r\nPING\r\n" % (subj.encode(), len(hdr), len(hdr) + len(body), hdr, body))
while True:
    line = f.readline()
    if not line:
        sys.exit("connection closed")
    if line.startswith(b"HMSG") or line.startswith(b"MSG"):
        n = int(line.split()[-1])
        data = f.read(n + 2)[:n]
        sys.exit(0 if b'"seq"' in data else data.decode())
    if line.startswith(b"-ERR"):
        sys.exit(line.decode())
PY
}
before=$(api /api/v1/status | jq '.rejected.fields + .rejected.json')
printf '{"uuid":"badprofile000001","time":"2026-12-06T09:00:00Z","key":"%s","mode":"learning","items":{"listen":["99999"]}}' \
	"$DIG" >"$T/bad1.json"
printf '{"uuid":"badprofile000002","key":"%s","mode":"learning","items":{"exec":["not a program"]}}' "$DIG" >"$T/bad2.json"
printf '{"uuid":"badprofile000003","key":"","mode":"learning"}' >"$T/bad3.json"
printf '{"uuid":"badprofile000004",' >"$T/bad4.json"
for b in 1 2 3 4; do
	nats_pub "vigil.$CL.n1.profile" n1 "badprofile00000$b" "$T/bad$b.json" || it_fail "cannot publish bad$b"
done
ok=0
for ((i = 0; i < 150; i++)); do
	after=$(api /api/v1/status | jq '.rejected.fields + .rejected.json')
	[ "$((after - before))" -ge 4 ] && ok=1 && break
	sleep 0.2
done
[ $ok = 1 ] || it_fail "malformed profile messages not counted: $before -> $(cat "$T/body")"
grep -q "profile message refused" "$T/hub.err" || it_fail "no refusal logged"
kill -0 "$HUB" 2>/dev/null || it_fail "the hub died"
api "/api/v1/profiles/$KV" | jq -e '.items == 4' >/dev/null || it_fail "a refused message changed the profile: $(cat "$T/body")"

# --- the console's Profiles page, in a real browser (skipped without chromium) ---
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
	python3 tests/tools/console_browser.py --url "https://127.0.0.1:$HPORT" --viewer "$VTOKEN" --responder "$RTOKEN" \
		--profile-key "$KV" --set-mode learning \
		--out "${CONSOLE_ARTIFACTS:-$BUILD/test-artifacts/console_profiles}" >"$T/browser.log" 2>&1 ||
		it_fail "the Profiles page in the browser: $(tail -5 "$T/browser.log")"
	api "/api/v1/profiles/$KV" | jq -e '.mode == "learning"' >/dev/null &&
		echo "ok   the Profiles page: listed, items and nodes shown, no control for a viewer, a responder's mode stored" ||
		it_fail "the mode set in the browser is not the hub's: $(cat "$T/body")"
else
	echo "SKIP (part): the Profiles page in a browser: chromium and chromium-driver are not installed"
fi

kill -TERM "$HUB"
wait "$HUB"
rc=$?
HUB=""
[ $rc = 0 ] || it_fail "the hub stopped with $rc: $(tail -5 "$T/hub.err")"
it_finish
