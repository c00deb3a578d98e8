#!/usr/bin/env bash
# vigil vercmp against the ecosystems' own tools where Debian ships them:
# rpm's rpm.vercmp() (rpmverCmp) on every pair of the rpm vectors' versions,
# and both command forms (arguments and stdin) giving the same answers and
# accepting the same versions.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh
it_need_vigil
IT_TMP=$(mktemp -d "/tmp/vercmp_xcheck.$$.XXXXXX")
trap 'rm -rf "$IT_TMP"' EXIT

if command -v rpm >/dev/null && rpm --eval '%{lua: print(rpm.vercmp("1","2"))}' 2>/dev/null | grep -qx -- -1; then
	grep -v '^#' tests/golden/vercmp/rpm.txt | awk 'NF == 3 {print $1; print $3}' | sort -u >"$IT_TMP/vers"
	while read -r a; do while read -r b; do echo "$a $b"; done <"$IT_TMP/vers"; done <"$IT_TMP/vers" >"$IT_TMP/pairs"
	"$VIGIL" vercmp rpm - <"$IT_TMP/pairs" >"$IT_TMP/ours" || it_fail "vercmp rpm batch"
	# a few rpm processes for all pairs: a lua call per pair, 400 pairs a process
	awk '{printf "%%{lua: print(rpm.vercmp(\"%s\", \"%s\"))}\n", $1, $2}' "$IT_TMP/pairs" |
		split -l 400 - "$IT_TMP/expr."
	for f in "$IT_TMP"/expr.*; do rpm --eval "$(cat "$f")"; done |
		sed 's/^-1$/</; s/^0$/=/; s/^1$/>/' >"$IT_TMP/theirs"
	[ "$(wc -l <"$IT_TMP/theirs")" -eq "$(wc -l <"$IT_TMP/pairs")" ] || it_fail "rpm gave $(wc -l <"$IT_TMP/theirs") answers for $(wc -l <"$IT_TMP/pairs") pairs"
	paste -d' ' "$IT_TMP/pairs" "$IT_TMP/ours" "$IT_TMP/theirs" | awk '$3 != $4' >"$IT_TMP/bad"
	if [ -s "$IT_TMP/bad" ]; then
		it_fail "vercmp disagrees with rpm on $(wc -l <"$IT_TMP/bad") pairs (A B ours rpm): $(head -5 "$IT_TMP/bad")"
	else
		echo "vercmp agrees with rpm $(rpm --version | cut -d' ' -f3) on $(wc -l <"$IT_TMP/pairs") pairs"
	fi
else
	echo "note: rpm is not installed (scripts/install-deps installs it), rpm cross-check skipped"
fi

# The argument form and the stdin form: one parser, the same answers, the same versions accepted.
for eco in PyPI Alpine Maven NuGet Packagist Pub npm Red\ Hat; do
	for pair in "1.0-foo-bar 1.0" "1.9.5p1-r1 1.9.5p2-r1" "1-ga-1 1-1" "1.0.0-Beta 1.0.0-beta" \
		"1.0.0-pl1 1.0.0" "1.0.0+1 1.0.0" "abc:1.0 1.0"; do
		set -- $pair
		arg=$("$VIGIL" vercmp "$eco" "$1" "$2" 2>"$IT_TMP/arg.err"); arc=$?
		std=$(echo "$1 $2" | "$VIGIL" vercmp "$eco" - 2>"$IT_TMP/std.err"); src=$?
		[ "$arc" -eq 0 ] && [ "$src" -eq 0 ] || it_fail "$eco '$pair': exit $arc (arguments) and $src (stdin)"
		[ "$arg" = "$std" ] || it_fail "$eco '$pair': '$arg' (arguments) but '$std' (stdin)"
		[ "$(wc -l <"$IT_TMP/arg.err")" -eq "$(wc -l <"$IT_TMP/std.err")" ] ||
			it_fail "$eco '$pair': different warnings: $(cat "$IT_TMP/arg.err") / $(cat "$IT_TMP/std.err")"
	done
done
[ "$("$VIGIL" vercmp PyPI 1.0-foo-bar 1.0 2>/dev/null)" = "<" ] || it_fail "an invalid PEP 440 version sorts first"
"$VIGIL" vercmp PyPI 1.0-foo-bar 1.0 2>&1 >/dev/null | grep -q "not a valid pep440 version '1.0-foo-bar'" ||
	it_fail "no warning for an invalid PEP 440 version"
[ "$("$VIGIL" vercmp Alpine:v3.19 1.9.5p1-r1 1.9.5p2-r1)" = "<" ] || it_fail "apk letter-number"
[ "$("$VIGIL" vercmp Maven 1-ga-1 1-1)" = "=" ] || it_fail "maven 1-ga-1"
[ "$("$VIGIL" vercmp Pub 1.0.0+1 1.0.0)" = ">" ] || it_fail "pub build metadata"
it_finish
