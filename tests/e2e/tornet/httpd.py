#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# The test network's web server (tests/e2e/tornet.sh): serves one small page
# that names the request, and appends one line per request to a log:
#     <peer address> <peer port> <method> <path> <Host header>
# so that a test can tell which address (the exit relay's) a request came from.
# With a DIRECTORY, paths under /repo/ are that directory's files (a test's
# apt repository).  HEAD answers as GET without a body; every answer has a
# Date header (the time sources of tests/e2e/tornet.sh's onion services).
# With --tls CERT KEY it speaks HTTPS; with --site DIRECTORY every path is a
# file of that directory (a test's copy of someone's web site), 404 if not.
# Usage: httpd.py ADDRESS PORT LOGFILE TOKEN [DIRECTORY] [--tls CERT KEY] [--site DIRECTORY]
import os
import http.server
import ssl
import sys


def main():
    args = sys.argv[1:]
    tls = site = None
    if "--tls" in args:
        i = args.index("--tls")
        tls = args[i + 1:i + 3]
        del args[i:i + 3]
    if "--site" in args:
        i = args.index("--site")
        site = os.path.realpath(args[i + 1])
        del args[i:i + 2]
    addr, port, log_path, token = args[0], int(args[1]), args[2], args[3]
    files = os.path.realpath(args[4]) if len(args) > 4 else None

    class Handler(http.server.BaseHTTPRequestHandler):
        server_version = "wb-tornet"
        sys_version = ""

        def do_GET(self):
            host = self.headers.get("Host", "-")
            with open(log_path, "a", encoding="utf-8") as log:
                log.write(f"{self.client_address[0]} {self.client_address[1]} "
                          f"{self.command} {self.path} {host}\n")
            status, body = 200, f"wb-tornet-page {token} path={self.path}\n".encode()
            if site:
                path = os.path.realpath(os.path.join(site, self.path.lstrip("/").split("?")[0]))
                if path.startswith(site + os.sep) and os.path.isfile(path):
                    with open(path, "rb") as f:
                        body = f.read()
                else:
                    status, body = 404, b"not found\n"
            elif files and self.path.startswith("/repo/"):
                path = os.path.realpath(os.path.join(files, self.path[len("/repo/"):].split("?")[0]))
                if path.startswith(files + os.sep) and os.path.isfile(path):
                    with open(path, "rb") as f:
                        body = f.read()
                else:
                    status, body = 404, b"not found\n"
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_HEAD = do_GET

        def log_message(self, format, *args):  # quiet: the log above is the record
            pass

    server = http.server.ThreadingHTTPServer((addr, port), Handler)
    server.daemon_threads = True
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tls[0], tls[1])
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
