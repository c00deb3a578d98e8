#!/bin/bash
# test_fleet_publish.sh: the agent -> JetStream path on one real nats-server on
# loopback (docs/fleet.md), driven by `vigil replay --nats`: every alert of the
# node's store is in VIGIL_ALERTS exactly once, in order, with the contract's
# headers; `vigil fleet init` is idempotent; an old store is migrated; a
# SIGKILLed publisher resumes without loss or duplicates; the disk budget
# drops the oldest rows and the loss record tells; heartbeats carry the rules
# digest; bad options are clear errors. No BPF.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh
# shellcheck source=tests/integration/fleet_lib.sh
. tests/integration/fleet_lib.sh

it_need_vigil
fl_need
REPLAY=""
cleanup() {
	[ -n "$REPLAY" ] && kill -KILL "$REPLAY" 2>/dev/null
	fl_cleanup
	it_cleanup_common
}
trap cleanup EXIT
it_mktemp
fl_ports s1
URL=$(fl_url s1)
fl_rules "$IT_TMP/rules.yaml"
"$FL_TOOL" mkcapture 5000 "$IT_TMP/cap5k.vcap" || it_die "mkcapture failed"
"$FL_TOOL" mkcapture 0 "$IT_TMP/empty.vcap" || it_die "mkcapture failed"

# replay CAPTURE STORE NODE [ARGS...]: publish a capture's alerts as NODE
replay() {
	local cap=$1 store=$2 node=$3
	shift 3
	"$VIGIL" replay "$cap" --rules "$IT_TMP/rules.yaml" --rate-limit 0 --store "$store" \
		--nats "$URL" --node "$node" "$@" >/dev/null 2>>"$IT_TMP/replay.err"
}

# --- bad options: clear errors, exit 2 (usage) or 1 (runtime) ---
expect_error() { # STATUS PATTERN ARGS...
	local want=$1 pat=$2 rc
	shift 2
	"$@" >/dev/null 2>"$IT_TMP/bad.err"
	rc=$?
	[ "$rc" -eq "$want" ] || it_fail "'$*' exited $rc, not $want: $(cat "$IT_TMP/bad.err")"
	grep -q -- "$pat" "$IT_TMP/bad.err" || it_fail "'$*' did not say '$pat': $(cat "$IT_TMP/bad.err")"
}
expect_error 2 "needs rules" "$VIGIL" replay "$IT_TMP/empty.vcap" --nats "$URL"
expect_error 2 "store" "$VIGIL" replay "$IT_TMP/empty.vcap" --rules "$IT_TMP/rules.yaml" --nats "$URL"
expect_error 2 "1 to 64" "$VIGIL" replay "$IT_TMP/empty.vcap" --rules "$IT_TMP/rules.yaml" --store "$IT_TMP/x.db" \
	--nats "$URL" --node "a.b"
expect_error 2 "need --nats" "$VIGIL" replay "$IT_TMP/empty.vcap" --rules "$IT_TMP/rules.yaml" --node n1
expect_error 2 "at least 1M" "$VIGIL" replay "$IT_TMP/empty.vcap" --rules "$IT_TMP/rules.yaml" \
	--store "$IT_TMP/x.db" --nats "$URL" --outbox-budget 12Q
expect_error 1 "NKey seed file" "$VIGIL" replay "$IT_TMP/empty.vcap" --rules "$IT_TMP/rules.yaml" \
	--store "$IT_TMP/x.db" --nats "$URL" --nats-nkey "$IT_TMP/no-such-seed"
expect_error 2 "1 or 3" "$VIGIL" fleet init --nats "$URL" --replicas 2
expect_error 2 "duration" "$VIGIL" fleet init --nats "$URL" --max-age 3x
expect_error 1 "--nats URL is required" "$VIGIL" fleet init
expect_error 1 "NATS connect to" "$VIGIL" fleet init --nats "nats://127.0.0.1:$(fl_free_port)"
expect_error 2 "unknown subcommand" "$VIGIL" fleet frobnicate
echo "not a seed" >"$IT_TMP/bad.seed"
expect_error 1 "no valid user seed" "$VIGIL" fleet nkey "$IT_TMP/bad.seed"

# --- fleet init: created, then unchanged, then an update named ---
fl_start s1
fl_init "$URL"
grep -q "VIGIL_ALERTS: created" "$IT_TMP/init.out" || it_fail "first init: $(cat "$IT_TMP/init.out")"
grep -q "VIGIL_POLICY (key-value): created" "$IT_TMP/init.out" || it_fail "no policy bucket: $(cat "$IT_TMP/init.out")"
fl_init "$URL"
[ "$(grep -c ': unchanged' "$IT_TMP/init.out")" -eq 6 ] || it_fail "second init changed: $(cat "$IT_TMP/init.out")"
fl_init "$URL" --max-age 30d --duplicate-window 5m
grep -q "VIGIL_ALERTS: updated: max age 7d -> 30d, duplicate window 2m -> 5m" "$IT_TMP/init.out" ||
	it_fail "update not told: $(cat "$IT_TMP/init.out")"

# --- a capture's alerts as node n1: all there, once, in order ---
replay "$IT_TMP/cap5k.vcap" "$IT_TMP/n1.db" n1 || it_fail "replay n1 failed: $(tail -3 "$IT_TMP/replay.err")"
fl_check "$URL" "$IT_TMP/n1.db" default n1 "5000 alerts of n1"
# the same store again: 5000 more, the first ones not sent twice
replay "$IT_TMP/cap5k.vcap" "$IT_TMP/n1.db" n1 || it_fail "second replay n1 failed"
fl_check "$URL" "$IT_TMP/n1.db" default n1 "10000 alerts of n1 after a second run"
[ "$(fl_count "$URL" VIGIL_ALERTS)" = 10000 ] || it_fail "stream holds $(fl_count "$URL" VIGIL_ALERTS), not 10000"

# --- heartbeat: the rules digest is the rule file's sha256, the contract's headers ---
"$FL_TOOL" last "$URL" VIGIL_HEARTBEATS vigil.default.n1.heartbeat >"$IT_TMP/hb" || it_fail "no heartbeat of n1"
digest=$(sha256sum "$IT_TMP/rules.yaml" | cut -d' ' -f1)
grep -q "\"rules_digest\":\"sha256:$digest\"" "$IT_TMP/hb" || it_fail "heartbeat lacks the rules digest: $(cat "$IT_TMP/hb")"
grep -q '^Vigil-Kind: heartbeat' "$IT_TMP/hb" || it_fail "heartbeat headers: $(cat "$IT_TMP/hb")"
# 5000 opens and the capture's 3 state records
grep -q '"events":5003' "$IT_TMP/hb" || it_fail "heartbeat events: $(cat "$IT_TMP/hb")"
grep -q '"policy":{"digest":null,"status":"none"}' "$IT_TMP/hb" || it_fail "heartbeat policy: $(cat "$IT_TMP/hb")"

# --- a store of schema 1 (no uuids): migrated, its old rows published too ---
python3 - "$IT_TMP/old.db" <<'EOF' || it_die "cannot make an old store"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executescript("""
CREATE TABLE alerts (id INTEGER PRIMARY KEY, time_ns INTEGER NOT NULL, rule TEXT NOT NULL,
 priority INTEGER NOT NULL, container_id TEXT NOT NULL, container_name TEXT, k8s_namespace TEXT,
 k8s_pod TEXT, output TEXT NOT NULL, json TEXT NOT NULL);
CREATE TABLE actions (id INTEGER PRIMARY KEY, time_ns INTEGER NOT NULL, rule TEXT NOT NULL,
 action TEXT NOT NULL, target TEXT NOT NULL, container_id TEXT NOT NULL, container_name TEXT,
 cgroup TEXT NOT NULL, outcome TEXT NOT NULL, detail TEXT NOT NULL, path TEXT NOT NULL,
 latency_ns INTEGER NOT NULL);
PRAGMA user_version=1;
""")
for i in range(3):
    db.execute("INSERT INTO alerts(time_ns, rule, priority, container_id, output, json) VALUES (?,?,?,?,?,?)",
               (1764331200000000000 + i, "Old rule", 4, "", "old %d" % i, '{"rule":"Old rule","n":%d}' % i))
db.execute("INSERT INTO actions(time_ns, rule, action, target, container_id, cgroup, outcome, detail, path,"
           " latency_ns) VALUES (1, 'Old rule', 'kill', 'pid 1', '', '/', 'audit', 'would kill', 'userspace', 5)")
db.commit()
EOF
replay "$IT_TMP/cap5k.vcap" "$IT_TMP/old.db" n2 || it_fail "replay into an old store failed"
fl_check "$URL" "$IT_TMP/old.db" default n2 "an old store's 3 alerts, 1 action and 5000 new alerts"
"$FL_TOOL" last "$URL" VIGIL_ALERTS vigil.default.n2.action >"$IT_TMP/action" || it_fail "no action of n2"
grep -q '"action":"kill","target":"pid 1"' "$IT_TMP/action" || it_fail "action JSON: $(cat "$IT_TMP/action")"

# --- SIGKILL mid-publish, then a restart on the same store: nothing lost, nothing doubled ---
"$FL_TOOL" mkcapture 60000 "$IT_TMP/cap60k.vcap" || it_die "mkcapture failed"
before=$(fl_count "$URL" VIGIL_ALERTS)
"$VIGIL" replay "$IT_TMP/cap60k.vcap" --rules "$IT_TMP/rules.yaml" --rate-limit 0 --store "$IT_TMP/n3.db" \
	--nats "$URL" --node n3 >/dev/null 2>>"$IT_TMP/replay.err" &
REPLAY=$!
fl_wait_count "$URL" VIGIL_ALERTS $((before + 2000)) 60 || it_fail "n3 published nothing"
kill -KILL "$REPLAY"
wait "$REPLAY" 2>/dev/null
REPLAY=""
mid=$(($(fl_count "$URL" VIGIL_ALERTS) - before))
stored=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from alerts").fetchone()[0])' "$IT_TMP/n3.db")
echo "SIGKILL: $mid published of $stored stored"
[ "$mid" -lt "$stored" ] || echo "note: the kill came after the last ack (nothing left to resume)"
replay "$IT_TMP/empty.vcap" "$IT_TMP/n3.db" n3 || it_fail "restart after SIGKILL failed"
fl_check "$URL" "$IT_TMP/n3.db" default n3 "n3 after SIGKILL and restart"

# --- a cursor saved behind what was acknowledged (a busy store, a crash): nothing sent twice ---
# The outbox saves its cursor after a delivery; the publisher stores what was acknowledged
# with its plan, before the next one. Put n1's cursor back to the start: a restart must
# know that all 10000 arrived, whatever the stream's duplicate window.
python3 -c 'import sqlite3,sys; d=sqlite3.connect(sys.argv[1]); d.execute("update outbox_cursor set alert_seq=0"); d.commit()' \
	"$IT_TMP/n1.db" || it_die "cannot move n1's cursor"
replay "$IT_TMP/empty.vcap" "$IT_TMP/n1.db" n1 || it_fail "restart with a lagging cursor failed"
fl_check "$URL" "$IT_TMP/n1.db" default n1 "n1 restarted with its cursor at 0"

# --- the store busy beyond the publisher's 5 s: it waits, then sends; nothing doubled ---
# n5's alerts are stored without NATS; a restart publishes them while another process holds
# the store's write lock from before the servers come back until the publisher says so.
"$VIGIL" replay "$IT_TMP/cap5k.vcap" --rules "$IT_TMP/rules.yaml" --rate-limit 0 --store "$IT_TMP/n5.db" \
	>/dev/null 2>>"$IT_TMP/replay.err" || it_fail "replay into n5 without NATS failed"
fl_stop s1
"$VIGIL" replay "$IT_TMP/empty.vcap" --rules "$IT_TMP/rules.yaml" --rate-limit 0 --store "$IT_TMP/n5.db" \
	--nats "$URL" --node n5 >/dev/null 2>"$IT_TMP/n5busy.err" &
REPLAY=$!
for ((i = 0; i < 600; i++)); do grep -q "publishing as node n5" "$IT_TMP/n5busy.err" && break; sleep 0.1; done
python3 - "$IT_TMP/n5.db" "$IT_TMP/n5.locked" "$IT_TMP/n5busy.err" <<'EOF' &
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=60)
db.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
# held until the publisher says it met the lock (at most 2 minutes)
for _ in range(1200):
    if "the batch plan" in open(sys.argv[3]).read():
        break
    time.sleep(0.1)
db.execute("COMMIT")
EOF
LOCKER=$!
for ((i = 0; i < 600; i++)); do [ -e "$IT_TMP/n5.locked" ] && break; sleep 0.1; done
[ -e "$IT_TMP/n5.locked" ] || it_die "could not lock n5's store"
fl_start s1
fl_wait_exit "$REPLAY" 240 >/dev/null || it_fail "n5 did not finish: $(tail -3 "$IT_TMP/n5busy.err")"
REPLAY=""
wait "$LOCKER"
grep -q "cannot .* the batch plan" "$IT_TMP/n5busy.err" || it_fail "n5 did not meet its busy store: $(cat "$IT_TMP/n5busy.err")"
fl_check "$URL" "$IT_TMP/n5.db" default n5 "n5 after its store was busy"

# --- the disk budget: NATS down, the store trimmed, the loss told when it is back ---
fl_stop s1
"$VIGIL" replay "$IT_TMP/cap5k.vcap" --rules "$IT_TMP/rules.yaml" --rate-limit 0 --store "$IT_TMP/n4.db" \
	--nats "$URL" --node n4 --outbox-budget 1M >/dev/null 2>"$IT_TMP/n4.err" &
REPLAY=$!
for ((i = 0; i < 300; i++)); do
	grep -q "deleted the .* oldest records" "$IT_TMP/n4.err" && break
	sleep 0.1
done
grep -q "deleted the .* oldest records" "$IT_TMP/n4.err" || it_fail "the budget did not trim: $(cat "$IT_TMP/n4.err")"
kill -INT "$REPLAY"
fl_wait_exit "$REPLAY" 30 >/dev/null
REPLAY=""
grep -q "not delivered yet" "$IT_TMP/n4.err" || it_fail "an interrupted replay did not say what is left: $(tail -3 "$IT_TMP/n4.err")"
fl_start s1
replay "$IT_TMP/empty.vcap" "$IT_TMP/n4.db" n4 || it_fail "resuming n4 failed"
fl_check "$URL" "$IT_TMP/n4.db" default n4 "n4's rows kept by the budget"
first=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select min(id) from alerts").fetchone()[0])' "$IT_TMP/n4.db")
"$FL_TOOL" last "$URL" VIGIL_ALERTS vigil.default.n4.loss >"$IT_TMP/loss" || it_fail "no loss record of n4"
grep -q "\"records\":\"alert\",\"first_seq\":1,\"last_seq\":$((first - 1)),\"count\":$((first - 1)),\"reason\":\"disk budget" \
	"$IT_TMP/loss" || it_fail "loss record (store starts at $first): $(cat "$IT_TMP/loss")"
grep -q '^Vigil-Kind: loss' "$IT_TMP/loss" || it_fail "loss headers: $(cat "$IT_TMP/loss")"
it_finish
