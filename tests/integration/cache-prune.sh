#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# whonix-build cache: the list of a cache's entries, and prune, on a cache
# made here with qemu-img as a build leaves one (no appliance): layers are
# qcow2 over their parents.  Prune never removes what the last build used
# (last-build) or what a kept layer stands on, leaves a build's temporary
# files alone, removes nothing while another whonix-build holds the cache,
# and --dry-run removes nothing at all.  A build prunes by itself past the
# limits of its settings file (builds that only fetch, from the mirror).
. "$WB_SOURCE_ROOT/tests/lib.sh"
command -v qemu-img >/dev/null || skip_all "qemu-img is not installed (tools/install-deps)"

wb=$WHONIX_BUILD
T=$(mktemp -d)
lock_pid=
cleanup() { [ -n "$lock_pid" ] && kill "$lock_pid" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
C=$T/cache
mkdir -p "$C"/appliance/aaaa "$C"/appliance/bbbb "$C"/base "$C"/layers "$C"/final "$C"/sources "$C"/vmdk
: >"$C/lock"
head -c 300000 /dev/urandom >"$C/appliance/aaaa/root"
head -c 300000 /dev/urandom >"$C/appliance/bbbb/root"
img() { qemu-img create -q -f qcow2 "$@"; }
img "$C/base/B1.qcow2" 64M
img -b "$C/base/B1.qcow2" -F qcow2 "$C/layers/L1.qcow2"
img -b "$C/layers/L1.qcow2" -F qcow2 "$C/layers/L2.qcow2"
img -b "$C/base/B1.qcow2" -F qcow2 "$C/layers/L3.qcow2"
img "$C/base/B2.qcow2" 64M
img -b "$C/base/B2.qcow2" -F qcow2 "$C/layers/L4.qcow2"
for f in F1 F2; do head -c 2000000 /dev/urandom >"$C/final/$f.img"; echo "tor 1" >"$C/final/$f.packages"; done
head -c 100000 /dev/urandom >"$C/vmdk/V1.vmdk"
: >"$C/layers/.L9.qcow2.tmp"
printf '%s\n' appliance/aaaa base/B1.qcow2 final/F1.img layers/L1.qcow2 layers/L2.qcow2 >"$C/last-build"
old=$(date -d '30 days ago' +%Y%m%d%H%M)
touch -t "$old" "$C/appliance/bbbb" "$C/base/B1.qcow2" "$C/base/B2.qcow2" "$C/layers/L1.qcow2" \
        "$C/layers/L3.qcow2" "$C/final/F2.img" "$C/vmdk/V1.vmdk"
touch -d '1 day ago' "$C/layers/L4.qcow2"
ls -R "$C" >"$T/before"

"$wb" cache --cache "$C" >"$T/list" 2>&1
rc=$?
sed 's/^/# /' "$T/list"
check "cache list exits 0" test "$rc" -eq 0
check "it lists the 11 entries (not the temporary file, not the package list apart; an export's VMDK too)" \
        test "$(grep -cE '^(appliance|base|layers|final|qcow2|vmdk) ' "$T/list")" -eq 11
check "it marks the 5 the last build used" test "$(grep -cE ' yes$' "$T/list")" -eq 5
check "it sizes the final disk with its package list (1.9 MiB)" grep -Eq "^final +F1 +1\.9 MiB " "$T/list"
check "its total line" grep -q "^11 entries, .* in '$C'; .* of them not used by the last build$" "$T/list"

"$wb" cache prune --cache "$C" >/dev/null 2>"$T/err"
rc=$?
check "prune without --max-age or --max-size is a usage error (exit $rc)" \
        sh -c '[ "$1" -eq 2 ] && grep -q "needs --max-age=DAYS or --max-size=SIZE" "$2"' sh "$rc" "$T/err"

"$wb" cache prune --max-age=10 --dry-run --cache "$C" >"$T/dry" 2>&1
rc=$?
sed 's/^/# /' "$T/dry"
check "prune --max-age=10 --dry-run names the old entries nothing stands on: L3, F2, appliance bbbb, VMDK V1" \
        sh -c '[ "$1" -eq 0 ] && [ "$(grep -c "^would remove " "$2")" -eq 4 ] &&
                grep -q "^would remove layers/L3.qcow2 " "$2" && grep -q "^would remove final/F2.img " "$2" &&
                grep -q "^would remove appliance/bbbb " "$2" && grep -q "^would remove vmdk/V1.vmdk " "$2"' sh "$rc" "$T/dry"
ls -R "$C" >"$T/after-dry"
check "--dry-run removed nothing" cmp -s "$T/before" "$T/after-dry"

"$wb" cache prune --max-age=10 --cache "$C" >"$T/prune" 2>&1
check "prune --max-age=10 removes them" \
        sh -c '[ ! -e "$1/layers/L3.qcow2" ] && [ ! -e "$1/final/F2.img" ] && [ ! -e "$1/final/F2.packages" ] &&
                [ ! -e "$1/appliance/bbbb" ] && [ ! -e "$1/vmdk/V1.vmdk" ]' sh "$C"
check "... but keeps the old base B2, which a recent layer (L4) stands on" test -e "$C/base/B2.qcow2"
check "... and the last build's old layer L1 and its base" test -e "$C/layers/L1.qcow2" -a -e "$C/base/B1.qcow2"
check "the kept layers' backing chains are whole (qemu-img info --backing-chain)" \
        sh -c 'qemu-img info -U --backing-chain "$1/layers/L2.qcow2" >/dev/null &&
                qemu-img info -U --backing-chain "$1/layers/L4.qcow2" >/dev/null' sh "$C"
check "a build's temporary file is left alone" test -e "$C/layers/.L9.qcow2.tmp"

# Another whonix-build holds the cache: nothing goes.
# (One process holds it, as a build does: killing it releases the lock.)
python3 -c 'import fcntl, sys, time
f = open(sys.argv[1], "w")
fcntl.flock(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(60)' "$C/lock" "$T/locked" &
lock_pid=$!
for _ in $(seq 50); do [ -e "$T/locked" ] && break; sleep 0.1; done
"$wb" cache prune --max-size=1 --cache "$C" >/dev/null 2>"$T/err"
rc=$?
check "while another whonix-build holds the cache, prune refuses (exit $rc) and says so" \
        sh -c '[ "$1" -eq 1 ] && grep -q "in use by another whonix-build" "$2"' sh "$rc" "$T/err"
check "... and removes nothing" test -e "$C/layers/L4.qcow2" -a -e "$C/base/B2.qcow2"
"$wb" cache --cache "$C" >/dev/null 2>&1
check "cache list still works meanwhile (it takes no lock)" test $? -eq 0
kill "$lock_pid" 2>/dev/null
wait "$lock_pid" 2>/dev/null
lock_pid=

"$wb" cache prune --max-size=1 --cache "$C" >"$T/prune" 2>&1
sed 's/^/# /' "$T/prune"
check "prune --max-size=1 removes all the last build did not use: the layer L4 first, then the base it stood on" \
        sh -c '[ ! -e "$1/layers/L4.qcow2" ] && [ ! -e "$1/base/B2.qcow2" ] &&
                [ "$(grep -o "^removed [a-z]*/[A-Z0-9]*" "$2" | cut -d" " -f2 | paste -sd" ")" = "layers/L4 base/B2" ]' \
        sh "$C" "$T/prune"
check "... and keeps all 5 the last build used" \
        sh -c 'for e in appliance/aaaa base/B1.qcow2 final/F1.img layers/L1.qcow2 layers/L2.qcow2; do
                [ -e "$1/$e" ] || exit 1; done' sh "$C"
check "... and the package cache and sources are not entries (still there)" test -d "$C/sources"

# A build prunes by itself, past the limits in your settings file (--config
# FILE, or $XDG_CONFIG_HOME/whonix-build/config): here builds that only
# fetch (--until fetch: no appliance) into caches of entries 30 days old
# and one of today.
old_cache() { # DIR
        mkdir -p "$1"/appliance/old "$1"/base "$1"/layers "$1"/final
        : >"$1/lock"
        head -c 100000 /dev/urandom >"$1/appliance/old/root"
        img "$1/base/BO.qcow2" 64M
        img -b "$1/base/BO.qcow2" -F qcow2 "$1/layers/LO.qcow2"
        for f in FO FN; do head -c 100000 /dev/urandom >"$1/final/$f.img"; echo "tor 1" >"$1/final/$f.packages"; done
        touch -t "$old" "$1/appliance/old" "$1/base/BO.qcow2" "$1/layers/LO.qcow2" "$1/final/FO.img"
}
C2=$T/cache-auto
old_cache "$C2"
printf '# the test'"'"'s settings\n[Cache]\nMaxAge=10\n' >"$T/config"
"$wb" --flavor gateway --until fetch --cache "$C2" --output "$T/out-auto" --config "$T/config" >"$T/auto.log" 2>&1
rc=$?
grep -E 'cache:|error' "$T/auto.log" | sed 's/^/# /'
check "a build with [Cache] MaxAge=10 in its settings (--config) succeeds (exit $rc)" test "$rc" -eq 0
check "... then removes the entries no build used for 10 days: the old appliance, final disk, layer and its base" \
        sh -c 'for e in appliance/old final/FO.img final/FO.packages layers/LO.qcow2 base/BO.qcow2; do
                [ ! -e "$1/$e" ] || exit 1; done' sh "$C2"
check "... keeps today's final disk" test -e "$C2/final/FN.img" -a -e "$C2/final/FN.packages"
check "... and says what it removed, and how much in all" \
        sh -c 'grep -q "cache: removed final/FO.img " "$1" && grep -q "cache: 4 entries removed (.* MiB) to keep within the configured limits" "$1"' \
        sh "$T/auto.log"
check "... leaving the sources the build fetched" test -d "$C2/sources"

# The default file, with a size limit: every entry the build did not use goes.
C3=$T/cache-default
old_cache "$C3"
mkdir -p "$T/xdg/whonix-build"
printf '[Cache]\nMaxSize=1\n' >"$T/xdg/whonix-build/config"
XDG_CONFIG_HOME=$T/xdg "$wb" --flavor gateway --until fetch --cache "$C3" --output "$T/out-default" >"$T/default.log" 2>&1
rc=$?
check "the default settings file (\$XDG_CONFIG_HOME/whonix-build/config) is read: MaxSize=1 empties the cache's entries (exit $rc)" \
        sh -c '[ "$1" -eq 0 ] && [ -z "$(find "$2/final" "$2/layers" "$2/base" "$2/appliance" -mindepth 1)" ]' sh "$rc" "$C3"

# Settings that are wrong stop the build before it does anything.
printf '[Cache]\nMaxAge=soon\n' >"$T/bad-config"
"$wb" --until fetch --cache "$T/cache-bad" --output "$T/out-bad" --config "$T/bad-config" >"$T/bad.log" 2>&1
rc=$?
check "a settings file with a bad value: exit 1, naming file and line (exit $rc)" \
        sh -c '[ "$1" -eq 1 ] && grep -q "bad-config:2: MaxAge= is not a number of days (1 to 36500): .soon." "$2"' \
        sh "$rc" "$T/bad.log"
check "... before the cache was even created" test ! -e "$T/cache-bad"
"$wb" --until fetch --cache "$T/cache-bad" --output "$T/out-bad" --config "$T/no-such-config" >"$T/none.log" 2>&1
rc=$?
check "--config naming a missing file: exit 1, saying so (exit $rc)" \
        sh -c '[ "$1" -eq 1 ] && grep -q "cannot read the configuration .*no-such-config" "$2"' sh "$rc" "$T/none.log"
done_testing
