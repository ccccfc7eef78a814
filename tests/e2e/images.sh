# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by the e2e tests: one build of the images per test run, shared by
# every e2e test (whonix-build reuses its cache, so the second caller gets
# the finished images in seconds).  A lock serializes the callers.
#
# The build makes all three images (--flavor all: the Gateway, the CLI and
# the desktop Workstation).  Then, once per build directory (and again
# when the build changed), the CLI pair's release (from the build's cache:
# export only), its published sources (whonix-build sources: a Debian
# mirror of exactly the packages its buildinfo pins, WB_E2E_SOURCES) and a
# second, independent build of the CLI pair, in a Debian 13 environment
# (below; tests/e2e/reproduce.sh verifies the release against it, there
# too): from those sources alone, served on
# 127.0.0.1 in a network namespace that has nothing but its loopback (the
# appliance reaches no other mirror, nor anything else), in a cache of its
# own (WB_E2E_REBUILD_CACHE) with an empty package cache disk (every .deb
# it installs comes from the published sources), in another environment
# (time zone, locale, umask, an empty HOME), up to its final disks (verify
# exports them itself).  It starts from a copy of the first build's base
# (the bootstrap) and its Kicksecure layer (shared by every flavor: the
# kernel, GRUB), and builds the flavors' own layers and final disks itself:
# a second cold bootstrap and Kicksecure layer (12 minutes under TCG here;
# two side by side gain nothing) and a second desktop do not fit CI's 90
# minutes beside the boot tests.  WB_E2E_REBUILD_BASE=own bootstraps its
# own; WB_E2E_REBUILD_FLAVORS=all rebuilds the three (then reproduce
# verifies the three).
#
# The independent build runs in another Debian: WB_E2E_REBUILD_ENV=trixie
# (the default) makes a Debian 13 environment on this machine
# (tests/helpers/trixie-env: a chroot with Debian 13's kernel, qemu,
# libguestfs, supermin, e2fsprogs, gdisk, zlib, libarchive and compiler) and
# builds whonix-build there from this checkout; the rebuild and
# reproduce.sh's verify run there.  WB_E2E_REBUILD_ENV=host runs them on
# this machine (needs no root).
WB_E2E_IMAGES=${WB_E2E_IMAGES:-$WB_BUILD_ROOT/e2e-images}
WB_E2E_REBUILD_CACHE=${WB_E2E_REBUILD_CACHE:-$WB_BUILD_ROOT/e2e-rebuild-cache}
WB_E2E_REBUILT=${WB_E2E_REBUILT:-$WB_BUILD_ROOT/e2e-rebuilt}
WB_E2E_REBUILD_FLAVORS=${WB_E2E_REBUILD_FLAVORS:-cli}
WB_E2E_REBUILD_BASE=${WB_E2E_REBUILD_BASE:-shared}
WB_E2E_RELEASE=${WB_E2E_RELEASE:-$WB_BUILD_ROOT/e2e-release}
WB_E2E_SOURCES=${WB_E2E_SOURCES:-$WB_BUILD_ROOT/e2e-sources}
export WB_E2E_IMAGES WB_E2E_REBUILD_CACHE WB_E2E_REBUILT WB_E2E_REBUILD_FLAVORS WB_E2E_REBUILD_BASE WB_E2E_RELEASE \
        WB_E2E_SOURCES
# Making the environment needs root (debootstrap, chroot): without it, the
# default is the host (CI runs as root).
[ "$(id -u)" -eq 0 ] && _env_default=trixie || _env_default=host
WB_E2E_REBUILD_ENV=${WB_E2E_REBUILD_ENV:-$_env_default}
WB_E2E_TRIXIE=${WB_E2E_TRIXIE:-$WB_BUILD_ROOT/e2e-trixie}
export WB_E2E_REBUILD_ENV WB_E2E_TRIXIE

# e2e_env_cmd [PATH...]: sets E2E_ENV, the command prefix that runs a command
# in the rebuild's environment (with PATHs of this machine seen there, as
# well as the checkout and the build directory), and E2E_ENV_WB, the
# whonix-build to run there.  Empty prefix and $WHONIX_BUILD for "host".
e2e_env_cmd() {
        local p
        E2E_ENV=()
        E2E_ENV_WB=$WHONIX_BUILD
        [ "$WB_E2E_REBUILD_ENV" = host ] && return 0
        E2E_ENV=("$WB_SOURCE_ROOT/tests/helpers/trixie-env" run "$WB_E2E_TRIXIE/root"
                --bind "$WB_SOURCE_ROOT" --bind "$WB_BUILD_ROOT")
        for p in "$@"; do E2E_ENV+=(--bind "$p"); done
        E2E_ENV+=(--)
        E2E_ENV_WB=$WB_E2E_TRIXIE/build/cli/whonix-build
}

# The rebuild's environment, made (or found ready) and whonix-build built
# there from this checkout.  Its log: WB_E2E_TRIXIE.log.
_e2e_env_prepare() {
        [ "$WB_E2E_REBUILD_ENV" = host ] && return 0
        [ "$WB_E2E_REBUILD_ENV" = trixie ] || { echo "WB_E2E_REBUILD_ENV is host or trixie, not '$WB_E2E_REBUILD_ENV'"; return 1; }
        local start=$SECONDS
        {
                "$WB_SOURCE_ROOT/tests/helpers/trixie-env" make "$WB_E2E_TRIXIE/root" &&
                        e2e_env_cmd &&
                        "${E2E_ENV[@]}" sh -c 'cd "$1" && { [ -f "$2/build.ninja" ] || meson setup "$2"; } &&
                                ninja -C "$2" cli/whonix-build && "$2/cli/whonix-build" --version' \
                                sh "$WB_SOURCE_ROOT" "$WB_E2E_TRIXIE/build"
        } >"$WB_E2E_TRIXIE.log" 2>&1
        local rc=$?
        echo "environment ready in $((SECONDS - start)) s (exit $rc)" >>"$WB_E2E_TRIXIE.log"
        return "$rc"
}

# ensure_images starts making the environment beside the first build
# (native work, downloads and a compile, while the appliance's bootstrap
# leaves a core mostly idle); _e2e_env_ready waits for it, or makes it now.
_e2e_env_pid=
_e2e_env_ready() {
        local pid=$_e2e_env_pid
        _e2e_env_pid=
        if [ -n "$pid" ]; then wait "$pid"; else _e2e_env_prepare; fi
}

# The port of the published sources' HTTP server, in the rebuild's own
# network namespace (nothing else listens there).
WB_E2E_SOURCES_PORT=8631

# The first build's bases and its shared Kicksecure layer (both steps),
# copied into the rebuild's cache (unless WB_E2E_REBUILD_BASE=own).  A
# copied layer names its parent in the first build's cache (qcow2 backing
# path): the same bytes as the copy.  Not the package cache disk: the
# rebuild starts with an empty one.
# A cache entry is never written once made (a layer's parent is opened
# read-only): the rebuild's copy can be a second link to the same bytes
# (1.2 GB less disk), or a copy across filesystems.
_e2e_share_file() {
        ln "$1" "$2" 2>/dev/null || cp --sparse=always "$1" "$2"
}

_e2e_share_base() {
        local k
        rm -f "$WB_E2E_REBUILD_CACHE/debs.img"
        [ "$WB_E2E_REBUILD_BASE" = own ] && return 0
        mkdir -p "$WB_E2E_REBUILD_CACHE/base" "$WB_E2E_REBUILD_CACHE/layers" || return 1
        for k in $(python3 -c 'import json, sys
print(" ".join(sorted({s["key"] for s in json.load(open(sys.argv[1]))["stages"] if s["stage"] == "bootstrap"})))' \
                "$WB_BUILD_ROOT/e2e-build.json"); do
                [ -e "$WB_E2E_REBUILD_CACHE/base/$k.qcow2" ] ||
                        _e2e_share_file "$WB_TEST_CACHE/base/$k.qcow2" "$WB_E2E_REBUILD_CACHE/base/$k.qcow2" || return 1
        done
        for k in $(python3 -c 'import json, sys
print(" ".join(sorted({s["key"] for s in json.load(open(sys.argv[1]))["stages"]
                       if s["stage"] == "customize" and (s["name"] or "").split(" ")[0] == "kicksecure"})))' \
                "$WB_BUILD_ROOT/e2e-build.json"); do
                [ -e "$WB_E2E_REBUILD_CACHE/layers/$k.qcow2" ] ||
                        _e2e_share_file "$WB_TEST_CACHE/layers/$k.qcow2" "$WB_E2E_REBUILD_CACHE/layers/$k.qcow2" || return 1
        done
}

# The release the independent build rebuilds: the e2e build's, of its
# flavors (made from the build's cache: export only).
e2e_release_dir() {
        if [ "$WB_E2E_REBUILD_FLAVORS" = all ]; then echo "$WB_E2E_IMAGES"; else echo "$WB_E2E_RELEASE"; fi
}

# e2e_offline LOG CMD...: CMD in a network namespace of its own with only
# the loopback up, and the published sources (WB_E2E_SOURCES) served on
# 127.0.0.1:WB_E2E_SOURCES_PORT there: its only mirror, and nothing else to
# reach.  The namespace's addresses and routes go to LOG.net, the server's
# requests to LOG.served.
e2e_offline() {
        local log=$1 ns=(unshare --net)
        shift
        [ "$(id -u)" -eq 0 ] || ns=(unshare --user --map-root-user --net)
        "${ns[@]}" bash -c '
                log=$1 port=$2
                shift 2
                ip link set lo up || exit 125
                { ip -o addr; echo "routes:"; ip route; ip -6 route; } >"$log.net" 2>&1
                python3 -m http.server --bind 127.0.0.1 --directory "$WB_E2E_SOURCES" "$port" >"$log.served" 2>&1 &
                server=$!
                for _ in $(seq 100); do
                        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
                        sleep 0.1
                done
                "$@"
                rc=$?
                kill "$server"
                wait "$server" 2>/dev/null
                exit "$rc"' bash "$log" "$WB_E2E_SOURCES_PORT" "$@"
}

# The independent build; its exit status in e2e-rebuild.rc.
_e2e_rebuild() {
        local home rc rel
        home=$(mktemp -d)
        rel=$(e2e_release_dir)
        rc=0
        if [ "$rel" != "$WB_E2E_IMAGES" ]; then
                rm -rf "$rel"
                "$WHONIX_BUILD" --flavor "$WB_E2E_REBUILD_FLAVORS" --target kvm --cache "$WB_TEST_CACHE" --output "$rel" \
                        >"$WB_BUILD_ROOT/e2e-release.log" 2>&1 || rc=$?
        fi
        rm -rf "$WB_E2E_SOURCES"
        [ "$rc" -eq 0 ] && { "$WHONIX_BUILD" sources "$rel/whonix.buildinfo" "$WB_E2E_SOURCES" --cache "$WB_TEST_CACHE" \
                >"$WB_BUILD_ROOT/e2e-sources.log" 2>&1 || rc=$?; }
        if [ "$rc" -ne 0 ]; then
                echo "ensure_images: cannot make the release or its sources (exit $rc)" >"$WB_BUILD_ROOT/e2e-rebuild.log"
        elif ! _e2e_env_ready; then
                echo "ensure_images: cannot make the $WB_E2E_REBUILD_ENV environment; the end of $WB_E2E_TRIXIE.log:" \
                        >"$WB_BUILD_ROOT/e2e-rebuild.log"
                tail -n 30 "$WB_E2E_TRIXIE.log" >>"$WB_BUILD_ROOT/e2e-rebuild.log"
                rc=1
        elif _e2e_share_base; then
                e2e_env_cmd "$home"
                (
                        umask 077 && export HOME=$home TZ=Pacific/Kiritimati LANG=C.UTF-8 LC_ALL=C.UTF-8 &&
                                e2e_offline "$WB_BUILD_ROOT/e2e-rebuild" \
                                "${E2E_ENV[@]}" sh -c 'cd "$HOME" && exec "$@"' sh \
                                "$E2E_ENV_WB" --flavor "$WB_E2E_REBUILD_FLAVORS" --target kvm --json \
                                --mirror "http://127.0.0.1:$WB_E2E_SOURCES_PORT" \
                                --cache "$WB_E2E_REBUILD_CACHE" --until finalize --output "$WB_E2E_REBUILT" \
                                >"$WB_BUILD_ROOT/e2e-rebuild.json" 2>"$WB_BUILD_ROOT/e2e-rebuild.log"
                )
                rc=$?
        else
                echo "ensure_images: cannot copy the base into '$WB_E2E_REBUILD_CACHE'" >"$WB_BUILD_ROOT/e2e-rebuild.log"
                rc=1
        fi
        rm -rf "$home"
        echo "$rc" >"$WB_BUILD_ROOT/e2e-rebuild.rc"
}

# What the e2e build's images are made of and what they are now: the
# program, the data dir (recipes, overlays, keys: content, modes, links),
# and each output file's name, size, mtime and ctime (a test that changed
# one, or anything else, changes its ctime).  Unchanged, the images in
# WB_E2E_IMAGES are the build's and need no rebuild: every e2e test calls
# ensure_images, and a rebuild from the cache rewrites 1.3 GB each time
# (some 25 s; tests/e2e/cache.sh tests that rebuild itself).
_e2e_images_state() {
        {
                sha256sum <"$WHONIX_BUILD"
                tar -C "$WB_SOURCE_ROOT" -c --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
                        recipes overlays keys | sha256sum
                find "$WB_E2E_IMAGES" -maxdepth 1 -type f -printf '%f %s %T@ %C@\n' 2>/dev/null | sort
        } | sha256sum | cut -d' ' -f1
}

ensure_images() {
        mkdir -p "$WB_BUILD_ROOT"
        (
                flock 9
                stamp=$WB_BUILD_ROOT/e2e-rebuild.stamp
                built=$WB_BUILD_ROOT/e2e-images.state
                if [ -s "$built" ] && [ "$(cat "$built")" = "$(_e2e_images_state)" ]; then
                        exit 0
                fi
                rm -f "$built"
                if [ ! -s "$stamp" ] && [ "$WB_E2E_REBUILD_ENV" != host ]; then
                        _e2e_env_prepare &
                        _e2e_env_pid=$!
                fi
                # The report (--json) on stdout, for kvm-images to check.
                "$WHONIX_BUILD" --flavor all --target kvm --json --cache "$WB_TEST_CACHE" --output "$WB_E2E_IMAGES" \
                        >"$WB_BUILD_ROOT/e2e-build.json" 2>"$WB_BUILD_ROOT/e2e-build.log"
                rc=$?
                [ "$rc" -eq 0 ] || { [ -z "$_e2e_env_pid" ] || wait "$_e2e_env_pid"; }
                if [ "$rc" -ne 0 ]; then
                        # On stderr: meson prints it for a failed test, so a
                        # CI log says why the build failed.
                        echo "ensure_images: the build failed; the end of its log:" >&2
                        tail -n 60 "$WB_BUILD_ROOT/e2e-build.log" >&2
                        exit 1
                fi
                # No rebuild yet, or the build changed since (a later local
                # run): the independent build, now.
                sum=$( (sha256sum <"$WB_E2E_IMAGES/whonix.buildinfo"
                        echo "$WB_E2E_REBUILD_FLAVORS $WB_E2E_REBUILD_BASE $WB_E2E_REBUILD_ENV sources") |
                        sha256sum)
                if [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ]; then
                        _e2e_rebuild
                        # The release was made in the same cache, and the cache's
                        # last-build names what a build used (kvm-images checks it):
                        # the e2e build once more, every stage cached, so that it
                        # names the three images again (its report and log stay the
                        # first run's).
                        [ "$(e2e_release_dir)" = "$WB_E2E_IMAGES" ] ||
                                "$WHONIX_BUILD" --flavor all --target kvm --cache "$WB_TEST_CACHE" \
                                        --output "$WB_E2E_IMAGES" >"$WB_BUILD_ROOT/e2e-build.again.log" 2>&1
                fi
                # Only a rebuild that succeeded is kept as done.
                if [ "$(cat "$WB_BUILD_ROOT/e2e-rebuild.rc" 2>/dev/null)" = 0 ]; then
                        echo "$sum" >"$stamp"
                        _e2e_images_state >"$built"
                else
                        rm -f "$stamp"
                fi
        ) 9>"$WB_BUILD_ROOT/e2e-build.lock"
}

WB_E2E_OVA=${WB_E2E_OVA:-$WB_BUILD_ROOT/e2e-ova}
export WB_E2E_OVA

# The same build exported for VirtualBox (every stage but export is cached).
ensure_ova() { # [output dir [build options...]]: by default all three
        local out=${1:-$WB_E2E_OVA}
        [ $# -gt 0 ] && shift
        [ $# -gt 0 ] || set -- --flavor all
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
