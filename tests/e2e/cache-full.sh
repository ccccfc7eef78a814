#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The cache filesystem fills up during finalize (issue #14, a fault test).
#
# By default qemu pauses a guest whose disk write fails with ENOSPC and waits
# for room: the build would hang until the stall watchdog, then retry into
# the same wall.  Here the build runs in a mount namespace of its own where
# the cache's final/ is a 96 MiB tmpfs, and finalizes a Gateway whose overlay
# has one new file (so that its final disk is new): the build must stop
# within a minute or two of the disk filling, say that the filesystem is
# full and which file's, not retry, and leave no half-written final disk, no
# temporary file and no qemu.  Then the same build, with room, succeeds and
# reuses the layer it made before the fault.
. "$WB_SOURCE_ROOT/tests/lib.sh"
. "$WB_SOURCE_ROOT/tests/e2e/images.sh"
need_appliance
need_cmd unshare
[ "$(id -u)" -eq 0 ] || skip_all "mounting a small filesystem over the cache's final/ needs root"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

ensure_images || { fail "the images were built"; diag_file "$WB_BUILD_ROOT/e2e-build.log" 20; done_testing; exit; }

mkdir "$T/data"
cp -a "$WB_SOURCE_ROOT/recipes" "$WB_SOURCE_ROOT/keys" "$WB_SOURCE_ROOT/overlays" "$T/data/"
echo "cache-full $$ $(date +%s%N)" >"$T/data/overlays/whonix-gateway/etc/wb-cache-full"

exec 9>"$WB_BUILD_ROOT/e2e-build.lock"
flock 9

ls "$WB_TEST_CACHE/final" >"$T/final-before"
start=$(date +%s)
# The namespace's own mount: the host's cache is untouched, and the tmpfs
# goes away with the namespace.  What the build left in it is listed first.
unshare -m --propagation private bash -c '
        mount -t tmpfs -o size=96m wb-cache-full "$1/final" || exit 99
        "$2" --flavor gateway --until finalize --cache "$1" --data-dir "$3" --output "$4/out1" >"$4/run1" 2>&1
        rc=$?
        ls -a "$1/final" | grep -v "^\.\.\?$" >"$4/left"
        exit $rc' wb-cache-full "$WB_TEST_CACHE" "$WHONIX_BUILD" "$T/data" "$T"
rc=$?
took=$(( $(date +%s) - start ))
grep -E '^stage|warning|error' "$T/run1" | sed 's/^/# /' | cut -c1-600
check "the build whose cache fills up during finalize fails (rc=$rc)" test "$rc" -eq 1
check "... in less than 5 minutes, not at the stall limit ($took s)" test "$took" -lt 300
check "... after building the Gateway's new layer" \
        grep -Eq '^stage customize +[0-9.]+ s  built layer [0-9a-f]+ \(gateway' "$T/run1"
check "... saying that the filesystem is full, and which" \
        grep -Eq "error: finalize of 'gateway': .*the filesystem that holds '$WB_TEST_CACHE/final/[^']+' is full \(a write of [^;]+ failed; [0-9]+ bytes free now\)" "$T/run1"
check "... without retrying (a full filesystem stays full)" bash -c "! grep -q 'trying again' '$T/run1'"
check "... and no half-written final disk or temporary file in final/ ($(tr '\n' ' ' <"$T/left"))" \
        test ! -s "$T/left"
check "... and no qemu of ours left" bash -c "! pgrep -f '[q]emu-system.*$WB_TEST_CACHE' >/dev/null"
ls "$WB_TEST_CACHE/final" >"$T/final-after"
check "the host's cache was not touched by the namespace's tmpfs" cmp -s "$T/final-before" "$T/final-after"

"$WHONIX_BUILD" --flavor gateway --until finalize --cache "$WB_TEST_CACHE" --data-dir "$T/data" \
        --output "$T/out2" >"$T/run2" 2>&1
rc=$?
grep '^stage' "$T/run2" | sed 's/^/# /'
check "the same build with room succeeds (rc=$rc)" test "$rc" -eq 0
check "... reusing the layer the failed build made" \
        bash -c "! grep -Eq '^stage customize +[0-9.]+ s  built' '$T/run2'"
check "... and finalizing the Gateway" grep -Eq '^stage finalize +[0-9.]+ s  built .*gateway' "$T/run2"

done_testing
