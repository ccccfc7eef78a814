#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""An HTTP forward proxy on 127.0.0.1 for tests of whonix-build --proxy.

It forwards GET and HEAD requests to the one upstream host it is allowed
(--allow, the Debian mirror), so it is no open proxy.  What it does with a
.deb depends on the mode file, read at every request:

  pass   forward the whole response
  drop   send the status line, the headers (with the full Content-Length)
         and half of the body, then close the connection: a mirror that
         drops the connection in the middle of a .deb

Every request is logged to --log as one line:
  <mode> <method> <url> <status> <bytes sent>/<bytes announced> [dropped]

The port it listens on is written to --port-file once it is ready.
"""
import argparse
import http.client
import http.server
import os
import socketserver
import sys
import urllib.parse

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authorization", "te", "trailer",
              "transfer-encoding", "upgrade"}


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def record(self, mode, status, sent, total, dropped):
        with open(self.server.log_path, "a") as f:
            f.write(f"{mode} {self.command} {self.path} {status} {sent}/{total}{' dropped' if dropped else ''}\n")

    def refuse(self, status, why):
        body = (why + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True
        self.record("-", status, len(body), len(body), False)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        try:
            with open(self.server.mode_path) as f:
                mode = f.read().strip()
        except OSError:
            mode = "pass"
        url = urllib.parse.urlsplit(self.path)
        if url.scheme != "http" or url.hostname != self.server.allow:
            self.refuse(403, f"this test proxy forwards only to http://{self.server.allow}")
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        path = url.path + ("?" + url.query if url.query else "")
        try:
            up = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=60)
            up.request(self.command, path, headers=headers)
            resp = up.getresponse()
        except OSError as e:
            self.refuse(502, f"upstream: {e}")
            return
        length = resp.getheader("Content-Length")
        total = int(length) if length and length.isdigit() else None
        drop = mode == "drop" and url.path.endswith(".deb") and self.command == "GET" and total and total > 1
        limit = total // 2 if drop else None

        self.send_response(resp.status, resp.reason)
        for k, v in resp.getheaders():
            if k.lower() not in HOP_BY_HOP:
                self.send_header(k, v)
        self.send_header("Connection", "close")
        self.end_headers()
        sent = 0
        try:
            while self.command == "GET":
                chunk = resp.read(65536)
                if not chunk:
                    break
                if limit is not None and sent + len(chunk) >= limit:
                    chunk = chunk[:limit - sent]
                self.wfile.write(chunk)
                sent += len(chunk)
                if limit is not None and sent >= limit:
                    break
            self.wfile.flush()
        except OSError:
            pass
        finally:
            up.close()
        self.close_connection = True
        self.record(mode, resp.status, sent, total if total is not None else "?", bool(drop))


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--allow", required=True, help="the one upstream host name")
    ap.add_argument("--mode-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--port-file", required=True)
    a = ap.parse_args()
    srv = Server(("127.0.0.1", 0), Proxy)
    srv.allow, srv.mode_path, srv.log_path = a.allow, a.mode_file, a.log
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{srv.server_address[1]}\n")
    os.rename(tmp, a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
