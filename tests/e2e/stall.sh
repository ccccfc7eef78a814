#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A stalled appliance (issue #14): the qemu of a layer step is stopped with
# SIGSTOP, as a TCG guest in soft lockups looks from outside (nothing
# printed, nothing written).  With --stall-timeout 30 the watchdog stops
# it, the build warns why and tries once more with a fresh appliance, and
# the layer is built.  Then the fault that is not a stall: qemu killed.
. "$WB_SOURCE_ROOT/tests/lib.sh"
. "$WB_SOURCE_ROOT/tests/e2e/images.sh"
need_appliance

T=$(mktemp -d)
build_pid=
cleanup() {
        [ -n "$build_pid" ] && kill -INT "$build_pid" 2>/dev/null && wait "$build_pid" 2>/dev/null
        rm -rf "$T"
}
trap cleanup EXIT

# The PID of the first qemu a build (its parent) starts, within 120 s.
first_qemu() {
        local q
        for _ in $(seq 1 600); do
                q=$(pgrep -P "$1" -f qemu-system | head -n 1)
                [ -n "$q" ] && { echo "$q"; return; }
                kill -0 "$1" 2>/dev/null || return
                sleep 0.2
        done
}

ensure_images || { fail "the images were built"; diag_file "$WB_BUILD_ROOT/e2e-build.log" 20; done_testing; exit; }

# One overlay file of the Workstation changed: only its files step runs.
mkdir "$T/data"
cp -a "$WB_SOURCE_ROOT/recipes" "$WB_SOURCE_ROOT/keys" "$WB_SOURCE_ROOT/overlays" "$T/data/"
mkdir -p "$T/data/overlays/whonix-workstation/etc"
echo "stall test $$ $(date +%s%N)" >"$T/data/overlays/whonix-workstation/etc/wb-stall-test"

exec 9>"$WB_BUILD_ROOT/e2e-build.lock"
flock 9

start=$(date +%s)
"$WHONIX_BUILD" --flavor workstation --until customize --stall-timeout 30 --cache "$WB_TEST_CACHE" \
        --data-dir "$T/data" --output "$T/out" >"$T/log" 2>&1 &
build_pid=$!

# The first qemu the build starts: stop it.
qemu=$(first_qemu "$build_pid")
check "the build started an appliance (qemu pid ${qemu:-none})" test -n "$qemu"
[ -n "$qemu" ] && kill -STOP "$qemu"
stopped_at=$(date +%s)

wait "$build_pid"
rc=$?
build_pid=
end=$(date +%s)
grep -E '^stage|warning' "$T/log" | sed 's/^/# /'
check "the build succeeds (rc=$rc)" test "$rc" -eq 0
check "it warns that the appliance made no progress for 30 s and tries a fresh one" \
        grep -Eq "warning: workstation: .*the appliance made no progress for 30 s \(no console output, no disk writes\) and was stopped.*; trying again with a fresh appliance \(attempt 2 of 2\)" "$T/log"
check "the Workstation's layer is built" \
        grep -Eq '^stage customize +[0-9.]+ s  built layer [0-9a-f]+ \(workstation:' "$T/log"
check "the stopped qemu is gone" bash -c "! kill -0 $qemu 2>/dev/null || grep -q '^State:.*[ZX]' /proc/$qemu/status"
diag "stopped at +$((stopped_at - start)) s, build ended at +$((end - start)) s"
check "the stall was noticed within the limit plus 30 s (build ended $((end - stopped_at)) s after the stop)" \
        test $((end - stopped_at)) -lt 240

# A fault, not a stall: the appliance's qemu killed in the middle of the
# step.  The build fails with a clear message at once (no retry: a killed
# qemu is not a stall), leaves no half-made layer, no temporary file and no
# process, and the next build succeeds from the cache.
echo "kill test $$ $(date +%s%N)" >"$T/data/overlays/whonix-workstation/etc/wb-stall-test"
note_layers
"$WHONIX_BUILD" --flavor workstation --until customize --cache "$WB_TEST_CACHE" \
        --data-dir "$T/data" --output "$T/out" >"$T/log2" 2>&1 &
build_pid=$!
qemu=$(first_qemu "$build_pid")
check "the second build started an appliance (qemu pid ${qemu:-none})" test -n "$qemu"
sleep 5
[ -n "$qemu" ] && kill -KILL "$qemu"
killed_at=$(date +%s)
wait "$build_pid"
rc=$?
build_pid=
grep -E '^stage|warning|error' "$T/log2" | sed 's/^/# /' | cut -c1-300
check "a build whose qemu is killed fails (rc=$rc)" test "$rc" -eq 1
check "... within 60 s of the kill ($(( $(date +%s) - killed_at )) s)" test $(( $(date +%s) - killed_at )) -lt 60
check "... with a message that names the layer" grep -q "error: .*workstation" "$T/log2"
check "... without retrying (a killed qemu is not a stall)" bash -c "! grep -q 'trying again with a fresh appliance' '$T/log2'"
check_no_leftovers "... and "
"$WHONIX_BUILD" --flavor workstation --until customize --cache "$WB_TEST_CACHE" \
        --data-dir "$T/data" --output "$T/out" >"$T/log3" 2>&1
rc=$?
check "the next build succeeds (rc=$rc) and builds the layer" \
        bash -c "[ $rc -eq 0 ] && grep -Eq '^stage customize +[0-9.]+ s  built layer [0-9a-f]+ \(workstation:' '$T/log3'"

done_testing
