#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# The other person on the desktop test's IRC server (tests/e2e/desktop.sh):
# joins CHANNEL, waits until WATCH joins it, asks the server who WATCH is
# (WHOIS: user name, host, real name), then asks WATCH's client everything
# a curious user can ask by CTCP (VERSION, TIME, PING, CLIENTINFO, USERINFO,
# SOURCE, FINGER) and offers it a DCC chat, and listens for answers for
# LISTEN seconds; meanwhile it notes what WATCH says in the channel.  One
# line per finding on stdout:
#   JOINED <nick!user@host>        WATCH joined CHANNEL
#   WHOIS <user> <host> <real name>
#   REPLY <raw line>               a NOTICE from WATCH (a CTCP answer)
#   SAID <text>                    WATCH's PRIVMSG to the channel or to us
#   DONE replies=<n>               after LISTEN seconds of listening
#   FAIL <reason>
# The requests go one every 8 seconds: slower than HexChat's own CTCP
# flood protection (5 in 30 s) notices, so that what answers or does not
# is the client's configuration.  With SOURCE, it connects from that
# address (the server's own, in the test: the server logs every other
# peer as a client through Tor).
# Usage: irc-watch.py HOST PORT NICK CHANNEL WATCH TIMEOUT LISTEN [SOURCE]
import socket
import sys
import time

host, port, nick, channel, watch, timeout, listen = sys.argv[1:8]
source = (sys.argv[8], 0) if len(sys.argv) > 8 else None
deadline = time.time() + float(timeout)


def say(line):
    print(line, flush=True)


s = None
while s is None:
    try:
        s = socket.create_connection((host, int(port)), timeout=5, source_address=source)
    except OSError:
        s = None
        if time.time() > deadline:
            say("FAIL cannot connect to the IRC server")
            sys.exit(1)
        time.sleep(1)
s.settimeout(1)


def send(line):
    s.sendall(line.encode() + b"\r\n")


send(f"NICK {nick}")
send(f"USER {nick} 0 * :whonix-build test watcher")
buf = b""
joined = False
listen_until = None
queue = []
next_send = 0
replies = 0
ctcp = "\x01"
while True:
    now = time.time()
    if queue and now >= next_send:
        send(queue.pop(0))
        next_send = now + 8
    if listen_until and now > listen_until and not queue:
        say(f"DONE replies={replies}")
        send("QUIT :done")
        break
    if not listen_until and now > deadline:
        say(f"FAIL {watch} did not join {channel}")
        sys.exit(1)
    try:
        data = s.recv(4096)
        if not data:
            say("FAIL the server closed the connection")
            sys.exit(1)
        buf += data
    except socket.timeout:
        continue
    while b"\n" in buf:
        raw, buf = buf.split(b"\n", 1)
        line = raw.rstrip(b"\r").decode("utf-8", "replace")
        words = line.split(" ")
        if words[0] == "PING":
            send("PONG " + " ".join(words[1:]))
            continue
        if len(words) > 1 and words[1] == "001":
            send(f"JOIN {channel}")
        prefix = words[0][1:] if words[0].startswith(":") else ""
        who = prefix.split("!")[0]
        if len(words) > 2 and words[1] == "JOIN" and who == watch and not joined:
            joined = True
            say(f"JOINED {prefix}")
            send(f"WHOIS {watch}")
            for q in ("VERSION", "TIME", "PING 12345", "CLIENTINFO", "USERINFO", "SOURCE", "FINGER"):
                queue.append(f"PRIVMSG {watch} :{ctcp}{q}{ctcp}")
            # A DCC chat offer to an address of the test network.
            queue.append(f"PRIVMSG {watch} :{ctcp}DCC CHAT chat 174260304 6000{ctcp}")
            listen_until = time.time() + 8 * len(queue) + float(listen)
        elif len(words) > 7 and words[1] == "311" and words[3] == watch:
            real = line.split(" :", 1)[1] if " :" in line else ""
            say(f"WHOIS {words[4]} {words[5]} {real}")
        elif len(words) > 2 and words[1] == "NOTICE" and who == watch:
            replies += 1
            say(f"REPLY {line}")
        elif len(words) > 3 and words[1] == "PRIVMSG" and who == watch:
            say(f"SAID {line.split(' :', 1)[1] if ' :' in line else ''}")
