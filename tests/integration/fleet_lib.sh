# shellcheck shell=bash
# fleet_lib.sh: NATS servers on loopback for the fleet tests (test_fleet_*.sh).
# Source after lib.sh and it_mktemp. Every server lives in $IT_TMP, on ports
# free when chosen, named fl<N>; fl_cleanup (from the script's EXIT trap)
# stops them all.

FL_TOOL=${FL_TOOL:-$BUILD/tests/fleet_tool}
declare -A FL_PID FL_PORT FL_CPORT
FL_CLUSTER=""

fl_need() {
	command -v nats-server >/dev/null 2>&1 || it_skip "nats-server is not installed (scripts/install-deps)"
	command -v python3 >/dev/null 2>&1 || it_skip "python3 is not installed"
	[ -x "$FL_TOOL" ] || it_die "$FL_TOOL not built (make tests)"
}

# fl_free_port: a TCP port free on 127.0.0.1 now
fl_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# fl_ports NAME...: choose the client and route ports of these servers
fl_ports() {
	local n
	for n in "$@"; do
		FL_PORT[$n]=$(fl_free_port)
		FL_CPORT[$n]=$(fl_free_port)
	done
}

# fl_url NAME...: nats://127.0.0.1:PORT,... of these servers
fl_url() {
	local n out=""
	for n in "$@"; do
		out="${out:+$out,}nats://127.0.0.1:${FL_PORT[$n]}"
	done
	echo "$out"
}

# fl_start NAME [EXTRA ARGS...]: start (or restart) one server with JetStream in
# $IT_TMP/NAME and wait (bounded, 30 s) until this start says it is ready. With
# FL_CLUSTER set (the names of the cluster's servers), it routes to the others.
fl_start() {
	local n=$1 i routes="" m
	shift
	mkdir -p "$IT_TMP/$n"
	local args=(-js -a 127.0.0.1 -p "${FL_PORT[$n]}" -sd "$IT_TMP/$n/js" -n "$n")
	if [ -n "$FL_CLUSTER" ]; then
		for m in $FL_CLUSTER; do
			[ "$m" = "$n" ] || routes="${routes:+$routes,}nats://127.0.0.1:${FL_CPORT[$m]}"
		done
		args+=(--cluster_name "fleet$$" --cluster "nats://127.0.0.1:${FL_CPORT[$n]}" --routes "$routes")
	fi
	# a restarted server appends to the same log: only the lines of this start count
	local from=1
	[ -f "$IT_TMP/$n/log" ] && from=$(($(wc -l <"$IT_TMP/$n/log") + 1))
	nats-server "${args[@]}" "$@" >>"$IT_TMP/$n/log" 2>&1 &
	FL_PID[$n]=$!
	for ((i = 0; i < 300; i++)); do
		tail -n +"$from" "$IT_TMP/$n/log" 2>/dev/null | grep -q "Server is ready" && return 0
		kill -0 "${FL_PID[$n]}" 2>/dev/null || it_die "nats-server $n exited: $(tail -5 "$IT_TMP/$n/log")"
		sleep 0.1
	done
	it_die "nats-server $n not ready within 30 s: $(tail -5 "$IT_TMP/$n/log")"
}

# fl_stop NAME [SIGNAL]: stop a server (default SIGTERM) and wait for it
fl_stop() {
	local p=${FL_PID[$1]:-}
	[ -n "$p" ] || return 0
	kill "-${2:-TERM}" "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	FL_PID[$1]=""
}

fl_cleanup() {
	local n
	for n in "${!FL_PID[@]}"; do
		[ -n "${FL_PID[$n]}" ] && kill -KILL "${FL_PID[$n]}" 2>/dev/null
	done
	wait 2>/dev/null
}

# fl_init URL ARGS...: `vigil fleet init`, retried (bounded, 60 s) while a new
# cluster elects its JetStream leader
fl_init() {
	local url=$1 i
	shift
	for ((i = 0; i < 60; i++)); do
		"$VIGIL" fleet init --nats "$url" "$@" >"$IT_TMP/init.out" 2>"$IT_TMP/init.err" && return 0
		sleep 1
	done
	it_die "vigil fleet init failed: $(cat "$IT_TMP/init.err")"
}

# fl_count URL STREAM: messages in the stream (empty when it cannot be asked)
fl_count() {
	"$FL_TOOL" count "$1" "$2" 2>/dev/null
}

# fl_wait_count URL STREAM N SECS: until the stream holds at least N messages
fl_wait_count() {
	local i c
	for ((i = 0; i < $4 * 10; i++)); do
		c=$(fl_count "$1" "$2")
		[ -n "$c" ] && [ "$c" -ge "$3" ] && return 0
		sleep 0.1
	done
	return 1
}

# fl_wait_exit PID SECS: wait for a process to end (bounded); its status, or 124
fl_wait_exit() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$1" 2>/dev/null || {
			wait "$1"
			return $?
		}
		sleep 0.1
	done
	return 124
}

# fl_rules FILE: a rule that fires on every open of /etc/shadow (fleet_tool mkcapture's events)
fl_rules() {
	cat >"$1" <<'EOF'
- rule: Fleet test read
  desc: a container reads /etc/shadow
  condition: evt.type = openat and fd.name = /etc/shadow
  output: "read %fd.name by %proc.name in %container.name"
  priority: WARNING
EOF
}

# fl_check URL STORE CLUSTER NODE WHAT [reorder-ok]: every record of the store in the
# stream exactly once, with its Vigil-Seq, in order. After a fault (reorder-ok), a message
# resent after the fault may land after later ones (docs/fleet.md, "Order"): reported,
# not failed; a duplicate, a missing record or a wrong sequence still fails.
fl_check() {
	local out rc try
	# a stream whose leader was just elected can end a read early (its consumer says
	# nothing is pending): a read that misses records and finds nothing else wrong is
	# made again, at most 3 times, 5 s apart; what is really missing stays missing
	for ((try = 0; try < 3; try++)); do
		rc=0
		out=$("$FL_TOOL" check "$1" "$2" "$3" "$4" 2>&1) || rc=$?
		[ "$rc" -eq 0 ] && break
		echo "$out" | tail -1 | grep -q ' duplicates=0 missing=[1-9][0-9]* out_of_order=0 bad=0 wrong_seq=0 ' || break
		sleep 5
	done
	if [ "$rc" -eq 0 ]; then
		echo "ok   $5: $(echo "$out" | tail -1)"
	elif [ "${6:-}" = reorder-ok ] &&
		echo "$out" | tail -1 | grep -q ' duplicates=0 missing=0 out_of_order=[0-9]* bad=0 wrong_seq=0 '; then
		echo "ok   $5 (resent messages after later ones, by Vigil-Seq complete): $(echo "$out" | tail -1)"
	else
		it_fail "$5: $out"
	fi
}
