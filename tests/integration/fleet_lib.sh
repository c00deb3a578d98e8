# shellcheck shell=bash
# fleet_lib.sh: real nats-server processes for the fleet tests, on loopback,
# each in its own directory, on a port the kernel picks (or a given one, to
# restart a server where it was). Source after lib.sh.

declare -A IT_NATS_PIDS=()

it_need_nats() {
	command -v nats-server >/dev/null 2>&1 || it_skip "nats-server is not installed (scripts/install-deps)"
}

# it_nats_start NAME DIR [PORT] [CONF]: start a JetStream server NAME storing in
# DIR, wait (bounded, 30 s) until it listens; sets IT_NATS_URL and
# IT_NATS_PORT_<NAME>. CONF: a config file for more (authorization).
it_nats_start() {
	local name=$1 dir=$2 port=${3:-} conf=${4:-} i log args
	mkdir -p "$dir"
	log="$dir/server.log"
	: >"$log"
	args=(-js -sd "$dir/js" -a 127.0.0.1 -p "${port:--1}" -l "$log")
	[ -n "$conf" ] && args=(-c "$conf" "${args[@]}")
	nats-server "${args[@]}" >/dev/null 2>&1 &
	IT_NATS_PIDS[$name]=$!
	for ((i = 0; i < 300; i++)); do
		port=$(sed -n 's/.*Listening for client connections on 127.0.0.1:\([0-9]*\).*/\1/p' "$log" | tail -1)
		if [ -n "$port" ] && grep -q "Server is ready" "$log"; then
			printf -v "IT_NATS_PORT_$name" '%s' "$port"
			IT_NATS_URL="nats://127.0.0.1:$port"
			return 0
		fi
		kill -0 "${IT_NATS_PIDS[$name]}" 2>/dev/null || it_die "nats-server $name exited: $(tail -5 "$log")"
		sleep 0.1
	done
	it_die "nats-server $name did not get ready within 30 s: $(tail -5 "$log")"
}

# it_nats_stop NAME: stop server NAME and wait for it (bounded)
it_nats_stop() {
	local pid=${IT_NATS_PIDS[$1]:-}
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	it_bounded 15 wait "$pid" 2>/dev/null
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	unset "IT_NATS_PIDS[$1]"
}

it_nats_stop_all() {
	local n
	for n in "${!IT_NATS_PIDS[@]}"; do
		it_nats_stop "$n"
	done
}
