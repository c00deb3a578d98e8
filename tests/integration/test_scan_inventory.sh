#!/usr/bin/env bash
# The inventory of language packages, as other scanners report it: every
# lock file and manifest fixture under tests/integration/data/scan/inventory
# (written from each format's specification) gives exactly the packages,
# versions, ecosystems and purls of want.tsv; --include-dev adds those of
# want-dev.tsv. Java archives are built here (zip): pom.xml without
# pom.properties, manifest-only jars, file names, Jenkins plugins, nested
# .war in .ear.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh
it_need_vigil
it_need_jq
it_mktemp
trap it_cleanup_common EXIT
data=tests/integration/data/scan/inventory

# path, name, version, ecosystem ("-": none) and purl of every package, sorted
inventory() {
	jq -r '.packages[] | [.path, .name, .version, (.ecosystem // "-"), .purl] | @tsv' "$1" | LC_ALL=C sort
}

"$VIGIL" scan rootfs "$data/root" --no-db --no-secrets -f json >"$IT_TMP/a.json" 2>"$IT_TMP/a.err" ||
	it_fail "scan: $(cat "$IT_TMP/a.err")"
inventory "$IT_TMP/a.json" >"$IT_TMP/a.tsv"
diff -u "$data/want.tsv" "$IT_TMP/a.tsv" || it_fail "inventory differs from want.tsv"
grep -q "Python package nover has no Version: reported unversioned" "$IT_TMP/a.err" ||
	it_fail "an unversioned Python package must be said so: $(cat "$IT_TMP/a.err")"
grep -q "srv/maven/pom.xml: 2 dependencies without a version this file resolves" "$IT_TMP/a.err" ||
	it_fail "pom.xml dependencies left out must be said so: $(cat "$IT_TMP/a.err")"
"$VIGIL" scan rootfs "$data/root" --no-db --no-secrets --include-dev -f json >"$IT_TMP/d.json" 2>/dev/null ||
	it_fail "scan --include-dev"
inventory "$IT_TMP/d.json" >"$IT_TMP/d.tsv"
LC_ALL=C sort -m "$data/want.tsv" "$data/want-dev.tsv" >"$IT_TMP/d.want"
diff -u "$IT_TMP/d.want" "$IT_TMP/d.tsv" || it_fail "--include-dev inventory differs from want.tsv + want-dev.tsv"

# language runtimes: a Python whose version string is NUL-terminated in its
# data, as CPython's PY_VERSION is; then the real runtimes of this machine,
# copied where the official images put them, against their own --version
rt=$IT_TMP/rt
mkdir -p "$rt/usr/local/bin" "$rt/usr/local/lib"
printf '\177ELF junk\0003.12\0003.12.1rc1\000more' >"$rt/usr/local/bin/python3.12"
printf 'x\0003.9.18\000' >"$rt/usr/local/lib/libpython3.9.so.1.0"
printf '3.13.0\000' >"$rt/usr/local/bin/python3.13" # not NUL-preceded: not a version string
"$VIGIL" scan rootfs "$rt" --no-db --no-secrets -f json >"$IT_TMP/rt.json" 2>/dev/null || it_fail "scan runtimes"
got=$(jq -c '[.packages[] | [.path, .name, .version, .purl]] | sort' "$IT_TMP/rt.json")
want='[["usr/local/bin/python3.12","python","3.12.1rc1","pkg:generic/python@3.12.1rc1"],["usr/local/lib/libpython3.9.so.1.0","python","3.9.18","pkg:generic/python@3.9.18"]]'
[ "$got" = "$want" ] || it_fail "python runtime versions: $got"
h=$IT_TMP/host
mkdir -p "$h/usr/local/bin" "$h/opt/java/openjdk"
want=
for py in /usr/bin/python3.[0-9]*; do
	case $py in *-config | *m) continue ;; esac
	[ -f "$py" ] && [ ! -L "$py" ] || continue
	cp "$py" "$h/usr/local/bin/" && want="$want python $("$py" -c 'import platform; print(platform.python_version())')"
	break
done
if node=$(command -v node) && [ -f "$(readlink -f "$node")" ]; then
	cp "$(readlink -f "$node")" "$h/usr/local/bin/node" && want="$want node $(node --version | sed 's/^v//')"
fi
for rel in /usr/lib/jvm/*/release; do
	[ -f "$rel" ] || continue
	cp "$rel" "$h/opt/java/openjdk/release"
	jv=$(sed -n 's/^JAVA_VERSION="\(.*\)"$/\1/p' "$rel")
	java=$(dirname "$rel")/bin/java
	# the release file says what `java -version` says
	if [ -x "$java" ] && ! "$java" -version 2>&1 | grep -q "\"$jv\""; then
		it_fail "$rel says $jv, $java -version says otherwise"
	fi
	want="$want java $jv"
	break
done
if [ -n "$want" ]; then
	"$VIGIL" scan rootfs "$h" --no-db --no-secrets -f json >"$IT_TMP/h.json" 2>/dev/null || it_fail "scan host runtimes"
	got=$(jq -r '.packages[] | "\(.name) \(.version)"' "$IT_TMP/h.json" | sort | tr '\n' ' ')
	want=$(echo $want | xargs -n2 | sort | tr '\n' ' ')
	[ "$got" = "$want" ] || it_fail "this machine's runtimes: got '$got', their own versions say '$want'"
else
	echo "note: no python, node or JDK on this machine, the runtime cross-check skipped"
fi

# Python: what pip inspect says is installed in a directory, against the scan
# of that directory (names normalised as PEP 503 does; a distribution that
# ships both a .dist-info and an .egg-info, as Debian's cryptography does,
# is one name and version on both sides)
pip_crosscheck() { # DIR LABEL
	python3 -m pip inspect --path "$1" 2>/dev/null |
		jq -r '.installed[] | "\(.metadata.name | ascii_downcase | gsub("[-_.]+"; "-")) \(.metadata.version)"' |
		LC_ALL=C sort -u >"$IT_TMP/pip.want"
	[ -s "$IT_TMP/pip.want" ] || { echo "note: pip inspect lists nothing in $1 ($2)"; return; }
	"$VIGIL" scan rootfs "$1" --no-db --no-secrets -f json 2>/dev/null |
		jq -r '.packages[] | select(.type == "pypi") | "\(.name | ascii_downcase | gsub("[-_.]+"; "-")) \(.version)"' |
		LC_ALL=C sort -u >"$IT_TMP/pip.got"
	diff -u "$IT_TMP/pip.want" "$IT_TMP/pip.got" || it_fail "$2: Python inventory differs from pip inspect"
}
if command -v python3 >/dev/null && python3 -m pip inspect --help >/dev/null 2>&1; then
	for sp in /usr/lib/python3/dist-packages /usr/lib/python3*/site-packages; do
		[ -d "$sp" ] && pip_crosscheck "$sp" "$sp"
	done
	if python3 -m venv "$IT_TMP/venv" >/dev/null 2>&1; then
		pip_crosscheck "$(echo "$IT_TMP"/venv/lib/python3*/site-packages)" "a new venv"
	fi
else
	echo "note: python3 with pip inspect (pip >= 22.2) not installed, the pip cross-check skipped"
fi

# Go: a program built here (offline: a dependency replaced by a local
# directory) against `go version -m`; a local replacement is the project's
# own code and is not listed
if command -v go >/dev/null; then
	g=$IT_TMP/go
	mkdir -p "$g/src/dep" "$g/root/usr/bin"
	printf 'module example.com/vigilgo\n\ngo 1.16\n\nrequire example.com/dep v1.2.3\n\nreplace example.com/dep => ./dep\n' >"$g/src/go.mod"
	printf 'package main\n\nimport (\n\t"fmt"\n\t"example.com/dep"\n)\n\nfunc main() { fmt.Println(dep.X()) }\n' >"$g/src/main.go"
	printf 'module example.com/dep\n\ngo 1.16\n' >"$g/src/dep/go.mod"
	printf 'package dep\n\nfunc X() string { return "x" }\n' >"$g/src/dep/dep.go"
	if (cd "$g/src" && GOCACHE=$g/cache GOPATH=$g/gopath GOFLAGS=-mod=mod GOPROXY=off \
		go build -o "$g/root/usr/bin/vigilgo" . >"$IT_TMP/go.out" 2>&1); then
		go version -m "$g/root/usr/bin/vigilgo" | awk '
			function flush() { if (dep != "") print dep; dep = "" }
			NR == 1 { sub(/^go/, "", $2); print "stdlib " $2; next }
			$1 == "mod" { flush(); print $2 " " $3 }
			$1 == "dep" { flush(); dep = $2 " " $3 }
			$1 == "=>" { dep = ($2 ~ /^[.\/]/) ? "" : $2 " " $3 }
			END { flush() }' | LC_ALL=C sort >"$IT_TMP/go.want"
		grep -q "example.com/dep" "$IT_TMP/go.want" && it_fail "awk kept the local replacement"
		"$VIGIL" scan rootfs "$g/root" --no-db --no-secrets -f json 2>/dev/null |
			jq -r '.packages[] | "\(.name) \(.version)"' | LC_ALL=C sort >"$IT_TMP/go.got"
		diff -u "$IT_TMP/go.want" "$IT_TMP/go.got" || it_fail "Go binary inventory differs from go version -m"
	else
		it_fail "go build: $(cat "$IT_TMP/go.out")"
	fi
else
	echo "note: go not installed, the go version -m cross-check skipped"
fi

if command -v python3 >/dev/null; then
	j=$IT_TMP/java
	python3 - "$j" <<'PY' || it_die "cannot build the Java archives"
import io, os, sys, zipfile
root = sys.argv[1]
def jar(files):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        for n, d in files:
            z.writestr(n, d)
    return b.getvalue()
def put(path, data):
    p = os.path.join(root, path)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    open(p, "wb").write(data)
def props(g, a, v):
    return (f"META-INF/maven/{g}/{a}/pom.properties", f"groupId={g}\nartifactId={a}\nversion={v}\n")
# 1. no pom.properties: the project of pom.xml, group and version from the parent, a property
put("opt/lib/lib.jar", jar([("META-INF/maven/org.example/lib/pom.xml", """<?xml version="1.0" encoding="UTF-8"?>
<!-- a comment with <tags> -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <parent><groupId>org.example</groupId><artifactId>parent</artifactId><version>3.1</version></parent>
  <artifactId>lib</artifactId>
  <version>${revision}${changelist}</version>
  <properties><revision>3.1.4</revision><changelist>-beta&#x2D;1</changelist></properties>
  <dependencies><dependency><groupId>junit</groupId><artifactId>junit</artifactId><version>4.13</version></dependency></dependencies>
</project>
""")]))
# 2. manifest only: the title's case comes from the file name
put("opt/lib/jackson-core-2.15.2.jar", jar([("META-INF/MANIFEST.MF",
    "Manifest-Version: 1.0\r\nImplementation-Title: Jackson-core\r\nImplementation-Version: 2.15.2\r\n"
    "Implementation-Vendor-Id: com.fasterxml.jackson.core\r\nBundle-SymbolicName: com.fasterxml.jackson.c\r\n ore.jackson-core\r\n"
    "Bundle-Name: Jackson-core\r\n\r\nName: com/fasterxml/\r\nImplementation-Title: other\r\n")]))
# 3. manifest with a symbolic name and a title in words: the file name's artifact and version
put("opt/lib/commons-io-2.11.0.jar", jar([("META-INF/MANIFEST.MF",
    "Manifest-Version: 1.0\nBundle-SymbolicName: org.apache.commons.io\nBundle-Name: Apache Commons IO\nBundle-Version: 2.11.0\n")]))
# 3b. an OSGi bundle name, a title in words: the file name's artifact (same version)
put("opt/lib/asm-commons-9.7.1.jar", jar([("META-INF/MANIFEST.MF",
    "Manifest-Version: 1.0\nImplementation-Title: Usefull class adapters based on ASM, a very small \n and fast Java bytecode manipulation framework\n"
    "Implementation-Version: 9.7.1\nBundle-Name: org.objectweb.asm.commons\nBundle-SymbolicName: org.objectweb.asm.commons\nBundle-Version: 9.7.1\n")]))
# 4. nothing but the file name
put("opt/lib/plain-1.2.jar", jar([("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n"), ("a/B.class", b"\xca\xfe\xba\xbe")]))
# 5. a Jenkins plugin with a library inside
put("var/jenkins_home/plugins/git.jpi", jar([props("org.jenkins-ci.plugins", "git", "5.0.0"),
    ("WEB-INF/lib/org.eclipse.jgit-6.5.0.jar", jar([props("org.eclipse.jgit", "org.eclipse.jgit", "6.5.0.202303070854-r")]))]))
put("usr/share/jenkins/ref/plugins/credentials.hpi", jar([props("org.jenkins-ci.plugins", "credentials", "1254.vb_96f366e7b_a_d")]))
# 6. an .ear with a .war with a jar
war = jar([("WEB-INF/lib/commons-text-1.9.jar", jar([props("org.apache.commons", "commons-text", "1.9")]))])
put("srv/app.ear", jar([("web.war", war), props("com.example", "app-ear", "1.0")]))
PY
	"$VIGIL" scan rootfs "$j" --no-db --no-secrets -f json >"$IT_TMP/j.json" 2>"$IT_TMP/j.err" ||
		it_fail "scan java: $(cat "$IT_TMP/j.err")"
	inventory "$IT_TMP/j.json" >"$IT_TMP/j.tsv"
	diff -u "$data/want-java.tsv" "$IT_TMP/j.tsv" || it_fail "Java inventory differs from want-java.tsv"
	[ -s "$IT_TMP/j.err" ] && it_fail "java: warnings: $(cat "$IT_TMP/j.err")"
else
	echo "note: python3 not installed, the Java archive checks skipped"
fi
it_finish
