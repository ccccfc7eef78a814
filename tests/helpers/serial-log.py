#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Stamp the lines of a VM's serial log (qemu "-serial file:LOG") with this
# host's clock as they appear: every new line of LOG goes to STAMPED as
# "<epoch> <line>", so that a test can compare a time the guest printed
# with the true time (to within the 50 ms this polls at).  Ends after
# 3600 s, or when killed.
#   serial-log.py LOG STAMPED
import os
import sys
import time

log_path, stamped_path = sys.argv[1:3]
deadline = time.time() + 3600
while not os.path.exists(log_path) and time.time() < deadline:
    time.sleep(0.05)
stamped = open(stamped_path, "a", buffering=1)
pending = b""
with open(log_path, "rb") as f:
    while time.time() < deadline:
        data = f.read(65536)
        if not data:
            time.sleep(0.05)
            continue
        now = time.time()
        pending += data
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            stamped.write("%.3f %s\n" % (now, line.decode(errors="replace").rstrip("\r")))
