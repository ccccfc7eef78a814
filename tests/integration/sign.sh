#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# sign and verify-signature as a publisher and a user run them, on a small
# directory made here (no VM): throwaway keys in temporary GnuPG homes,
# then good, tampered, foreign-key, missing-signature and no-such-key cases.
. "$WB_SOURCE_ROOT/tests/lib.sh"
command -v gpg >/dev/null || skip_all "gpg is not installed"
command -v gpgconf >/dev/null || skip_all "gpgconf is not installed"

T=$(mktemp -d)
cleanup() {
        for h in "$T"/home-*; do
                [ -d "$h" ] && gpgconf --homedir "$h" --kill all 2>/dev/null
        done
        rm -rf "$T"
}
trap cleanup EXIT
# Nothing here may touch the user's own keyring.
export GNUPGHOME="$T/home-default"
mkdir -m 700 "$GNUPGHOME" "$T/home-a" "$T/home-b" "$T/home-plain"
wb=$WHONIX_BUILD

A=$(gpg_new_key "$T/home-a" "Release A <a@example.org>")
B=$(gpg_new_key "$T/home-b" "Release B <b@example.org>")
check "throwaway keys A and B" test -n "$A" -a -n "$B"
gpg --batch --homedir "$T/home-a" --armor --export "$A" >"$T/a.asc"
gpg --batch --homedir "$T/home-b" --armor --export "$B" >"$T/b.asc"

mkrelease() {
        mkdir -p "$1"
        printf 'gateway disk\n' >"$1/Whonix-Gateway.qcow2"
        printf '<domain/>\n' >"$1/Whonix-Gateway.xml"
        printf '<network/>\n' >"$1/Whonix-Internal.xml"
}
mkrelease "$T/rel"

"$wb" sign "$T/rel" --sign-key "$A" --gpg-home "$T/home-a" >"$T/out" 2>&1
check "sign exits 0" test $? -eq 0
check "sign says what it signed" grep -q "signed 3 file(s) and SHA256SUMS in '$T/rel' with key $A" "$T/out"
for f in Whonix-Gateway.qcow2 Whonix-Gateway.xml Whonix-Internal.xml SHA256SUMS; do
        check "$f.asc is an armored signature" grep -q -- '^-----BEGIN PGP SIGNATURE-----$' "$T/rel/$f.asc"
done
check "no staging directory left" test -z "$(find "$T/rel" -name '.*' ! -name . )"
if command -v sha256sum >/dev/null; then
        check "sha256sum -c --strict accepts SHA256SUMS" sh -c 'cd "$1" && sha256sum -c --strict --quiet SHA256SUMS' sh "$T/rel"
fi
gpg --batch --homedir "$T/home-plain" --import "$T/a.asc" 2>/dev/null
check "plain gpg --verify accepts SHA256SUMS.asc" \
        gpg --batch --homedir "$T/home-plain" --verify "$T/rel/SHA256SUMS.asc" "$T/rel/SHA256SUMS"

verify() { # dir, key file: sets rc, output in $T/v (stdout) and $T/e (stderr)
        "$wb" verify-signature "$1" --key "$2" >"$T/v" 2>"$T/e"
        rc=$?
}
verify "$T/rel" "$T/a.asc"
check "verify-signature of the good directory exits 0 (got $rc)" test "$rc" -eq 0
check "SHA256SUMS: good signature by A" grep -qx "OK   SHA256SUMS: good signature by $A" "$T/v"
check "one OK line per file" test "$(grep -c '^OK   Whonix-.*: sha256 matches, good signature by ' "$T/v")" -eq 3
check "the verdict names the key" grep -q "all 3 file(s) in '$T/rel' match SHA256SUMS, signed by key $A" "$T/e"
diag_file "$T/v" 4

# A full $TMPDIR (a 1 MiB tmpfs, filled, in a namespace of our own): the
# message says where and what to do, not that the key has no usable key.
if unshare -rm true 2>/dev/null; then
        mkdir "$T/full"
        unshare -rm sh -c 'mount -t tmpfs -o size=1m tmpfs "$1" && { dd if=/dev/zero of="$1/fill" bs=4k 2>/dev/null; true; } &&
                TMPDIR="$1" "$2" verify-signature "$3" --key "$4"' sh "$T/full" "$wb" "$T/rel" "$T/a.asc" \
                >"$T/v-full" 2>"$T/e-full"
        rc=$?
        diag_file "$T/e-full" 2
        check "verify-signature with a full \$TMPDIR fails (exit $rc)" test "$rc" -eq 1
        check "... saying that the temporary keyring's filesystem is full, and what to do" \
                bash -c "grep -q 'No space left on device' '$T/e-full' && grep -q 'set TMPDIR to a filesystem with free space' '$T/e-full' && ! grep -q 'no usable OpenPGP key' '$T/e-full'"
else
        skip_one "unshare -rm is not allowed here: the full-\$TMPDIR check did not run"
fi

cp -a "$T/rel" "$T/tampered"
printf 'evil\n' >>"$T/tampered/Whonix-Gateway.xml"
verify "$T/tampered" "$T/a.asc"
check "a tampered file: exit 1 (got $rc)" test "$rc" -eq 1
check "a tampered file: BAD line" grep -q '^BAD  Whonix-Gateway.xml: sha256 .* does not match SHA256SUMS' "$T/v"
check "a tampered file: the error names it" grep -q "failed: 'Whonix-Gateway.xml'" "$T/e"

cp -a "$T/rel" "$T/sums"
printf '%s  %s\n' "$(printf x | sha256sum | cut -d' ' -f1)" Whonix-Extra.xml >>"$T/sums/SHA256SUMS"
verify "$T/sums" "$T/a.asc"
check "a tampered SHA256SUMS: exit 1 (got $rc)" test "$rc" -eq 1
check "a tampered SHA256SUMS: its signature is bad" grep -q "^BAD  SHA256SUMS: 'SHA256SUMS.asc': signature is bad" "$T/v"

verify "$T/rel" "$T/b.asc"
check "another key: exit 1 (got $rc)" test "$rc" -eq 1
check "another key: signed by unknown key A" grep -q "signed by unknown key $A" "$T/e"

cp -a "$T/rel" "$T/missing"
rm "$T/missing/Whonix-Internal.xml.asc"
verify "$T/missing" "$T/a.asc"
check "a missing .asc: exit 1 (got $rc)" test "$rc" -eq 1
check "a missing .asc: the error names it" grep -q "'Whonix-Internal.xml': not signed ('Whonix-Internal.xml.asc' is missing)" "$T/e"
rm "$T/missing/SHA256SUMS"
verify "$T/missing" "$T/a.asc"
check "no SHA256SUMS: exit 1 (got $rc)" test "$rc" -eq 1
check "no SHA256SUMS: the error names it" grep -q "SHA256SUMS'" "$T/e"

mkrelease "$T/nokey"
"$wb" sign "$T/nokey" --sign-key 0123456789ABCDEF0123456789ABCDEF01234567 --gpg-home "$T/home-a" >"$T/out" 2>&1
rc=$?
check "no such key: exit 1 (got $rc)" test "$rc" -eq 1
check "no such key: the error names it" grep -q 'no secret key 0123456789ABCDEF0123456789ABCDEF01234567' "$T/out"
check "no such key: nothing was written" test "$(ls -A "$T/nokey" | wc -l)" -eq 3

# A build with a key that cannot sign stops before its first stage (so
# this needs no network and no appliance), naming the key.
mkdir -m 700 "$T/home-locked"
gpg --batch --homedir "$T/home-locked" --pinentry-mode loopback --passphrase secret \
        --quick-gen-key "Locked <l@example.org>" ed25519 sign never >/dev/null 2>&1
L=$(gpg --batch --homedir "$T/home-locked" --with-colons --list-secret-keys | awk -F: '$1 == "fpr" { print $10; exit }')
gpgconf --homedir "$T/home-locked" --kill gpg-agent # forget the cached passphrase
for k in "0123456789ABCDEF0123456789ABCDEF01234567 home-a no secret key" "$L home-locked needs a passphrase"; do
        set -- $k
        fpr=$1 home=$2; shift 2
        start=$(date +%s)
        "$wb" --sign-key "$fpr" --gpg-home "$T/$home" --output "$T/build-out" --cache "$T/cache" \
                --mirror http://127.0.0.1:9/debian </dev/null >"$T/b" 2>&1
        rc=$?
        check "build with an unusable key ($*): exit 1 (got $rc)" test "$rc" -eq 1
        check "build with an unusable key ($*): the error names the key" grep -q "error: .*$*.*$fpr\|error: .*$fpr.*$*" "$T/b"
        check "build with an unusable key ($*): stops at once, before the recipe stage" \
                test "$(($(date +%s) - start))" -lt 30 -a ! -e "$T/build-out" -a -z "$(grep '^stage ' "$T/b")"
        diag_file "$T/b" 2
done

usage() { # description, expected message, args...
        local what=$1 m=$2; shift 2
        "$wb" "$@" >"$T/u" 2>&1
        local rc=$?
        check "$what: exit 2 (got $rc)" test "$rc" -eq 2
        check "$what: message says '$m'" grep -qF -- "$m" "$T/u"
}
usage "verify-signature without --key" "verify-signature needs --key" verify-signature "$T/rel"
usage "sign without --sign-key" "sign needs --sign-key" sign "$T/rel"
usage "a short key ID" "bad --sign-key '$(echo "$A" | tail -c 17)'" sign "$T/rel" --sign-key "$(echo "$A" | tail -c 17)"
usage "verify-signature without DIR" "'verify-signature' takes other arguments" verify-signature --key "$T/a.asc"

done_testing
