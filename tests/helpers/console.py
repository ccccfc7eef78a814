#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Use a VM's serial console as a person would: connect to qemu's console
# socket, wait for the boot to finish (WAIT_FOR, a line the test's probe
# prints), press Enter, read the shell prompt, type each command, and read
# its answer.  Everything the console shows goes to LOG as well.
#
#   console.py SOCKET LOG TIMEOUT WAIT_FOR PROMPT_REGEX -- COMMAND...
#
# For each COMMAND it prints one line "CMD <i> rc=<exit status> out=<output
# as JSON>"; "PROMPT <json>" once it has seen the first prompt; "FAIL
# <reason>" and exit 1 if the console never gets that far.  A command is
# typed as "COMMAND; echo WBC-<i>:$?" so that its end and exit status can be
# found in what the terminal echoes back; the special command "@logout" types
# "exit" and waits for the next prompt (the console logs the user in again).
# A program that asks questions is answered as a person answers: a command
# may be followed by "@expect REGEX" (wait until the program has printed
# something that matches) and "@type TEXT" (type TEXT and Enter) items, in
# turn, while it runs; they print no line of their own.
import json
import os
import re
import socket
import sys
import time

sock_path, log_path, timeout, wait_for, prompt_re = sys.argv[1:6]
assert sys.argv[6] == "--"
commands = sys.argv[7:]
deadline = time.time() + float(timeout)
prompt = re.compile(prompt_re.encode())
log = open(log_path, "ab", buffering=0)

s = None
while s is None:
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(sock_path)
    except OSError:
        s = None
        if time.time() > deadline:
            print("FAIL cannot connect to the console socket", flush=True)
            sys.exit(1)
        time.sleep(0.2)

raw = b""
buf = b""
# Terminal control sequences (bash's bracketed-paste switch, colours) are
# not part of what a person reads.
ansi = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]")


def read_until(pattern, start):
    """Read until pattern matches buf[start:]; return the match or None."""
    global buf, raw
    while True:
        m = pattern.search(buf, start)
        if m:
            return m
        left = deadline - time.time()
        if left <= 0:
            return None
        s.settimeout(min(left, 5))
        try:
            data = s.recv(4096)
        except socket.timeout:
            continue
        if not data:
            return None
        log.write(data)
        raw += data
        buf = ansi.sub(b"", raw)


def type_slowly(text):
    # A person types; the console reads at 115200 baud.
    for ch in text.encode():
        s.sendall(bytes([ch]))
        time.sleep(0.01)


if read_until(re.compile(re.escape(wait_for.encode())), 0) is None:
    print("FAIL the boot did not finish (no %r on the console)" % wait_for, flush=True)
    sys.exit(1)
pos = len(buf)
type_slowly("\r")
m = read_until(prompt, pos)
if m is None:
    print("FAIL no shell prompt after Enter", flush=True)
    sys.exit(1)
print("PROMPT " + json.dumps(m.group(0).decode(errors="replace")), flush=True)
pos = m.end()

i = 0
while i < len(commands):
    cmd = commands[i]
    i += 1
    n = i  # the command's number: its CMD line and its marker
    if cmd.startswith("@expect ") or cmd.startswith("@type "):
        print(f"FAIL {cmd!r} does not follow a command", flush=True)
        sys.exit(1)
    if cmd == "@logout":
        type_slowly("exit\r")
        m = read_until(prompt, pos)
        if m is None:
            print(f"CMD {n} rc=-1 out={json.dumps('no prompt after exit')}", flush=True)
            sys.exit(1)
        print(f"CMD {n} rc=0 out={json.dumps(buf[pos:m.end()].decode(errors='replace'))}", flush=True)
        pos = m.end()
        continue
    type_slowly(f"{cmd}; echo WBC-{n}:$?\r")
    # The program's questions and their answers.
    at = pos
    while i < len(commands) and (commands[i].startswith("@expect ") or commands[i].startswith("@type ")):
        item = commands[i]
        i += 1
        if item.startswith("@type "):
            type_slowly(item[len("@type "):] + "\r")
            continue
        m = read_until(re.compile(item[len("@expect "):].encode()), at)
        if m is None:
            print(f"CMD {n} rc=-1 out={json.dumps('never asked: ' + item + ': ' + buf[pos:].decode(errors='replace')[-300:])}",
                  flush=True)
            sys.exit(1)
        at = m.end()
    # The answer ends with the marker followed by a number: the echo of
    # what was typed shows "$?" instead.
    m = read_until(re.compile(rb"WBC-%d:(\d+)\r?\n" % n), pos)
    if m is None:
        print(f"CMD {n} rc=-1 out={json.dumps('no answer: ' + buf[pos:].decode(errors='replace')[-300:])}", flush=True)
        sys.exit(1)
    out = buf[pos:m.start()].decode(errors="replace").replace("\r", "")
    # Drop the echo of the typed line: everything up to the end of the
    # line where the echo of its marker ("WBC-<i>:$?") ends.  A long line
    # wraps on the terminal and is redrawn (a kernel message in the middle),
    # so "the first line" is not always all of it.
    echo = out.find(f"WBC-{n}:$?")
    if echo >= 0:
        nl = out.find("\n", echo)
        out = out[nl + 1:] if nl >= 0 else ""
    else:
        out = out.split("\n", 1)[1] if "\n" in out else ""
    print(f"CMD {n} rc={int(m.group(1))} out={json.dumps(out)}", flush=True)
    pm = read_until(prompt, m.end())
    pos = pm.end() if pm else m.end()
