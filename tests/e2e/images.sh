# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by the e2e tests: one build of the images per test run, shared by
# every e2e test (whonix-build reuses its cache, so the second caller gets
# the finished images in seconds).  A lock serializes the callers.
WB_E2E_IMAGES=${WB_E2E_IMAGES:-$WB_BUILD_ROOT/e2e-images}
export WB_E2E_IMAGES

ensure_images() {
        mkdir -p "$WB_BUILD_ROOT"
        (
                flock 9
                # The report (--json) on stdout, for kvm-images to check.
                if ! "$WHONIX_BUILD" --target kvm --json --cache "$WB_TEST_CACHE" --output "$WB_E2E_IMAGES" \
                        >"$WB_BUILD_ROOT/e2e-build.json" 2>"$WB_BUILD_ROOT/e2e-build.log"; then
                        # On stderr: meson prints it for a failed test, so a
                        # CI log says why the build failed.
                        echo "ensure_images: the build failed; the end of its log:" >&2
                        tail -n 60 "$WB_BUILD_ROOT/e2e-build.log" >&2
                        exit 1
                fi
        ) 9>"$WB_BUILD_ROOT/e2e-build.lock"
}

WB_E2E_OVA=${WB_E2E_OVA:-$WB_BUILD_ROOT/e2e-ova}
export WB_E2E_OVA

# The same build exported for VirtualBox (every stage but export is cached).
ensure_ova() { # [output dir]
        local out=${1:-$WB_E2E_OVA}
        mkdir -p "$WB_BUILD_ROOT"
        (
                flock 9
                "$WHONIX_BUILD" --target virtualbox --ova-per-vm --cache "$WB_TEST_CACHE" --output "$out" \
                        >"$out.log" 2>&1
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
