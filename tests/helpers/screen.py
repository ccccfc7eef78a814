#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# What a VM's screen shows, for the desktop test (tests/e2e/desktop.sh):
# asks qemu for the screen over its QMP socket (screendump, PPM), keeps it
# as PNG, and describes it in one line:
#   SCREEN width=W height=H colours=N busy=P panel=yes|no panel_edge=bottom|top|- PNG=FILE
# busy: the share of pixels (per cent) that differ from the most common
# colour (0: a blank screen, one colour); panel: one edge (bottom or top
# strip of 20..60 rows) is mostly one colour that differs from the middle of
# the screen, and holds a few other colours (icons, a clock).
# With WAIT (seconds), it looks again every 5 s until the panel shows or
# WAIT has passed (a desktop under TCG on a busy machine paints late), and
# says how long it waited (waited=S).
# Usage: screen.py QMP_SOCKET OUT.png [WAIT]
import json
import os
import socket
import struct
import sys
import tempfile
import time
import zlib
from collections import Counter


def qmp_screendump(sock_path, ppm):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(60)
    s.connect(sock_path)
    f = s.makefile("rwb", buffering=0)

    def reply():
        while True:
            msg = json.loads(f.readline())
            if "return" in msg or "error" in msg:
                return msg

    json.loads(f.readline())  # the greeting
    f.write(b'{"execute": "qmp_capabilities"}\n')
    reply()
    f.write(json.dumps({"execute": "screendump", "arguments": {"filename": ppm}}).encode() + b"\n")
    msg = reply()
    s.close()
    if "error" in msg:
        raise RuntimeError(msg["error"].get("desc", "screendump failed"))


def read_ppm(path):
    data = open(path, "rb").read()
    # "P6\n<w> <h>\n<max>\n" then RGB bytes.
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    pos += 1
    if fields[0] != b"P6" or fields[3] != b"255":
        raise ValueError("not an 8-bit P6 PPM")
    w, h = int(fields[1]), int(fields[2])
    return w, h, data[pos:pos + w * h * 3]


def write_png(path, w, h, rgb):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xffffffff)

    rows = b"".join(b"\x00" + rgb[y * w * 3:(y + 1) * w * 3] for y in range(h))
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


def strip_colours(w, rgb, y0, y1):
    c = Counter()
    for y in range(y0, y1):
        row = rgb[y * w * 3:(y + 1) * w * 3]
        for x in range(0, w * 3, 6):  # every other pixel is plenty
            c[row[x:x + 3]] += 1
    return c


def look(sock_path, png):
    """One screendump, kept as PNG: (description, panel shown) or (None, error)."""
    fd, ppm = tempfile.mkstemp(suffix=".ppm")
    os.close(fd)
    try:
        for attempt in range(3):
            try:
                qmp_screendump(sock_path, ppm)
                break
            except (OSError, RuntimeError) as e:
                if attempt == 2:
                    return None, f"FAIL screendump: {e}"
                time.sleep(2)
        w, h, rgb = read_ppm(ppm)
    finally:
        os.unlink(ppm)
    write_png(png, w, h, rgb)

    everything = strip_colours(w, rgb, 0, h)
    total = sum(everything.values())
    top_colour, top_n = everything.most_common(1)[0]
    busy = 100.0 * (total - top_n) / total
    middle = strip_colours(w, rgb, h * 2 // 5, h * 3 // 5).most_common(1)[0][0]
    panel, edge = "no", "-"
    for name, (y0, y1) in (("bottom", (h - 60, h)), ("top", (0, 60))):
        # The strip's own rows: find the band of rows whose main colour is
        # not the middle's.
        rows = [y for y in range(y0, y1)
                if strip_colours(w, rgb, y, y + 1).most_common(1)[0][0] != middle]
        if not 20 <= len(rows) <= 60:
            continue
        band = strip_colours(w, rgb, rows[0], rows[-1] + 1)
        band_total = sum(band.values())
        main_n = band.most_common(1)[0][1]
        if main_n / band_total >= 0.5 and len(band) >= 5:
            panel, edge = "yes", name
            break
    return (f"width={w} height={h} colours={len(everything)} busy={busy:.1f} panel={panel} "
            f"panel_edge={edge} PNG={png}"), panel == "yes"


def main():
    sock_path, png = sys.argv[1], sys.argv[2]
    wait = float(sys.argv[3]) if len(sys.argv) > 3 else 0
    start = time.monotonic()
    while True:
        what, shown = look(sock_path, png)
        if what is None:
            print(shown, flush=True)
            return 1
        waited = time.monotonic() - start
        if shown or waited >= wait:
            break
        time.sleep(5)
    print(f"SCREEN {what} waited={waited:.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
