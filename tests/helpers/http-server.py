#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Serve DIR over HTTP on 127.0.0.1 (loopback only) on a free port, written to PORTFILE.
import functools, http.server, sys

directory, portfile = sys.argv[1], sys.argv[2]
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=directory)
handler.log_message = lambda *a: None
with http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler) as httpd:
    with open(portfile + '.tmp', 'w') as f:
        f.write(str(httpd.server_address[1]))
    import os
    os.rename(portfile + '.tmp', portfile)
    httpd.serve_forever()
