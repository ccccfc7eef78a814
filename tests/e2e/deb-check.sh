#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# An altered .deb in the package cache is never installed (issue #14.3).
# apt takes a file already in its archive directory on its size alone, and
# that directory is the package cache disk, which the builder does not
# trust.  Here one byte in the middle of the cached tor .deb is flipped
# (same size), and a layer that installs tor is built again: the build stops
# before apt installs anything, naming the package and both hashes, and
# removes the file; the next build downloads it again and succeeds.
. "$WB_SOURCE_ROOT/tests/lib.sh"
. "$WB_SOURCE_ROOT/tests/e2e/images.sh"
need_appliance
need_cmd debugfs
need_cmd dumpe2fs

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
debs="$WB_TEST_CACHE/debs.img"

ensure_images || { fail "the images were built"; diag_file "$WB_BUILD_ROOT/e2e-build.log" 20; done_testing; exit; }

# A copy of the data dir whose Gateway layer also installs 'hello', so that
# the layer's package step runs again (everything below it is cached).
mkdir "$T/data"
cp -a "$WB_SOURCE_ROOT/recipes" "$WB_SOURCE_ROOT/keys" "$WB_SOURCE_ROOT/overlays" "$T/data/"
# (A list key appends: one more Packages= line in the section adds to it,
# whatever the recipe's own line says.)
sed -i 's/^\[Packages\]$/[Packages]\nPackages=hello/' "$T/data/recipes/whonix-gateway.conf"
# An early overlay of this run's own makes the package step's key new on
# every run, so that a rerun on the same cache runs apt again too.
mkdir -p "$T/data/overlays/wb-deb-check/etc"
echo "deb-check $$ $(date +%s%N)" >"$T/data/overlays/wb-deb-check/etc/wb-deb-check"
sed -i 's/^Overlays=whonix-gateway$/Overlays=whonix-gateway\nEarly=wb-deb-check/' "$T/data/recipes/whonix-gateway.conf"
check "the test recipe adds a package and an early overlay to the Gateway layer" \
        bash -c "grep -qx 'Packages=hello' '$T/data/recipes/whonix-gateway.conf' && grep -qx 'Early=wb-deb-check' '$T/data/recipes/whonix-gateway.conf'"

# Everything that touches the shared cache holds the e2e build lock.
exec 9>"$WB_BUILD_ROOT/e2e-build.lock"
flock 9

# The package cache disk is read with the host's debugfs (e2fsprogs): an
# appliance launch per look would cost seconds each under TCG.
cache_ls() { debugfs -R 'ls -p /' "$debs" 2>/dev/null | awk -F/ '$6 != "" && $6 != "." && $6 != ".." { print $6 }'; }
cache_sha256() { # NAME: "HASH  /NAME", as wb-inspect sha256 prints it
        local h
        h=$(debugfs -R "cat /$1" "$debs" 2>/dev/null | sha256sum | cut -d' ' -f1) && echo "$h  /$1"
}
cache_ls >"$T/ls"
check "the package cache disk can be listed ($(wc -l <"$T/ls") entries)" test -s "$T/ls"
deb=$(grep -E '^tor_[^_]+_amd64\.deb$' "$T/ls" | head -n 1)
check "the package cache holds tor's .deb (${deb:-none})" test -n "$deb"

flip_byte() { # file in the raw ext4 image; flips one byte of its second block
        local bs blk off old new
        bs=$(dumpe2fs -h "$debs" 2>/dev/null | sed -n 's/^Block size: *//p')
        blk=$(debugfs -R "bmap /$1 1" "$debs" 2>/dev/null | tail -n 1)
        [ -n "$bs" ] && [ -n "$blk" ] && [ "$blk" -gt 0 ] || return 1
        off=$(( blk * bs + 123 ))
        old=$(od -An -tu1 -j "$off" -N 1 "$debs" | tr -d ' ')
        new=$(( old ^ 0x5a ))
        printf "$(printf '\\%03o' "$new")" | dd of="$debs" bs=1 seek="$off" count=1 conv=notrunc status=none
        diag "flipped the byte at $off in the image ($old -> $new), block $blk of /$1"
}

# The signed index's hash of that .deb, as the image's buildinfo pinned it.
want=$(awk -v f="$deb" '$1 == "tor" && $3 == "amd64" && f == "tor_" $2 "_amd64.deb" { print $4; exit }' \
        "$WB_E2E_IMAGES/whonix.buildinfo")
check "the buildinfo pins tor's .deb (${want:-none})" test -n "$want"
restore=
cleanup_flip() { [ -n "$restore" ] && flip_byte "$deb" >/dev/null; }
trap 'cleanup_flip; rm -rf "$T"' EXIT

if [ -n "$deb" ]; then
        # A run that was stopped after its flip left the file altered: the
        # same flip undoes it.
        cache_sha256 "$deb" >"$T/start" 2>/dev/null
        if [ -n "$want" ] && [ "$(cut -c1-64 "$T/start")" != "$want" ]; then
                diag "the cached .deb does not match the index (an earlier run stopped after its flip): flipping back"
                flip_byte "$deb"
        fi
        cache_sha256 "$deb" >"$T/before" 2>/dev/null
        check "the cached .deb matches the signed index before the test alters it" \
                test "$(cut -c1-64 "$T/before")" = "$want"
        size_before=$(debugfs -R "stat /$deb" "$debs" 2>/dev/null | sed -n 's/.*Size: \([0-9]*\).*/\1/p' | head -n 1)
        check "one byte of the cached .deb is flipped" flip_byte "$deb"
        restore=yes
        cache_sha256 "$deb" >"$T/after" 2>/dev/null
        size_after=$(debugfs -R "stat /$deb" "$debs" 2>/dev/null | sed -n 's/.*Size: \([0-9]*\).*/\1/p' | head -n 1)
        check "the altered .deb keeps its size ($size_before)" test -n "$size_before" -a "$size_before" = "$size_after"
        check "the altered .deb has another SHA256" bash -c "[ -s '$T/after' ] && ! cmp -s '$T/before' '$T/after'"
fi

"$WHONIX_BUILD" --flavor gateway --until customize --verbose --cache "$WB_TEST_CACHE" --data-dir "$T/data" \
        --output "$T/out1" >"$T/run1" 2>&1
rc=$?
grep -v '^\[' "$T/run1" | tail -n 6 | sed 's/^/# /'
check "the build with the altered .deb fails (rc=$rc)" test "$rc" -ne 0 -a "$rc" -lt 128
ver=${deb#tor_}
ver=${ver%_amd64.deb}
check "the message names the package, the file and both hashes" \
        grep -Fq "package cache held '$deb' (tor $ver amd64) with SHA256 $(cut -c1-64 "$T/after"), but the signed index says $(cut -c1-64 "$T/before")" "$T/run1"
check "the message says the file was removed and nothing installed" \
        grep -q "removed from the package cache and nothing was installed" "$T/run1"
check "dpkg unpacked nothing" bash -c "! grep -Eq '(Unpacking|Setting up) ' '$T/run1'"
check "no Gateway layer with 'hello' entered the cache" \
        bash -c "! grep -Eq '^stage customize +[0-9.]+ s  built layer [0-9a-f]+ \(gateway' '$T/run1'"
cache_ls >"$T/ls2"
check "the altered .deb is no longer in the package cache" bash -c "[ -s '$T/ls2' ] && ! grep -qx '$deb' '$T/ls2'"
grep -qx "$deb" "$T/ls2" || restore=
check "apt had downloaded the layer's new package ('hello') before the check stopped it" \
        grep -Eq '^hello_[^_]+_amd64\.deb$' "$T/ls2"

# The next build runs on a terminal (script(1)'s pseudo-terminal), as a
# person runs it: its progress line is redrawn in place.
cmd=$(printf '%q ' "$WHONIX_BUILD" --flavor gateway --until customize --verbose --cache "$WB_TEST_CACHE" \
        --data-dir "$T/data" --output "$T/out2")
script -qfec "$cmd" "$T/run2" >/dev/null 2>&1
rc=$?
tr -d '\r' <"$T/run2" | grep -a '^stage' | sed 's/^/# /'
check "the next build succeeds (rc=$rc)" test "$rc" = 0
check "it downloaded tor's .deb again" grep -Eq "Get:[0-9]+ .* tor amd64 " "$T/run2"
check "dpkg installed tor and hello" bash -c "grep -q 'Setting up tor ' '$T/run2' && grep -q 'Setting up hello ' '$T/run2'"
cache_sha256 "$deb" >"$T/again" 2>/dev/null
# On the terminal: the line redrawn in place ("\r\033[K"), counting the
# layer's packages as dpkg installs them, with the step's time and the
# time it took when the e2e build made it (the cache's step-times).
progress=$(tr '\r' '\n' <"$T/run2" | sed 's/\x1b\[K//g' | grep -a '^\[gateway\] .*  packages [0-9]*/[0-9]*' || true)
diag "progress: $(head -n 1 <<<"$progress") ... $(tail -n 1 <<<"$progress")"
check "on a terminal the progress line is redrawn in place" grep -aq $'\r\033\\[K\\[gateway\\]' "$T/run2"
check "... counting the layer's packages as dpkg sets them up, up to all of them (N/N)" \
        sh -c 'printf "%s\n" "$1" | grep -q "setting up tor " &&
                printf "%s\n" "$1" | tail -n 1 | grep -Eq "  packages ([0-9]+)/\1 "' sh "$progress"
check "... with the step's time and the time it took when last built ('m:ss of about m:ss')" \
        sh -c 'printf "%s\n" "$1" | grep -Eq "  packages [0-9]+/[0-9]+  [0-9]+:[0-9]{2} of about [0-9]+:[0-9]{2}$"' sh "$progress"
check "the cache holds tor's .deb again, as it was before the flip" cmp -s "$T/before" "$T/again"

done_testing
