#!/bin/bash
# test_profiles.sh: behaviour profiles (docs/profiles.md) with real containers.
# A busybox workload (httpd serving, a job fetching its page every second,
# health checks by `podman exec`) runs as two replicas while `vigil run`
# learns; learning ends by the quiet time; a restarted replica and its health
# checks raise nothing; attacks inside it (a shell spawned by a shell,
# download-and-run of a dropped binary, a new listening port, a new outbound
# destination, reading /etc/shadow) each raise the deviation that names them,
# in Falco's JSON shape, stored in the store. Then the CLI: one profile for
# both replicas, export/import round trip, a bad file refused with
# file:line:col, diff against a second release, and a mode change that the
# running agent applies live.
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
NAME=vgprof-$M
IMG=localhost/vgprof-$M:1
IMG2=localhost/vgprof-$M:2
AGENT=""
cleanup() {
	[ -n "$AGENT" ] && kill -KILL "$AGENT" 2>/dev/null
	for c in a b c build; do vg_podman rm -f -t 0 "$NAME-$c" >/dev/null 2>&1; done
	podman rmi -f "$IMG" "$IMG2" >/dev/null 2>&1
	# a failure leaves its files for a look (VIGIL_KEEP=DIR)
	[ "$IT_FAILS" != 0 ] && [ -n "${VIGIL_KEEP:-}" ] && cp -r "$IT_TMP" "$VIGIL_KEEP"
	it_cleanup_common
}
trap cleanup EXIT
it_mktemp
DB=$IT_TMP/vigil.db

# An image of our own (its own digest: other tests' busybox containers are other workloads):
# the page, a tool to download, and a credential file.
mkdir -p "$IT_TMP/www"
echo "hello $M" >"$IT_TMP/www/index.html"
cp /bin/busybox "$IT_TMP/www/tool"
echo 'root:*:19000:0:99999:7:::' >"$IT_TMP/shadow"
vg_podman create --name "$NAME-build" "$IT_IMAGE" true >/dev/null || it_die "cannot create a container"
podman cp "$IT_TMP/www" "$NAME-build:/www" && podman cp "$IT_TMP/shadow" "$NAME-build:/etc/shadow" ||
	it_die "cannot copy into the container"
podman commit -q "$NAME-build" "$IMG" >/dev/null || it_die "cannot commit the image"
echo "release 2" >"$IT_TMP/rel2"
podman cp "$IT_TMP/rel2" "$NAME-build:/www/rel2" && podman commit -q "$NAME-build" "$IMG2" >/dev/null ||
	it_die "cannot commit the second image"
vg_podman rm -f "$NAME-build" >/dev/null
ID=$(podman image inspect --format '{{.Id}}' "$IMG") || it_die "no image id"
KEY=sha256:$ID

WORKLOAD='httpd -p 8080 -h /www && while true; do wget -q -O /tmp/health.out http://127.0.0.1:8080/index.html; sleep 1; done'
start_replica() {
	vg_podman run -d --name "$NAME-$1" "$2" sh -c "$WORKLOAD" >/dev/null || it_die "cannot start replica $1"
}
health() {
	vg_podman exec "$NAME-$1" wget -q -O /dev/null http://127.0.0.1:8080/index.html || it_fail "health check of $1 failed"
}

# learning ends by the CLI here (deterministic on a loaded machine); by the quiet time for
# the second release below
"$VIGIL" run --store "$DB" --json --profile-learn 0 --profile-quiet 20 --duration 900 >"$IT_TMP/out" 2>"$IT_TMP/err" &
AGENT=$!
it_agent_ready "$AGENT" "$IT_TMP/err"

# learning: two replicas, health checks on both
start_replica a "$IMG"
start_replica b "$IMG"
for _ in 1 2; do health a; health b; done
learnt() { "$VIGIL" profile --store "$DB" show "$KEY" 2>/dev/null | grep -qF "$1"; }
for ((i = 0; i < 300; i++)); do
	learnt '"/bin/busybox as wget <- <outside>"' && learnt '"/tmp/health.out"' && learnt '"/bin/busybox as httpd <- /bin/busybox as sh"' && break
	kill -0 "$AGENT" 2>/dev/null || it_die "the agent exited: $(tail -5 "$IT_TMP/err")"
	sleep 0.2
done
learnt '"/bin/busybox as wget <- <outside>"' || it_die "the health check was not learnt: $("$VIGIL" profile --store "$DB" show "$KEY" 2>&1)"
# the running agent takes the mode from the store (its generation counter)
reads() { grep -c "read again from the store" "$IT_TMP/err"; }
before=$(reads)
"$VIGIL" profile --store "$DB" mode "$KEY" monitoring >/dev/null || it_fail "profile mode failed"
for ((i = 0; i < 100; i++)); do [ "$(reads)" -gt "$before" ] && break; sleep 0.1; done
[ "$(reads)" -gt "$before" ] || it_die "the agent did not take the mode change"

# a benign second run: the replicas restart, health checks go on
vg_podman rm -f -t 0 "$NAME-a" "$NAME-b" >/dev/null
start_replica c "$IMG"
health c

# attacks inside the workload
vg_podman exec "$NAME-c" sh -c 'sh -c "echo pwned >/dev/null"; true'
vg_podman exec "$NAME-c" sh -c 'wget -q -O /tmp/dropper http://127.0.0.1:8080/tool && chmod +x /tmp/dropper && /tmp/dropper; true' >/dev/null 2>&1
vg_podman exec "$NAME-c" sh -c 'cat /etc/shadow >/dev/null; true'
vg_podman exec "$NAME-c" sh -c 'httpd -p 9099 -h /www && wget -q -O /dev/null http://127.0.0.1:9099/index.html; true'

# a second release, now (its learning ends by the quiet time while the checks below run)
start_replica a "$IMG2"
health a
vg_podman exec "$NAME-a" sh -c 'cat /www/rel2 >/dev/null; mkdir -p /tmp/new && echo x >/tmp/new/file; true'
KEY2=sha256:$(podman image inspect --format '{{.Id}}' "$IMG2")

want=(
	"new program|/bin/busybox as sh <- /bin/busybox as sh"
	"new program|/tmp/dropper <- /bin/busybox as sh"
	"new file written|/tmp/dropper"
	"sensitive file read|/etc/shadow"
	"new listening port|9099"
	"new outbound destination|tcp/127.0.0.1:9099"
)
dev() { jq -R -r --arg k "$KEY" 'fromjson? | select(.rule | startswith("Behaviour deviation")) | select(.output_fields["profile.key"] == $k)
	| "\(.rule | sub("Behaviour deviation: "; ""))|\(.output_fields["profile.new"])"' "$IT_TMP/out" 2>/dev/null; }
for ((i = 0; i < 300; i++)); do
	missing=0
	for w in "${want[@]}"; do dev | grep -qxF "$w" || missing=1; done
	[ $missing = 0 ] && break
	sleep 0.2
done
for w in "${want[@]}"; do
	dev | grep -qxF "$w" || it_fail "no deviation '$w'; deviations: $(dev | tr '\n' ';')"
done
# nothing else: the restart, the replicas and the health checks are known
# the attacks' own helpers (cat, chmod run by the attacker's shell) are new programs too
allowed=("${want[@]}" "new program|/bin/busybox as cat <- /bin/busybox as sh"
	"new program|/bin/busybox as chmod <- /bin/busybox as sh")
extra=$(dev | grep -vxF -f <(printf '%s\n' "${allowed[@]}"))
[ -z "$extra" ] || it_fail "deviations of benign behaviour: $(echo "$extra" | tr '\n' ';')"
# Falco's shape: rule, priority, output naming the profile, MITRE tags
jq -R -n -e --arg k "$KEY" '[inputs | fromjson? | select(.rule == "Behaviour deviation: new program")
	| select(.output_fields["profile.key"] == $k)
	| select(.priority == "Warning" and (.output | contains($k)) and (.tags | index("mitre_execution"))
	and (.tags | index("T1059")) and .source == "syscall" and .vigil.event.container.id != "")] | length > 0' \
	"$IT_TMP/out" >/dev/null || it_fail "the alert is not in Falco's shape: $(grep -m1 "new program.*$KEY" "$IT_TMP/out")"

# the CLI on the store while the agent runs
list=$("$VIGIL" profile --store "$DB" list) || it_fail "profile list failed"
[ "$(grep -c "$IMG" <<<"$list")" = 1 ] || it_fail "the replicas are not one profile: $list"
grep -q "^$KEY  *monitoring" <<<"$list" || it_fail "the profile is not monitoring: $list"
"$VIGIL" profile --store "$DB" show "$IMG" >"$IT_TMP/show.yaml" || it_fail "profile show failed"
grep -qF '"/bin/busybox as httpd <- /bin/busybox as sh"' "$IT_TMP/show.yaml" || it_fail "httpd not in the profile: $(cat "$IT_TMP/show.yaml")"
grep -qF '"/tmp/health.out"' "$IT_TMP/show.yaml" || it_fail "the job's file is not in the profile"
grep -qF '"8080"' "$IT_TMP/show.yaml" || it_fail "the port is not in the profile"
grep -qF '/tmp/dropper' "$IT_TMP/show.yaml" && it_fail "a deviation was learnt"

# export / import round trip into another store; a bad file refused with file:line:col
"$VIGIL" profile --store "$DB" export "$KEY" -o "$IT_TMP/p.yaml" || it_fail "export failed"
"$VIGIL" profile --store "$IT_TMP/other.db" import "$IT_TMP/p.yaml" >/dev/null || it_fail "import failed"
"$VIGIL" profile --store "$IT_TMP/other.db" export "$KEY" -o "$IT_TMP/p2.yaml"
cmp -s "$IT_TMP/p.yaml" "$IT_TMP/p2.yaml" || it_fail "export/import changed the profile: $(diff "$IT_TMP/p.yaml" "$IT_TMP/p2.yaml")"
line=$(grep -n '^listen:' "$IT_TMP/p.yaml" | cut -d: -f1)
sed -e "$((line + 1))s/\"8080\"/\"80800\"/" "$IT_TMP/p.yaml" >"$IT_TMP/bad.yaml"
if "$VIGIL" profile --store "$IT_TMP/other.db" import "$IT_TMP/bad.yaml" 2>"$IT_TMP/bad.err"; then
	it_fail "a bad profile was imported"
fi
grep -q "bad.yaml:$((line + 1)):5: listen: a port must be a number from 1 to 65535" "$IT_TMP/bad.err" ||
	it_fail "bad import error: $(cat "$IT_TMP/bad.err")"

# the second release's profile (started above) names what it does differently
for ((i = 0; i < 150; i++)); do
	"$VIGIL" profile --store "$DB" show "$KEY2" 2>/dev/null | grep -qF '/tmp/new/file' && break
	sleep 0.2
done
"$VIGIL" profile --store "$DB" diff "$IMG" "$IMG2" >"$IT_TMP/diff" || it_fail "diff failed"
grep -qF '+ /tmp/new/file' "$IT_TMP/diff" || it_fail "diff does not show the new file: $(cat "$IT_TMP/diff")"

# a mode change applies live: back to learning, a new program is learnt, not alerted
before=$(reads)
"$VIGIL" profile --store "$DB" mode "$KEY" learning >/dev/null || it_fail "mode failed"
for ((i = 0; i < 100; i++)); do [ "$(reads)" -gt "$before" ] && break; sleep 0.1; done
vg_podman exec "$NAME-c" sh -c 'sh -c "sh -c true"; true'
for ((i = 0; i < 150; i++)); do
	"$VIGIL" profile --store "$DB" show "$KEY" | grep -qF '"/bin/busybox as sh <- /bin/busybox as sh"' && break
	sleep 0.2
done
"$VIGIL" profile --store "$DB" show "$KEY" | grep -qF '"/bin/busybox as sh <- /bin/busybox as sh"' ||
	it_fail "the running agent did not learn after the mode change"

# the second release ends its learning by itself: 20 s brought nothing new
for ((i = 0; i < 600; i++)); do
	grep -q "profile $KEY2 .*monitoring (nothing new" "$IT_TMP/err" && break
	sleep 0.2
done
grep -q "profile $KEY2 .*monitoring (nothing new" "$IT_TMP/err" || it_fail "learning did not end by the quiet time"
kill -INT "$AGENT"
wait "$AGENT" || it_fail "vigil run exited $?"
AGENT=""
grep -Eq 'profiles: [0-9]+ profiles, [0-9]+ items, [0-9]+ bytes' "$IT_TMP/err" || it_fail "no profile summary"
# the deviations are in the store like any alert
"$VIGIL" alerts --store "$DB" --json 2>/dev/null | grep -q '"Behaviour deviation: sensitive file read"' ||
	it_fail "the deviation is not in the store"
it_finish
