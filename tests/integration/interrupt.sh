#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Ctrl-C during the bootstrap and during the appliance's build: whonix-build
# stops the appliance (or supermin) within 2 s, removes its temporary files
# (supermin's in $TMPDIR too), leaves nothing under --output and exits 130.
# SIGINT and SIGTERM during a fetch from a server that never answers end it
# within 2 s.
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
check "it stopped within 2 s (took $took s)" test "$took" -le 2
check "it says it was interrupted" grep -q 'interrupted' "$T/log"
check "no temporary base disk is left" bash -c "! ls -A '$T'/cache/base 2>/dev/null | grep -q ."
check "nothing under --output" test ! -e "$T/out"
check "no appliance is left running" bash -c "! pgrep -f '[q]emu-system.*$T/cache' >/dev/null"

# Ctrl-C while supermin builds the appliance: supermin is killed with the
# build, and its scratch directory ("supermin.*.tmpdir", which it makes in
# $TMPDIR) goes with ours.
mkdir -p "$T/tmpdir"
TMPDIR="$T/tmpdir" "$WHONIX_BUILD" --flavor gateway --until appliance --cache "$T/cache-app" --output "$T/out" \
        >"$T/app.log" 2>&1 &
pid=$!
for _ in $(seq 600); do
        pgrep -f "supermin --build.*$T/cache-app" >/dev/null && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
done
check "supermin is building the appliance" bash -c "pgrep -f 'supermin --build.*$T/cache-app' >/dev/null"
sleep 2
kill -INT "$pid"
start=$(date +%s)
wait "$pid"
rc=$?
pid=
took=$(( $(date +%s) - start ))
check "Ctrl-C during the appliance stage: exit 130 (got $rc) within 2 s (took $took s)" \
        test "$rc" -eq 130 -a "$took" -le 2
check "... no supermin left running" bash -c "! pgrep -f '[s]upermin --build.*$T/cache-app' >/dev/null"
check "... nothing left in \$TMPDIR (found: $(ls -A "$T/tmpdir" | head -n 3 | tr '\n' ' '))" \
        test -z "$(ls -A "$T/tmpdir")"
check "... no temporary appliance in the cache" test -z "$(ls -A "$T/cache-app/appliance" 2>/dev/null)"

# A full $TMPDIR (a filled 1 MiB tmpfs, in a mount namespace of our own):
# the build stops at once with a message that names $TMPDIR and the cause,
# leaves nothing there, and the same build with room succeeds.
if unshare -rm true 2>/dev/null; then
        mkdir -p "$T/full"
        unshare -rm sh -c 'mount -t tmpfs -o size=1m tmpfs "$1" && { dd if=/dev/zero of="$1/fill" bs=4k 2>/dev/null; true; } &&
                TMPDIR="$1" "$2" --until fetch --cache "$3" --output "$4"; rc=$?; ls -A "$1" >"$5"; exit $rc' \
                sh "$T/full" "$WHONIX_BUILD" "$T/cache-full" "$T/out" "$T/full.left" >"$T/full.log" 2>&1
        rc=$?
        diag_file "$T/full.log" 2
        check "a full \$TMPDIR: exit 1 (got $rc)" test "$rc" -eq 1
        check "... naming the cause and what to do" \
                bash -c "grep -q 'No space left on device' '$T/full.log' && grep -q 'set TMPDIR to a filesystem with free space' '$T/full.log'"
        check "... and leaving nothing in \$TMPDIR ($(grep -v '^fill$' "$T/full.left" | head -n 3 | tr '\n' ' '))" \
                test -z "$(grep -v '^fill$' "$T/full.left")"
        "$WHONIX_BUILD" --until fetch --cache "$T/cache-full" --output "$T/out" >"$T/full2.log" 2>&1
        check "... and the same build with room succeeds (rc=$?)" test $? -eq 0
else
        skip_one "unshare -rm is not allowed here: the full-\$TMPDIR checks did not run"
fi

# A mirror that accepts the connection and never answers (on loopback):
# SIGINT and SIGTERM during the fetch end the build at once, not at the
# next curl timeout.
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
' >"$T/port" 2>/dev/null &
hang=$!
for _ in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
port=$(cat "$T/port")
for sig in INT TERM; do
        want=130
        [ "$sig" = TERM ] && want=143
        "$WHONIX_BUILD" --until fetch --mirror "http://127.0.0.1:$port/debian" --cache "$T/cache-$sig" \
                --output "$T/out" >"$T/fetch-$sig.log" 2>&1 &
        pid=$!
        sleep 3
        kill -"$sig" "$pid"
        start=$(date +%s.%N)
        wait "$pid"
        rc=$?
        pid=
        took=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
        check "SIG$sig during a fetch from a silent server: exit $want (got $rc) within 2 s (took $took s)" \
                awk -v rc="$rc" -v want="$want" -v t="$took" 'BEGIN { exit !(rc == want && t <= 2) }'
done
kill "$hang" 2>/dev/null
wait "$hang" 2>/dev/null

done_testing
