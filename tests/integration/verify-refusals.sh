#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# whonix-build verify refuses, before building anything, what it cannot
# verify: a buildinfo that is not one, one for other recipes, a missing
# file; compare refuses images that name a backing file, an external data
# file or a parent (a file of this machine), and FIFOs, all without an
# appliance; and compare of an image with itself finds no difference (two
# short appliance runs).
. "$WB_SOURCE_ROOT/tests/lib.sh"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
ref="$WB_SOURCE_ROOT/fuzz/corpus/buildinfo/reference.buildinfo"

"$WHONIX_BUILD" verify "$T/nothing.buildinfo" --cache "$T/cache" >"$T/o1" 2>&1
rc=$?
check "a missing buildinfo fails (exit $rc)" test "$rc" -eq 1
check "... and says which file" grep -q "cannot read '$T/nothing.buildinfo'" "$T/o1"
json_check="$WB_SOURCE_ROOT/tests/helpers/check-verb-json.py"
"$WHONIX_BUILD" verify "$T/nothing.buildinfo" --cache "$T/cache" --json >"$T/o1.json" 2>/dev/null
rc=$?
res=$(python3 "$json_check" verify "$T/o1.json" result=failed exit_status=1 2>&1)
check "... and with --json, a schema-1 report that says so (exit $rc; $(head -n 1 <<<"$res"))" \
        sh -c '[ "$1" -eq 1 ] && [ "${2#ok }" != "$2" ] && grep -q "cannot read .*nothing.buildinfo" "$3"' \
        sh "$rc" "$res" "$T/o1.json"

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

# Published images are anyone's: compare (and verify, which compares)
# refuses, before building anything, an image that names a file of this
# machine.  The format comes from the content, not the name.
if command -v qemu-img >/dev/null; then
        echo "host secret" >"$T/secret"
        qemu-img create -q -f qcow2 "$T/clean.qcow2" 1G
        qemu-img create -q -f qcow2 -u -b "$T/secret" -F raw "$T/backing.qcow2" 1G
        qemu-img create -q -f qcow2 -o "data_file=$T/data.raw,data_file_raw=on" "$T/datafile.qcow2" 8M
        qemu-img create -q -f vmdk "$T/parent.vmdk" 1G
        qemu-img create -q -f vmdk -u -b "$T/parent.vmdk" -F vmdk "$T/child.vmdk" 1G
        qemu-img create -q -f vmdk -o subformat=monolithicFlat "$T/flat.vmdk" 1G
        cp "$T/backing.qcow2" "$T/backing-named.raw"
        for bad in backing.qcow2:"names a backing file" datafile.qcow2:"keeps its data in an external file" \
                child.vmdk:"names a parent disk" flat.vmdk:"is a VMDK descriptor, which names other files" \
                backing-named.raw:"names a backing file"; do
                f=${bad%%:*} why=${bad#*:}
                "$WHONIX_BUILD" compare "$T/$f" "$T/clean.qcow2" --cache "$T/cache-$f" >"$T/c-$f" 2>&1
                rc=$?
                check "compare refuses $f: '$why' (exit $rc), before creating the cache" \
                        bash -c "[ $rc -eq 1 ] && grep -q \"'$T/$f' $why: refused\" '$T/c-$f' && [ ! -e '$T/cache-$f' ]"
        done
        diag_file "$T/c-backing.qcow2" 1
        check "no message quotes the file it pointed at" bash -c "! grep -rq 'host secret' '$T'/c-*"
        # A clean image passes the check: the refusal is about the other.
        "$WHONIX_BUILD" compare "$T/clean.qcow2" "$T/child.vmdk" --cache "$T/cache-clean" >"$T/c-clean" 2>&1
        check "a clean qcow2 passes the check (the refusal names the other image)" \
                bash -c "grep -q \"'$T/child.vmdk' names a parent\" '$T/c-clean' && ! grep -qE \"'$T/clean.qcow2' (names|keeps|is|has)\" '$T/c-clean'"
        mkfifo "$T/fifo.qcow2"
        timeout 10 "$WHONIX_BUILD" compare "$T/fifo.qcow2" "$T/clean.qcow2" --cache "$T/cache-fifo" >"$T/c-fifo" 2>&1
        rc=$?
        check "a FIFO as an image is refused at once, not read (exit $rc)" \
                bash -c "[ $rc -eq 1 ] && grep -q 'is not a regular file' '$T/c-fifo'"
else
        skip_one "qemu-img is not installed: the hostile-image checks did not run"
fi

# compare of an image with itself finds nothing: the superblock is read as
# the image has it, before mounting stamps it (one appliance per image).
if command -v qemu-img >/dev/null && command -v mke2fs >/dev/null && command -v supermin >/dev/null; then
        mkdir -p "$T/tree/etc"
        echo "same" >"$T/tree/etc/motd"
        mke2fs -q -t ext4 -E root_owner=0:0 -d "$T/tree" "$T/small.raw" 32M >/dev/null 2>&1 &&
                qemu-img convert -q -f raw -O qcow2 "$T/small.raw" "$T/small.qcow2"
        "$WHONIX_BUILD" compare "$T/small.qcow2" "$T/small.qcow2" --cache "$WB_TEST_CACHE" --json >"$T/c-same.json" \
                2>"$T/c-same"
        rc=$?
        diag_file "$T/c-same" 4
        check "compare of an image with itself: exit 0, no difference, not even in the superblock (exit $rc)" \
                bash -c "[ $rc -eq 0 ] && ! grep -q 'superblock' '$T/c-same' '$T/c-same.json'"
        res=$(python3 "$json_check" compare "$T/c-same.json" result=same exit_status=0 2>&1)
        check "... its --json report: schema 1, 'same', no difference ($(head -n 1 <<<"$res"))" \
                sh -c '[ "${1#ok }" != "$1" ]' sh "$res"
else
        skip_one "qemu-img, mke2fs or supermin is not installed: compare of an image with itself did not run"
fi

"$WHONIX_BUILD" verify >"$T/o4" 2>&1
check "verify without a buildinfo is a usage error (exit 2)" test $? -eq 2
"$WHONIX_BUILD" compare only-one.qcow2 >"$T/o5" 2>&1
check "compare with one image is a usage error (exit 2)" test $? -eq 2

# whonix-build sources (the release's mirror; the published-sources e2e in
# reproduce writes one): what it refuses before writing anything.
"$WHONIX_BUILD" sources "$ref" >"$T/s1" 2>&1
check "sources without a folder is a usage error (exit 2)" test $? -eq 2
"$WHONIX_BUILD" sources "$T/nothing.buildinfo" "$T/mirror" >"$T/s2" 2>&1
rc=$?
check "sources of a buildinfo that does not exist: exit 1, naming it (exit $rc)" \
        sh -c '[ "$1" -eq 1 ] && grep -q "cannot read .*nothing.buildinfo" "$2"' sh "$rc" "$T/s2"
"$WHONIX_BUILD" sources "$ref" "$T/mirror" --cache "$T/cache" --mirror http://127.0.0.1:9/debian >"$T/s3" 2>&1
rc=$?
check "sources whose InRelease is neither in the cache nor on the mirror: exit 1, naming the URL (exit $rc)" \
        sh -c '[ "$1" -eq 1 ] && grep -q "127.0.0.1:9/debian/dists/.*/InRelease" "$2"' sh "$rc" "$T/s3"
check "... and nothing written" test ! -e "$T/mirror"
"$WHONIX_BUILD" sources "$ref" "$T/mirror" --mirror http://127.0.0.1:9/debian --snapshot 20261130T000000Z >"$T/s4" 2>&1
rc=$?
check "sources with both --mirror and --snapshot: a usage error (exit $rc)" \
        sh -c '[ "$1" -eq 2 ] && grep -q "both say where" "$2"' sh "$rc" "$T/s4"
"$WHONIX_BUILD" verify "$ref" --mirror http://127.0.0.1:9/debian --snapshot 20261130T000000Z >"$T/s5" 2>&1
rc=$?
check "verify with both --mirror and --snapshot: a usage error (exit $rc)" \
        sh -c '[ "$1" -eq 2 ] && grep -q "both say where" "$2"' sh "$rc" "$T/s5"
"$WHONIX_BUILD" verify "$ref" --snapshot 2026-11-30 >"$T/s6" 2>&1
rc=$?
check "a malformed --snapshot: a usage error naming the form (exit $rc)" \
        sh -c '[ "$1" -eq 2 ] && grep -q "YYYYMMDDTHHMMSSZ" "$2"' sh "$rc" "$T/s6"

done_testing
