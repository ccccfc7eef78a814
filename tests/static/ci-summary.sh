#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# CI's verdict (tests/ci-summary.py, called by .ci/run) on made-up meson
# logs: a skipped guarantee test fails CI, whole or in one check, and so
# does one that did not run; other skips pass; the last line is
# "N passed, N failed".  Also: every name in tests/guarantees.txt is a test
# meson knows.
. "$WB_SOURCE_ROOT/tests/lib.sh"

command -v python3 >/dev/null || skip_all "python3 is not installed"
sum=$WB_SOURCE_ROOT/tests/ci-summary.py
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

printf '# made up\nleak\nboot\n' >"$T/g"
entry() { # name result stdout
        python3 -c 'import json, sys; print(json.dumps({"name": "whonix-build:e2e / " + sys.argv[1], "result": sys.argv[2], "stdout": sys.argv[3]}))' "$@"
}
verdict() { # log: sets out and rc
        out=$(python3 "$sum" "$1" "$T/g")
        rc=$?
}
{ entry leak OK $'1..1\nok 1 - fine'; entry boot OK 'ok 1'; entry test-x SKIP '1..0 # SKIP no gpg'; } >"$T/ok.json"
verdict "$T/ok.json"
check "all guarantees ran: exit 0, last line '2 passed, 0 failed' (rc $rc)" \
        sh -c '[ "$1" -eq 0 ] && [ "$(printf "%s\n" "$2" | tail -n 1)" = "2 passed, 0 failed" ]' sh "$rc" "$out"
check "a skip that is not a guarantee's is counted, not failed" grep -q '1 skipped' <<<"$out"

{ entry leak SKIP '1..0 # SKIP needs root (network namespaces)'; entry boot OK 'ok 1'; } >"$T/skip.json"
verdict "$T/skip.json"
check "the leak test skipped: CI fails (rc $rc), '1 passed, 1 failed'" \
        sh -c '[ "$1" -ne 0 ] && [ "$(printf "%s\n" "$2" | tail -n 1)" = "1 passed, 1 failed" ]' sh "$rc" "$out"
check "and says which and why" grep -q 'leak: proves a guarantee but skipped in CI: 1..0 # SKIP needs root' <<<"$out"

{ entry leak OK $'1..2\nok 1 - a\nok 2 - b # SKIP tcpdump is not installed'; entry boot OK 'ok 1'; } >"$T/skip1.json"
verdict "$T/skip1.json"
check "one check of a guarantee test skipped: CI fails (rc $rc)" \
        sh -c '[ "$1" -ne 0 ] && printf "%s\n" "$2" | grep -q "leak: .*ok 2 - b # SKIP tcpdump"' sh "$rc" "$out"

entry leak OK 'ok 1' >"$T/missing.json"
verdict "$T/missing.json"
check "a guarantee test that did not run at all: CI fails (rc $rc)" \
        sh -c '[ "$1" -ne 0 ] && printf "%s\n" "$2" | grep -q "boot: proves a guarantee but did not run"' sh "$rc" "$out"

{ entry leak FAIL 'not ok 1'; entry boot OK 'ok 1'; } >"$T/fail.json"
verdict "$T/fail.json"
check "a failed test fails CI (rc $rc)" sh -c '[ "$1" -ne 0 ] && printf "%s\n" "$2" | tail -n 1 | grep -qx "1 passed, 1 failed"' sh "$rc" "$out"

# The real list names real tests.
known=$(grep -ohE "(\[|test\()'[a-z0-9-]+'," "$WB_SOURCE_ROOT/tests/meson.build" | sed "s/^\[//; s/^test(//; s/'//g; s/,//" | sort -u)
unknown=
while read -r name; do
        grep -qx "$name" <<<"$known" || unknown+=" $name"
done < <(sed 's/#.*//' "$WB_SOURCE_ROOT/tests/guarantees.txt" | awk 'NF { print $1 }')
check "every name in tests/guarantees.txt is a test in tests/meson.build${unknown:+ (unknown:$unknown)}" test -z "$unknown"
for name in kvm-images leak anonymity tornet-selftest connect reproduce static-nftables bad-signature appliance-disks; do
        check "the guarantees list names $name" grep -qx "$name" "$WB_SOURCE_ROOT/tests/guarantees.txt"
done

done_testing
