#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Bit-identical rebuilds, as a third party checks them, from a release's
# published sources alone.  After the e2e build (tests/e2e/images.sh) a
# release of the CLI pair was made from its cache (WB_E2E_REBUILD_FLAVORS=all:
# the three), its sources were published (whonix-build sources: a Debian
# mirror of exactly the packages its buildinfo pins), and a second,
# independent build of the same source ran from those sources, served on
# 127.0.0.1 in a network namespace with nothing but its loopback: in a
# cache of its own with an empty package cache disk, another environment
# (TZ, LANG, umask, an empty HOME), starting from a copy of the first
# build's base and Kicksecure layer (WB_E2E_REBUILD_BASE=own: its own
# bootstrap and Kicksecure layer too) and building the flavors' own layers
# and final disks itself.  whonix-build verify then rebuilds the release
# from its whonix.buildinfo, again offline with the published sources as
# --mirror, with --rebuild-cache naming the second build's cache: it pins
# the release's inputs (InRelease, SOURCE_DATE_EPOCH, seed, flavors) and
# finds every stage there, made from the same keys by the other build;
# every artifact must match bit for bit.  Then one byte of one file in a
# copy of one image is changed through libguestfs, and verify must name
# that file.
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
for f in gateway workstation workstation-desktop; do
        n=$(sed -n "/^Packages-$f:\$/,/^[A-Z]/p" "$info" | grep -c '^ ')
        check "the buildinfo pins the $n installed packages of the $f (name, version, arch, sha256, size)" test "$n" -gt 100
done
check "tor is pinned in the Gateway's list" bash -c "sed -n '/^Packages-gateway:\$/,/^[A-Z]/p' '$info' | grep -Eq '^ tor [^ ]+ amd64 [0-9a-f]{64} [0-9]+\$'"
for a in Whonix-Gateway.qcow2 Whonix-Workstation.qcow2 Whonix-Workstation-Desktop.qcow2 Whonix-Gateway.xml \
        Whonix-Workstation.xml Whonix-Workstation-Desktop.xml Whonix-External.xml Whonix-Internal.xml; do
        check "the buildinfo records $a with its SHA256" \
                grep -q "^ $(sha256sum "$out/$a" | cut -d' ' -f1) $(stat -c %s "$out/$a") $a\$" "$info"
done

# The independent build: it ran, and (in a fresh cache: always in CI) made
# every stage itself.
rb=$WB_BUILD_ROOT/e2e-rebuild.json
check "the independent build of the same source succeeded (exit $(cat "$WB_BUILD_ROOT/e2e-rebuild.rc" 2>/dev/null))" \
        test "$(cat "$WB_BUILD_ROOT/e2e-rebuild.rc" 2>/dev/null)" = 0
diag_file "$WB_BUILD_ROOT/e2e-rebuild.log" 3
check "it used a cache of its own, not the e2e build's" \
        sh -c '[ "$(realpath "$1")" != "$(realpath "$2")" ] && [ -d "$1/final" ]' sh "$WB_E2E_REBUILD_CACHE" "$WB_TEST_CACHE"
# Every step it used (a layer, a final disk, and with its own base the
# base and the Kicksecure layer: by key; steps that flavors share appear
# once built and then reused) it built in that run.
stages="customize finalize"
[ "$WB_E2E_REBUILD_BASE" = own ] && stages="bootstrap $stages"
built=$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
own = sys.argv[3] == "own"
steps = [s for s in d["stages"] if s["stage"] in sys.argv[2].split()
         and (own or (s["name"] or "").split(" ")[0] != "kicksecure")]
keys = {s["key"] for s in steps}
print(len({s["key"] for s in steps if s["outcome"] == "built"}), len(keys))' "$rb" "$stages" "$WB_E2E_REBUILD_BASE" 2>/dev/null)
set -- $built
rebuild_warm=
if [ "${1:-0}" -gt 0 ] && [ "$1" = "${2:-}" ]; then
        ok "the independent build made every stage itself: $1 of $2 distinct steps ($stages) built"
elif [ -n "${CI:-}" ]; then
        fail "the independent build made every stage itself ($built built of all)"
else
        rebuild_warm=yes
        skip_one "the independent build's cache was warm from an earlier run here ($built built of all): fresh in CI"
fi

# The release to verify: the e2e build's, of the flavors the independent
# build made (made by ensure_images from the e2e build's cache).
rel=$(e2e_release_dir)
if [ "$WB_E2E_REBUILD_FLAVORS" != all ]; then
        check "a release of the $WB_E2E_REBUILD_FLAVORS flavors from the e2e build's cache (nothing built)" \
                sh -c '[ -s "$1/whonix.buildinfo" ] && ! grep -Eq "^stage (bootstrap|customize|finalize) .* built" "$2"' \
                sh "$rel" "$WB_BUILD_ROOT/e2e-release.log"
fi

# Its published sources, and the independent build made from them alone.
src=$WB_E2E_SOURCES
diag_file "$WB_BUILD_ROOT/e2e-sources.log" 2
check "whonix-build sources wrote the release's mirror: the pinned InRelease, its indexes, the .debs" \
        sh -c '[ "$(sha256sum <"$1/dists/trixie/InRelease" | cut -d" " -f1)" = "$(sed -n "s/^InRelease-SHA256: //p" "$2")" ] &&
                [ -s "$1/dists/trixie/main/binary-amd64/Packages.xz" ] && cmp -s "$1/whonix.buildinfo" "$2"' \
        sh "$src" "$rel/whonix.buildinfo"
pinned=$(awk '/^Packages-/ { p = 1; next } /^[A-Z]/ { p = 0 } p && /^ /' "$rel/whonix.buildinfo" | sort -u | wc -l)
tools=$(awk '/^Tools:/ { p = 1; next } /^[A-Z]/ { p = 0 } p && / archive$/' "$rel/whonix.buildinfo" | wc -l)
debs=$(find "$src/pool" -name '*.deb' | wc -l)
check "... with one .deb for each of the $pinned packages the buildinfo pins, and its $tools tool(s) from the archive ($debs)" \
        test "$debs" -eq $((pinned + tools))
check "... debootstrap among them, the version the buildinfo names" \
        test -s "$src/pool/main/d/debootstrap/debootstrap_$(sed -n 's/^ debootstrap \([^ ]*\) archive$/\1/p' "$rel/whonix.buildinfo")_all.deb"
python3 - "$rel/whonix.buildinfo" "$src" >"$T/deb-check" 2>&1 <<'PY'
import hashlib, os, sys
pins = set()
for l in open(sys.argv[1]):
    if l.startswith(" ") and len(l.split()) == 5:
        n, v, a, h, size = l.split()
        pins.add((h, int(size)))
seen = set()
for root, _, files in os.walk(os.path.join(sys.argv[2], "pool")):
    for f in files:
        p = os.path.join(root, f)
        seen.add((hashlib.sha256(open(p, "rb").read()).hexdigest(), os.path.getsize(p)))
print(len(pins), len(seen), len(pins - seen), len(seen - pins))
sys.exit(0 if pins == seen else 1)
PY
check "... and every .deb there is a pinned one, by SHA256 and size ($(cat "$T/deb-check"))" test $? -eq 0
net=$WB_BUILD_ROOT/e2e-rebuild.net
check "the independent build's network namespace had only the loopback, and no route" \
        sh -c 'grep -q "^routes:\$" "$1" && [ "$(sed "/^routes:\$/,\$d" "$1" | awk "{print \$2}" | sort -u)" = lo ] &&
                [ -z "$(sed "1,/^routes:\$/d" "$1" | grep -v "^::1 dev lo")" ]' sh "$net"
diag_file "$net" 4
served=$WB_BUILD_ROOT/e2e-rebuild.served
n_served=$(grep -c '"GET /pool/[^ ]*\.deb HTTP/1\.[01]" 200 ' "$served" 2>/dev/null)
if [ -n "$rebuild_warm" ]; then
        skip_one "the independent build had every step cached here (warm cache): it downloaded nothing (fresh in CI)"
        skip_one "... nor its package indexes"
else
        check "it got its .debs from the published sources on 127.0.0.1 (${n_served:-0} served)" test "${n_served:-0}" -gt 50
        check "... and its InRelease and package indexes" \
                sh -c 'grep -q "\"GET /dists/trixie/InRelease HTTP/1\.[01]\" 200 " "$1" &&
                        grep -Eq "\"GET /dists/trixie/main/binary-amd64/(by-hash/SHA256/[0-9a-f]{64}|Packages\.xz) HTTP/1\.[01]\" 200 " "$1"' \
                sh "$served"
fi
check "... and asked for nothing the sources do not hold (no 404)" bash -c "! grep -q '\" 404 ' '$served'"
diag "$(grep -c '" 404 ' "$served") requests not found"

info=$rel/whonix.buildinfo
n_images=$(grep -c '^Packages-' "$info")
artifacts=$(sed -n 's/^[0-9a-f]\{64\}  //p' "$rel/SHA256SUMS" | grep -v '^whonix.buildinfo$')

# verify, as a third party runs it: in the independent build's environment
# (Debian 13 unless WB_E2E_REBUILD_ENV=host), a different clock zone,
# locale and umask than the first build, and only the published sources to
# reach.
e2e_env_cmd "$T"
if [ "$WB_E2E_REBUILD_ENV" = trixie ]; then
        debian=$("${E2E_ENV[@]}" cat /etc/debian_version 2>/dev/null)
        check "verify runs in a Debian 13 environment made here ($debian), with whonix-build built there" \
                sh -c '[ "${1%%.*}" = 13 ] && [ -x "$2" ] && grep -q "^whonix-build .*($3)" "$4"' sh "$debian" \
                "$E2E_ENV_WB" "$(git -C "$WB_SOURCE_ROOT" rev-parse --short=12 HEAD)" "$WB_E2E_TRIXIE.log"
        diag "$(tail -n 1 "$WB_E2E_TRIXIE.log")"
fi
start=$(date +%s)
(
        flock 9
        umask 077 && export TZ=America/St_Johns LANG=C.UTF-8 LC_ALL=C.UTF-8 &&
                e2e_offline "$T/verify" "${E2E_ENV[@]}" sh -c 'cd "$0" && exec "$@"' "$T" \
                "$E2E_ENV_WB" verify "$info" "$rel" --cache "$WB_TEST_CACHE" \
                --rebuild-cache "$WB_E2E_REBUILD_CACHE" --mirror "http://127.0.0.1:$WB_E2E_SOURCES_PORT" \
                --output "$T/rebuilt" >"$T/verify.out" 2>"$T/verify.err"
) 9>"$WB_BUILD_ROOT/e2e-build.lock"
rc=$?
diag "verify (a rebuild from the buildinfo, in the independent build's cache) took $(( $(date +%s) - start )) s"
grep '^stage' "$T/verify.err" | sed 's/^/# /'
sed 's/^/# /' "$T/verify.out"
tail -n 5 "$T/verify.err" | sed 's/^/# /'
# verify must run to the end and find every artifact bit-identical (its
# explanation of a difference is printed above).
check "verify of the e2e build passes (exit $rc)" test "$rc" -eq 0
check "verify, offline, took the pinned InRelease from the published sources" \
        grep -q '"GET /dists/trixie/InRelease HTTP/1\.[01]" 200 ' "$T/verify.served"
check "verify rebuilt in the independent build's cache, pinning the release's InRelease" \
        sh -c 'grep -q "rebuilding in your own cache .$1." "$2" && grep -Eq "^stage fetch .* sha256 $3" "$2"' \
        sh "$WB_E2E_REBUILD_CACHE" "$T/verify.err" "$(sed -n 's/^InRelease-SHA256: \(.\{16\}\).*/\1/p' "$info")"
check "every stage of verify's rebuild is the independent build's (cached there: same inputs, same keys)" \
        sh -c '! grep -Eq "^stage (bootstrap|customize|finalize) +[0-9.]+ s  built" "$1" &&
                [ "$(grep -Ec "^stage finalize +[0-9.]+ s  cached disk" "$1")" -eq "$2" ]' sh "$T/verify.err" "$n_images"
check "the release verified has $n_images images and their XML ($(wc -w <<<"$artifacts") artifacts)" \
        test "$(wc -w <<<"$artifacts")" -eq $((2 * n_images + 2))
for a in $artifacts; do
        check "verify: $a matches bit for bit" grep -Eq "^MATCH +$a " "$T/verify.out"
done
# The tools that wrote the bytes: the image's own e2fsprogs, the archive's
# debootstrap, the host's kernel and libraries.
check "the buildinfo records the tools: e2fsprogs from the image, debootstrap from the archive, the kernel from the host" \
        sh -c 'grep -Eq "^ e2fsprogs [^ ]+ image\$" "$1" && grep -Eq "^ debootstrap [^ ]+ archive\$" "$1" &&
                grep -Eq "^ linux-image-[^ ]+ [^ ]+ host\$" "$1" && grep -Eq "^ zlib [^ ]+ host\$" "$1"' sh "$info"
if [ "$WB_E2E_REBUILD_ENV" = trixie ]; then
        # Debian 13's kernel, qemu, libguestfs ... differ from this host's:
        # verify names them, and only tools of the host (the image's and
        # the archive's are pinned).
        check "verify names the host tools that differ in Debian 13 (the kernel, qemu), none of the image or archive" \
                sh -c 'grep -Eq "^TOOL +linux-image-[^ ]+ \(host\): .* in the release, not in the rebuild" "$1" &&
                        grep -Eq "^TOOL +qemu-system-x86 \(host\): [^ ]+ in the release, [^ ]+ in the rebuild" "$1" &&
                        ! grep -Eq "^TOOL .*\((image|archive)\)" "$1"' sh "$T/verify.out"
else
        check "verify names no tool as differing (the same host built both)" sh -c '! grep -q "^TOOL" "$1"' sh "$T/verify.out"
fi
# A snapshot of the archive (--snapshot BASE/archive/debian/STAMP): the
# published sources laid out as snapshot.debian.org lays out its archive,
# served offline.  The build from it is the release itself (every stage
# cached: where packages come from is in no key), its buildinfo records the
# snapshot as its mirror, and verify, without --mirror, rebuilds from there.
stamp=$(date -u -d "@$(sed -n 's/^Source-Date-Epoch: //p' "$info")" +%Y%m%dT%H%M%SZ)
mkdir -p "$T/snap/archive/debian"
ln -s "$WB_E2E_SOURCES" "$T/snap/archive/debian/$stamp"
snap=http://127.0.0.1:$WB_E2E_SOURCES_PORT/archive/debian/$stamp
(
        flock 9
        WB_E2E_SOURCES=$T/snap e2e_offline "$T/snap-build" "$WHONIX_BUILD" --flavor "$WB_E2E_REBUILD_FLAVORS" --target kvm \
                --snapshot "$snap" --cache "$WB_TEST_CACHE" --output "$T/snap-out" >"$T/snap-build.out" 2>&1
) 9>"$WB_BUILD_ROOT/e2e-build.lock"
rc=$?
grep -E '^stage (recipe|fetch)|error' "$T/snap-build.out" | sed 's/^/# /'
check "a build from the snapshot $stamp, offline, succeeds (exit $rc)" \
        sh -c '[ "$1" -eq 0 ] && grep -q "^stage recipe .* mirror $2 (a snapshot of the archive)" "$3" &&
                grep -q "\"GET /archive/debian/$4/dists/trixie/InRelease HTTP/1\.[01]\" 200 " "$5"' \
        sh "$rc" "$snap" "$T/snap-build.out" "$stamp" "$T/snap-build.served"
check "... its buildinfo records the snapshot as its mirror" grep -qx "Mirror: $snap" "$T/snap-out/whonix.buildinfo"
check "... and its images are the release's, bit for bit" \
        sh -c 'for a in $3; do [ "$(sha256sum <"$1/$a")" = "$(sha256sum <"$2/$a")" ] || exit 1; done' \
        sh "$rel" "$T/snap-out" "$artifacts"
(
        flock 9
        WB_E2E_SOURCES=$T/snap e2e_offline "$T/snap-verify" "$WHONIX_BUILD" verify "$T/snap-out/whonix.buildinfo" \
                "$T/snap-out" --cache "$WB_TEST_CACHE" --rebuild-cache "$WB_E2E_REBUILD_CACHE" >"$T/snap-verify.out" 2>&1
) 9>"$WB_BUILD_ROOT/e2e-build.lock"
rc=$?
check "verify of that release, offline, takes the snapshot from its buildinfo: every artifact MATCH (exit $rc)" \
        sh -c '[ "$1" -eq 0 ] && [ "$(grep -c "^MATCH " "$2")" -eq "$3" ] &&
                grep -q "\"GET /archive/debian/$4/dists/trixie/InRelease HTTP/1\.[01]\" 200 " "$5"' \
        sh "$rc" "$T/snap-verify.out" "$(wc -w <<<"$artifacts")" "$stamp" "$T/snap-verify.served"
tail -n 3 "$T/snap-verify.out" | sed 's/^/# /'

"$WHONIX_BUILD" verify "$info" "$rel" --cache "$WB_TEST_CACHE" --rebuild-cache "$WB_TEST_CACHE" >"$T/same.out" 2>&1
rc=$?
check "verify refuses a rebuild cache that is the main cache (exit $rc)" \
        sh -c '[ "$1" -eq 1 ] && grep -q "is the main cache: a rebuild must use a cache of its own" "$2"' sh "$rc" "$T/same.out"

# One byte of /etc/hostname changed in a copy of the Workstation image.
mkdir "$T/tampered"
for f in "$rel"/*; do ln -s "$f" "$T/tampered/"; done
rm "$T/tampered/Whonix-Workstation.qcow2"
cp --sparse=always "$rel/Whonix-Workstation.qcow2" "$T/tampered/"
"$inspect" "$rel/Whonix-Workstation.qcow2" /dev/sda2 cat /etc/hostname >"$T/hostname"
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

# A rebuild whose tools were the release's but for zlib and debootstrap
# (its buildinfo says so): verify names both beside its verdicts, which the
# bytes decide.
cp -a "$T/rebuilt" "$T/rebuilt-tools"
sed -e 's/^ zlib [^ ]* host$/ zlib 9.9.9 host/' -e 's/^ debootstrap [^ ]* archive$/ debootstrap 9.9 archive/' \
        "$info" >"$T/rebuilt-tools/whonix.buildinfo"
"$WHONIX_BUILD" verify "$info" "$rel" --rebuilt "$T/rebuilt-tools" --cache "$WB_TEST_CACHE" >"$T/tools.out" 2>&1
rc=$?
grep '^TOOL' "$T/tools.out" | sed 's/^/# /'
check "verify names the tools that differ in the rebuild, and still matches (exit $rc)" \
        sh -c '[ "$1" -eq 0 ] && grep -Eq "^TOOL +zlib \(host\): [^ ]+ in the release, 9\.9\.9 in the rebuild\$" "$2" &&
                grep -Eq "^TOOL +debootstrap \(archive\): [^ ]+ in the release, 9\.9 in the rebuild\$" "$2" &&
                [ "$(grep -c "^TOOL" "$2")" -eq 2 ] && grep -Eq "^MATCH +Whonix-Gateway.qcow2 " "$2"' sh "$rc" "$T/tools.out"
rm -rf "$T/rebuilt-tools"

# verify --json against that rebuild (--rebuilt: nothing built): the report
# follows schema 1 and says match; then a rebuilt file changed after its
# rebuild (an XML) is found by its own hash, not taken on its buildinfo's
# word: differs, naming it.
json_check="$WB_SOURCE_ROOT/tests/helpers/check-verb-json.py"
"$WHONIX_BUILD" verify "$info" "$rel" --rebuilt "$T/rebuilt" --cache "$WB_TEST_CACHE" --json >"$T/vj.json" 2>"$T/vj.err"
rc=$?
res=$(python3 "$json_check" verify "$T/vj.json" result=match exit_status=0 2>&1)
check "verify --json: a schema-1 report, every artifact 'match' (exit $rc; $(head -n 1 <<<"$res"))" \
        sh -c '[ "$1" -eq 0 ] && [ "${2#ok }" != "$2" ]' sh "$rc" "$res"
sed -i 's/Whonix-Internal/Whonix-Internax/' "$T/rebuilt/Whonix-Internal.xml"
"$WHONIX_BUILD" verify "$info" "$rel" --rebuilt "$T/rebuilt" --cache "$WB_TEST_CACHE" --json >"$T/vj2.json" 2>"$T/vj2.err"
rc=$?
res=$(python3 "$json_check" verify "$T/vj2.json" result=differs exit_status=1 2>&1)
check "verify --json: a rebuilt file changed after its rebuild is hashed itself: 'differs' (exit $rc; $(head -n 1 <<<"$res"))" \
        sh -c '[ "$1" -eq 1 ] && [ "${2#ok }" != "$2" ]' sh "$rc" "$res"
check "... naming Whonix-Internal.xml alone, and why" python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
bad = [a for a in d["artifacts"] if a["status"] != "match"]
assert [a["name"] for a in bad] == ["Whonix-Internal.xml"], bad
assert any("is not the file its buildinfo describes" in e for e in bad[0]["explain"]), bad[0]["explain"]' "$T/vj2.json"


done_testing
