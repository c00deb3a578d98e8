#!/usr/bin/env python3
# fwdrecv.py: the receivers the forwarder tests send to, on loopback or a unix
# socket, each recording what arrives as JSON lines in OUT, and writing its
# address to READY once listening (the test waits for that file).
#
#   fwdrecv.py syslog-udp|syslog-tcp OUT READY
#   fwdrecv.py syslog-unix-dgram|syslog-unix-stream OUT READY PATH
#   fwdrecv.py syslog-tls OUT READY CERT KEY     (TLS, octet counting, RFC 5425)
#   fwdrecv.py http OUT READY [--fail N:STATUS] [--poison SUBSTR] [--tls CERT KEY] [--slow N:SECS]
#
# syslog-tcp parses RFC 6587 octet counting strictly (a bad frame is recorded
# as {"error": ...}); the unix stream receiver too. http answers POST with 200,
# except: the first N requests get STATUS (--fail, repeatable in order), a
# body containing SUBSTR gets 400 (--poison), the first N requests wait SECS
# before answering (--slow). Every request is recorded with its status.
import json, os, socket, ssl, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

mode, out_path, ready_path = sys.argv[1], sys.argv[2], sys.argv[3]
out = open(out_path, "a", buffering=1)
lock = threading.Lock()


def record(obj):
    with lock:
        out.write(json.dumps(obj) + "\n")


def ready(addr):
    tmp = ready_path + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(addr) + "\n")
    os.rename(tmp, ready_path)


def read_frames(conn):
    buf = b""
    while True:
        data = conn.recv(65536)
        if not data:
            if buf:
                record({"error": "trailing bytes", "data": buf.decode("latin-1")})
            return
        buf += data
        while buf:
            sp = buf.find(b" ")
            if sp < 0:
                break
            if not buf[:sp].isdigit() or sp > 9:
                record({"error": "bad frame length", "data": buf[:40].decode("latin-1")})
                return
            n = int(buf[:sp])
            if len(buf) < sp + 1 + n:
                break
            record({"msg": buf[sp + 1:sp + 1 + n].decode("utf-8")})
            buf = buf[sp + 1 + n:]


def stream_server(sock):
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=read_frames, args=(conn,), daemon=True).start()


if mode == "syslog-udp":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind(("127.0.0.1", 0))
    ready(s.getsockname()[1])
    while True:
        record({"msg": s.recv(70000).decode("utf-8")})
elif mode == "syslog-tcp":
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    ready(s.getsockname()[1])
    stream_server(s)
elif mode == "syslog-tls":
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[4], sys.argv[5])
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    ready(s.getsockname()[1])
    while True:
        conn, _ = s.accept()
        try:
            conn = ctx.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError) as e:
            record({"handshake_error": str(e)})
            conn.close()
            continue
        threading.Thread(target=read_frames, args=(conn,), daemon=True).start()
elif mode == "syslog-unix-dgram":
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(sys.argv[4])
    ready(sys.argv[4])
    while True:
        record({"msg": s.recv(300000).decode("utf-8")})
elif mode == "syslog-unix-stream":
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(sys.argv[4])
    s.listen(8)
    ready(sys.argv[4])
    stream_server(s)
elif mode == "http":
    args = sys.argv[4:]
    fails, poison, tls, slow = [], None, None, (0, 0.0)
    i = 0
    while i < len(args):
        if args[i] == "--fail":
            n, st = args[i + 1].split(":")
            fails += [int(st)] * int(n)
            i += 2
        elif args[i] == "--poison":
            poison = args[i + 1].encode()
            i += 2
        elif args[i] == "--tls":
            tls = (args[i + 1], args[i + 2])
            i += 3
        elif args[i] == "--slow":
            n, secs = args[i + 1].split(":")
            slow = (int(n), float(secs))
            i += 2
        else:
            sys.exit("fwdrecv: unknown option " + args[i])
    state = {"n": 0}

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # no 40 ms delayed-ACK stalls between header and body writes

        def log_message(self, *a):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                k = state["n"]
                state["n"] += 1
            if k < slow[0]:
                time.sleep(slow[1])
            status = fails[k] if k < len(fails) else 400 if poison and poison in body else 200
            record({"n": k, "status": status, "path": self.path, "headers": dict(self.headers.items()),
                    "body": body.decode("utf-8")})
            reply = b"refused: poison\r\nsecond line" if status == 400 else b"ok"
            head = "HTTP/1.1 %d X\r\nContent-Length: %d\r\n%s\r\n" % (
                status, len(reply), "Retry-After: 1\r\n" if status == 429 else "")
            self.wfile.write(head.encode() + reply)  # one write: one segment

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tls[0], tls[1])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    ready(srv.server_address[1])
    srv.serve_forever()
else:
    sys.exit("fwdrecv: unknown mode " + mode)
