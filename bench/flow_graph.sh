#!/bin/bash
# bench/flow_graph.sh: the service map's SVG drawn by `vigil flows --graph x.svg`
# (the layout in src/output/flow_graph.c) against Graphviz drawing the same map
# from `vigil flows --graph x.dot` with `dot -Tsvg`, on a store of synthetic
# rollups (tests/tools/flowgen) at three sizes, up to the graph's bounds (400
# nodes, 2000 edges). Prints the times of one run each and their ratio. No root.
# Needs `make tests` (flowgen); skips Graphviz when it is not installed.
set -u
cd "$(dirname "$0")/.." || exit 1
VIGIL=${VIGIL:-build/vigil}
FLOWGEN=${FLOWGEN:-build/tests/flowgen}
[ -x "$VIGIL" ] && [ -x "$FLOWGEN" ] || { echo "skipped: build $VIGIL and $FLOWGEN first (make tests)"; exit 0; }
dir=$(mktemp -d /tmp/vigil-bench.XXXXXX)
trap 'rm -rf "$dir"' EXIT

now_ms() { date +%s%3N; }

printf '%-28s %10s %10s %8s\n' "map (workloads x peers)" "vigil ms" "dot ms" "ratio"
for size in "10 5" "40 10" "80 25"; do
	read -r W P <<<"$size"
	store=$dir/s-$W-$P.db
	{
		c=1
		for ((w = 0; w < W; w++)); do
			id=$(printf '%064x' $((w + 1)))
			echo "meta $id svc-$w ns-$((w % 5)) svc-$w-0"
			for ((p = 0; p < P; p++)); do
				# a peer among the workloads or outside, on one of a few ports
				if ((p % 3 == 0)); then
					peer=$(printf '%064x' $(((w + p) % W + 1)))
					echo "flow $c close $id out tcp 10.88.0.1 40000 10.88.1.$(((w + p) % W)) $((8000 + p % 4)) $peer 30 10 $((c * 100)) $((c * 10)) 1 1"
				else
					echo "flow $c close $id out tcp 10.88.0.1 40000 198.51.$((p % 200)).$((w % 250)) 443 - 30 10 $((c * 100)) $((c * 10)) 1 1"
				fi
				c=$((c + 1))
			done
		done
		echo flush
	} >"$dir/script"
	"$FLOWGEN" "$store" <"$dir/script" >/dev/null || { echo "flowgen failed"; exit 1; }
	t0=$(now_ms)
	"$VIGIL" flows --store "$store" --since 1h --graph "$dir/m.svg" || exit 1
	t1=$(now_ms)
	"$VIGIL" flows --store "$store" --since 1h --graph "$dir/m.dot" || exit 1
	if command -v dot >/dev/null 2>&1; then
		t2=$(now_ms)
		dot -Tsvg "$dir/m.dot" -o "$dir/d.svg" || exit 1
		t3=$(now_ms)
		v=$((t1 - t0)) d=$((t3 - t2))
		printf '%-28s %10d %10d %8s\n' "$W x $P ($((W * P)) rows)" "$v" "$d" \
			"$(awk -v a="$d" -v b="$v" 'BEGIN { printf "%.0fx", a / (b > 0 ? b : 1) }')"
	else
		printf '%-28s %10d %10s %8s\n' "$W x $P ($((W * P)) rows)" $((t1 - t0)) "-" "-"
	fi
done
command -v dot >/dev/null 2>&1 || echo "note: Graphviz (dot) is not installed: only Vigil's own layout was timed"
