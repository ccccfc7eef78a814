#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Ctrl-C during the bootstrap: whonix-build must stop the appliance, remove
# its temporary files, leave nothing under --output and exit 130.
. "$WB_SOURCE_ROOT/tests/lib.sh"
need_appliance

T=$(mktemp -d)
pid=
cleanup() {
        [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
        rm -rf "$T"
}
trap cleanup EXIT

# A cache of its own (so the bootstrap really runs), with the shared cache's
# appliance and package disk linked in to keep the test short.
mkdir -p "$T/cache"
for f in appliance debs.img; do
        [ -e "$WB_TEST_CACHE/$f" ] && ln -s "$WB_TEST_CACHE/$f" "$T/cache/$f"
done

"$WHONIX_BUILD" --flavor gateway --until bootstrap --cache "$T/cache" --output "$T/out" >"$T/log" 2>&1 &
pid=$!
# Wait until the appliance is running the bootstrap (a temporary base exists).
for _ in $(seq 600); do
        ls "$T"/cache/base/.*.tmp >/dev/null 2>&1 && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.5
done
check "the bootstrap started (a temporary base disk exists)" bash -c "ls '$T'/cache/base/.*.tmp >/dev/null 2>&1"
sleep 5
check "the appliance is running before the signal" bash -c "pgrep -f '[q]emu-system.*$T/cache' >/dev/null"
kill -INT "$pid"
start=$(date +%s)
wait "$pid"
rc=$?
pid=
took=$(( $(date +%s) - start ))
diag_file "$T/log" 5
check "exit status 130 after SIGINT (got $rc)" test "$rc" -eq 130
check "it stopped within 60 s (took $took s)" test "$took" -le 60
check "it says it was interrupted" grep -q 'interrupted' "$T/log"
check "no temporary base disk is left" bash -c "! ls -A '$T'/cache/base 2>/dev/null | grep -q ."
check "nothing under --output" test ! -e "$T/out"
check "no appliance is left running" bash -c "! pgrep -f '[q]emu-system.*$T/cache' >/dev/null"

done_testing
