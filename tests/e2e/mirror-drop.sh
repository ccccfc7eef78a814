#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The mirror drops the connection in the middle of a .deb (issue #14, a
# fault test), and the build's downloads go through --proxy.
#
# A forward proxy on 127.0.0.1 (tests/helpers/flaky-proxy.py, forwarding
# only to the mirror the images were built from) stands between the build
# and the mirror: the fetch on the host and apt in the appliance both use it
# (--proxy http://127.0.0.1:PORT; the appliance reaches the host's loopback
# through qemu's user-mode network).  First it sends half of every .deb and
# closes the connection: the build fails naming the package, installs
# nothing, leaves no layer, no temporary file and no qemu.  Then it passes
# everything: the same build, again through the proxy, succeeds.  Last, the
# release's published sources (WB_E2E_SOURCES, whonix-build sources) with
# that package's .deb changed by one byte: the build from them, offline
# (their server on 127.0.0.1 is all it can reach), stops at apt's hash check
# naming the package, and keeps neither the layer nor the file.
. "$WB_SOURCE_ROOT/tests/lib.sh"
. "$WB_SOURCE_ROOT/tests/e2e/images.sh"
need_appliance
need_cmd python3
need_cmd debugfs

T=$(mktemp -d)
proxy_pid=
trap '[ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null; rm -rf "$T"' EXIT
debs="$WB_TEST_CACHE/debs.img"
# A small package that no recipe installs: Depends only on libc6.
pkg=figlet

ensure_images || { fail "the images were built"; diag_file "$WB_BUILD_ROOT/e2e-build.log" 20; done_testing; exit; }

mirror=$(sed -n 's/^Mirror: //p' "$WB_E2E_IMAGES/whonix.buildinfo")
host=${mirror#http://}
host=${host%%/*}
check "the images were built from an http mirror (${mirror:-none})" test -n "$host" -a "$host" != "$mirror"

# A copy of the data dir whose Gateway layer also installs the package, with
# an early overlay of this run's own, so that the layer's package step runs
# (everything below it is cached).
mkdir "$T/data"
cp -a "$WB_SOURCE_ROOT/recipes" "$WB_SOURCE_ROOT/keys" "$WB_SOURCE_ROOT/overlays" "$T/data/"
# (A list key appends: one more Packages= line in the section adds to it.)
sed -i "s/^\\[Packages\\]\$/[Packages]\\nPackages=$pkg/" "$T/data/recipes/whonix-gateway.conf"
mkdir -p "$T/data/overlays/wb-mirror-drop/etc"
echo "mirror-drop $$ $(date +%s%N)" >"$T/data/overlays/wb-mirror-drop/etc/wb-mirror-drop"
sed -i 's/^Overlays=whonix-gateway$/Overlays=whonix-gateway\nEarly=wb-mirror-drop/' "$T/data/recipes/whonix-gateway.conf"
check "the test recipe adds '$pkg' and an early overlay to the Gateway layer" \
        bash -c "grep -qx 'Packages=$pkg' '$T/data/recipes/whonix-gateway.conf' && grep -qx 'Early=wb-mirror-drop' '$T/data/recipes/whonix-gateway.conf'"

exec 9>"$WB_BUILD_ROOT/e2e-build.lock"
flock 9

# The package must be downloaded: remove it (and any partial download) from
# the package cache disk, which no appliance has open while we hold the lock.
for f in $(debugfs -R "ls -p /" "$debs" 2>/dev/null | awk -F/ -v p="${pkg}_" 'index($6, p) == 1 { print "/" $6 }') \
         $(debugfs -R "ls -p /partial" "$debs" 2>/dev/null | awk -F/ -v p="${pkg}_" 'index($6, p) == 1 { print "/partial/" $6 }'); do
        debugfs -w -R "rm $f" "$debs" >/dev/null 2>&1
done
check "the package cache holds no '$pkg' .deb" \
        bash -c "! debugfs -R 'ls -p /' '$debs' 2>/dev/null | grep -q '/${pkg}_'"

echo drop >"$T/mode"
python3 "$WB_SOURCE_ROOT/tests/helpers/flaky-proxy.py" --allow "$host" --mode-file "$T/mode" \
        --log "$T/proxy.log" --port-file "$T/port" &
proxy_pid=$!
for _ in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
port=$(cat "$T/port" 2>/dev/null)
check "the proxy listens on 127.0.0.1:${port:-?}" test -n "$port"

note_layers
"$WHONIX_BUILD" --flavor gateway --until customize --verbose --proxy "http://127.0.0.1:$port" \
        --cache "$WB_TEST_CACHE" --data-dir "$T/data" --output "$T/out1" >"$T/run1" 2>&1
rc=$?
grep -E '^(stage|error|warning|E:|Err:)' "$T/run1" | tail -n 8 | sed 's/^/# /' | cut -c1-300
check "the build whose mirror drops the connection mid-.deb fails (rc=$rc)" test "$rc" -eq 1
check "the host's fetch of the InRelease went through the proxy" \
        grep -Eq "^drop GET $mirror/dists/[a-z]+/InRelease 200 " "$T/proxy.log"
check "apt in the appliance fetched '$pkg' through the proxy, and got half of it" \
        grep -Eq "^drop GET $mirror/pool/.*/${pkg}_[^ ]*\.deb 20[06] [0-9]+/[0-9]+ dropped\$" "$T/proxy.log"
diag "$(grep -c dropped "$T/proxy.log") dropped transfers"
check "the error names the package that could not be downloaded" \
        bash -c "sed -n '/^whonix-build: error: /,\$p' '$T/run1' | grep -Eq 'Failed to fetch .*/${pkg}_[^ ]*\.deb'"
check "the message names the step that failed" grep -q "error: .*gateway" "$T/run1"
check "dpkg unpacked nothing" bash -c "! grep -Eq '(Unpacking|Setting up) ' '$T/run1'"
check_no_leftovers ""
check "no output directory" test ! -e "$T/out1"

echo pass >"$T/mode"
"$WHONIX_BUILD" --flavor gateway --until customize --verbose --proxy "http://127.0.0.1:$port" \
        --cache "$WB_TEST_CACHE" --data-dir "$T/data" --output "$T/out2" >"$T/run2" 2>&1
rc=$?
grep '^stage' "$T/run2" | sed 's/^/# /'
check "the next build, through the same proxy now passing everything, succeeds (rc=$rc)" test "$rc" -eq 0
check "it fetched '$pkg' through the proxy" grep -Eq "^pass GET $mirror/pool/.*/${pkg}_[^ ]*\.deb 20[06] " "$T/proxy.log"
check "dpkg installed '$pkg'" grep -q "Setting up $pkg " "$T/run2"
check "the package cache now holds '$pkg'" bash -c "debugfs -R 'ls -p /' '$debs' 2>/dev/null | grep -q '/${pkg}_'"
# The proxy is the build's, never the image's: the layer has no trace of it.
layer=$(sed -n 's/^stage customize .* built layer \([0-9a-f]*\) (gateway packages: [1-9].*/\1/p' "$T/run2" | tail -n 1)
disk=
[ -n "$layer" ] && disk=$(ls "$WB_TEST_CACHE/layers/$layer"*.qcow2 2>/dev/null | head -n 1)
check "the layer with '$pkg' is in the cache (${layer:-none})" test -n "$layer" -a -n "$disk"
if [ -n "$disk" ]; then
        "$WB_BUILD_ROOT/tests/wb-inspect" "$disk" /dev/sda ls /etc/apt/apt.conf.d >"$T/aptconf" 2>"$T/aptconf.err"
        diag "apt.conf.d: $(tr '\n' ' ' <"$T/aptconf")"
        check "its /etc/apt/apt.conf.d can be listed" test -s "$T/aptconf"
        check "... and holds no proxy setting of the build" bash -c "! grep -q whonix-build '$T/aptconf'"
fi

# The published sources with the package's .deb changed: a hard-linked copy
# (the changed file is a new one), the .deb at the pool path apt fetched it
# from, one byte flipped in its middle (same size: only the hash can tell).
# (apt asks for it %-quoted, the server and the package cache name it plain.)
url=$(sed -n "s|^pass GET $mirror/\(pool/.*/${pkg}_[^ ]*\.deb\) 20[06] .*|\1|p" "$T/proxy.log" | head -n 1)
path=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.unquote(sys.argv[1]))' "$url")
name=$(basename "$path")
check "the published sources of the e2e release are there (${WB_E2E_SOURCES##*/})" \
        test -s "$WB_E2E_SOURCES/dists/trixie/InRelease" -a -n "$url"
cp -al "$WB_E2E_SOURCES" "$T/src"
mkdir -p "$T/src/$(dirname "$path")"
rm -f "$T/src/$path"
debugfs -R "dump /$name $T/src/$path" "$debs" >/dev/null 2>&1
size=$(stat -c %s "$T/src/$path" 2>/dev/null || echo 0)
printf '\x5a' | dd of="$T/src/$path" bs=1 seek=$((size / 2)) conv=notrunc status=none
check "a copy of the published sources with '$name' changed by one byte ($size bytes)" \
        bash -c "[ $size -gt 1000 ] && ! cmp -s '$T/src/$path' <(debugfs -R 'cat /$name' '$debs' 2>/dev/null)"
debugfs -w -R "rm /$name" "$debs" >/dev/null 2>&1
check "'$name' is gone from the package cache disk again" \
        bash -c "! debugfs -R 'ls -p /' '$debs' 2>/dev/null | grep -q '/${pkg}_'"
echo "mirror-drop tampered $$ $(date +%s%N)" >"$T/data/overlays/wb-mirror-drop/etc/wb-mirror-drop"
note_layers
WB_E2E_SOURCES=$T/src e2e_offline "$T/run3" "$WHONIX_BUILD" --flavor gateway --until customize \
        --mirror "http://127.0.0.1:$WB_E2E_SOURCES_PORT" --cache "$WB_TEST_CACHE" --data-dir "$T/data" \
        --output "$T/out3" >"$T/run3.out" 2>&1
rc=$?
grep -E '^(stage|whonix-build: error|E:|Err:)' "$T/run3.out" | tail -n 6 | sed 's/^/# /' | cut -c1-300
check "the build from the sources with a changed .deb fails (rc=$rc)" test "$rc" -eq 1
check "it got the package list and the changed .deb from those sources alone" \
        bash -c "grep -q '\"GET /dists/trixie/InRelease HTTP/1.[01]\" 200' '$T/run3.served' &&
                grep -q '\"GET /$url HTTP/1.[01]\" 200' '$T/run3.served'"
check "the error names the package and the hash check that failed" \
        bash -c "sed -n '/^whonix-build: error: /,\$p' '$T/run3.out' | grep -q '${pkg}_.*Hash Sum mismatch\|Hash Sum mismatch.*${pkg}_' ||
                sed -n '/^whonix-build: error: /,\$p' '$T/run3.out' | tr '\n' ' ' | grep -Eq '${pkg}_[^ ]*\.deb +Hash Sum mismatch'"
check "dpkg unpacked nothing" bash -c "! grep -Eq '(Unpacking|Setting up) ' '$T/run3.out'"
check_no_leftovers "from the changed sources: "
check "the package cache disk does not keep the changed .deb" \
        bash -c "! debugfs -R 'ls -p /' '$debs' 2>/dev/null | grep -q '/${pkg}_'"

done_testing
