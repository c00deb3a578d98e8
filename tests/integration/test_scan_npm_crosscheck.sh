#!/usr/bin/env bash
# Inventory equality with npm itself: a project installed here from the npm
# registry (an alias, a scoped package, nested versions, a development
# dependency) is scanned and compared with `npm ls --all --json`: the
# package-lock.json gives exactly npm's production tree (--omit=dev), the
# installed node_modules/*/package.json exactly npm's whole tree. The same
# project installed by pnpm 9 and yarn 1 (run with npx, pinned versions):
# pnpm-lock.yaml against `pnpm list --json` (--prod), yarn.lock against
# `yarn list --json`, and by yarn 4 (Berry, node-modules linker) against
# `yarn info --all --recursive --json`. Skipped when npm is not installed or the registry
# cannot be reached.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh
it_need_vigil
it_need_jq
command -v npm >/dev/null || it_skip "npm is not installed"
it_mktemp
trap it_cleanup_common EXIT
p=$IT_TMP/app
mkdir -p "$p"
cat >"$p/package.json" <<'JSON'
{
  "name": "vigil-npm-crosscheck",
  "version": "1.0.0",
  "private": true,
  "dependencies": {
    "case-alias": "npm:case@1.6.3",
    "debug": "2.6.9",
    "@sindresorhus/is": "4.6.0",
    "ms": "2.1.3"
  },
  "devDependencies": {
    "left-pad": "1.3.0",
    "mkdirp": "0.5.6"
  }
}
JSON
export npm_config_cache=$IT_TMP/npm-cache npm_config_update_notifier=false
if ! (cd "$p" && timeout 300 npm install --ignore-scripts --no-audit --no-fund --loglevel=error \
	>"$IT_TMP/npm.out" 2>&1); then
	grep -qiE "ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|network|ECONNRESET" "$IT_TMP/npm.out" &&
		it_skip "the npm registry cannot be reached: $(tail -1 "$IT_TMP/npm.out")"
	it_die "npm install: $(cat "$IT_TMP/npm.out")"
fi

# name@version of every node of npm's tree; --long gives each node's package
# name, so that an alias is its real package
npm_tree() {
	(cd "$p" && npm ls --all --json --long "$@" 2>/dev/null) | jq -r '
		def walk_deps: (.dependencies // {}) | to_entries[] | .value | (., walk_deps);
		walk_deps | select(.version and .name) | .name + "@" + .version' |
		LC_ALL=C sort -u
}
npm_tree --omit=dev >"$IT_TMP/npm.prod"
npm_tree >"$IT_TMP/npm.all"
[ -s "$IT_TMP/npm.prod" ] || it_die "npm ls gave no packages"
grep -qx "case@1.6.3" "$IT_TMP/npm.prod" || it_die "the alias is not in npm's tree: $(cat "$IT_TMP/npm.prod")"

"$VIGIL" scan rootfs "$p" --no-db --no-secrets -f json >"$IT_TMP/v.json" 2>"$IT_TMP/v.err" ||
	it_fail "scan: $(cat "$IT_TMP/v.err")"
jq -r '.packages[] | select(.path == "package-lock.json") | "\(.name)@\(.version)"' "$IT_TMP/v.json" |
	LC_ALL=C sort -u >"$IT_TMP/v.lock"
jq -r '.packages[] | select(.path | endswith("/package.json")) | "\(.name)@\(.version)"' "$IT_TMP/v.json" |
	LC_ALL=C sort -u >"$IT_TMP/v.installed"
diff -u "$IT_TMP/npm.prod" "$IT_TMP/v.lock" || it_fail "package-lock.json inventory differs from npm ls --omit=dev"
diff -u "$IT_TMP/npm.all" "$IT_TMP/v.installed" || it_fail "node_modules inventory differs from npm ls --all"
"$VIGIL" scan rootfs "$p" --no-db --no-secrets --include-dev -f json >"$IT_TMP/d.json" 2>/dev/null ||
	it_fail "scan --include-dev"
jq -r '.packages[] | select(.path == "package-lock.json") | "\(.name)@\(.version)"' "$IT_TMP/d.json" |
	LC_ALL=C sort -u >"$IT_TMP/d.lock"
diff -u "$IT_TMP/npm.all" "$IT_TMP/d.lock" || it_fail "package-lock.json --include-dev differs from npm ls --all"

# lock_inventory DIR FILE [vigil options]: name@version of the packages vigil takes from DIR/FILE
lock_inventory() {
	local dir=$1 file=$2
	shift 2
	"$VIGIL" scan rootfs "$dir" --no-db --no-secrets -f json "$@" 2>/dev/null |
		jq -r --arg f "$file" '.packages[] | select(.path == $f) | "\(.name)@\(.version)"' | LC_ALL=C sort -u
}

# pnpm 9: its own list names each node's package ("from"), aliases resolved
pn=$IT_TMP/pnpm
mkdir -p "$pn" && cp "$p/package.json" "$pn/"
if (cd "$pn" && timeout 300 npx --yes pnpm@9.15.0 install --ignore-scripts --reporter=silent \
	>"$IT_TMP/pnpm.out" 2>&1) && [ -f "$pn/pnpm-lock.yaml" ]; then
	pnpm_tree() {
		(cd "$pn" && npx --yes pnpm@9.15.0 list --depth Infinity --json "$@" 2>/dev/null) | jq -r '
			def w: (.dependencies // {}), (.devDependencies // {}) | to_entries[] | .value | (., w);
			.[] | w | select(.from and .version) | .from + "@" + .version' | LC_ALL=C sort -u
	}
	pnpm_tree --prod >"$IT_TMP/pnpm.prod"
	pnpm_tree >"$IT_TMP/pnpm.all"
	[ -s "$IT_TMP/pnpm.prod" ] || it_fail "pnpm list gave no packages"
	lock_inventory "$pn" pnpm-lock.yaml >"$IT_TMP/vp.prod"
	lock_inventory "$pn" pnpm-lock.yaml --include-dev >"$IT_TMP/vp.all"
	diff -u "$IT_TMP/pnpm.prod" "$IT_TMP/vp.prod" || it_fail "pnpm-lock.yaml inventory differs from pnpm list --prod"
	diff -u "$IT_TMP/pnpm.all" "$IT_TMP/vp.all" || it_fail "pnpm-lock.yaml --include-dev differs from pnpm list"
else
	echo "note: pnpm 9 could not be run through npx ($(tail -1 "$IT_TMP/pnpm.out")): pnpm cross-check skipped"
fi

# yarn 1: its list names aliases by their alias; the installed package.json says the real name
yn=$IT_TMP/yarn
mkdir -p "$yn" && cp "$p/package.json" "$yn/"
if (cd "$yn" && timeout 300 npx --yes yarn@1.22.22 install --ignore-scripts --silent --no-progress \
	--cache-folder "$IT_TMP/yarn-cache" >"$IT_TMP/yarn.out" 2>&1) && [ -f "$yn/yarn.lock" ]; then
	(cd "$yn" && npx --yes yarn@1.22.22 list --json --silent 2>/dev/null) |
		jq -r 'def w: (., ((.children // [])[] | w)); .data.trees[] | w | .name' |
		while IFS= read -r nv; do
			n=${nv%@*} v=${nv##*@}
			case $v in [0-9]*) ;; *) continue ;; esac # a shadow entry names the range
			real=$(jq -r '.name // empty' "$yn/node_modules/$n/package.json" 2>/dev/null)
			echo "${real:-$n}@$v"
		done | LC_ALL=C sort -u >"$IT_TMP/yarn.all"
	[ -s "$IT_TMP/yarn.all" ] || it_fail "yarn list gave no packages"
	lock_inventory "$yn" yarn.lock >"$IT_TMP/vy.all"
	diff -u "$IT_TMP/yarn.all" "$IT_TMP/vy.all" || it_fail "yarn.lock inventory differs from yarn list"
else
	echo "note: yarn 1 could not be run through npx ($(tail -1 "$IT_TMP/yarn.out")): yarn cross-check skipped"
fi

# yarn 4 (Berry): every locator it knows from the registry, name@npm:version
yb=$IT_TMP/berry
mkdir -p "$yb" && cp "$p/package.json" "$yb/"
printf 'nodeLinker: node-modules\nenableTelemetry: false\nenableGlobalCache: false\n' >"$yb/.yarnrc.yml"
: >"$yb/yarn.lock"
if (cd "$yb" && YARN_CACHE_FOLDER=$IT_TMP/berry-cache timeout 300 npx --yes @yarnpkg/cli-dist@4.5.3 \
	install --mode=skip-build >"$IT_TMP/berry.out" 2>&1) && grep -q __metadata "$yb/yarn.lock"; then
	(cd "$yb" && npx --yes @yarnpkg/cli-dist@4.5.3 info --all --recursive --json 2>/dev/null) |
		jq -r '.value | select(test("@npm:")) | sub("@npm:"; "@")' | LC_ALL=C sort -u >"$IT_TMP/berry.all"
	[ -s "$IT_TMP/berry.all" ] || it_fail "yarn info gave no packages"
	lock_inventory "$yb" yarn.lock >"$IT_TMP/vb.all"
	diff -u "$IT_TMP/berry.all" "$IT_TMP/vb.all" || it_fail "Berry yarn.lock inventory differs from yarn info"
else
	echo "note: yarn 4 could not be run through npx ($(tail -1 "$IT_TMP/berry.out")): Berry cross-check skipped"
fi
it_finish
