#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# whonix-build install / uninstall, against a libvirtd this test starts:
# the e2e build's CLI pair (its images and XML) goes into a storage pool of
# the test's own (copied through libvirt), its networks are defined and
# started, its domains defined with their disks on those volumes; a second
# install changes nothing; what is in the way (another UUID, another image)
# is refused, and replaced with --force; uninstall removes it all again.
# Also, with libvirt's test driver (test:///default), --dry-run says what it
# would do and changes nothing.
#
# Network safety (DESIGN.md): libvirtd runs in a network namespace of its
# own and a mount namespace whose /etc/libvirt, /var/lib/libvirt and
# /run/libvirt are this test's directories (and /var/cache/libvirt, so the
# host's capabilities cache is neither read nor written); the release's External network
# is made isolated for the test (no <forward>, no address); no domain is
# ever started.
. "$WB_SOURCE_ROOT/tests/lib.sh"
. "$WB_SOURCE_ROOT/tests/e2e/images.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (libvirtd, network and mount namespaces)"
for tool in libvirtd virsh unshare ip qemu-img sha256sum; do
        command -v "$tool" >/dev/null || skip_all "$tool is not installed (tools/install-deps)"
done
need_appliance

T=$(mktemp -d /tmp/wb-install.XXXXXX)
NS=wb-install-$$
daemon_pid=
cleanup() {
        trap '' HUP INT PIPE TERM
        if [ -n "$daemon_pid" ]; then
                kill -TERM "$daemon_pid" 2>/dev/null
                for _ in $(seq 100); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
                kill -KILL "$daemon_pid" 2>/dev/null
                wait "$daemon_pid" 2>/dev/null
        fi
        ip netns del "$NS" 2>/dev/null
        rm -rf "$T"
}
on_exit cleanup

ensure_images || { fail "the images were built"; diag_file "$WB_BUILD_ROOT/e2e-build.log" 20; done_testing; exit; }

# --- the release: the CLI pair, its External network isolated --------------
rel=$T/release
mkdir -p "$rel"
for f in Whonix-Gateway.qcow2 Whonix-Workstation.qcow2; do ln -s "$WB_E2E_IMAGES/$f" "$rel/$f"; done
cp "$WB_E2E_IMAGES/Whonix-Gateway.xml" "$WB_E2E_IMAGES/Whonix-Workstation.xml" "$WB_E2E_IMAGES/Whonix-Internal.xml" "$rel/"
python3 - "$WB_E2E_IMAGES/Whonix-External.xml" "$rel/Whonix-External.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
t = ET.parse(sys.argv[1])
r = t.getroot()
for tag in ("forward", "ip"):
    for e in r.findall(tag):
        r.remove(e)
t.write(sys.argv[2])
PY
check "a release of the CLI pair, its External network isolated for the test (no forward, no address)" \
        sh -c '! grep -Eq "<forward|<ip" "$1/Whonix-External.xml" && [ -e "$1/Whonix-Gateway.qcow2" ]' sh "$rel"

# --- a libvirtd of the test's own -------------------------------------------
mkdir -p "$T/etc" "$T/lib" "$T/run" "$T/cache" "$T/pool" "$T/log"
# The QEMU user is root: libvirt judges /dev/kvm usable or not as that user,
# and QEMU's capabilities as probed. Where the two disagree (here /dev/kvm
# belongs to a group libvirt-qemu is not in, while the probe sees KVM),
# libvirt finds its capabilities outdated at every lookup and probes QEMU
# again each time, 4 s a time under TCG: the install took 310 s instead of
# 30. No domain is ever started, so the user runs nothing.
printf 'user = "root"\ngroup = "root"\n' >"$T/etc/qemu.conf"
cat >"$T/libvirtd.conf" <<CONF
unix_sock_dir = "/run/libvirt"
unix_sock_rw_perms = "0700"
auth_unix_rw = "none"
log_outputs = "3:file:$T/log/libvirtd.log"
CONF
ip netns add "$NS" || bail_out "cannot create the network namespace $NS"
ip netns exec "$NS" unshare -m sh -c '
        mount --make-rprivate / &&
        mount --bind "$1/etc" /etc/libvirt && mount --bind "$1/lib" /var/lib/libvirt &&
        mkdir -p /var/cache/libvirt && mount --bind "$1/cache" /var/cache/libvirt &&
        mkdir -p /run/libvirt && mount --bind "$1/run" /run/libvirt &&
        exec libvirtd --config "$1/libvirtd.conf" --pid-file "$1/libvirtd.pid"' sh "$T" >"$T/log/daemon.out" 2>&1 &
daemon_pid=$!
URI="qemu:///system?socket=$T/run/libvirt-sock"
for _ in $(seq 600); do
        [ -S "$T/run/libvirt-sock" ] && virsh -c "$URI" version >/dev/null 2>&1 && break
        kill -0 "$daemon_pid" 2>/dev/null || break
        sleep 0.2
done
if ! virsh -c "$URI" version >/dev/null 2>&1; then
        fail "a libvirtd of the test's own answers on $T/run/libvirt-sock"
        diag_file "$T/log/daemon.out" 10
        diag_file "$T/log/libvirtd.log" 10
        done_testing
        exit
fi
ok "a libvirtd of the test's own answers on its socket (network namespace $NS, private /etc/libvirt)"
virsh -c "$URI" pool-define-as wbpool dir --target "$T/pool" >/dev/null && virsh -c "$URI" pool-start wbpool >/dev/null
check "a storage pool of the test's own ($T/pool)" sh -c 'virsh -c "$1" pool-info wbpool >/dev/null' sh "$URI"

wb() { "$WHONIX_BUILD" "$@" --connect "$URI" --pool wbpool; }
dom_disk() { virsh -c "$URI" domblklist "$1" --details | awk '$2 == "disk" { print $4 }'; }

# --- a host without KVM ---------------------------------------------------------
# The release's domains are of type 'kvm'. Where this test's libvirt cannot
# run those (no /dev/kvm), install must refuse before changing anything and
# name the way out; with it (--virt-type qemu) the domains are installed
# for software emulation.
virt_opt=()
want_type=kvm
if [ ! -e /dev/kvm ]; then
        wb install "$rel" >"$T/k.out" 2>"$T/k.err"
        rc=$?
        diag_file "$T/k.err" 2
        check "no KVM here: install refuses the release's type 'kvm' (exit $rc), saying so and naming --virt-type qemu" \
                sh -c '[ "$1" -eq 1 ] && grep -q "cannot run domains of type .kvm. (.*): without hardware virtualization there, --virt-type qemu installs" "$2"' \
                sh "$rc" "$T/k.err"
        check "... and changes nothing (no network, no domain, no volume)" \
                sh -c '[ -z "$(virsh -c "$1" list --all --name)" ] && [ -z "$(virsh -c "$1" net-list --all --name)" ] &&
                        [ -z "$(ls -A "$2/pool")" ]' sh "$URI" "$T"
        virt_opt=(--virt-type qemu)
        want_type=qemu
else
        skip_one "this host has KVM: install's refusal of type 'kvm' on a host without it is not tested here"
fi
dom_type() { virsh -c "$URI" dumpxml "$1" | sed -n "1s/^<domain type='\([a-z]*\)'.*/\1/p"; }

# --- install ------------------------------------------------------------------
start=$(date +%s)
wb install "$rel" "${virt_opt[@]}" >"$T/i1.out" 2>"$T/i1.err"
rc=$?
sed 's/^/# /' "$T/i1.out"
diag "install took $(( $(date +%s) - start )) s"
check "install succeeds (exit $rc)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$T/i1.err" 5
for n in Whonix-External Whonix-Internal; do
        check "network $n: defined, active, starts with the host" \
                sh -c 'virsh -c "$1" net-info "$2" | grep -Eq "^Active: +yes" && virsh -c "$1" net-info "$2" | grep -Eq "^Autostart: +yes"' \
                sh "$URI" "$n"
done
for vm in Whonix-Gateway Whonix-Workstation; do
        check "domain $vm: defined, not started" sh -c 'virsh -c "$1" domstate "$2" | grep -qx "shut off"' sh "$URI" "$vm"
        check "domain $vm: of type '$want_type'" test "$(dom_type "$vm")" = "$want_type"
        check "domain $vm: its disk is the pool's volume $T/pool/$vm.qcow2" test "$(dom_disk "$vm")" = "$T/pool/$vm.qcow2"
        check "domain $vm: the volume holds the image, bit for bit" \
                test "$(sha256sum <"$T/pool/$vm.qcow2")" = "$(sha256sum <"$WB_E2E_IMAGES/$vm.qcow2")"
        check "domain $vm: the UUID of the release's XML" \
                test "$(virsh -c "$URI" domuuid "$vm" | head -n 1)" = "$(sed -n 's:.*<uuid>\(.*\)</uuid>.*:\1:p' "$rel/$vm.xml")"
        check "domain $vm: install's record of the image's SHA256 in its metadata" \
                sh -c 'virsh -c "$1" dumpxml "$2" | grep -q "image-sha256=.$3."' sh "$URI" "$vm" \
                "$(sha256sum <"$WB_E2E_IMAGES/$vm.qcow2" | cut -d" " -f1)"
done

# Again: nothing to do.
start=$(date +%s)
wb install "$rel" >"$T/i2.out" 2>"$T/i2.err"
rc=$?
check "install again: exit 0, every domain and network 'already installed' ($(( $(date +%s) - start )) s)" \
        sh -c '[ "$1" -eq 0 ] && [ "$(grep -c ": already installed$" "$2")" -eq 4 ] && [ "$(wc -l <"$2")" -eq 4 ]' \
        sh "$rc" "$T/i2.out"

# The type changed by --virt-type: to 'qemu' where KVM is (the image stays
# installed; only the definition changes), refused to 'kvm' where it is not.
if [ -e /dev/kvm ]; then
        wb install "$rel" --virt-type qemu >"$T/r.out" 2>"$T/r.err"
        rc=$?
        check "install --virt-type qemu: each domain redefined as type 'qemu', its volume untouched (exit $rc)" \
                sh -c '[ "$1" -eq 0 ] && [ "$(grep -c "redefined as type .qemu. (its image is installed already)$" "$2")" -eq 2 ] &&
                        [ "$(sha256sum <"$3/pool/Whonix-Gateway.qcow2")" = "$(sha256sum <"$4/Whonix-Gateway.qcow2")" ]' \
                sh "$rc" "$T/r.out" "$T" "$WB_E2E_IMAGES"
        check "... of type 'qemu' now" test "$(dom_type Whonix-Gateway)$(dom_type Whonix-Workstation)" = qemuqemu
        wb install "$rel" --virt-type kvm >/dev/null 2>&1
else
        wb install "$rel" --virt-type kvm >"$T/r.out" 2>"$T/r.err"
        rc=$?
        check "install --virt-type kvm without KVM: refused (exit $rc), the domains stay type 'qemu'" \
                sh -c '[ "$1" -eq 1 ] && grep -q "cannot run domains of type .kvm." "$2" && [ "$3" = qemuqemu ]' \
                sh "$rc" "$T/r.err" "$(dom_type Whonix-Gateway)$(dom_type Whonix-Workstation)"
fi

# --- what is in the way -------------------------------------------------------
# A release whose Gateway has another UUID (someone else's domain of that
# name, as libvirt sees it).
other=$T/other
cp -a "$rel" "$other"
sed -i 's:<uuid>[^<]*</uuid>:<uuid>00000000-1111-2222-3333-444444444444</uuid>:' "$other/Whonix-Gateway.xml"
wb install "$other" "${virt_opt[@]}" >"$T/o.out" 2>"$T/o.err"
rc=$?
check "a domain of the same name with another UUID: install refuses (exit $rc), saying why" \
        sh -c '[ "$1" -eq 1 ] && grep -q "domain .Whonix-Gateway. is there with another UUID: not ours; --force replaces it" "$2"' \
        sh "$rc" "$T/o.err"
check "... and changes nothing (same UUID, same disk)" \
        sh -c '[ "$(virsh -c "$1" domuuid Whonix-Gateway | head -n 1)" = "$2" ]' sh "$URI" \
        "$(sed -n 's:.*<uuid>\(.*\)</uuid>.*:\1:p' "$rel/Whonix-Gateway.xml")"
# A newer release: the Gateway from another image.
newer=$T/newer
cp -a "$rel" "$newer"
rm "$newer/Whonix-Gateway.qcow2"
qemu-img create -q -f qcow2 "$newer/Whonix-Gateway.qcow2" 64M
wb install "$newer" "${virt_opt[@]}" >"$T/n.out" 2>"$T/n.err"
rc=$?
check "the Gateway from another image: install refuses (exit $rc): 'installed from another image', --force loses changes" \
        sh -c '[ "$1" -eq 1 ] && grep -q "domain .Whonix-Gateway. is installed from another image .*--force replaces it and its disk" "$2"' \
        sh "$rc" "$T/n.err"
wb install "$newer" --force "${virt_opt[@]}" >"$T/n2.out" 2>"$T/n2.err"
rc=$?
sed 's/^/# /' "$T/n2.out"
check "with --force it replaces the Gateway and its volume, and leaves the rest (exit $rc)" \
        sh -c '[ "$1" -eq 0 ] && grep -q "^domain Whonix-Gateway: replaced" "$2" &&
                grep -q "^domain Whonix-Workstation: already installed" "$2" &&
                cmp -s "$3/pool/Whonix-Gateway.qcow2" "$4/Whonix-Gateway.qcow2"' sh "$rc" "$T/n2.out" "$T" "$newer"

# A volume of the pool in the way: a domain of this release would go there.
virsh -c "$URI" vol-create-as wbpool stray.qcow2 1M --format raw >/dev/null
stray=$T/stray
cp -a "$rel" "$stray"
sed -i "s:Whonix-Workstation.qcow2:stray.qcow2:; s:<uuid>[^<]*</uuid>:<uuid>55555555-1111-2222-3333-444444444444</uuid>:; s:<name>Whonix-Workstation</name>:<name>Stray</name>:" \
        "$stray/Whonix-Workstation.xml"
ln -sf "$WB_E2E_IMAGES/Whonix-Workstation.qcow2" "$stray/stray.qcow2"
rm "$stray/Whonix-Workstation.qcow2" "$stray/Whonix-Gateway.qcow2" "$stray/Whonix-Gateway.xml"
wb install "$stray" "${virt_opt[@]}" >"$T/s.out" 2>"$T/s.err"
rc=$?
diag_file "$T/s.err" 2
check "a volume of the same name that is no domain's of ours: install refuses (exit $rc)" \
        sh -c '[ "$1" -eq 1 ] && grep -q "already has a volume .stray.qcow2. .* that no domain of this release uses: --force replaces it" "$2"' \
        sh "$rc" "$T/s.err"
check "... and defines nothing (no domain 'Stray')" sh -c '! virsh -c "$1" dominfo Stray >/dev/null 2>&1' sh "$URI"
virsh -c "$URI" vol-delete --pool wbpool stray.qcow2 >/dev/null

# --- uninstall ----------------------------------------------------------------
wb uninstall "$rel" --dry-run >"$T/u0.out" 2>&1
check "uninstall --dry-run says what would go and changes nothing" \
        sh -c 'grep -q "^domain Whonix-Gateway: would be undefined" "$1" && virsh -c "$2" dominfo Whonix-Gateway >/dev/null' \
        sh "$T/u0.out" "$URI"
wb uninstall "$rel" >"$T/u1.out" 2>"$T/u1.err"
rc=$?
sed 's/^/# /' "$T/u1.out"
check "uninstall succeeds (exit $rc)" test "$rc" -eq 0
check "... the domains are gone" sh -c '! virsh -c "$1" dominfo Whonix-Gateway >/dev/null 2>&1 &&
        ! virsh -c "$1" dominfo Whonix-Workstation >/dev/null 2>&1' sh "$URI"
check "... their volumes too" sh -c '[ ! -e "$1/pool/Whonix-Gateway.qcow2" ] && [ ! -e "$1/pool/Whonix-Workstation.qcow2" ]' sh "$T"
check "... and the networks" sh -c '! virsh -c "$1" net-info Whonix-External >/dev/null 2>&1 &&
        ! virsh -c "$1" net-info Whonix-Internal >/dev/null 2>&1' sh "$URI"
wb uninstall "$rel" >"$T/u2.out" 2>&1
check "uninstall again: exit 0, everything 'not installed'" \
        sh -c '[ "$(grep -c ": not installed$" "$1")" -eq 4 ]' sh "$T/u2.out"

# --- the test driver: a dry run -------------------------------------------------
"$WHONIX_BUILD" install "$rel" --connect test:///default --pool default-pool --dry-run >"$T/t.out" 2>"$T/t.err"
rc=$?
check "test:///default, --dry-run: exit 0, two networks and two domains it would define ($rc)" \
        sh -c '[ "$1" -eq 0 ] && [ "$(grep -c "would be defined" "$2")" -eq 4 ]' sh "$rc" "$T/t.out"
check "... and says nothing was changed" grep -q "nothing was changed at 'test:///default'" "$T/t.err"
"$WHONIX_BUILD" install "$T/nowhere" --connect test:///default --pool default-pool >"$T/t2.out" 2>&1
check "a directory that is no release: exit 1, saying so" \
        sh -c '[ "$1" -eq 1 ] && grep -q "cannot read the release\|holds no libvirt XML" "$2"' sh "$?" "$T/t2.out"
done_testing
