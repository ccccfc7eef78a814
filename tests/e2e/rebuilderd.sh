#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A whonix-build release verified by rebuilderd, as a rebuilder operator
# runs it: in the Debian 13 environment of the independent build
# (tests/e2e/images.sh, with Debian's rebuilderd, rebuilderd-worker and
# rebuildctl), in a network namespace with only the loopback, a rebuilderd
# daemon on 127.0.0.1:8484 and one worker with whonix-build's backend
# (contrib/rebuilderd/).  The e2e release of the CLI pair is served on
# 127.0.0.1 with its published sources; `whonix-build rebuilderd-report`
# turns it into the package report that `rebuildctl pkgs sync-stdin` feeds
# the daemon; so is a copy of it whose Workstation image has one byte
# changed (another suite).  Every artifact of the release must come out
# GOOD with an attestation that verifies with the worker's public key (by
# openssl, not rebuilderd), naming the published file's SHA256; in the copy
# the changed image is BAD and the rest GOOD.
#
# The backend rebuilds with whonix-build verify in the independent build's
# stage cache (every stage is found there: same keys), so the worker's job
# is the export; the second job, of the same buildinfo, reuses the first
# job's rebuild (the backend keys rebuilds by the buildinfo's SHA256).
. "$WB_SOURCE_ROOT/tests/lib.sh"
. "$WB_SOURCE_ROOT/tests/e2e/images.sh"
need_appliance
[ "$WB_E2E_REBUILD_ENV" = trixie ] ||
        skip_all "the worker runs in the Debian 13 environment, which needs root to make (WB_E2E_REBUILD_ENV=$WB_E2E_REBUILD_ENV)"
for tool in openssl python3 unshare ip; do
        command -v "$tool" >/dev/null || skip_all "$tool is not installed (tools/install-deps)"
done

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

ensure_images || { fail "the images were built"; diag_file "$WB_BUILD_ROOT/e2e-build.log" 20; done_testing; exit; }
rel=$(e2e_release_dir)
check "the release of the e2e build and its published sources are there" \
        test -s "$rel/whonix.buildinfo" -a -s "$WB_E2E_SOURCES/dists/trixie/InRelease"
# The environment has rebuilderd (its package list names it; made again
# when the list changed).
_e2e_env_prepare
check "the Debian 13 environment is ready, with rebuilderd, its worker and rebuildctl" \
        test -x "$WB_E2E_TRIXIE/root/usr/bin/rebuilderd" -a -x "$WB_E2E_TRIXIE/root/usr/bin/rebuilderd-worker" \
        -a -x "$WB_E2E_TRIXIE/root/usr/bin/rebuildctl"
diag_file "$WB_E2E_TRIXIE.log" 1

# What the test's server serves: the release, a copy with one byte of the
# Workstation image changed, and the published sources.
ws=Whonix-Workstation.qcow2
mkdir -p "$T/www/release" "$T/www/tampered" "$T/state"
for f in "$rel"/*; do
        ln -s "$f" "$T/www/release/"
        [ "$(basename "$f")" = "$ws" ] || ln -s "$f" "$T/www/tampered/"
done
ln -s "$WB_E2E_SOURCES" "$T/www/debian"
cp --sparse=always "$rel/$ws" "$T/www/tampered/$ws"
size=$(stat -c %s "$rel/$ws")
byte=$(od -An -tu1 -j $((size / 2)) -N 1 "$rel/$ws" | tr -d ' ')
printf "\\$(printf %03o $(((byte + 1) % 256)))" | dd of="$T/www/tampered/$ws" bs=1 seek=$((size / 2)) conv=notrunc status=none
check "a copy of the release with one byte of $ws changed (offset $((size / 2)))" \
        sh -c '! cmp -s "$1" "$2" && [ "$(cmp -l "$1" "$2" | wc -l)" -eq 1 ]' sh "$rel/$ws" "$T/www/tampered/$ws"

# The worker's backend: the Debian 13 whonix-build, its stage cache the
# independent build's, the release's published sources as its mirror.
e2e_env_cmd "$T"
ln -s "$WB_E2E_REBUILD_CACHE" "$T/state/stages"
base=http://127.0.0.1:$WB_E2E_SOURCES_PORT
start=$(date +%s)
(
        flock 9
        WB_E2E_SOURCES=$T/www e2e_offline "$T/offline" bash -c '
                T=$1 base=$2 wb=$3
                shift 3
                "$wb" rebuilderd-report "$base/release" >"$T/release.json" 2>"$T/report.err" &&
                        "$wb" rebuilderd-report "$base/tampered" >"$T/tampered.json" 2>>"$T/report.err" || exit 3
                # The copy as a suite of its own: the same buildinfo, another group.
                sed -i "s/\"suite\": \"kvm\"/\"suite\": \"tampered\"/" "$T/tampered.json"
                exec "$@" "$WB_SOURCE_ROOT/tests/helpers/rebuilderd-run" "$T/rb" 1800 whonix \
                        "kvm=$T/release.json" "tampered=$T/tampered.json"' bash "$T" "$base" "$WHONIX_BUILD" \
                env WHONIX_BUILD="$E2E_ENV_WB" WHONIX_BUILD_DATA_DIR="$WB_SOURCE_ROOT" \
                WHONIX_REBUILDERD_STATE="$T/state" WHONIX_REBUILDERD_MIRROR="$base/debian" \
                "${E2E_ENV[@]}"
) 9>"$WB_BUILD_ROOT/e2e-build.lock" >"$T/run.log" 2>&1
rc=$?
diag "rebuilderd: the two jobs took $(( $(date +%s) - start )) s (exit $rc)"
diag_file "$T/report.err" 3
check "rebuilderd-report made both package reports" test -s "$T/release.json" -a -s "$T/tampered.json"
check "the daemon and the worker ran, and every package got a result (exit $rc)" test "$rc" -eq 0
diag_file "$T/run.log" 10
[ -f "$T/rb/worker.log" ] && grep -E 'Starting rebuild|marking as|backend' "$T/rb/worker.log" | sed 's/^/# /' | head -n 30
check "the worker ran, in a network namespace with only the loopback and no route" \
        sh -c 'grep -q "Requesting work from rebuilderd" "$1" && grep -q "^routes:\$" "$2" &&
                [ "$(sed "/^routes:\$/,\$d" "$2" | awk "{print \$2}" | sort -u)" = lo ] &&
                [ -z "$(sed "1,/^routes:\$/d" "$2" | grep -v "^::1 dev lo")" ]' sh "$T/rb/worker.log" "$T/offline.net"
key=$(sed -n 's/^\([A-Za-z0-9+/=]\{44\}\) (127\.0\.0\.1) .*/\1/p' "$T/rb/status.log" | head -n 1)
check "rebuildctl status shows the worker and its public key ($key)" test -n "$key"

status_of() { # suite name
        python3 -c 'import json, sys
for p in json.load(open(sys.argv[1])):
    if p["suite"] == sys.argv[2] and p["name"] == sys.argv[3]:
        print(p["status"])' "$T/rb/ls.json" "$1" "$2" 2>/dev/null
}
artifacts=$(sed -n 's/^ [0-9a-f]\{64\} [0-9]* //p' "$rel/whonix.buildinfo")
for a in $artifacts; do
        s=$(status_of kvm "$a")
        check "release: $a is GOOD ($s)" test "$s" = GOOD
        sha=$(sha256sum "$rel/$a" | cut -d' ' -f1)
        res=$(python3 "$WB_SOURCE_ROOT/tests/helpers/check-attestation.py" "$T/rb/att-kvm-$a.json" "$key" "$a" "$sha" 2>&1)
        check "release: $a's attestation verifies with the worker's key and names the published sha256 ($res)" \
                test "$res" = ok
done
res=$(python3 "$WB_SOURCE_ROOT/tests/helpers/check-attestation.py" "$T/rb/att-kvm-$ws.json" "$key" "$ws" \
        "$(sha256sum "$rel/$ws" | cut -d' ' -f1)" --tamper 2>&1)
check "an attestation whose product hash was changed does not verify ($res)" \
        sh -c 'case $1 in "FAIL the signature does not verify"*) ;; *) exit 1 ;; esac' sh "$res"
for a in $artifacts; do
        s=$(status_of tampered "$a")
        if [ "$a" = "$ws" ]; then
                check "the copy: the changed $a is BAD ($s), with no attestation" \
                        sh -c '[ "$1" = BAD ] && [ ! -e "$2" ]' sh "$s" "$T/rb/att-tampered-$a.json"
        else
                check "the copy: $a is GOOD ($s)" test "$s" = GOOD
        fi
done
check "the backend rebuilt once and reused that rebuild for the second job (keyed by the buildinfo's SHA256)" \
        sh -c '[ "$(grep -c "whonix-rebuilderd-backend: rebuilding buildinfo" "$1")" -eq 1 ] &&
                [ "$(grep -c "whonix-rebuilderd-backend: reusing the rebuild of buildinfo" "$1")" -eq 1 ]' sh "$T/rb/worker.log"
check "the backend's rebuild (whonix-build verify in Debian 13) matched the buildinfo" \
        sh -c 'f=$(ls "$1"/rebuilds/*.json 2>/dev/null | head -n 1); [ -n "$f" ] && grep -q "\"result\": \"match\"" "$f"' \
        sh "$T/state"
done_testing
