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
                if ! "$WHONIX_BUILD" --target kvm --cache "$WB_TEST_CACHE" --output "$WB_E2E_IMAGES" \
                        >"$WB_BUILD_ROOT/e2e-build.log" 2>&1; then
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
