#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# The test network's web server (tests/e2e/tornet.sh): serves one small page
# that names the request, and appends one line per request to a log:
#     <peer address> <peer port> <method> <path> <Host header>
# so that a test can tell which address (the exit relay's) a request came from.
# Usage: httpd.py ADDRESS PORT LOGFILE TOKEN
import http.server
import sys


def main():
    addr, port, log_path, token = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]

    class Handler(http.server.BaseHTTPRequestHandler):
        server_version = "wb-tornet"
        sys_version = ""

        def do_GET(self):
            host = self.headers.get("Host", "-")
            with open(log_path, "a", encoding="utf-8") as log:
                log.write(f"{self.client_address[0]} {self.client_address[1]} "
                          f"{self.command} {self.path} {host}\n")
            body = f"wb-tornet-page {token} path={self.path}\n".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):  # quiet: the log above is the record
            pass

    server = http.server.ThreadingHTTPServer((addr, port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
