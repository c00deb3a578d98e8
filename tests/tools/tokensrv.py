#!/usr/bin/env python3
"""A registry token server for tests (the Docker/OCI token authentication flow).

GET /token?service=S&scope=repository:NAME:pull,push answers, for a client
with the right HTTP basic credentials, {"token": JWT} where JWT is RS256-signed
with --sign-key and carries --sign-cert in its x5c header, which a registry
configured with auth.token.rootcertbundle = --sign-cert accepts. Wrong or
missing credentials get 401. Every request is logged to --log, one line each:
"METHOD PATH user=NAME status=CODE".

Listens on 127.0.0.1 over HTTPS (--cert/--key); writes its port to
--port-file once it listens. Signing uses the openssl command (no Python
crypto library needed). Test use only: it grants whatever is asked.
"""
import argparse
import base64
import http.server
import json
import os
import ssl
import subprocess
import sys
import time
import urllib.parse


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def main():
    ap = argparse.ArgumentParser()
    for a in ("port-file", "cert", "key", "sign-key", "sign-cert", "issuer", "user",
              "password", "log"):
        ap.add_argument("--" + a, required=True)
    args = ap.parse_args()
    with open(args.sign_cert) as f:
        pem = f.read()
    der_b64 = "".join(l for l in pem.splitlines() if l and not l.startswith("-----"))
    want = "Basic " + base64.b64encode(f"{args.user}:{args.password}".encode()).decode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def answer(self, code, body, user="-"):
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if code == 401:
                self.send_header("WWW-Authenticate", 'Basic realm="token"')
            self.end_headers()
            self.wfile.write(data)
            with open(args.log, "a") as f:
                f.write(f"GET {self.path} user={user} status={code}\n")

        def do_GET(self):
            url = urllib.parse.urlparse(self.path)
            if url.path != "/token":
                return self.answer(404, {"error": "not found"})
            if self.headers.get("Authorization") != want:
                return self.answer(401, {"error": "bad credentials"})
            q = urllib.parse.parse_qs(url.query)
            access = []
            for scope in q.get("scope", []):
                parts = scope.split(":")
                if len(parts) == 3 and parts[0] == "repository":
                    access.append({"type": "repository", "name": parts[1],
                                   "actions": parts[2].split(",")})
            now = int(time.time())
            header = {"typ": "JWT", "alg": "RS256", "x5c": [der_b64]}
            claims = {"iss": args.issuer, "sub": args.user,
                      "aud": q.get("service", [""])[0], "exp": now + 300,
                      "nbf": now - 10, "iat": now, "jti": os.urandom(8).hex(),
                      "access": access}
            signing_input = (b64url(json.dumps(header).encode()) + "." +
                             b64url(json.dumps(claims).encode()))
            sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", args.sign_key],
                                 input=signing_input.encode(), capture_output=True,
                                 check=True).stdout
            token = signing_input + "." + b64url(sig)
            self.answer(200, {"token": token, "expires_in": 300}, args.user)

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(args.port_file + ".tmp", args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
