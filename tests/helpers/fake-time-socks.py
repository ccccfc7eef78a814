#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# A SOCKS5 server on 127.0.0.1 that plays Tor and the time sources for
# tests of whonix-timesync: for "CONNECT host:port" it answers, itself, an
# HTTP request with a Date header that is off by the seconds given for that
# host.  Loopback only; nothing is forwarded anywhere.
#
#   fake-time-socks.py LOG HOST=BEHAVIOUR...
# BEHAVIOUR: an offset in seconds (+100, -3600), "refuse" (SOCKS reply 5),
# "close" (close after the SOCKS reply), "nodate" (no Date header), or
# "baddate" (an RFC 850 date), "garbage" (random bytes instead of HTTP),
# "huge" (an endless header), "baddates" (a Date header of random
# printable junk).  Unknown hosts get "host unreachable".
# Prints "PORT n" once listening; logs "host port user" per CONNECT to LOG.
# Also: --control VA VU  serves a Tor control port (second "PORT n" line)
# whose consensus/valid-after and valid-until are now+VA and now+VU
# (each GETINFO key answered on its own line, as Tor does) and whose
# status/circuit-established is 1, or 0 after --no-circuit.
import email.utils
import os
import random
import socket
import socketserver
import sys
import threading
import time

log_path = sys.argv[1]
args = sys.argv[2:]
control = None
if args[:1] == ["--control"]:
    control = (float(args[1]), float(args[2]))
    args = args[3:]
circuit = "1"
if args[:1] == ["--no-circuit"]:
    circuit = "0"
    args = args[1:]
behaviour = dict(a.split("=", 1) for a in args)
log_lock = threading.Lock()


def recv_n(sock, n):
    buf = b""
    while len(buf) < n:
        got = sock.recv(n - len(buf))
        if not got:
            raise EOFError
        buf += got
    return buf


class Socks(socketserver.BaseRequestHandler):
    def handle(self):
        s = self.request
        s.settimeout(30)
        try:
            ver, n = recv_n(s, 2)
            methods = recv_n(s, n)
            user = "-"
            if 2 in methods:
                s.sendall(b"\x05\x02")
                recv_n(s, 1)
                user = recv_n(s, recv_n(s, 1)[0]).decode()
                recv_n(s, recv_n(s, 1)[0])
                s.sendall(b"\x01\x00")
            else:
                s.sendall(b"\x05\x00")
            ver, cmd, _, atyp = recv_n(s, 4)
            if atyp != 3:
                s.sendall(b"\x05\x08\x00\x01" + bytes(6))
                return
            host = recv_n(s, recv_n(s, 1)[0]).decode()
            port = int.from_bytes(recv_n(s, 2), "big")
            with log_lock, open(log_path, "a") as f:
                f.write(f"{host} {port} {user}\n")
            b = behaviour.get(host)
            if b is None:
                s.sendall(b"\x05\x04\x00\x01" + bytes(6))
                return
            if b == "refuse":
                s.sendall(b"\x05\x05\x00\x01" + bytes(6))
                return
            s.sendall(b"\x05\x00\x00\x01" + bytes(6))
            if b == "close":
                return
            req = b""
            while b"\r\n\r\n" not in req:
                got = s.recv(4096)
                if not got:
                    return
                req += got
            if b == "garbage":
                s.sendall(os.urandom(4096))
                return
            if b == "huge":
                s.sendall(b"HTTP/1.1 200 OK\r\n")
                for _ in range(64):
                    s.sendall(b"X-Filler: " + b"a" * 1000 + b"\r\n")
                return
            head = "HTTP/1.1 200 OK\r\nServer: fake\r\nConnection: close\r\n"
            if b == "baddates":
                junk = "".join(random.choice("0123456789 :,-+ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
                               for _ in range(random.randint(0, 40)))
                head += "Date: " + junk + "\r\n"
            elif b == "baddate":
                head += "Date: Sunday, 06-Nov-94 08:49:37 GMT\r\n"
            elif b != "nodate":
                head += "Date: " + email.utils.formatdate(time.time() + float(b), usegmt=True) + "\r\n"
            s.sendall((head + "\r\n").encode())
        except (EOFError, OSError):
            pass


def tor_time(t):
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t))


class Control(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            line = line.decode().strip()
            if line.startswith("AUTHENTICATE"):
                self.wfile.write(b"250 OK\r\n")
            elif line.startswith("GETINFO "):
                now = time.time()
                known = {"consensus/valid-after": tor_time(now + control[0]),
                         "consensus/valid-until": tor_time(now + control[1]),
                         "status/circuit-established": circuit}
                keys = line.split()[1:]
                bad = [k for k in keys if k not in known]
                if bad:
                    self.wfile.write(f'552 Unrecognized key "{bad[0]}"\r\n'.encode())
                    continue
                self.wfile.write("".join(f"250-{k}={known[k]}\r\n" for k in keys).encode() + b"250 OK\r\n")
            elif line == "QUIT":
                self.wfile.write(b"250 closing connection\r\n")
                return
            else:
                self.wfile.write(b"510 Unrecognized command\r\n")


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


servers = [Server(("127.0.0.1", 0), Socks)]
if control:
    servers.append(Server(("127.0.0.1", 0), Control))
for srv in servers:
    print("PORT", srv.server_address[1], flush=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
# Stops by itself: tests finish in seconds.
time.sleep(600)
