#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Bootstrap a minbase Debian of the default suite through the appliance, check
# the base disk from outside, and check that a second run reuses the cache.
. "$WB_SOURCE_ROOT/tests/lib.sh"
need_appliance

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
inspect="$WB_BUILD_ROOT/tests/wb-inspect"

"$WHONIX_BUILD" --flavor gateway --until bootstrap --cache "$WB_TEST_CACHE" --output "$T/out" >"$T/run1" 2>&1
rc=$?
diag_file "$T/run1" 12
check "first run exits 0 (rc=$rc)" test "$rc" -eq 0
check "first run reports the fetch stage with a verified signature" grep -Eq '^stage fetch +[0-9.]+ s  InRelease of trixie .* signed by [0-9A-F]{40}' "$T/run1"
check "first run reports the bootstrap stage" grep -Eq '^stage bootstrap +[0-9.]+ s  (built|cached) base [0-9a-f]{16} \(gateway\)' "$T/run1"
key=$(sed -nE 's/^stage bootstrap +[0-9.]+ s  (built|cached) base ([0-9a-f]{16}).*/\2/p' "$T/run1")
disk=$(ls "$WB_TEST_CACHE"/base/"$key"*.qcow2 2>/dev/null | head -n 1)
check "the base disk is in the cache" test -n "$disk"
check "nothing is written under --output before the export stage" test ! -e "$T/out"

if [ -n "$disk" ]; then
        "$inspect" "$disk" /dev/sda cat /etc/os-release /var/lib/dpkg/status >"$T/inspect" 2>"$T/inspect.err"
        check "the base disk can be read with libguestfs" test $? -eq 0
        check "/etc/os-release names trixie" grep -q '^VERSION_CODENAME=trixie$' "$T/inspect"
        for p in base-files base-passwd bash coreutils dpkg libc6 apt debian-archive-keyring systemd-sysv; do
                check "dpkg's database lists '$p' as installed" \
                        awk -v p="$p" '$0 == "Package: " p {f = 1} f && /^Status:/ {exit ($0 == "Status: install ok installed") ? 0 : 1} /^$/ {f = 0} END {if (!f) exit 1}' "$T/inspect"
        done
        "$inspect" "$disk" /dev/sda ls /var/cache/apt/archives >"$T/archives" 2>&1
        check "the base's apt archive can be listed" test $? -eq 0
        check "no .deb files are left in the base" bash -c "! grep -q '\.deb\$' '$T/archives'"
        "$inspect" "$disk" /dev/sda exists /.whonix-build 2>/dev/null
        rc=$?
        check "the build's work directory is gone from the base (wb-inspect: 1 absent, 3 could not look; got $rc)" \
                test "$rc" -eq 1
fi

# The packages stay in the cache disk for the next bootstrap and apt.
"$inspect" "$WB_TEST_CACHE/debs.img" /dev/sda ls /debootstrap/trixie-amd64 >"$T/debs" 2>&1
n=$(grep -c '\.deb$' "$T/debs")
check "the package cache disk keeps the downloaded .debs ($n)" test "$n" -ge 50

"$WHONIX_BUILD" --flavor gateway --until bootstrap --cache "$WB_TEST_CACHE" --output "$T/out" >"$T/run2" 2>&1
rc=$?
diag_file "$T/run2" 8
check "second run exits 0 (rc=$rc)" test "$rc" -eq 0
check "second run reuses the base from the cache" grep -Eq "^stage bootstrap +[0-9.]+ s  cached base $key \(gateway\)" "$T/run2"
check "second run reuses the appliance" grep -Eq '^stage appliance +[0-9.]+ s  cached ' "$T/run2"

done_testing
