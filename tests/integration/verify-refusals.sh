#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# whonix-build verify refuses, before building anything, what it cannot
# verify: a buildinfo that is not one, one for other recipes, a missing
# file.  No appliance, seconds.
. "$WB_SOURCE_ROOT/tests/lib.sh"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
ref="$WB_SOURCE_ROOT/fuzz/corpus/buildinfo/reference.buildinfo"

"$WHONIX_BUILD" verify "$T/nothing.buildinfo" --cache "$T/cache" >"$T/o1" 2>&1
rc=$?
check "a missing buildinfo fails (exit $rc)" test "$rc" -eq 1
check "... and says which file" grep -q "cannot read '$T/nothing.buildinfo'" "$T/o1"

sed 's/^Target: kvm$/Target: vmware/' "$ref" >"$T/bad.buildinfo"
"$WHONIX_BUILD" verify "$T/bad.buildinfo" --cache "$T/cache" >"$T/o2" 2>&1
rc=$?
check "a malformed buildinfo fails (exit $rc)" test "$rc" -eq 1
check "... naming the bad field" grep -q "bad value of 'Target'" "$T/o2"
diag_file "$T/o2" 2

# A well-formed buildinfo whose recipe tree is not this checkout's.
"$WHONIX_BUILD" verify "$ref" --cache "$T/cache" >"$T/o3" 2>&1
rc=$?
check "a buildinfo of other recipes is refused (exit $rc)" test "$rc" -eq 1
check "... saying the recipes differ and which commit to check out" \
        grep -q "are not the ones the release was built from .*commit 3149ed09a953" "$T/o3"
check "... before any stage ran" bash -c "! grep -q '^stage ' '$T/o3'"
check "... and before the cache was even created" test ! -e "$T/cache"
diag_file "$T/o3" 2

"$WHONIX_BUILD" verify >"$T/o4" 2>&1
check "verify without a buildinfo is a usage error (exit 2)" test $? -eq 2
"$WHONIX_BUILD" compare only-one.qcow2 >"$T/o5" 2>&1
check "compare with one image is a usage error (exit 2)" test $? -eq 2

done_testing
