#!/usr/bin/env bash
# Central policy through a real JetStream key-value bucket: `vigil fleet push`
# validates (file:line:column) before it publishes; a live agent with --nats
# applies the newest push whose node glob names it, as SIGHUP does, refuses a
# set it cannot load (and keeps the running one), keeps what it runs across a
# restart while NATS is down, and goes back to its own files when the fleet's
# set is deleted. The server is a real nats-server on loopback; the NKey test
# derives the public key with openssl, not with Vigil's code.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh
. tests/integration/fleet_lib.sh

it_need_root
it_need_bpf
it_need_vigil
fl_need
it_mktemp
M=$$
AGENT=""
trap 'stop_agent; fl_cleanup; it_cleanup_common' EXIT

stop_agent() {
	[ -n "$AGENT" ] || return 0
	kill -INT "$AGENT" 2>/dev/null
	it_bounded 15 wait "$AGENT" 2>/dev/null
	kill -KILL "$AGENT" 2>/dev/null
	wait "$AGENT" 2>/dev/null
	AGENT=""
}

# rule NAME FILE: a rules file with one rule on opening /tmp/fleetpol-$M-NAME
rule() {
	cat >"$2" <<EOR
- rule: Probe $1
  desc: central policy test
  condition: evt.type in (open, openat) and fd.name = /tmp/fleetpol-$M-$1
  output: probe $1 %fd.name
  priority: WARNING
EOR
}

# wait_log PATTERN: until the agent's log has PATTERN (bounded, 30 s)
wait_log() {
	local i
	for ((i = 0; i < 300; i++)); do
		grep -qE "$1" "$IT_TMP/err" && return 0
		kill -0 "$AGENT" 2>/dev/null || it_die "the agent exited: $(cat "$IT_TMP/err")"
		sleep 0.1
	done
	it_fail "the agent never logged /$1/: $(tail -5 "$IT_TMP/err")"
	return 1
}

# alerts_for NAME: touch the probe until the agent alerts on it (bounded); 0 when it did
alerts_for() {
	local i
	for ((i = 0; i < 50; i++)); do
		cat "/tmp/fleetpol-$M-$1" 2>/dev/null
		grep -q "\"Probe $1\"" "$IT_TMP/out" && return 0
		sleep 0.1
	done
	return 1
}

start_agent() {
	"$VIGIL" run --json --rules "$IT_TMP/local.yaml" --store "$IT_TMP/store/vigil.db" \
		--nats "$NATS_URL" --node "web-$M" --cluster "c$M" --duration 240 \
		>"$IT_TMP/out" 2>"$IT_TMP/err" &
	AGENT=$!
	it_agent_ready "$AGENT" "$IT_TMP/err"
}

mkdir -p "$IT_TMP/store"
fl_ports a k
fl_start a
NATS_URL=$(fl_url a)

# --- push: validated before it is published ---
rule local "$IT_TMP/local.yaml"
rule v1 "$IT_TMP/v1.yaml"
printf -- '- rule: Broken\n  desc: x\n  condition: evt.type = = open\n  output: x\n  priority: INFO\n' >"$IT_TMP/broken.yaml"
out=$("$VIGIL" fleet push rules "$IT_TMP/v1.yaml" --nats "$NATS_URL" 2>&1) &&
	it_fail "a push before the bucket exists succeeded: $out"
grep -q "vigil fleet init" <<<"$out" || it_fail "a push before init does not say to run 'vigil fleet init': $out"
"$VIGIL" fleet init --nats "$NATS_URL" >/dev/null || it_die "vigil fleet init failed"
"$VIGIL" fleet init --nats "$NATS_URL" >/dev/null || it_fail "vigil fleet init is not idempotent"
out=$("$VIGIL" fleet push rules "$IT_TMP/broken.yaml" --nats "$NATS_URL" 2>&1)
rc=$?
[ "$rc" -eq 1 ] || it_fail "a rule push that does not compile exited $rc, not 1"
grep -qE "broken.yaml:3:[0-9]+" <<<"$out" || it_fail "the refused push does not say file:line:column: $out"
[ "$("$VIGIL" fleet history --nats "$NATS_URL" | wc -l)" -eq 0 ] || it_fail "a refused push was published"
"$VIGIL" fleet push rules "$IT_TMP/v1.yaml" --dry-run >/dev/null || it_fail "--dry-run of a good set failed"
"$VIGIL" fleet push rules "$IT_TMP/v1.yaml" --nats "$NATS_URL" >"$IT_TMP/push1" || it_die "push v1 failed"
V1=$(grep -o 'sha256:[0-9a-f]*' "$IT_TMP/push1")

# --- an agent runs the fleet's set, not its own ---
start_agent
wait_log "central policy: rules $V1 applied"
alerts_for v1 || it_fail "the agent did not alert with the fleet's rules"
alerts_for local && it_fail "the agent still runs its own rules after the fleet's set came"

# --- the newest push that names this node wins; one for other nodes does not apply ---
rule v2 "$IT_TMP/v2.yaml"
rule other "$IT_TMP/other.yaml"
"$VIGIL" fleet push rules "$IT_TMP/v2.yaml" --nodes "web-*" --nats "$NATS_URL" >"$IT_TMP/push2" || it_die "push v2 failed"
V2=$(grep -o 'sha256:[0-9a-f]*' "$IT_TMP/push2")
wait_log "central policy: rules $V2 applied"
alerts_for v2 || it_fail "the agent did not alert with the set pushed to web-*"
"$VIGIL" fleet push rules "$IT_TMP/other.yaml" --nodes "db-*" --nats "$NATS_URL" >"$IT_TMP/push3" || it_die "push db-* failed"
OTHER=$(grep -o 'sha256:[0-9a-f]*' "$IT_TMP/push3")
rule v3 "$IT_TMP/v3.yaml"
"$VIGIL" fleet push rules "$IT_TMP/v3.yaml" --nodes "web-$M" --nats "$NATS_URL" >"$IT_TMP/push4" || it_die "push v3 failed"
V3=$(grep -o 'sha256:[0-9a-f]*' "$IT_TMP/push4")
wait_log "central policy: rules $V3 applied"
grep -q "$OTHER" "$IT_TMP/err" && it_fail "the agent took a set pushed to db-*"
alerts_for v3 || it_fail "the agent did not alert with the set pushed to its own name"

# --- what the node refuses: a corrupt envelope, a digest that lies, a set that does not load ---
printf 'not json' >"$IT_TMP/corrupt"
"$BUILD/tests/kvput" "$NATS_URL" "rules.zz$M" "$IT_TMP/corrupt" >/dev/null || it_die "kvput failed"
wait_log "rules.zz$M revision [0-9]+ refused: policy envelope is not a JSON object"
python3 - "$IT_TMP/broken.yaml" "$IT_TMP/lying" "$IT_TMP/unloadable" <<'EOF'
import hashlib, json, struct, sys
content = open(sys.argv[1]).read()
def digest(name, content):
    h = hashlib.sha256(b"no-defaults\n")
    h.update(name.encode() + b"\0" + struct.pack("<Q", len(content.encode())) + content.encode())
    return "sha256:" + h.hexdigest()
env = {"kind": "rules", "nodes": "*", "defaults": False, "pushed_by": "mallory@x", "pushed_at": 1,
       "files": [{"name": "broken.yaml", "content": content}]}
env["digest"] = "sha256:" + "0" * 64
open(sys.argv[2], "w").write(json.dumps(env))
env["digest"] = digest("broken.yaml", content)
open(sys.argv[3], "w").write(json.dumps(env))
EOF
"$BUILD/tests/kvput" "$NATS_URL" "rules.zy$M" "$IT_TMP/lying" >/dev/null || it_die "kvput failed"
wait_log "rules.zy$M revision [0-9]+ refused: policy envelope: digest"
"$BUILD/tests/kvput" "$NATS_URL" "rules.all" "$IT_TMP/unloadable" >/dev/null || it_die "kvput failed"
# rules.all is now the newest push for every node: the node validates it and refuses it
wait_log "central policy: rules sha256:[0-9a-f]+ \(revision [0-9]+, pushed by mallory@x\) refused: .*broken.yaml:3:[0-9]+"
alerts_for v3 || it_fail "the agent stopped running its set after refusing a bad one"
# the heartbeat says what the node runs and what it refused, and why (bounded: one comes every 10 s)
hb_ok=""
for ((i = 0; i < 60; i++)); do
	"$FL_TOOL" last "$NATS_URL" VIGIL_HEARTBEATS "vigil.c$M.web-$M.heartbeat" >"$IT_TMP/hb" 2>/dev/null &&
		grep -q "\"rules\":{\"source\":\"fleet\",\"digest\":\"$V3\"" "$IT_TMP/hb" &&
		grep -q '"refused":"sha256:[0-9a-f]*","error":"[^"]*broken.yaml:3:' "$IT_TMP/hb" && hb_ok=1 && break
	sleep 0.5
done
[ -n "$hb_ok" ] || it_fail "the heartbeat does not carry the policy state: $(cat "$IT_TMP/hb" 2>/dev/null)"

# --- the response policy applies live; the file policy at the next start ---
cat >"$IT_TMP/response.yaml" <<EOP
bindings:
  - rules: [Probe v3]
    containers: ["fleetpol-$M-*"]
    actions: [kill]
    mode: audit
EOP
"$VIGIL" fleet push response "$IT_TMP/response.yaml" --nats "$NATS_URL" >"$IT_TMP/push5" || it_die "push response failed"
RP=$(grep -o 'sha256:[0-9a-f]*' "$IT_TMP/push5")
wait_log "central policy: response $RP applied"
cat >"$IT_TMP/files.yaml" <<EOP
files:
  - containers: ["fleetpol-$M-*"]
    deny_open: [/etc/shadow]
EOP
if "$VIGIL" fleet push files "$IT_TMP/files.yaml" --nats "$NATS_URL" >"$IT_TMP/push6" 2>"$IT_TMP/push6.err"; then
	FP=$(grep -o 'sha256:[0-9a-f]*' "$IT_TMP/push6")
	wait_log "central policy: files $FP validated and kept: it applies when the agent starts again"
else
	it_fail "push of a file policy failed: $(cat "$IT_TMP/push6.err")"
fi

# --- restarted while NATS is down: it starts with the fleet's set it kept ---
stop_agent
fl_stop a
start_agent
grep -q "central policy: rules $V3 (kept from the fleet)" "$IT_TMP/err" ||
	it_fail "the restarted agent did not start with the kept set: $(head -5 "$IT_TMP/err")"
alerts_for v3 || it_fail "the agent restarted without NATS does not run the fleet's set"
fl_start a

# --- deleted: back to the node's own files ---
for key in rules.all "rules.zz$M" "rules.zy$M"; do
	"$BUILD/tests/kvput" "$NATS_URL" "$key" -delete >/dev/null || it_die "delete $key failed"
done
for glob in "web-*" "db-*" "web-$M"; do
	key=$(python3 -c 'import hashlib,sys; print("rules." + hashlib.sha256(sys.argv[1].encode()).hexdigest()[:16])' "$glob")
	"$BUILD/tests/kvput" "$NATS_URL" "$key" -delete >/dev/null || it_die "delete $key failed"
done
wait_log "central policy: rules \(the node's own files\) applied"
alerts_for local || it_fail "the agent did not go back to its own rules"

# --- every push is recorded: who, when, digest ---
"$VIGIL" fleet history --nats "$NATS_URL" >"$IT_TMP/history" || it_fail "fleet history failed"
for d in "$V1" "$V2" "$V3" "$OTHER" "$RP"; do
	grep -q "\"digest\":\"$d\"" "$IT_TMP/history" || it_fail "history lacks $d"
done
grep -q '"pushed_by":"[^"]*@' "$IT_TMP/history" || it_fail "history does not say who pushed"
grep -q '"deleted":true' "$IT_TMP/history" || it_fail "history does not show the deletes"
stop_agent

# --- an NKey user: the server knows only the public key (derived here by openssl) ---
python3 - "$IT_TMP" <<'EOF' || it_die "cannot make an NKey"
import base64, os, struct, subprocess, sys
d = sys.argv[1]
def crc16(data):
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xffff if crc & 0x8000 else (crc << 1) & 0xffff
    return crc
def enc(raw):
    return base64.b32encode(raw + struct.pack("<H", crc16(raw))).decode().rstrip("=")
def seed_and_public(seed):
    der = bytes.fromhex("302e020100300506032b657004220420") + seed
    pub = subprocess.run(["openssl", "pkey", "-inform", "DER", "-pubout", "-outform", "DER"],
                         input=der, capture_output=True, check=True).stdout[-32:]
    prefix = 20 << 3  # user
    return enc(bytes([(18 << 3) | (prefix >> 5), (prefix & 31) << 3]) + seed), enc(bytes([prefix]) + pub)
s, p = seed_and_public(os.urandom(32))
s2, _ = seed_and_public(os.urandom(32))
open(d + "/user.nk", "w").write(s + "\n")
open(d + "/other.nk", "w").write(s2 + "\n")
open(d + "/nkey.conf", "w").write("authorization { users = [ { nkey: %s } ] }\n" % p)
EOF
fl_start k -c "$IT_TMP/nkey.conf"
K_URL=$(fl_url k)
"$VIGIL" fleet init --nats "$K_URL" --nats-nkey "$IT_TMP/user.nk" >/dev/null ||
	it_fail "the NKey user was refused by the server"
out=$(it_bounded 30 "$VIGIL" fleet init --nats "$K_URL" --nats-nkey "$IT_TMP/other.nk" 2>&1) &&
	it_fail "an unknown NKey was accepted"
out=$("$VIGIL" fleet init --nats "$K_URL" --nats-nkey "$IT_TMP/broken.yaml" 2>&1) &&
	it_fail "a file that holds no seed was accepted"
grep -q "no valid user seed" <<<"$out" || it_fail "a bad seed file is not named as such: $out"

# --- bad options: clear errors ---
out=$("$VIGIL" run --node "a.b" --nats "$NATS_URL" 2>&1)
grep -q "\-\-node takes 1 to 64 of A-Z a-z 0-9 - _, not 'a.b'" <<<"$out" || it_fail "a node name with a dot is not refused clearly: $out"
out=$("$VIGIL" run --node x 2>&1)
[ $? -eq 2 ] || it_fail "--node without --nats is not a usage error"
it_finish
