#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Debian package: dpkg-buildpackage -us -uc -b in a clean copy of the
# checkout makes whonix-build_*.deb (build-depends from Debian only), which
# lintian passes without an error; installed, /usr/bin/whonix-build runs
# without the checkout: --version, and recipes from
# /usr/share/whonix-build, with its man page and bash and zsh completion; then the
# package is removed again.  A host that has whonix-build installed
# already is left alone (the install part skips, saying so).
. "$WB_SOURCE_ROOT/tests/lib.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (dpkg -i)"
for tool in dpkg-buildpackage dh lintian git; do
        command -v "$tool" >/dev/null || skip_all "$tool is not installed (tools/install-deps)"
done

T=$(mktemp -d /tmp/wb-deb.XXXXXX)
installed_here=
cleanup() {
        [ -n "$installed_here" ] && dpkg --purge whonix-build >/dev/null 2>&1
        rm -rf "$T"
}
on_exit cleanup

# A clean copy: the files git knows (as they are now) and .git (the
# version names the commit); without git, the tree without build dirs.
mkdir "$T/src"
if commit=$(git -C "$WB_SOURCE_ROOT" rev-parse --short=12 HEAD 2>/dev/null); then
        (cd "$WB_SOURCE_ROOT" && git ls-files -z | tar --null -T - -cf - .git) | tar -xf - -C "$T/src"
else
        commit=unknown
        tar -C "$WB_SOURCE_ROOT" --exclude=./build --exclude='./obj-*' -cf - . | tar -xf - -C "$T/src"
fi
check "a clean copy of the checkout has debian/" test -x "$T/src/debian/rules"
start=$(date +%s)
# The suite runs the package's own tests already (nocheck), and the
# compile uses every CPU.
(cd "$T/src" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" dpkg-buildpackage -us -uc -b) >"$T/build.log" 2>&1
rc=$?
diag "dpkg-buildpackage took $(( $(date +%s) - start )) s"
check "dpkg-buildpackage -us -uc -b succeeds (exit $rc)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$T/build.log" 20
deb=$(ls "$T"/whonix-build_*_amd64.deb 2>/dev/null | head -n 1)
check "it makes whonix-build's .deb ($(basename "${deb:-none}"))" test -s "$deb"
lintian "$T"/whonix-build_*_amd64.changes >"$T/lintian.log" 2>&1
diag_file "$T/lintian.log" 10
check "lintian finds no error ($(grep -c '^E:' "$T/lintian.log") errors, $(grep -c '^W:' "$T/lintian.log") warnings)" \
        sh -c '! grep -q "^E:" "$1"' sh "$T/lintian.log"
dpkg-deb -c "$deb" >"$T/contents"
for f in ./usr/bin/whonix-build ./usr/share/man/man1/whonix-build.1.gz ./usr/share/bash-completion/completions/whonix-build \
        ./usr/share/zsh/vendor-completions/_whonix-build \
        ./usr/share/whonix-build/recipes/whonix-gateway.conf ./usr/share/whonix-build/keys/suites \
        ./usr/share/whonix-build/overlays/whonix-gateway/etc/tor/torrc; do
        check "the package holds ${f#.}" grep -q " $f\$" "$T/contents"
done

if dpkg-query -W -f='${Status}' whonix-build 2>/dev/null | grep -q ' installed$'; then
        skip_one "whonix-build is installed on this host already: the package is not installed over it"
        done_testing
        exit
fi
dpkg -i "$deb" >"$T/install.log" 2>&1
rc=$?
[ "$rc" -eq 0 ] && installed_here=yes
check "dpkg -i installs it (exit $rc)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$T/install.log" 10
(cd / && env -u WHONIX_BUILD_DATA_DIR /usr/bin/whonix-build --version) >"$T/version" 2>&1
check "the installed whonix-build --version: $(head -n 1 "$T/version")" \
        grep -Eq "^whonix-build [0-9]+\.[0-9]+\.[0-9]+ \($commit\)" "$T/version"
(cd / && env -u WHONIX_BUILD_DATA_DIR /usr/bin/whonix-build recipes) >"$T/recipes" 2>&1
check "the installed whonix-build recipes: the recipes of /usr/share/whonix-build, not the checkout's" \
        sh -c 'grep -q "^whonix-gateway " "$1" && cmp -s /usr/share/whonix-build/recipes/whonix-gateway.conf "$2/recipes/whonix-gateway.conf"' \
        sh "$T/recipes" "$WB_SOURCE_ROOT"
(cd / && env -u WHONIX_BUILD_DATA_DIR strace -f -e trace=openat -o "$T/strace" /usr/bin/whonix-build recipes) >/dev/null 2>&1 &&
        check "... and it opens nothing of the checkout" sh -c '! grep -q "$1" "$2"' sh "$WB_SOURCE_ROOT" "$T/strace"
check "its man page and bash and zsh completion are installed" \
        test -s /usr/share/man/man1/whonix-build.1.gz -a -s /usr/share/bash-completion/completions/whonix-build \
        -a -s /usr/share/zsh/vendor-completions/_whonix-build
dpkg --purge whonix-build >/dev/null 2>&1
rc=$?
[ "$rc" -eq 0 ] && installed_here=
check "dpkg --purge removes it again (exit $rc)" sh -c '[ "$1" -eq 0 ] && [ ! -e /usr/bin/whonix-build ] && [ ! -d /usr/share/whonix-build ]' sh "$rc"
done_testing
