#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The "clearnet" host of tests/e2e/leak.sh: TCP and UDP listeners.

Runs inside the test's own network namespace, bound only to the host's
address there.  It answers every TCP connection and every datagram with a
line holding WB-CLEARNET (so a probe in a VM knows it got through) and logs
each one, flushed at once, so that the test can also see from this side
that nothing arrived.  It stops by itself after --lifetime seconds.

    leak-clearnet.py ADDRESS FIRST_PORT LAST_PORT LOG [--lifetime S]
"""
import selectors
import socket
import sys
import time


def main():
    addr, first, last, logpath = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    lifetime = int(sys.argv[6]) if len(sys.argv) > 6 and sys.argv[5] == "--lifetime" else 1800
    sel = selectors.DefaultSelector()
    for port in range(first, last + 1):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        t.bind((addr, port))
        t.listen(16)
        t.setblocking(False)
        sel.register(t, selectors.EVENT_READ, ("tcp", port))
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind((addr, port))
        u.setblocking(False)
        sel.register(u, selectors.EVENT_READ, ("udp", port))
    log = open(logpath, "a", buffering=1)
    log.write("listening on %s ports %d-%d\n" % (addr, first, last))
    banner = b"WB-CLEARNET reached\n"
    end = time.monotonic() + lifetime
    while time.monotonic() < end:
        for key, _ in sel.select(timeout=1):
            proto, port = key.data
            try:
                if proto == "tcp":
                    c, peer = key.fileobj.accept()
                    log.write("tcp %d from %s:%d\n" % (port, peer[0], peer[1]))
                    c.settimeout(1)
                    try:
                        c.sendall(banner)
                    finally:
                        c.close()
                else:
                    data, peer = key.fileobj.recvfrom(2048)
                    log.write("udp %d from %s:%d %r\n" % (port, peer[0], peer[1], data[:40]))
                    key.fileobj.sendto(banner, peer)
            except OSError as e:
                log.write("%s %d error %s\n" % (proto, port, e))


if __name__ == "__main__":
    main()
