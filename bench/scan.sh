#!/usr/bin/env bash
# bench/scan.sh: time to scan a ~250 MB (compressed) image against the time to only
# decompress its layers (`gzip -dc >/dev/null`), as ratios from one run, and
# the scanner's peak memory. Target: scan/decompress <= 1.5.
#
# The image is built here from this machine's /usr (a few directories, as a
# two-layer docker-archive with gzip layers), so nothing is downloaded. Each
# measurement is the best of BENCH_RUNS (3) runs. Needs python3 and a built
# vigil; prints "skipped: reason" and exits 0 otherwise.
#
# Then a directory tree (BENCH_TREE, default /usr/share; BENCH_TREE=/ for the
# whole machine): `vigil scan rootfs` against bench/readtree, which walks the
# tree the same way and reads what a secret-searching scan must read (the head
# of every file, all of every text file up to 8 MiB): target <= 1.5 for the
# ratio of user+system CPU seconds (the least of the runs), since on a shared
# machine the wall time is mostly waiting for the disk and the other processes;
# the wall ratio (best runs) is printed too.
set -u
cd "$(dirname "$0")/.." || exit 1
VIGIL=${VIGIL:-build/vigil}
RUNS=${BENCH_RUNS:-3}
[ -x "$VIGIL" ] || { echo "skipped: $VIGIL not built"; exit 0; }
command -v python3 >/dev/null || { echo "skipped: python3 missing"; exit 0; }
[ -x /usr/bin/time ] || { echo "skipped: /usr/bin/time missing (apt-get install time)"; exit 0; }
dir=$(mktemp -d /tmp/vigil-bench.XXXXXX)
trap 'rm -rf "$dir"' EXIT INT TERM

# Two layers of real files (libraries, Python, docs: what images hold).
tar -C / -cf "$dir/l1.tar" usr/bin usr/share/doc 2>/dev/null
tar -C / -cf "$dir/l2.tar" usr/lib/python3 usr/share/perl 2>/dev/null
gzip -6 -k "$dir/l1.tar" "$dir/l2.tar"
python3 - "$dir" <<'PY'
import hashlib, io, json, os, sys, tarfile
d = sys.argv[1]
layers = [d + "/l1.tar.gz", d + "/l2.tar.gz"]
diff = ["sha256:" + hashlib.sha256(open(l[:-3], "rb").read()).hexdigest() for l in layers]
cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {"User": "app"},
                  "rootfs": {"type": "layers", "diff_ids": diff}}).encode()
names = []
with tarfile.open(d + "/image.tar", "w") as t:
    for l in layers:
        h = hashlib.sha256(open(l, "rb").read()).hexdigest()
        t.add(l, arcname="blobs/sha256/" + h)
        names.append("blobs/sha256/" + h)
    c = "blobs/sha256/" + hashlib.sha256(cfg).hexdigest()
    ti = tarfile.TarInfo(c); ti.size = len(cfg); t.addfile(ti, io.BytesIO(cfg))
    m = json.dumps([{"Config": c, "RepoTags": ["bench:1"], "Layers": names}]).encode()
    ti = tarfile.TarInfo("manifest.json"); ti.size = len(m); t.addfile(ti, io.BytesIO(m))
PY
raw=$(($(stat -c %s "$dir/l1.tar") + $(stat -c %s "$dir/l2.tar")))
gz=$(stat -c %s "$dir/image.tar")
rm -f "$dir/l1.tar" "$dir/l2.tar"

best() { # CMD...: the best wall time of RUNS runs, in seconds; max RSS (KiB) in $dir/rss
	local b="" t i
	for ((i = 0; i < RUNS; i++)); do
		/usr/bin/time -f '%e %M' -o "$dir/t" "$@" >/dev/null 2>"$dir/err" || { cat "$dir/err" >&2; return 1; }
		read -r t rss <"$dir/t"
		echo "$rss" >"$dir/rss"
		if [ -z "$b" ] || awk "BEGIN{exit !($t < $b)}"; then b=$t; fi
	done
	echo "$b"
}
decomp() { gzip -dc "$dir/l1.tar.gz" >/dev/null && gzip -dc "$dir/l2.tar.gz" >/dev/null; }
export -f decomp
export dir
t_gz=$(best bash -c decomp) || exit 1
t_scan=$(best "$VIGIL" scan image "$dir/image.tar" -f json) || exit 1
rss_scan=$(cat "$dir/rss")
t_nosec=$(best "$VIGIL" scan image "$dir/image.tar" -f json --no-secrets) || exit 1
rss_nosec=$(cat "$dir/rss")
pkgs=$("$VIGIL" scan image "$dir/image.tar" -f json --no-secrets | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["packages"]))')
printf 'image: %d MB uncompressed, %d MB as gzip layers, %s packages found\n' \
	$((raw >> 20)) $((gz >> 20)) "$pkgs"
printf 'gzip -dc of the layers: %ss\n' "$t_gz"
printf 'vigil scan (secrets on):  %ss  ratio %.2f  peak RSS %d MB\n' "$t_scan" \
	"$(awk "BEGIN{print $t_scan / $t_gz}")" $((rss_scan / 1024))
printf 'vigil scan --no-secrets:  %ss  ratio %.2f  peak RSS %d MB\n' "$t_nosec" \
	"$(awk "BEGIN{print $t_nosec / $t_gz}")" $((rss_nosec / 1024))
echo "target: ratio <= 1.5"

# --- a directory tree against the floor of reading it
tree=${BENCH_TREE:-/usr/share}
[ -x build/bench/readtree ] || make -s build/bench/readtree >/dev/null 2>&1
if [ ! -x build/bench/readtree ]; then
	echo "tree: skipped (build/bench/readtree: make bench-tools)"
	exit 0
fi
cpu() { awk '{print $3 + $4}' "$dir/t"; } # user + system of the last run
best_cpu() { # CMD...: best wall (as best) and the least CPU seconds of the runs in $dir/cpu
	local b="" c="" t u i
	for ((i = 0; i < RUNS; i++)); do
		/usr/bin/time -f '%e %M %U %S' -o "$dir/t" "$@" >/dev/null 2>"$dir/err" || { cat "$dir/err" >&2; return 1; }
		read -r t _ <"$dir/t"
		u=$(cpu)
		if [ -z "$b" ] || awk "BEGIN{exit !($t < $b)}"; then b=$t; fi
		if [ -z "$c" ] || awk "BEGIN{exit !($u < $c)}"; then c=$u; fi
	done
	echo "$c" >"$dir/cpu"
	echo "$b"
}
t_read=$(best_cpu build/bench/readtree "$tree") || exit 1
c_read=$(cat "$dir/cpu")
t_tree=$(best_cpu "$VIGIL" scan rootfs "$tree" --no-db -f json) || exit 1
c_tree=$(cat "$dir/cpu")
t_tree_ns=$(best_cpu "$VIGIL" scan rootfs "$tree" --no-db --no-secrets -f json) || exit 1
c_tree_ns=$(cat "$dir/cpu")
printf 'tree %s: %s
' "$tree" "$(build/bench/readtree "$tree")"
printf 'readtree (the floor):             %6ss  cpu %5.2fs
' "$t_read" "$c_read"
printf 'vigil scan rootfs (secrets on):   %6ss  cpu %5.2fs  ratio %.2f  cpu ratio %.2f
' "$t_tree" "$c_tree" \
	"$(awk "BEGIN{print $t_tree / $t_read}")" "$(awk "BEGIN{print $c_tree / $c_read}")"
printf 'vigil scan rootfs --no-secrets:   %6ss  cpu %5.2fs  ratio %.2f  cpu ratio %.2f
' "$t_tree_ns" "$c_tree_ns" \
	"$(awk "BEGIN{print $t_tree_ns / $t_read}")" "$(awk "BEGIN{print $c_tree_ns / $c_read}")"
echo "target: cpu ratio <= 1.5 (load average now: $(cut -d' ' -f1-3 /proc/loadavg))"
