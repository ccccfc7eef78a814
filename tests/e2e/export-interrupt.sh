#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Signals during the export (issue #14): SIGINT, SIGTERM and SIGHUP while
# the VMDKs and the OVA are being written end the build within 2 s with
# 130, 143 and 129, and leave no file and no staging directory under
# --output and no child process.  Every stage before the export comes from
# the cache.
. "$WB_SOURCE_ROOT/tests/lib.sh"
. "$WB_SOURCE_ROOT/tests/e2e/images.sh"
need_appliance

T=$(mktemp -d)
pid=
cleanup() {
        [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
        rm -rf "$T"
}
trap cleanup EXIT

ensure_images || { fail "the images were built"; diag_file "$WB_BUILD_ROOT/e2e-build.log" 20; done_testing; exit; }

exec 9>"$WB_BUILD_ROOT/e2e-build.lock"
flock 9

for sig in INT TERM HUP; do
        case $sig in INT) want=130 ;; TERM) want=143 ;; HUP) want=129 ;; esac
        out="$T/out-$sig"
        "$WHONIX_BUILD" --target virtualbox --cache "$WB_TEST_CACHE" --output "$out" >"$T/$sig.log" 2>&1 &
        pid=$!
        # The export has begun when its staging directory exists.
        for _ in $(seq 1 1200); do
                ls -d "$out"/.whonix-build* >/dev/null 2>&1 && break
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
        done
        sleep 1
        running=no
        kill -0 "$pid" 2>/dev/null && running=yes
        check "SIG$sig: the export was running when the signal came" test "$running" = yes
        kill -"$sig" "$pid"
        start=$(date +%s.%N)
        wait "$pid"
        rc=$?
        pid=
        took=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
        tail -n 2 "$T/$sig.log" | sed 's/^/# /'
        check "SIG$sig during the export: exit $want (got $rc) within 2 s (took $took s)" \
                awk -v rc="$rc" -v want="$want" -v t="$took" 'BEGIN { exit !(rc == want && t <= 2) }'
        check "SIG$sig: no file and no staging directory left under --output" \
                test -z "$(find "$out" -mindepth 1 2>/dev/null | head -n 1)"
        check "SIG$sig: no qemu-img or other child left" bash -c "! pgrep -f '[q]emu-img.*$out' >/dev/null"
done

done_testing
