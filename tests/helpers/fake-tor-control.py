#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A fake Tor control port on 127.0.0.1, for the control-port filter's tests.

Usage: fake-tor-control.py LOG COOKIE_FILE

Writes a 32-byte cookie to COOKIE_FILE, prints "PORT <n>" once it listens,
and logs every command it receives to LOG (one line each, as received).
It needs AUTHENTICATE with the cookie in hex before anything else.  It
answers GETINFO for a few keys, including ones the filter must never let
through (address, config-file); SIGNAL with 250 OK; and after SETEVENTS it
sends a burst of events, some of which the filter must clean or drop:
  CIRC with a path of relays; STREAM events of the asker (SOURCE_ADDR
  127.0.0.1) and of someone else (10.152.152.10); STATUS_CLIENT BOOTSTRAP
  with address arguments; STATUS_SERVER EXTERNAL_ADDRESS; a multi-line NS
  event; last, CIRC CLOSED of another circuit.  SIGNAL, once SIGNAL events
  are asked for, answers and sends the event in one write.  For the circuit
  display: circuit-status (circuit 7, which the asker's stream rides, and
  9, which it does not; multi-line, as Tor answers it), ns/id of a relay on
  each, ip-to-country of their addresses.
"""
import os
import socket
import sys
import threading

ANSWERS = {
    "version": "0.4.9.99 (fake)",
    "status/circuit-established": "1",
    "consensus/valid-after": "2026-11-30 01:00:00",
    "address": "198.51.100.7",
    "config-file": "/etc/tor/torrc",
    "net/listeners/socks": '"10.152.152.10:9150" "127.0.0.1:9050"',
    "circuit-status": "7 BUILT $AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA~guard1,"
    "$BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB~middle2,$CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC~exit3 "
    "BUILD_FLAGS=NEED_CAPACITY PURPOSE=GENERAL SOCKS_USERNAME=\"example.org\" SOCKS_PASSWORD=\"tab1\"\n"
    "9 BUILT $AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA~guard1,"
    "$DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD~middle4,$EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEE~exit5 "
    "BUILD_FLAGS=NEED_CAPACITY PURPOSE=GENERAL SOCKS_USERNAME=\"secret-gateway-user\"",
    "ns/id/CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC": "r exit3 zMzM 2026-11-30 01:00:00 203.0.113.3 443 0\n"
    "a [2001:db8::3]:443\ns Exit Fast Running Valid\nw Bandwidth=100",
    "ns/id/EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEE": "r exit5 7u7u 2026-11-30 01:00:00 203.0.113.5 443 0\n"
    "s Exit Fast Running Valid",
    "ip-to-country/203.0.113.3": "de",
    "ip-to-country/2001:db8::3": "de",
    "ip-to-country/203.0.113.5": "nl",
}

EVENTS = [
    "650 CIRC 7 BUILT $AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA~guard1,$BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB~middle2,"
    "$CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC~exit3 BUILD_FLAGS=NEED_CAPACITY PURPOSE=GENERAL "
    "TIME_CREATED=2026-11-30T01:00:00.000000",
    "650 STREAM 21 NEW 0 example.org:80 SOURCE_ADDR=127.0.0.1:40000 PURPOSE=USER",
    "650 STREAM 22 NEW 0 secret-gateway-target.example:443 SOURCE_ADDR=10.152.152.10:50000 PURPOSE=USER",
    "650 STREAM 21 SUCCEEDED 7 example.org:80",
    "650 STREAM 22 SUCCEEDED 7 secret-gateway-target.example:443",
    '650 STATUS_CLIENT NOTICE BOOTSTRAP PROGRESS=100 TAG=done SUMMARY="Done" HOST=guard1 HOSTADDR=192.0.2.1:443',
    "650 STATUS_SERVER NOTICE EXTERNAL_ADDRESS ADDRESS=198.51.100.7 METHOD=DIRSERV",
    "650+NS",
    "r guard1 AAAA 2026-11-30 01:00:00 192.0.2.1 443 0",
    ".",
    "650 OK",
    "650 STREAM 21 CLOSED 7 example.org:80 REASON=DONE",
    "650 CIRC 9 CLOSED $AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA~guard1 BUILD_FLAGS=NEED_CAPACITY PURPOSE=GENERAL "
    "REASON=FINISHED",
]


def serve(conn, log, cookie):
    f = conn.makefile("rwb", buffering=0)
    authed = False
    subscribed = set()

    def send(*lines):
        f.write(b"".join(l.encode() + b"\r\n" for l in lines))

    for raw in f:
        line = raw.decode(errors="replace").rstrip("\r\n")
        with open(log, "a") as lf:
            lf.write(line + "\n")
        words = line.split()
        if not words:
            continue
        cmd = words[0].upper()
        if cmd == "AUTHENTICATE":
            if len(words) == 2 and words[1] == cookie.hex():
                authed = True
                send("250 OK")
            else:
                send("515 Authentication failed: Wrong length on authentication cookie.")
                return
        elif not authed:
            send("514 Authentication required.")
            return
        elif cmd == "GETINFO":
            out = []
            for k in words[1:]:
                if k not in ANSWERS:
                    send(f'552 Unrecognized key "{k}"')
                    break
                v = ANSWERS[k]
                # Tor's form for a value of several lines: 250+key= ... "."
                out += [f"250+{k}=", *v.split("\n"), "."] if "\n" in v else [f"250-{k}={v}"]
            else:
                send(*out, "250 OK")
        elif cmd == "SIGNAL":
            # The event in the same write as the reply, as a Tor with
            # network sends it for NEWNYM.
            if "SIGNAL" in subscribed and len(words) == 2:
                send("250 OK", f"650 SIGNAL {words[1]}")
            else:
                send("250 OK")
        elif cmd == "SETEVENTS":
            subscribed = {w.upper() for w in words[1:]}
            send("250 OK")
            if len(words) > 1:
                send(*EVENTS)
        elif cmd == "QUIT":
            send("250 closing connection")
            return
        else:
            send("250 OK")  # a real Tor would obey: the filter must not let it come here


def main():
    log, cookie_file = sys.argv[1], sys.argv[2]
    cookie = os.urandom(32)
    with open(cookie_file, "wb") as c:
        c.write(cookie)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    print(f"PORT {s.getsockname()[1]}", flush=True)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn, log, cookie), daemon=True).start()


if __name__ == "__main__":
    main()
