#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The stage cache, asserted on the build's stage lines (never on timing):
# with nothing changed a rebuild re-runs no stage; with one file of the
# Workstation's overlay changed only that flavor's files step (not its
# package step: no apt), its finalize and the export run again, and the
# Gateway comes out bit-identical.
. "$WB_SOURCE_ROOT/tests/lib.sh"
. "$WB_SOURCE_ROOT/tests/e2e/images.sh"
need_appliance

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

ensure_images || { fail "the images were built"; diag_file "$WB_BUILD_ROOT/e2e-build.log" 20; done_testing; exit; }

# stage_count LOG STAGE WORD: how many "stage STAGE ... WORD ..." lines.
stage_count() { grep -Ec "^stage $2 +[0-9.]+ s  $3( |$)" "$1"; }

build_into() { # log output [extra args]
        local log=$1 out=$2
        shift 2
        (
                flock 9
                "$WHONIX_BUILD" --target kvm --cache "$WB_TEST_CACHE" --output "$out" "$@" >"$log" 2>&1
        ) 9>"$WB_BUILD_ROOT/e2e-build.lock"
}

# 1. Nothing changed.
start=$(date +%s)
build_into "$T/again.log" "$T/again"
check "a rebuild with nothing changed succeeds" test $? -eq 0
diag "no-change rebuild took $(( $(date +%s) - start )) s"
grep '^stage' "$T/again.log" | sed 's/^/# /'
check "no-change: the appliance is reused" test "$(stage_count "$T/again.log" appliance cached)" -eq 1
check "no-change: both bases come from the cache" test "$(stage_count "$T/again.log" bootstrap cached)" -eq 2
# Kicksecure's two steps (once per flavor), and each flavor's two.
check "no-change: all eight layer steps come from the cache" test "$(stage_count "$T/again.log" customize cached)" -eq 8
check "no-change: both final disks come from the cache" test "$(stage_count "$T/again.log" finalize cached)" -eq 2
check "no-change: nothing is built" bash -c "! grep -Eq '^stage [a-z]+ +[0-9.]+ s  built' '$T/again.log'"
for vm in Whonix-Gateway Whonix-Workstation; do
        check "no-change: $vm.qcow2 is bit-identical to the first build's" \
                cmp -s "$WB_E2E_IMAGES/$vm.qcow2" "$T/again/$vm.qcow2"
done

# 2. One overlay file of the Workstation changed, in a copy of the data dir.
mkdir "$T/data"
cp -a "$WB_SOURCE_ROOT/recipes" "$WB_SOURCE_ROOT/keys" "$WB_SOURCE_ROOT/overlays" "$T/data/"
mkdir -p "$T/data/overlays/whonix-workstation/etc"
echo "cache test $$" >"$T/data/overlays/whonix-workstation/etc/wb-cache-test"
start=$(date +%s)
build_into "$T/changed.log" "$T/changed" --data-dir "$T/data"
check "a rebuild with one overlay file changed succeeds" test $? -eq 0
diag "one-overlay-file rebuild took $(( $(date +%s) - start )) s"
grep '^stage' "$T/changed.log" | sed 's/^/# /'
check "overlay change: both bases come from the cache" test "$(stage_count "$T/changed.log" bootstrap cached)" -eq 2
check "overlay change: the shared Kicksecure layer is reused by both flavors" \
        test "$(grep -Ec '^stage customize +[0-9.]+ s  cached layer [0-9a-f]+ \(kicksecure\)' "$T/changed.log")" -eq 2
check "overlay change: the Gateway's layer is reused" \
        grep -Eq '^stage customize +[0-9.]+ s  cached layer [0-9a-f]+ \(gateway\)' "$T/changed.log"
check "overlay change: the Workstation's package step is reused (no apt)" \
        grep -Eq '^stage customize +[0-9.]+ s  cached layer [0-9a-f]+ \(workstation packages\)' "$T/changed.log"
check "overlay change: the Workstation's layer is rebuilt" \
        grep -Eq '^stage customize +[0-9.]+ s  built layer [0-9a-f]+ \(workstation:' "$T/changed.log"
check "overlay change: the Gateway's final disk is reused" \
        grep -Eq '^stage finalize +[0-9.]+ s  cached disk [0-9a-f]+ \(gateway\)' "$T/changed.log"
check "overlay change: the Workstation's final disk is rebuilt" \
        grep -Eq '^stage finalize +[0-9.]+ s  built disk [0-9a-f]+ \(workstation\)' "$T/changed.log"
check "overlay change: the Gateway image is bit-identical" \
        cmp -s "$WB_E2E_IMAGES/Whonix-Gateway.qcow2" "$T/changed/Whonix-Gateway.qcow2"
"$WB_BUILD_ROOT/tests/wb-inspect" "$T/changed/Whonix-Workstation.qcow2" /dev/sda2 cat /etc/wb-cache-test \
        >"$T/file" 2>/dev/null
check "overlay change: the new file is in the Workstation image" grep -qx "cache test $$" "$T/file"

done_testing
