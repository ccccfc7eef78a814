# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by the e2e tests: one build of the images per test run, shared by
# every e2e test (whonix-build reuses its cache, so the second caller gets
# the finished images in seconds).  A lock serializes the callers.
#
# The build makes all three images (--flavor all: the Gateway, the CLI and
# the desktop Workstation).  The first time, a second, independent build
# runs side by side with it, of the CLI pair (tests/e2e/reproduce.sh
# verifies the CLI pair's release against it): in a cache of its own
# (WB_E2E_REBUILD_CACHE), in another environment (time zone, locale,
# umask, an empty HOME), into WB_E2E_REBUILT.  The two builds share
# nothing but the mirror.  Only the CLI pair: a second cold build of the
# desktop (some 11 minutes under TCG here) does not fit CI's 90 minutes;
# WB_E2E_REBUILD_FLAVORS=all rebuilds the three (then reproduce verifies
# the three).
WB_E2E_IMAGES=${WB_E2E_IMAGES:-$WB_BUILD_ROOT/e2e-images}
WB_E2E_REBUILD_CACHE=${WB_E2E_REBUILD_CACHE:-$WB_BUILD_ROOT/e2e-rebuild-cache}
WB_E2E_REBUILT=${WB_E2E_REBUILT:-$WB_BUILD_ROOT/e2e-rebuilt}
WB_E2E_REBUILD_FLAVORS=${WB_E2E_REBUILD_FLAVORS:-cli}
export WB_E2E_IMAGES WB_E2E_REBUILD_CACHE WB_E2E_REBUILT WB_E2E_REBUILD_FLAVORS

# The independent build; its exit status in e2e-rebuild.rc.
_e2e_rebuild() {
        local home rc
        home=$(mktemp -d)
        (
                cd "$home" && umask 077 && HOME=$home TZ=Pacific/Kiritimati LANG=C.UTF-8 LC_ALL=C.UTF-8 \
                        "$WHONIX_BUILD" --flavor "$WB_E2E_REBUILD_FLAVORS" --target kvm --json --cache "$WB_E2E_REBUILD_CACHE" \
                        --output "$WB_E2E_REBUILT" >"$WB_BUILD_ROOT/e2e-rebuild.json" 2>"$WB_BUILD_ROOT/e2e-rebuild.log"
        )
        rc=$?
        rm -rf "$home"
        echo "$rc" >"$WB_BUILD_ROOT/e2e-rebuild.rc"
}

ensure_images() {
        mkdir -p "$WB_BUILD_ROOT"
        (
                flock 9
                stamp=$WB_BUILD_ROOT/e2e-rebuild.stamp
                rpid=
                # No rebuild yet for this build directory: both at once.
                if [ ! -s "$stamp" ]; then
                        _e2e_rebuild &
                        rpid=$!
                fi
                # The report (--json) on stdout, for kvm-images to check.
                "$WHONIX_BUILD" --flavor all --target kvm --json --cache "$WB_TEST_CACHE" --output "$WB_E2E_IMAGES" \
                        >"$WB_BUILD_ROOT/e2e-build.json" 2>"$WB_BUILD_ROOT/e2e-build.log"
                rc=$?
                [ -z "$rpid" ] || wait "$rpid"
                if [ "$rc" -ne 0 ]; then
                        # On stderr: meson prints it for a failed test, so a
                        # CI log says why the build failed.
                        echo "ensure_images: the build failed; the end of its log:" >&2
                        tail -n 60 "$WB_BUILD_ROOT/e2e-build.log" >&2
                        exit 1
                fi
                # The build changed since the rebuild (a later local run):
                # rebuild too, now.
                sum=$( (sha256sum <"$WB_E2E_IMAGES/whonix.buildinfo"; echo "$WB_E2E_REBUILD_FLAVORS") | sha256sum)
                if [ -z "$rpid" ] && [ "$(cat "$stamp")" != "$sum" ]; then
                        _e2e_rebuild
                fi
                # Only a rebuild that succeeded is kept as done.
                if [ "$(cat "$WB_BUILD_ROOT/e2e-rebuild.rc" 2>/dev/null)" = 0 ]; then
                        echo "$sum" >"$stamp"
                else
                        rm -f "$stamp"
                fi
        ) 9>"$WB_BUILD_ROOT/e2e-build.lock"
}

WB_E2E_OVA=${WB_E2E_OVA:-$WB_BUILD_ROOT/e2e-ova}
export WB_E2E_OVA

# The same build exported for VirtualBox (every stage but export is cached).
ensure_ova() { # [output dir [build options...]]: by default all three, and one OVA per VM too
        local out=${1:-$WB_E2E_OVA}
        [ $# -gt 0 ] && shift
        [ $# -gt 0 ] || set -- --flavor all --ova-per-vm
        mkdir -p "$WB_BUILD_ROOT"
        (
                flock 9
                "$WHONIX_BUILD" --target virtualbox "$@" --cache "$WB_TEST_CACHE" --output "$out" >"$out.log" 2>&1
        ) 9>"$WB_BUILD_ROOT/e2e-build.lock"
}

# A failed build leaves nothing behind.  note_layers before the build;
# check_no_leftovers PREFIX after it: no new or half-made layer, no
# temporary file in the cache since, no qemu of ours on the test cache.
note_layers() { ls "$WB_TEST_CACHE/layers" >"$T/layers-before" 2>/dev/null; }
check_no_leftovers() {
        ls "$WB_TEST_CACHE/layers" >"$T/layers-after" 2>/dev/null
        check "${1}no new or half-made layer in the cache" cmp -s "$T/layers-before" "$T/layers-after"
        check "${1}no temporary file in the cache" \
                test -z "$(find "$WB_TEST_CACHE" -name '*.tmp*' -newer "$T/layers-before" 2>/dev/null)"
        check "${1}no qemu of ours left" bash -c "! pgrep -f '[q]emu-system.*$WB_TEST_CACHE' >/dev/null"
}
