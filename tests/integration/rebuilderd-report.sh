#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# whonix-build rebuilderd-report, as a rebuilderd operator runs it, against a
# small release made here and signed with a throwaway key (no VM), read from
# file://: the JSON is the package report rebuildctl pkgs sync-stdin reads
# (one group: name, version, distro, suite, architecture, input_url, the
# artifacts with their URLs); then a buildinfo changed after signing, a
# foreign key, an artifact SHA256SUMS does not list, and a missing release
# are refused, saying why.
. "$WB_SOURCE_ROOT/tests/lib.sh"
command -v gpg >/dev/null || skip_all "gpg is not installed"
command -v python3 >/dev/null || skip_all "python3 is not installed"

T=$(mktemp -d)
cleanup() {
        for h in "$T"/home-*; do
                [ -d "$h" ] && gpgconf --homedir "$h" --kill all 2>/dev/null
        done
        rm -rf "$T"
}
trap cleanup EXIT
export GNUPGHOME="$T/home-default"
mkdir -m 700 "$GNUPGHOME" "$T/home-a" "$T/home-b"
wb=$WHONIX_BUILD

A=$(gpg_new_key "$T/home-a" "Release A <a@example.org>")
B=$(gpg_new_key "$T/home-b" "Release B <b@example.org>")
gpg --batch --homedir "$T/home-a" --armor --export "$A" >"$T/a.asc"
gpg --batch --homedir "$T/home-b" --armor --export "$B" >"$T/b.asc"
check "throwaway keys A and B" test -s "$T/a.asc" -a -s "$T/b.asc"

# A release: two artifacts and a buildinfo (format 2) that names them.
rel=$T/rel
mkdir "$rel"
printf 'gateway disk\n' >"$rel/Whonix-Gateway.qcow2"
printf '<domain/>\n' >"$rel/Whonix-Gateway.xml"
art() { printf ' %s %s %s\n' "$(sha256sum "$rel/$1" | cut -d' ' -f1)" "$(stat -c %s "$rel/$1")" "$1"; }
h=1111111111111111111111111111111111111111111111111111111111111111
{
        printf 'Format: whonix-buildinfo 2\nTool-Version: 0.1.0\nTool-Commit: 3149ed09a953\n'
        printf 'Recipe-Tree-SHA256: %s\nTarget: kvm\nFlavors: gateway workstation\nSuite: trixie\n' "$h"
        printf 'Mirror: http://deb.debian.org/debian\nInRelease-SHA256: %s\n' "$h"
        printf 'InRelease-Signer: 4CB50190207B4758A3F73A796ED0E7B82643E131\nSource-Date-Epoch: 1764000000\n'
        printf 'Seed: whonix-build\nTools:\n zlib 1.2.13 host\nPackages-gateway:\n'
        printf ' base-files 13.8 amd64 %s 70123\nPackages-workstation:\n' "$h"
        printf ' base-files 13.8 amd64 %s 70123\nArtifacts:\n' "$h"
        art Whonix-Gateway.qcow2
        art Whonix-Gateway.xml
} >"$rel/whonix.buildinfo"
"$wb" sign "$rel" --sign-key "$A" --gpg-home "$T/home-a" >"$T/sign.out" 2>&1
check "the release is signed with key A" test -s "$rel/SHA256SUMS.asc" -a -s "$rel/whonix.buildinfo.asc"

"$wb" rebuilderd-report "file://$rel/" --key "$T/a.asc" >"$T/report.json" 2>"$T/report.err"
rc=$?
check "rebuilderd-report with the publisher's key succeeds (exit $rc)" test "$rc" -eq 0
diag_file "$T/report.err" 3
bi_sha=$(sha256sum "$rel/whonix.buildinfo" | cut -c1-12)
res=$(python3 - "$T/report.json" "file://$rel" "$bi_sha" <<'PY' 2>&1
import json, sys
doc = json.load(open(sys.argv[1]))
base, sha = sys.argv[2], sys.argv[3]
assert isinstance(doc, list) and len(doc) == 1, "one group"
g = doc[0]
assert set(g) == {"name", "version", "distro", "suite", "architecture", "input_url", "artifacts"}, sorted(g)
assert g["name"] == "whonix-kvm-gateway-workstation", g["name"]
assert g["version"] == "0.1.0+" + sha, g["version"]
assert (g["distro"], g["suite"], g["architecture"]) == ("whonix", "kvm", "amd64"), g
assert g["input_url"] == base + "/whonix.buildinfo", g["input_url"]
assert [a["name"] for a in g["artifacts"]] == ["Whonix-Gateway.qcow2", "Whonix-Gateway.xml"], g["artifacts"]
for a in g["artifacts"]:
    assert set(a) == {"name", "version", "url"} and a["version"] == g["version"], a
    assert a["url"] == base + "/" + a["name"], a
print("ok")
PY
)
check "the report is one group: name, version (the buildinfo's SHA256), whonix/kvm/amd64, input_url, artifact URLs ($res)" \
        test "$res" = ok
"$wb" rebuilderd-report "file://$rel" >"$T/nokey.json" 2>"$T/nokey.err"
check "without --key: the same report, and a warning that only the hashes were checked" \
        sh -c 'cmp -s "$1" "$2" && grep -q "no --key was given" "$3"' sh "$T/report.json" "$T/nokey.json" "$T/nokey.err"

refused() { # what, expected message, args...
        local what=$1 msg=$2
        shift 2
        "$wb" rebuilderd-report "$@" >"$T/r.out" 2>"$T/r.err"
        rc=$?
        check "refused: $what (exit $rc)" sh -c '[ "$1" -eq 1 ] && [ ! -s "$2" ] && grep -q -- "$3" "$4"' sh "$rc" \
                "$T/r.out" "$msg" "$T/r.err"
        diag_file "$T/r.err" 2
}
refused "a key that did not sign the release" "SHA256SUMS.asc" "file://$rel" --key "$T/b.asc"
cp -a "$rel" "$T/changed"
sed -i 's/^Seed: whonix-build$/Seed: whonix-buildx/' "$T/changed/whonix.buildinfo"
refused "a buildinfo changed after signing" "whonix.buildinfo" "file://$T/changed" --key "$T/a.asc"
refused "the same without a key: its SHA256 is not the listed one" "whonix.buildinfo has sha256" "file://$T/changed"
cp -a "$rel" "$T/unlisted"
sed -i '/Whonix-Gateway.xml$/d' "$T/unlisted/SHA256SUMS"
refused "an artifact of the buildinfo that SHA256SUMS does not list" \
        "'Whonix-Gateway.xml' of the buildinfo is not in SHA256SUMS" "file://$T/unlisted"
refused "no release at the URL" "SHA256SUMS" "file://$T/nothing-here"
"$wb" rebuilderd-report >"$T/r.out" 2>&1
check "no URL: a usage error (exit $?)" test $? -eq 2
done_testing
