#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The command line as a user meets it: help, version, recipes, usage errors.
. "$WB_SOURCE_ROOT/tests/lib.sh"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
wb=$WHONIX_BUILD

"$wb" --help >"$T/help" 2>&1
check "--help exits 0" test $? -eq 0
check "--help lists the targets" grep -q 'kvm|virtualbox' "$T/help"
check "--help documents the exit codes" grep -q '^  2    usage error' "$T/help"
"$wb" --version >"$T/version"
check "--version prints the version" grep -Eq '^whonix-build [0-9]+\.[0-9]+\.[0-9]+ ' "$T/version"

"$wb" recipes >"$T/recipes" 2>&1
check "recipes exits 0" test $? -eq 0
for r in kicksecure whonix-gateway whonix-workstation whonix-workstation-desktop; do
        check "recipes lists $r" grep -q "^$r " "$T/recipes"
done
# --json: a schema-1 report (tests/helpers/check-verb-json.py) with the
# same recipes and their descriptions; a data dir without recipes fails,
# saying why, as JSON too.
json_check="$WB_SOURCE_ROOT/tests/helpers/check-verb-json.py"
"$wb" recipes --json >"$T/recipes.json" 2>"$T/recipes.err"
rc=$?
res=$(python3 "$json_check" recipes "$T/recipes.json" result=ok 2>&1)
check "recipes --json: a schema-1 report (exit $rc; $(head -n 1 <<<"$res"))" \
        sh -c '[ "$1" -eq 0 ] && [ "${2#ok }" != "$2" ]' sh "$rc" "$res"
check "... naming the recipes the text lists, with their descriptions" python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
text = [l.split(None, 1) for l in open(sys.argv[2]) if l.strip()]
assert [[r["name"], r["description"]] for r in d["recipes"]] == [[n, t.strip()] for n, t in text], d["recipes"]' \
        "$T/recipes.json" "$T/recipes"
"$wb" recipes --json --data-dir "$T/no-such-dir" >"$T/recipes-bad.json" 2>/dev/null
rc=$?
res=$(python3 "$json_check" recipes "$T/recipes-bad.json" result=failed exit_status=1 2>&1)
check "recipes --json of a data dir without recipes: failed, as JSON, saying why (exit $rc; $(head -n 1 <<<"$res"))" \
        sh -c '[ "$1" -eq 1 ] && [ "${2#ok }" != "$2" ] && grep -q "cannot open recipe directory" "$3"' \
        sh "$rc" "$res" "$T/recipes-bad.json"

usage() { # description, expected message, args...
        local d=$1 m=$2; shift 2
        "$wb" --cache "$T/cache" --output "$T/out" "$@" >"$T/u" 2>&1
        local rc=$?
        check "$d: exit 2 (got $rc)" test "$rc" -eq 2
        check "$d: message says '$m'" grep -qF -- "$m" "$T/u"
}
usage "unknown option" "unknown option '--frobnicate'" --frobnicate
usage "bad target" "bad --target 'vmware'" --target vmware
usage "bad flavor" "bad --flavor 'router'" --flavor router
usage "bad flavor in a list" "bad --flavor 'workstation-Big'" --flavor gateway,workstation-Big
usage "bad jobs" "bad --jobs '0'" --jobs 0
usage "bad suite" "bad --suite 'Tri xie'" --suite "Tri xie"
usage "bad mirror" "bad --mirror 'ftp://x'" --mirror ftp://x
usage "a suite read as an option" "bad --suite '--foreign': must start with a lowercase letter or a digit" --suite=--foreign
usage "an empty suite" "bad --suite '': it is empty" --suite=
usage "a mirror with a space" "bad --mirror 'http://a b': spaces, control and non-ASCII characters are not allowed" --mirror "http://a b"
usage "a mirror with a newline, shown escaped" "bad --mirror 'http://a\x0ab'" --mirror "$(printf 'http://a\nb')"
usage "a proxy that is not http" "bad --proxy 'https://p:3142': must start with 'http://'" --proxy https://p:3142
usage "a proxy with credentials" "bad --proxy 'http://u:pw@p:1': the port must be a number from 1 to 65535" --proxy http://u:pw@p:1
usage "a proxy with a quote (it lands in apt.conf)" "bad --proxy 'http://p\"x': the host may have only letters" --proxy 'http://p"x'
usage "a proxy with a path" "bad --proxy 'http://p:1/x': nothing may follow the host and port but one '/'" --proxy http://p:1/x
usage "an empty data directory" "--data-dir needs a directory" --data-dir=
usage "bad stage" "bad --until 'nothing'" --until nothing
usage "missing value" "option '--target' needs a value" --target
usage "unknown verb" "unknown verb 'frobnicate'" frobnicate
check "no output directory after usage errors" test ! -e "$T/out"

# A build that stops after the recipe stage needs no network and no appliance.
"$wb" --until recipe --mirror http://127.0.0.1:9/debian --cache "$T/cache" --output "$T/out" >"$T/r" 2>&1
check "--until recipe exits 0" test $? -eq 0
check "the recipe stage reports both flavors and the mirror" grep -Eq '^stage recipe +[0-9.]+ s  2 flavor\(s\), suite trixie, mirror http://127.0.0.1:9/debian' "$T/r"

# Pairs and lists: each flavor once, the recipe stage counts them.
for f in "desktop 2" "all 3" "gateway,workstation-desktop,gateway 2" "cli,desktop 3" "workstation-desktop 1"; do
        set -- $f
        "$wb" --until recipe --flavor "$1" --mirror http://127.0.0.1:9/debian --cache "$T/cache" --output "$T/out" >"$T/p" 2>&1
        check "--flavor $1: $2 flavor(s)" grep -Eq "^stage recipe +[0-9.]+ s  $2 flavor\(s\)" "$T/p"
done
"$wb" --until recipe --flavor workstation-nosuch --mirror http://127.0.0.1:9/debian --cache "$T/cache" --output "$T/out" >"$T/p" 2>&1
rc=$?
check "a flavor without a recipe fails (exit $rc), naming the recipe it looked for" \
        sh -c '[ "$1" -eq 1 ] && grep -q "unknown flavor .workstation-nosuch.: there is no recipe .*/recipes/whonix-workstation-nosuch.conf" "$2"' sh "$rc" "$T/p"
"$wb" --until recipe --cache "$T/cache" --output "$T/out" >"$T/r2" 2>&1
check "without --mirror the host's apt mirror is used" grep -Eq '^stage recipe .* mirror https?://' "$T/r2"
diag_file "$T/r2" 2

# What would fail only after the long stages is refused at the recipe stage.
: >"$T/a-file"
"$wb" --until recipe --mirror http://127.0.0.1:9/debian --cache "$T/cache" --output "$T/a-file" >"$T/e1" 2>&1
check "--output that is a file: refused before the fetch (exit $?)" \
        bash -c "grep -q \"the output '$T/a-file' cannot be made: '$T/a-file' is not a directory\" '$T/e1' && ! grep -q '^stage recipe' '$T/e1'"
"$wb" --until recipe --mirror http://127.0.0.1:9/debian --cache "$T/cache" --output "$T/a-file/sub" >"$T/e1b" 2>&1
check "--output below a file: refused too" grep -q "the output '$T/a-file/sub' cannot be made: '$T/a-file' is not a directory" "$T/e1b"
check "--until recipe writes nothing under --output" test ! -e "$T/out"
mkdir -p "$T/data"
cp -r "$WB_SOURCE_ROOT/recipes" "$WB_SOURCE_ROOT/overlays" "$WB_SOURCE_ROOT/keys" "$T/data/"
sed -i 's/^Overlays=\(.*\)/Overlays=\1 no-such-overlay/' "$T/data/recipes/whonix-workstation.conf"
"$wb" --until recipe --data-dir "$T/data" --mirror http://127.0.0.1:9/debian --cache "$T/cache" --output "$T/out" >"$T/e2" 2>&1
check "an overlay that does not exist: refused at the recipe stage" \
        grep -q "flavor 'workstation': overlay 'no-such-overlay' not found" "$T/e2"
cp "$WB_SOURCE_ROOT/recipes/whonix-workstation.conf" "$T/data/recipes/"
sed -i 's/^\[VM\]$/[VM]\nDiskSize=2T/' "$T/data/recipes/whonix-gateway.conf"
"$wb" --target virtualbox --until recipe --data-dir "$T/data" --mirror http://127.0.0.1:9/debian --cache "$T/cache" \
        --output "$T/out" >"$T/e3" 2>&1
check "DiskSize=2T for --target virtualbox: refused at the recipe stage (a VMDK holds 1 TiB)" \
        grep -q "flavor 'gateway': DiskSize=2199023255552 bytes is larger than a VMDK can hold" "$T/e3"
"$wb" --target kvm --until recipe --data-dir "$T/data" --mirror http://127.0.0.1:9/debian --cache "$T/cache" \
        --output "$T/out" >"$T/e4" 2>&1
check "the same DiskSize is fine for --target kvm (exit $?)" grep -q '^stage recipe' "$T/e4"

# The man page is rendered from --help at build time.
man1="$WB_BUILD_ROOT/cli/whonix-build.1"
if [ -s "$man1" ]; then
        for v in build recipes sign verify-signature verify sources compare; do
                check "the man page documents the verb '$v'" bash -c "sed 's/\\\\-/-/g' '$man1' | grep -qx '.B $v'"
        done
        check "the man page documents --sign-key" grep -q '^\.B \\-\\-sign\\-key=FINGERPRINT$' "$man1"
        if command -v groff >/dev/null; then
                check "the man page renders without warnings" bash -c "groff -man -Tutf8 -ww '$man1' 2>&1 >/dev/null | grep -q . && exit 1 || exit 0"
        else
                skip_one "groff is not installed: the man page not rendered"
        fi
else
        fail "the man page was built (python3 is needed)"
fi

# Where the recipes come from without --data-dir: WHONIX_BUILD_DATA_DIR;
# else a recipe tree in the current directory (recipes/ and keys/, as with
# mkosi); else, for the binary in its build tree, the checkout; else the
# installed ones (a copy of the binary outside the build tree looks there).
mkdir -p "$T/mine"
cp -r "$WB_SOURCE_ROOT/recipes" "$WB_SOURCE_ROOT/keys" "$WB_SOURCE_ROOT/overlays" "$T/mine/"
sed -i 's/^Description=.*/Description=my own Gateway/' "$T/mine/recipes/whonix-gateway.conf"
(cd "$T/mine" && "$wb" recipes) >"$T/mine.out" 2>&1
check "a recipe tree in the current directory is the one used" grep -q '^whonix-gateway  *my own Gateway$' "$T/mine.out"
(cd "$T" && "$wb" recipes) >"$T/elsewhere.out" 2>&1
check "elsewhere, the binary in the build tree uses its checkout's" \
        grep -q '^whonix-gateway  *Whonix Gateway: Tor' "$T/elsewhere.out"
(cd "$T/mine" && WHONIX_BUILD_DATA_DIR=$WB_SOURCE_ROOT "$wb" recipes) >"$T/env.out" 2>&1
check "WHONIX_BUILD_DATA_DIR comes before the current directory" grep -q '^whonix-gateway  *Whonix Gateway: Tor' "$T/env.out"
mkdir -p "$T/bin"
cp "$wb" "$T/bin/whonix-build"
datadir=$(sed -n 's/^#define DATADIR "\(.*\)"$/\1/p' "$WB_BUILD_ROOT/config.h")
(cd "$T" && "$T/bin/whonix-build" recipes) >"$T/installed.out" 2>&1
if [ -d "$datadir/recipes" ]; then
        check "a binary outside the build tree uses the installed recipes ($datadir)" grep -q '^whonix-gateway ' "$T/installed.out"
else
        check "a binary outside the build tree looks for the installed recipes ($datadir), not the checkout" \
                grep -q "$datadir/recipes: cannot open recipe directory" "$T/installed.out"
fi
done_testing
