#!/usr/bin/env python3
"""HTTP(S) server for the jobq.http tests, on loopback.

Prints {"port": N} first. Routes (query parameters in brackets):
  /status/<code>[body]              answers <code> with the body
  /retry-after/<code>[value]        answers <code> with Retry-After: value
  /redirect[to, code]               answers a redirect (302 by default) to `to`
  /loop                             redirects to itself
  /hang                             never answers (until the client goes away)
  /large[bytes]                     a body of that many 'x'
  /binary                           a body with NUL and bytes that are not UTF-8
  /echo                             200 with JSON of what was received, and whether the
                                    Standard Webhooks signature (checked here, with Python's
                                    hmac) is valid for --secret
  /hold[n]                          holds each request until n are held at once, then answers
  /_stats                           {"requests": [...], "max_held": N, "open": N}
"""
import argparse
import base64
import hashlib
import hmac
import json
import socketserver
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs

lock = threading.Condition()
state = {"requests": [], "held": 0, "max_held": 0, "released": False, "open": 0}
SECRET = None


def check_signature(headers, body):
    if SECRET is None or "webhook-signature" not in headers:
        return None
    key = SECRET
    if key.startswith("whsec_"):
        key = base64.b64decode(key[len("whsec_"):])
    else:
        key = key.encode()
    msg_id = headers.get("webhook-id", "")
    ts = headers.get("webhook-timestamp", "")
    signed = f"{msg_id}.{ts}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for part in headers["webhook-signature"].split(" "):
        version, _, sig = part.partition(",")
        if version == "v1" and hmac.compare_digest(sig, expected):
            return abs(time.time() - int(ts)) < 300
    return False


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        with lock:
            state["open"] += 1

    def finish(self):
        try:
            super().finish()
        finally:
            with lock:
                state["open"] -= 1

    def answer(self, code, body=b"", headers=None, content_type="text/plain"):
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        url = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        record = {"method": self.command, "path": self.path, "headers": headers,
                  "body": body.decode("utf-8", "replace"),
                  "signature_valid": check_signature(headers, body)}
        if not url.path.startswith("/_stats"):
            with lock:
                state["requests"].append(record)
        p = url.path
        if p.startswith("/status/"):
            self.answer(int(p.split("/")[2]), q.get("body", "").encode())
        elif p.startswith("/retry-after/"):
            self.answer(int(p.split("/")[2]), b"slow down", {"Retry-After": q.get("value", "")})
        elif p == "/redirect":
            self.answer(int(q.get("code", "302")), b"", {"Location": q["to"]})
        elif p == "/loop":
            self.answer(302, b"", {"Location": "/loop"})
        elif p == "/hang":
            # Until the client gives up: a read that ends when the connection does.
            self.connection.settimeout(None)
            try:
                self.rfile.read(1)
            except Exception:
                pass
            self.close_connection = True
        elif p == "/large":
            self.answer(200, b"x" * int(q.get("bytes", "1000")))
        elif p == "/binary":
            self.answer(200, b"\x00\xff\xfe binary \x80", content_type="application/octet-stream")
        elif p == "/echo":
            self.answer(200, json.dumps(record).encode(), content_type="application/json")
        elif p == "/hold":
            n = int(q.get("n", "1"))
            with lock:
                state["held"] += 1
                state["max_held"] = max(state["max_held"], state["held"])
                if state["held"] >= n:
                    state["released"] = True
                    lock.notify_all()
                ok = lock.wait_for(lambda: state["released"], timeout=300)
                state["held"] -= 1
            self.answer(200 if ok else 504, b"held")
        elif p == "/_stats":
            with lock:
                out = {k: state[k] for k in ("requests", "max_held", "open")}
            self.answer(200, json.dumps(out).encode(), content_type="application/json")
        else:
            self.answer(404, b"no such route")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = handle_any


class Server(ThreadingHTTPServer):
    request_queue_size = 1024
    daemon_threads = True


def main():
    global SECRET
    ap = argparse.ArgumentParser()
    ap.add_argument("--secret")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    args = ap.parse_args()
    SECRET = args.secret
    server = Server(("127.0.0.1", 0), Handler)
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print(json.dumps({"port": server.server_address[1]}), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
