# SPDX-License-Identifier: GPL-2.0-or-later
# aptrepo.sh: a small signed apt repository for tests (bash, source it).
#
#   make_apt_repo DIR TOKEN
# writes into DIR (which must be empty or absent) a repository with one
# suite "wb-test", component "main", one package "wb-test-hello" 1.0 (all)
# whose file /usr/share/wb-test-hello/token holds TOKEN, an InRelease signed
# by a throwaway ed25519 key (DIR/gnupg, never the user's), and that key as
# a binary keyring for Signed-By (DIR/wb-test.gpg, outside the served tree
# DIR/repo).  Serve DIR/repo; a client's source:
#     Types: deb
#     URIs: <base URL of DIR/repo>
#     Suites: wb-test
#     Components: main
#     Signed-By: <the keyring>
# The Release's Date is ten minutes in the past, so that a client whose
# clock is a little behind still accepts it.  Needs gpg and dpkg-deb.
make_apt_repo() { # dir token
        local d=$1 token=$2 pkg pool deb size sha date
        mkdir -p "$d/gnupg" "$d/repo" "$d/pkg" && chmod 700 "$d/gnupg" || return 1
        pkg=$d/pkg/wb-test-hello
        mkdir -p "$pkg/DEBIAN" "$pkg/usr/share/wb-test-hello" || return 1
        printf '%s\n' "$token" >"$pkg/usr/share/wb-test-hello/token"
        cat >"$pkg/DEBIAN/control" <<CONTROL
Package: wb-test-hello
Version: 1.0
Architecture: all
Maintainer: whonix-build tests <tests@wb-test.invalid>
Priority: optional
Section: misc
Description: whonix-build test package
 Installed over Tor by the e2e tests to prove that updates work.
CONTROL
        pool=$d/repo/pool/main
        mkdir -p "$pool" "$d/repo/dists/wb-test/main/binary-amd64" || return 1
        deb=$pool/wb-test-hello_1.0_all.deb
        dpkg-deb --root-owner-group -Zgzip --build "$pkg" "$deb" >/dev/null || return 1
        size=$(stat -c %s "$deb")
        sha=$(sha256sum "$deb" | cut -d' ' -f1)
        {
                grep -v '^Description\|^ ' "$pkg/DEBIAN/control"
                printf 'Filename: pool/main/wb-test-hello_1.0_all.deb\nSize: %s\nSHA256: %s\n' "$size" "$sha"
                printf 'Description: whonix-build test package\n Installed over Tor by the e2e tests to prove that updates work.\n\n'
        } >"$d/repo/dists/wb-test/main/binary-amd64/Packages"
        gzip -9nk "$d/repo/dists/wb-test/main/binary-amd64/Packages" || return 1
        date=$(LC_ALL=C date -u -d '-10 minutes' '+%a, %d %b %Y %H:%M:%S UTC')
        {
                printf 'Origin: wb-test\nLabel: wb-test\nSuite: wb-test\nCodename: wb-test\n'
                printf 'Date: %s\nArchitectures: amd64 all\nComponents: main\n' "$date"
                printf 'Description: whonix-build test repository\nSHA256:\n'
                for f in main/binary-amd64/Packages main/binary-amd64/Packages.gz; do
                        printf ' %s %s %s\n' "$(sha256sum "$d/repo/dists/wb-test/$f" | cut -d' ' -f1)" \
                                "$(stat -c %s "$d/repo/dists/wb-test/$f")" "$f"
                done
        } >"$d/repo/dists/wb-test/Release"
        gpg --homedir "$d/gnupg" --batch --quiet --pinentry-mode loopback --passphrase '' \
                --quick-gen-key 'whonix-build test repository <tests@wb-test.invalid>' ed25519 sign never \
                2>/dev/null || return 1
        gpg --homedir "$d/gnupg" --batch --quiet --clearsign -o "$d/repo/dists/wb-test/InRelease" \
                "$d/repo/dists/wb-test/Release" 2>/dev/null || return 1
        gpg --homedir "$d/gnupg" --batch --export >"$d/wb-test.gpg" || return 1
        [ -s "$d/wb-test.gpg" ]
}
