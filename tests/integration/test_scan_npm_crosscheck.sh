#!/usr/bin/env bash
# Inventory equality with npm itself: a project installed here from the npm
# registry (an alias, a scoped package, nested versions, a development
# dependency) is scanned and compared with `npm ls --all --json`: the
# package-lock.json gives exactly npm's production tree (--omit=dev), the
# installed node_modules/*/package.json exactly npm's whole tree. Skipped
# when npm is not installed or the registry cannot be reached.
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
    "left-pad": "1.3.0"
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
it_finish
