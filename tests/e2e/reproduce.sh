#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Bit-identical rebuilds, as a third party checks them: whonix-build verify
# rebuilds every stage of the e2e build from its whonix.buildinfo in a fresh
# stage cache (only the package cache disk is shared, so the comparison is
# not vacuous), in another environment (TZ, LANG, umask, hostname-free HOME),
# and every artifact must match.  Then one byte of one file in a copy of one
# image is changed through libguestfs, and verify must name that file.
. "$WB_SOURCE_ROOT/tests/lib.sh"
. "$WB_SOURCE_ROOT/tests/e2e/images.sh"
need_appliance

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
inspect="$WB_BUILD_ROOT/tests/wb-inspect"

ensure_images || { fail "the images were built"; diag_file "$WB_BUILD_ROOT/e2e-build.log" 20; done_testing; exit; }
out=$WB_E2E_IMAGES
info=$out/whonix.buildinfo
check "the build wrote whonix.buildinfo" test -s "$info"
check "SHA256SUMS covers every artifact and the buildinfo" bash -c "cd '$out' && sha256sum -c --strict --quiet SHA256SUMS"
check "the buildinfo pins the signed InRelease" grep -Eq '^InRelease-SHA256: [0-9a-f]{64}$' "$info"
for f in gateway workstation; do
        n=$(sed -n "/^Packages-$f:\$/,/^[A-Z]/p" "$info" | grep -c '^ ')
        check "the buildinfo pins the $n installed packages of the $f (name, version, arch, sha256, size)" test "$n" -gt 100
done
check "tor is pinned in the Gateway's list" bash -c "sed -n '/^Packages-gateway:\$/,/^[A-Z]/p' '$info' | grep -Eq '^ tor [^ ]+ amd64 [0-9a-f]{64} [0-9]+\$'"
for a in Whonix-Gateway.qcow2 Whonix-Workstation.qcow2 Whonix-Gateway.xml Whonix-Workstation.xml \
        Whonix-External.xml Whonix-Internal.xml; do
        check "the buildinfo records $a with its SHA256" \
                grep -q "^ $(sha256sum "$out/$a" | cut -d' ' -f1) $(stat -c %s "$out/$a") $a\$" "$info"
done

# The rebuild: a different clock zone, locale and umask than the first build.
start=$(date +%s)
(
        flock 9
        cd "$T" && umask 077 && TZ=Pacific/Kiritimati LANG=C.UTF-8 LC_ALL=C.UTF-8 \
                "$WHONIX_BUILD" verify "$info" "$out" --cache "$WB_TEST_CACHE" --output "$T/rebuilt" \
                >"$T/verify.out" 2>"$T/verify.err"
) 9>"$WB_BUILD_ROOT/e2e-build.lock"
rc=$?
diag "verify (a rebuild of every stage) took $(( $(date +%s) - start )) s"
grep '^stage' "$T/verify.err" | sed 's/^/# /'
sed 's/^/# /' "$T/verify.out"
tail -n 5 "$T/verify.err" | sed 's/^/# /'
# verify must run to the end and find every artifact bit-identical (its
# explanation of a difference is printed above).
check "verify of the e2e build passes (exit $rc)" test "$rc" -eq 0
check "the rebuild re-ran bootstrap (nothing reused)" grep -Eq '^stage bootstrap +[0-9.]+ s  built base' "$T/verify.err"
check "the rebuild re-ran every layer step (Kicksecure's two once, shared; each flavor's two)" \
        test "$(grep -Ec '^stage customize +[0-9.]+ s  built layer' "$T/verify.err")" -eq 6
check "the rebuild re-ran finalize for both images" test "$(grep -Ec '^stage finalize +[0-9.]+ s  built disk' "$T/verify.err")" -eq 2
for a in Whonix-External.xml Whonix-Internal.xml Whonix-Gateway.xml Whonix-Workstation.xml \
        Whonix-Gateway.qcow2 Whonix-Workstation.qcow2; do
        check "verify: $a matches bit for bit" grep -Eq "^MATCH +$a " "$T/verify.out"
done

# One byte of /etc/hostname changed in a copy of the Workstation image.
mkdir "$T/tampered"
for f in "$out"/*; do ln -s "$f" "$T/tampered/"; done
rm "$T/tampered/Whonix-Workstation.qcow2"
cp --sparse=always "$out/Whonix-Workstation.qcow2" "$T/tampered/"
"$inspect" "$out/Whonix-Workstation.qcow2" /dev/sda2 cat /etc/hostname >"$T/hostname"
sed -i 's/t$/u/' "$T/hostname"
"$inspect" --rw "$T/tampered/Whonix-Workstation.qcow2" /dev/sda2 upload "$T/hostname" /etc/hostname
check "one byte of /etc/hostname is changed in a copy of the Workstation image" test $? -eq 0
"$WHONIX_BUILD" verify "$info" "$T/tampered" --rebuilt "$T/rebuilt" --cache "$WB_TEST_CACHE" \
        >"$T/tampered.out" 2>"$T/tampered.err"
rc=$?
sed 's/^/# /' "$T/tampered.out"
check "verify fails on the tampered release (exit $rc)" test "$rc" -eq 1
check "verify says the published Workstation image is not the one in the buildinfo" \
        grep -Eq '^DIFFERS +Whonix-Workstation.qcow2 .*PUBLISHED FILE DOES NOT MATCH' "$T/tampered.out"
check "verify names the changed file: content /etc/hostname" grep -qx '        content  /etc/hostname' "$T/tampered.out"
check "the published Gateway image is still the one in the buildinfo" \
        bash -c "! grep -Eq '^DIFFERS +Whonix-Gateway.qcow2 .*PUBLISHED FILE' '$T/tampered.out'"


done_testing
