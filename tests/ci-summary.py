#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# CI's verdict from meson's test log: "N passed, N failed" (the last line),
# where a test named in the guarantees list (tests/guarantees.txt) that
# skipped, whole or in one of its TAP checks ("ok N # SKIP"), is a failure
# with its reason printed.  Exit status 0 only if nothing failed.
#
#   ci-summary.py TESTLOG.JSON GUARANTEES.TXT
import json
import re
import sys


def main():
    log_path, list_path = sys.argv[1], sys.argv[2]
    guarantees = set()
    with open(list_path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                guarantees.add(line)
    passed = failed = skipped = 0
    seen = set()
    problems = []
    with open(log_path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            t = json.loads(line)
            name = t.get("name", "")
            short = name.split(" / ")[-1]
            seen.add(short)
            result = t.get("result")
            out = t.get("stdout") or ""
            skip_lines = [l for l in out.splitlines()
                          if re.match(r"^(ok|not ok)\b.*#\s*SKIP\b", l, re.I) or re.match(r"^1\.\.0\s*#\s*SKIP", l, re.I)]
            if short in guarantees and (result == "SKIP" or skip_lines):
                why = skip_lines[0] if skip_lines else (out.strip().splitlines() or ["(no output)"])[-1]
                problems.append(f"{short}: proves a guarantee but skipped in CI: {why}")
                failed += 1
            elif result in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif result == "SKIP":
                skipped += 1
            else:
                failed += 1
    missing = sorted(guarantees - seen)
    for m in missing:
        problems.append(f"{m}: proves a guarantee but did not run")
        failed += 1
    for p in problems:
        print(f"ci: {p}")
    print(f"ci: {skipped} skipped (none of them a guarantee)")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
