#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Build small test images for tests/integration/test_scan_image.sh.

usage: mkimage.py OUTDIR

Writes, into OUTDIR, images made here from nothing (no third-party data):
  multi.tar         docker-archive (legacy layout), three layers, whiteouts
  multi-oci/        the same image as an OCI layout directory (gzip, zstd, plain)
  multi-oci.tar     the same layout as an OCI archive
  dotdot.tar        a layer entry '../../escape'
  hardlink.tar      a hardlink whose target leaves the root
  escape.tar        etc/os-release -> /etc/os-release (absolute symlink), ../../ links
  dup.tar           the same file twice in one layer (the last one wins)
  badsum-oci/       a layer whose content does not match its digest
  big.tar           one layer of 3 MiB (refused with --max-layer-bytes 1000000)
  many.tar          one layer with 5000 entries (refused with --max-entries 1000)
  notar.tar         a layer that is not a tar stream
  symlayer.tar      legacy docker-archive whose second layer.tar is a symlink to the
                    first one (docker save writes repeated layers so)
  escapes.tar       names with terminal escape sequences (package, file, broken database)
  vuln-oci/         Alpine 3.10 with openssl 1.0.2p-r0 and libexif 0.6.20-r0 (OCI layout)
  badconfig.tar     an image config with every problem the config checks know
  goodconfig.tar    an image config with none
"""
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile

OS_RELEASE = b'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION="12 (bookworm)"\nID=debian\n'

DPKG_STATUS = b"""Package: libc6
Status: install ok installed
Architecture: amd64
Source: glibc
Version: 2.36-9+deb12u4

Package: removed-pkg
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0-1

Package: openssl
Status: install ok installed
Architecture: amd64
Version: 3.0.11-1~deb12u2
Description: Secure Sockets Layer toolkit
 a continuation line: with a colon

Package: libssl3
Status: install ok installed
Architecture: amd64
Source: openssl (3.0.11-1~deb12u2)
Version: 3.0.11-1~deb12u2
"""

PY_META = b"Metadata-Version: 2.1\nName: %s\nVersion: %s\nLicense: MIT\n\nlong description\nName: not-this\n"

AWS_KEY = b"aws_access_key_id = AKIAIOSFODNN7Q2W3E4R\n"
PEM = b"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n"


def entry(name, data=None, kind="file", link=None, size=None):
    return {"name": name, "data": data, "kind": kind, "link": link, "size": size}


def layer_tar(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        for e in entries:
            ti = tarfile.TarInfo(e["name"])
            ti.mtime = 1700000000
            if e["kind"] == "dir":
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
                t.addfile(ti)
            elif e["kind"] == "symlink":
                ti.type = tarfile.SYMTYPE
                ti.linkname = e["link"]
                t.addfile(ti)
            elif e["kind"] == "hardlink":
                ti.type = tarfile.LNKTYPE
                ti.linkname = e["link"]
                t.addfile(ti)
            else:
                data = e["data"] or b""
                ti.size = len(data)
                ti.mode = 0o644
                t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def compress(raw, how):
    if how == "gzip":
        return gzip.compress(raw, mtime=0)
    if how == "zstd":
        return subprocess.run(["zstd", "-q", "-c"], input=raw, stdout=subprocess.PIPE,
                              check=True).stdout
    return raw


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def config_for(raws, extra=None):
    cfg = {"architecture": "amd64", "os": "linux",
           "config": {"Env": ["PATH=/usr/bin"], "Cmd": ["/bin/sh"]},
           "rootfs": {"type": "layers", "diff_ids": [sha(r) for r in raws]},
           "history": [{"created_by": "test"} for _ in raws]}
    if extra:
        cfg["config"].update(extra)
    return json.dumps(cfg).encode()


def add_bytes(t, name, data):
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mtime = 1700000000
    t.addfile(ti, io.BytesIO(data))


def docker_archive(path, layers, tag="test/image:1", extra=None, history=None):
    raws = [layer_tar(l) for l in layers]
    cfg = config_for(raws, extra)
    if history:
        c = json.loads(cfg)
        c["history"] = [{"created_by": h} for h in history]
        cfg = json.dumps(c).encode()
    cfg_name = hashlib.sha256(cfg).hexdigest() + ".json"
    names = []
    with tarfile.open(path, "w") as t:
        for i, raw in enumerate(raws):
            d = hashlib.sha256(b"%d" % i + raw).hexdigest()
            names.append(d + "/layer.tar")
            add_bytes(t, d + "/layer.tar", raw)
        add_bytes(t, cfg_name, cfg)
        add_bytes(t, "manifest.json", json.dumps(
            [{"Config": cfg_name, "RepoTags": [tag], "Layers": names}]).encode())


def oci_layout(dirpath, layers, comps, corrupt=None):
    os.makedirs(dirpath + "/blobs/sha256", exist_ok=True)
    raws = [layer_tar(l) for l in layers]
    descs = []
    for i, raw in enumerate(raws):
        blob = compress(raw, comps[i])
        d = sha(blob)
        if corrupt == i:
            blob = blob[:-1] + bytes([blob[-1] ^ 1])
        with open(dirpath + "/blobs/sha256/" + d[7:], "wb") as f:
            f.write(blob)
        mt = {"gzip": "+gzip", "zstd": "+zstd", "none": ""}[comps[i]]
        descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar" + mt,
                      "digest": d, "size": len(blob)})
    cfg = config_for(raws)
    blobs = {sha(cfg): cfg}
    man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                      "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                 "digest": sha(cfg), "size": len(cfg)},
                      "layers": descs}).encode()
    blobs[sha(man)] = man
    for d, b in blobs.items():
        with open(dirpath + "/blobs/sha256/" + d[7:], "wb") as f:
            f.write(b)
    with open(dirpath + "/oci-layout", "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    with open(dirpath + "/index.json", "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(man),
             "size": len(man), "annotations": {"org.opencontainers.image.ref.name": "1.0"}}]}, f)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    multi = [
        [entry("etc", kind="dir"),
         entry("usr/lib/os-release", OS_RELEASE),
         entry("etc/os-release", kind="symlink", link="../usr/lib/os-release"),
         entry("var/lib/dpkg/status", DPKG_STATUS),
         entry("usr/lib/python3/dist-packages/requests-2.25.1.dist-info/METADATA",
               PY_META % (b"requests", b"2.25.1")),
         entry("usr/lib/python3/dist-packages/gone-1.0.dist-info/METADATA",
               PY_META % (b"gone", b"1.0")),
         entry("app/node_modules/lodash/package.json",
               b'{"name": "lodash", "version": "4.17.20", "license": "MIT"}'),
         entry("app/node_modules/lodash/test/package.json", b'{"name":"fixture","version":"0"}'),
         entry("root/.aws/credentials", AWS_KEY),
         entry("opt/old/leftover.txt", b"x")],
        [entry("root/.aws/.wh.credentials"),
         entry("usr/lib/python3/dist-packages/gone-1.0.dist-info/.wh..wh..opq"),
         entry("opt/.wh.old"),
         entry("app/node_modules/@scope/pkg/package.json",
               b'{"name": "@scope/pkg", "version": "1.0.0"}'),
         entry("app/package-lock.json", json.dumps({"lockfileVersion": 3, "packages": {
             "": {"name": "app"},
             "node_modules/minimist": {"version": "1.2.5"},
             "node_modules/a/node_modules/b": {"version": "2.0.0"}}}).encode())],
        [entry("etc/ssl/private/key.pem", PEM),
         entry("usr/lib/python3/dist-packages/requests-2.25.1.dist-info/METADATA",
               PY_META % (b"requests", b"2.31.0"))],
    ]
    docker_archive(out + "/multi.tar", multi)
    oci_layout(out + "/multi-oci", multi, ["gzip", "zstd", "none"])
    with tarfile.open(out + "/multi-oci.tar", "w") as t:
        for name in sorted(os.listdir(out + "/multi-oci")):
            t.add(out + "/multi-oci/" + name, arcname=name)
    docker_archive(out + "/dotdot.tar", [[entry("ok", b"1"), entry("../../escape", b"x")]])
    docker_archive(out + "/hardlink.tar", [[entry("x", kind="hardlink", link="../../etc/shadow")]])
    docker_archive(out + "/escape.tar", [[
        entry("etc/os-release", kind="symlink", link="/etc/os-release"),
        entry("etc/alpine-release", kind="symlink", link="../../../../etc/hostname"),
        entry("/abs/path.txt", b"absolute names are taken as relative to the root")]])
    docker_archive(out + "/dup.tar", [[
        entry("lib/apk/db/installed", b"P:first\nV:1.0-r0\n\n"),
        entry("lib/apk/db/installed", b"P:second\nV:2.0-r0\n\n")]])
    oci_layout(out + "/badsum-oci", [[entry("a", b"hello")]], ["gzip"], corrupt=0)
    docker_archive(out + "/big.tar", [[entry("big", b"\0" * (3 << 20))]])
    docker_archive(out + "/many.tar", [[entry("f%d" % i, b"") for i in range(5000)]])
    raw = layer_tar([entry("lib/apk/db/installed", b"P:zlib\nV:1.2.13-r0\n\n")])
    cfg = config_for([raw, raw])
    with tarfile.open(out + "/symlayer.tar", "w") as t:
        add_bytes(t, "aaa/layer.tar", raw)
        ti = tarfile.TarInfo("bbb/layer.tar")
        ti.type = tarfile.SYMTYPE
        ti.linkname = "../aaa/layer.tar"
        t.addfile(ti)
        add_bytes(t, "c.json", cfg)
        add_bytes(t, "manifest.json", b'[{"Config":"c.json","Layers":["aaa/layer.tar","bbb/layer.tar"]}]')
    docker_archive(out + "/escapes.tar", [[
        entry("lib/apk/db/installed", b"P:evil\x1b]0;pwned\x07\nV:1.0-r0\n\n"),
        entry("x\x1b[2J.env", AWS_KEY),
        entry("var/lib/dpkg/status", b"garbage\x1b[31m line\n")]])
    oci_layout(out + "/vuln-oci", [[
        entry("etc/os-release", b"ID=alpine\nVERSION_ID=3.10.9\n"),
        entry("lib/apk/db/installed",
              b"P:openssl\nV:1.0.2p-r0\n\nP:libexif\nV:0.6.20-r0\no:libexif\n\n")]], ["gzip"])
    docker_archive(out + "/badconfig.tar", [[entry("a", b"1")]], extra={
        "User": "0", "ExposedPorts": {"22/tcp": {}, "80/tcp": {}},
        "Env": ["PATH=/bin", "DB_PASSWORD=hunter2", "API_TOKEN="]},
        history=["/bin/sh -c apk add curl", "/bin/sh -c curl -fsSL https://x.invalid/i.sh | sh"])
    docker_archive(out + "/goodconfig.tar", [[entry("a", b"1")]], extra={
        "User": "app", "Healthcheck": {"Test": ["CMD", "/bin/true"]}})
    with tarfile.open(out + "/notar.tar", "w") as t:
        add_bytes(t, "l/layer.tar", b"this is not a tar stream " * 100)
        cfg = config_for([b""])
        add_bytes(t, "c.json", cfg)
        add_bytes(t, "manifest.json", b'[{"Config":"c.json","Layers":["l/layer.tar"]}]')


if __name__ == "__main__":
    main()
