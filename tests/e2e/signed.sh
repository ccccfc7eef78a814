#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A signed release as a publisher makes it and a user checks it: the e2e
# build (every stage but export from the cache) with --sign-key, then
# whonix-build verify-signature and plain gpg against the exported key.
. "$WB_SOURCE_ROOT/tests/lib.sh"
. "$WB_SOURCE_ROOT/tests/e2e/images.sh"
need_appliance
command -v gpg >/dev/null || skip_all "gpg is not installed (tools/install-deps)"

T=$(mktemp -d)
export GNUPGHOME=$T/gnupg
cleanup() {
        gpgconf --homedir "$GNUPGHOME" --kill all 2>/dev/null
        gpgconf --homedir "$T/other" --kill all 2>/dev/null
        rm -rf "$T"
}
trap cleanup EXIT
mkdir -m 700 "$GNUPGHOME" "$T/other"

ensure_images || { fail "the images were built"; done_testing; exit; }

gpg --batch --passphrase '' --quick-gen-key 'whonix-build e2e <e2e@example.invalid>' ed25519 sign 1d 2>/dev/null
fpr=$(gpg --with-colons --list-secret-keys | awk -F: '/^fpr:/ {print $10; exit}')
check "a throwaway signing key was made" test -n "$fpr"
gpg --armor --export "$fpr" >"$T/release-key.asc"

start=$(date +%s)
(
        flock 9
        "$WHONIX_BUILD" --target kvm --cache "$WB_TEST_CACHE" --output "$T/signed" --sign-key "$fpr" \
                --gpg-home "$GNUPGHOME" >"$T/build.log" 2>&1
) 9>"$WB_BUILD_ROOT/e2e-build.lock"
rc=$?
diag "signed build (cached stages, export, sign) took $(( $(date +%s) - start )) s"
grep '^stage sign' "$T/build.log" | sed 's/^/# /'
check "a build with --sign-key succeeds (exit $rc)" test "$rc" -eq 0
check "the build does not warn that the output is unsigned" bash -c "! grep -q 'NOT SIGNED' '$T/build.log'"
for f in Whonix-Gateway.qcow2 Whonix-Workstation.qcow2 Whonix-Gateway.xml Whonix-Workstation.xml \
        Whonix-External.xml Whonix-Internal.xml whonix.buildinfo SHA256SUMS; do
        check "$f.asc is written" test -s "$T/signed/$f.asc"
        check "$f.asc verifies with plain gpg" gpg --batch --verify "$T/signed/$f.asc" "$T/signed/$f"
done
check "SHA256SUMS checks with sha256sum" bash -c "cd '$T/signed' && sha256sum -c --strict --quiet SHA256SUMS"

"$WHONIX_BUILD" verify-signature "$T/signed" --key "$T/release-key.asc" >"$T/vs.out" 2>&1
check "whonix-build verify-signature accepts the release" test $? -eq 0
sed 's/^/# /' "$T/vs.out" | head -n 12

GNUPGHOME=$T/other gpg --batch --passphrase '' --quick-gen-key 'someone else <x@example.invalid>' ed25519 sign 1d 2>/dev/null
GNUPGHOME=$T/other gpg --armor --export >"$T/other-key.asc"
"$WHONIX_BUILD" verify-signature "$T/signed" --key "$T/other-key.asc" >"$T/vs2.out" 2>&1
check "verify-signature refuses the release with another (valid) key" test $? -eq 1

done_testing
