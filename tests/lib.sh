# SPDX-License-Identifier: GPL-2.0-or-later
# TAP helpers for shell tests: source it, call ok/fail/check, end with done_testing.
# skip_all WHY prints TAP's skip plan and exits 77, the usual "skipped"
# status; under meson (WB_MESON_TAP=1, set by tests/meson.build) it exits 0,
# since meson's TAP runner takes any other status as an error and reports
# the plan "1..0 # SKIP" as a skip.
set -u
_n=0
_failed=0
ok() { _n=$((_n + 1)); echo "ok $_n - $*"; }
fail() { _n=$((_n + 1)); _failed=$((_failed + 1)); echo "not ok $_n - $*"; }
# check DESCRIPTION COMMAND...: ok if the command succeeds
check() { local _desc=$1; shift; if "$@"; then ok "$_desc"; else fail "$_desc"; fi; }
diag() { echo "# $*"; }
# skip_one WHY: one check that could not run here, as a TAP skip (never a
# silent omission; in CI a skip in a guarantee test is a failure).
skip_one() { _n=$((_n + 1)); echo "ok $_n # SKIP $*"; }
skip_all() {
        echo "1..0 # SKIP $*"
        [ "${WB_MESON_TAP:-}" = 1 ] && exit 0
        exit 77
}
done_testing() { echo "1..$_n"; [ "$_failed" -eq 0 ]; }
# bail_out WHY: the test cannot go on at all (TAP's "Bail out!"), a failure.
bail_out() { echo "Bail out! $*"; exit 1; }
# temp_dir_with_pids: T, a temporary directory, and pids, the background
# processes the test starts (pids="$pids $!"); on exit both go (our own
# processes only, by PID).  POSIX sh: some tests are not bash.
temp_dir_with_pids() {
        T=$(mktemp -d)
        pids=
        trap '_stop_pids_and_temp' EXIT
}
_stop_pids_and_temp() {
        for _p in $pids; do kill "$_p" 2>/dev/null; wait "$_p" 2>/dev/null; done
        rm -rf "$T"
}
# on_exit FUNCTION: FUNCTION runs when the script ends, by its end, an
# exit, or a signal (bash runs no EXIT trap when an untrapped signal kills
# it, so each signal exits with 128 + its number, through the EXIT trap).
on_exit() {
        trap "$1" EXIT
        trap 'exit 129' HUP
        trap 'exit 130' INT
        trap 'exit 141' PIPE
        trap 'exit 143' TERM
}
# Show a file as TAP diagnostics (last N lines).
diag_file() { tail -n "${2:-30}" "$1" | sed 's/^/# /'; }

: "${WHONIX_BUILD:?run under meson test}"
: "${WB_SOURCE_ROOT:?run under meson test}"
: "${WB_BUILD_ROOT:?run under meson test}"
# One cache for every test of a run (and across runs in a developer's
# build dir): packages are downloaded and the base bootstrapped once.
WB_TEST_CACHE=${WB_TEST_CACHE:-$WB_BUILD_ROOT/test-cache}
export WB_TEST_CACHE

# Appliance tests need qemu and supermin; say why when they cannot run.
# gpg_new_key HOME UID: a throwaway ed25519 signing key without passphrase
# in the GnuPG home HOME (made 0700 by the caller); prints its fingerprint.
gpg_new_key() {
        gpg --batch --homedir "$1" --pinentry-mode loopback --passphrase '' \
                --quick-gen-key "$2" ed25519 sign never >/dev/null 2>&1 || return 1
        gpg --batch --homedir "$1" --with-colons --list-secret-keys 2>/dev/null | awk -F: '$1 == "fpr" { print $10; exit }'
}

need_appliance() {
        command -v supermin >/dev/null || skip_all "supermin is not installed (tools/install-deps)"
        command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86 is not installed (tools/install-deps)"
        ls /boot/vmlinuz-* >/dev/null 2>&1 || skip_all "no host kernel in /boot for the appliance (apt-get install linux-image-amd64)"
}

# A test that needs a host program says so when it is missing.
need_cmd() {
        command -v "$1" >/dev/null || skip_all "'$1' is not installed (tools/install-deps)"
}
